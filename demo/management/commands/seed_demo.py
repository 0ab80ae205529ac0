from datetime import UTC, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo import reopening
from demo.seed import seed
from demo.staff import DEMO_TOTP_SECRET, TOTP_CODE_COMMAND

SCENARIOS = ["reopening"]


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Load the demo data (offices in Mali and abroad, demo logins). Idempotent. "
        "With --scenario reopening, also suspend the service since a week ago, with a backlog "
        "of held files and displaced appointments, reopening in a few minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off (a throwaway database, such as a benchmark's).",
        )
        parser.add_argument(
            "--scenario",
            choices=SCENARIOS,
            help="A story on top of the demo data: `reopening` (see demo/reopening.py).",
        )
        parser.add_argument(
            "--reopens-in",
            type=_count,
            metavar="MINUTES",
            help=f"reopening: minutes until booking reopens (default "
            f"{reopening.REOPENS_IN_MINUTES}).",
        )
        parser.add_argument(
            "--files",
            type=_count,
            help=f"reopening: passport files waiting for production (default {reopening.FILES}).",
        )
        parser.add_argument(
            "--appointments",
            type=_count,
            help=f"reopening: appointments displaced by the suspension (default "
            f"{reopening.APPOINTMENTS}).",
        )

    def handle(self, *args, force: bool = False, scenario: str | None = None, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with published passwords; it refuses to run with "
                "DEBUG off. Use --force only on a throwaway database."
            )
        given = [
            name for name in ("reopens_in", "files", "appointments") if options[name] is not None
        ]
        if scenario is None and given:
            raise CommandError(f"--{given[0].replace('_', '-')} goes with --scenario reopening.")
        credentials = seed()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Demo logins (admin at /{settings.ADMIN_URL}):")
        for credential in credentials:
            second = " + code" if credential.totp_secret else ""
            self.stdout.write(
                f"  {credential.role:<16} {credential.username} / {credential.password}{second}"
            )
        self.stdout.write(
            f"The administrator and the supervisors log in with a code too (TOTP): add the "
            f"secret {DEMO_TOTP_SECRET} to an authenticator app, or compute the code of the "
            f"moment with:\n  {TOTP_CODE_COMMAND}"
        )
        if scenario == "reopening":
            self._reopening(options)

    def _reopening(self, options) -> None:
        self.stdout.write(
            "Reopening scenario: applicants book and are enrolled through the services, then "
            "the Premium service is suspended at every office (a minute or so)…"
        )
        minutes = options["reopens_in"]
        files = reopening.FILES if options["files"] is None else options["files"]
        appointments = options["appointments"]
        appointments = reopening.APPOINTMENTS if appointments is None else appointments
        report = reopening.seed_reopening(
            files=files,
            appointments=appointments,
            reopens_in=timedelta(
                minutes=reopening.REOPENS_IN_MINUTES if minutes is None else minutes
            ),
        )
        write = self.stdout.write
        suspension = report.suspension
        if report.replaced:
            numbers = ", ".join(f"n° {pk}" for pk in report.replaced)
            write(
                f"  Ended the previous run's suspension ({numbers}): removed, its displaced "
                "appointments stay displaced; its files are held again by the new one."
            )
        write(
            f"  {report.files_enrolled} applicants booked and enrolled in the fortnight before "
            f"the suspension ({report.files_queued} files sent to the production queue); "
            f"{report.files_waiting} files of the scenario wait for production."
        )
        write(
            f"  {report.appointments_booked} appointments booked in the days the suspension "
            f"covers; {report.displaced} of the scenario are displaced (their applicants are "
            "told by email and SMS, through the outbox)."
        )
        if report.files_waiting < files or report.displaced < appointments:
            write(self.style.WARNING("  Fewer than asked: no more free seats in those days."))
        write(
            f"  Suspension n° {suspension.pk}, all offices, since "
            f"{_when(suspension.starts_at)}: {report.held} files held by the service."
        )
        for centre in report.centres:
            write(
                f"    {centre.code}: {centre.waiting} files waiting, {centre.daily_capacity} "
                f"a day: {centre.days} day(s) of production."
            )
        write(self.style.SUCCESS(f"Booking reopens at {_when(suspension.reopens_at)}, by itself."))
        write(
            "Then the backlog dispatcher (the periodic task every 5 minutes, the clocked task "
            "of the reopening, or `python manage.py dispatch_backlog`) releases the held files, "
            "rebooks the displaced appointments into the first free seats (each applicant is "
            "told), and takes the files into each centre's production batch of the day, up to "
            "its daily capacity. Watch it at /staff/backlog/ (admin / premium-admin + code)."
        )


def _when(moment) -> str:
    """An instant in Bamako time and in UTC."""
    local = moment.astimezone(reopening.BAMAKO)
    return f"{local:%Y-%m-%d %H:%M} Africa/Bamako ({moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
