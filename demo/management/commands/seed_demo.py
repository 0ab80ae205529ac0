from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.seed import seed


class Command(BaseCommand):
    help = "Load the demo data (offices in Mali and abroad, demo logins). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off (a throwaway database, such as a benchmark's).",
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with published passwords; it refuses to run with "
                "DEBUG off. Use --force only on a throwaway database."
            )
        credentials = seed()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write("Demo logins (admin at /admin/):")
        for credential in credentials:
            self.stdout.write(
                f"  {credential.role:<16} {credential.username} / {credential.password}"
            )
