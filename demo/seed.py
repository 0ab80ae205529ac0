"""The demo's reference state, step by step. Every step is idempotent, so running it again
brings the demo back to this state without duplicating anything. Later features add their
own steps to `seed()`."""

from django.db import transaction

from appointments.services import holidays_sync, slots_generate

from . import files, offices, staff
from .staff import Credential


@transaction.atomic
def seed() -> list[Credential]:
    """Bring the demo data to its reference state; returns the logins to print."""
    offices.seed_offices()
    holidays_sync()  # before the slots: a holiday's are never made, so never booked
    slots_generate(days=60)
    credentials = [staff.seed_administrator(), *staff.seed_staff()]
    files.seed_files()
    return credentials
