"""Playwright driving Debian's chromium (Playwright's own browser download is not used)."""

import os
import shutil

import pytest

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Viewports: an applicant's phone, a counter's desktop.
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def chromium_path() -> str:
    path = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not path:
        pytest.fail(
            "chromium is not installed: `make test` installs it (apt-get install chromium)"
        )
    return path


def first_free_day(page) -> None:
    """On an office's page: the first day of its month grid with free times."""
    page.locator("table.month a.free").first.click()


def book_on_the_first_day(page, time: str, *, phone: str = "+33612345678") -> None:
    """On an office's page: the applicant picks its first day with free slots, the time
    `time` (e.g. "09:30") on that day's page, and books it for Aminata Traoré."""
    first_free_day(page)
    page.get_by_label(time, exact=True).check()
    fill_and_confirm_the_booking_form(page, phone=phone)


def fill_birth_date(page, day: str, month: str, year: str, *, english: bool = False) -> None:
    """The date of birth's three fields (day, month, year)."""
    labels = ("Day", "Month", "Year") if english else ("Jour", "Mois", "Année")
    for label, value in zip(labels, (day, month, year), strict=True):
        page.get_by_label(label, exact=True).fill(value)


def fill_the_booking_form(page, *, phone: str = "+33612345678") -> None:
    """The booking form, filled in as Aminata Traoré would (in French)."""
    page.get_by_label("Nom", exact=True).fill("Traoré")
    page.get_by_label("Prénoms").fill("Aminata")
    fill_birth_date(page, "17", "5", "1990")
    page.get_by_label("NINA ou numéro de passeport").fill("12345678901234A")
    page.get_by_label("Adresse e-mail").fill("aminata@example.org")
    page.get_by_label("Téléphone").fill(phone)
    page.get_by_label("J’accepte").check()


def fill_and_confirm_the_booking_form(page, *, phone: str = "+33612345678") -> None:
    """The booking form, filled in as Aminata Traoré would, and sent."""
    fill_the_booking_form(page, phone=phone)
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
