"""`python manage.py erase_personal_data`: what the daily task does, now, for operations."""

from django.conf import settings
from django.core.management.base import BaseCommand

from production import retention


class Command(BaseCommand):
    help = (
        "Erase the identity data that is no longer needed: appointments that led to no "
        "passport file, RETENTION_APPOINTMENT_DAYS after their slot; delivered passport "
        "files and their appointments, RETENTION_FILE_DAYS after delivery. Statistics stay."
    )

    def handle(self, *args, **options) -> None:
        run = retention.retention_run()
        self.stdout.write(
            f"appointments erased ({settings.RETENTION_APPOINTMENT_DAYS} days after their "
            f"slot): {run.appointments}"
        )
        self.stdout.write(
            f"delivered files erased with their appointment ({settings.RETENTION_FILE_DAYS} "
            f"days after delivery): {run.files}"
        )
