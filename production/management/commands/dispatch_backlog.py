"""`python manage.py dispatch_backlog`: what the periodic task does, now, for operations."""

from django.core.management.base import BaseCommand, CommandError

from production import backlog


class Command(BaseCommand):
    help = (
        "Hold and release files as the suspensions in force require, then dispatch each "
        "centre's queue into its production batch of the day, up to its daily capacity."
    )

    def handle(self, *args, **options) -> None:
        run = backlog.backlog_run_once()
        if run is None:
            raise CommandError("Another run of the backlog is under way; try again shortly.")
        self.stdout.write(f"held: {run.held}")
        self.stdout.write(f"released: {run.released}")
        self.stdout.write(f"displaced appointments rebooked: {run.rebooked}")
        for code, count in run.dispatched.items():
            self.stdout.write(f"dispatched at {code}: {count}")
        self.stdout.write(f"dispatched in all: {run.total_dispatched}")
