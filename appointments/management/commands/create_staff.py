import getpass
import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.models import Membership
from core.services import staff_upsert

PASSWORD_VARIABLE = "STAFF_PASSWORD"  # noqa: S105 - the name of a variable, not a password


class Command(BaseCommand):
    help = (
        "Create or update a member of staff with exactly these offices and role "
        "(idempotent). The password comes from the STAFF_PASSWORD environment variable, or "
        "is asked twice at the terminal; never on the command line (it would stay in the "
        "shell's history and in the list of processes). Example: STAFF_PASSWORD=... "
        "create_staff --username awa --role agent --office paris-consulat"
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=Membership.Role.values)
        parser.add_argument(
            "--office",
            action="append",
            default=[],
            dest="offices",
            metavar="CODE",
            help="Office code (repeat for several offices); none for --role admin.",
        )
        parser.add_argument(
            "--totp-secret",
            metavar="BASE32",
            help="Register a confirmed authenticator device with this secret (base32, "
            "10 to 40 bytes), replacing any other: the member logs in with its codes "
            "(required of supervisors and administrators).",
        )

    def handle(self, *args, username, role, offices, totp_secret=None, **options):
        password = self._password(username)
        try:
            user = staff_upsert(
                username=username,
                password=password,
                role=role,
                office_codes=offices,
                totp_secret=totp_secret,
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        where = ", ".join(offices) or "all offices"
        second = ", with an authenticator device" if totp_secret else ""
        self.stdout.write(self.style.SUCCESS(f"{user.username}: {role} at {where}{second}"))

    def _password(self, username: str) -> str:
        password = os.environ.get(PASSWORD_VARIABLE)
        if password:
            return password
        if not self.stdin_is_a_terminal():
            raise CommandError(
                f"Set {PASSWORD_VARIABLE} in the environment, or run the command at a "
                "terminal to type the password."
            )
        first = getpass.getpass(f"Password for {username}: ")
        if not first:
            raise CommandError("An empty password is not a password.")
        if getpass.getpass("Password (again): ") != first:
            raise CommandError("The two passwords differ.")
        return first

    @staticmethod
    def stdin_is_a_terminal() -> bool:
        return sys.stdin is not None and sys.stdin.isatty()
