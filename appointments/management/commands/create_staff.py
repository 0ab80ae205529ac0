from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from appointments.models import Membership
from appointments.services import staff_upsert


class Command(BaseCommand):
    help = (
        "Create or update a member of staff with exactly these offices and role "
        "(idempotent). Example: create_staff --username awa --password ... --role agent "
        "--office paris-consulat"
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", required=True, choices=Membership.Role.values)
        parser.add_argument(
            "--office",
            action="append",
            default=[],
            dest="offices",
            metavar="CODE",
            help="Office code (repeat for several offices); none for --role admin.",
        )

    def handle(self, *args, username, password, role, offices, **options):
        try:
            user = staff_upsert(
                username=username, password=password, role=role, office_codes=offices
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        where = ", ".join(offices) or "all offices"
        self.stdout.write(self.style.SUCCESS(f"{user.username}: {role} at {where}"))
