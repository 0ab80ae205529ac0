from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from core.services import staff_enrolment_code_issue


class Command(BaseCommand):
    help = (
        "Issue a one-time code with which a member of staff enrols their authenticator app "
        "(valid ENROLMENT_CODE_HOURS; any earlier unused code of theirs stops working). "
        "Printed once: only a keyed hash is kept. Example: enrolment_code superviseur.paris"
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account named {username!r}.")
        self.stdout.write(staff_enrolment_code_issue(user=user))
