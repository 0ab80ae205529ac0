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


def book_on_the_first_day(page, time: str, *, phone: str = "+33612345678") -> None:
    """On an office's page: the applicant picks its first day with free slots, the time
    `time` (e.g. "09:30"), and books it for Aminata Traoré."""
    page.locator(".days a").first.click()
    page.get_by_role("link", name=time).click()
    fill_and_confirm_the_booking_form(page, phone=phone)


def fill_and_confirm_the_booking_form(page, *, phone: str = "+33612345678") -> None:
    """The booking form, filled in as Aminata Traoré would, and sent."""
    page.get_by_label("Nom", exact=True).fill("Traoré")
    page.get_by_label("Prénoms").fill("Aminata")
    page.get_by_label("Date de naissance").fill("1990-05-17")
    page.get_by_label("NINA ou numéro de passeport").fill("12345678901234A")
    page.get_by_label("Adresse e-mail").fill("aminata@example.org")
    page.get_by_label("Téléphone").fill(phone)
    page.get_by_label("J’accepte").check()
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
