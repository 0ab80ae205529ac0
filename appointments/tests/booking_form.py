"""Helpers of the tests of the booking pages: what an applicant types in the form, the day
page of a slot, and the pacing token a page carries."""

import re

from appointments.models import Slot

# The date of birth as its three fields (day, month, year).
FORM = {
    "surname": "  Traoré ",
    "given_names": "Aminata  Fatoumata",
    "birth_date_day": "17",
    "birth_date_month": "5",
    "birth_date_year": "1990",
    "national_id": "1234 5678 9012 A",
    "email": "Aminata@Example.org",
    "phone": "06 12 34 56 78",
    "language": "fr",
    "consent": "on",
}


def day_url(slot: Slot) -> str:
    """The page of the slot's day at its office, where its time is chosen and booked."""
    day = slot.starts_at.astimezone(slot.office.timezone).date().isoformat()
    return f"/bureaux/{slot.office.code}/jour/{day}/"


def pace_of(response) -> str:
    """The pacing token of a booking form's page ("" when it carries none)."""
    match = re.search(r'name="pace" value="([^"]*)"', response.content.decode())
    assert match, "no pacing token field on the page"
    return match[1]


def person(number: int) -> dict:
    """Another applicant's identity, phone and mailbox."""
    return {
        **FORM,
        "national_id": f"NINA{number:08d}",
        "email": f"person{number}@example.org",
        "phone": f"06 12 34 {number // 100 % 100:02d} {number % 100:02d}",
    }
