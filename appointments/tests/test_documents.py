"""The calendar file, the convocation (PDF and QR code) and the manage link, each in the
applicant's language and with times in the office's own timezone."""

import base64
import contextlib
import re
import zlib
from datetime import UTC, datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import icalendar
import pytest
import qrcode
from django.conf import settings
from django.utils import translation
from PIL import Image

from appointments import documents, services
from appointments.models import Appointment
from appointments.tests import factories
from appointments.tests.factories import (
    BAMAKO,
    REOPENING_MORNING,
    SlotFactory,
    bamako_centre,
    paris_consulate,
)
from core.models import Office

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def bamako() -> Office:
    return bamako_centre()


@pytest.fixture
def paris() -> Office:
    return paris_consulate(address="53 rue de la Convention\n75015 Paris")


def book(office: Office, local_start: datetime, **fields) -> tuple[Appointment, str]:
    return factories.book(office, local_start, now=local_start - timedelta(days=3), **fields)


def pdf_text(pdf: bytes) -> str:
    """The text drawn in a reportlab PDF: every stream decoded (ASCII85 then Flate), the
    string literals unescaped, read in WinAnsi (cp1252) as the standard fonts are."""
    decoded = []
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", pdf, flags=re.DOTALL):
        data = raw.strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data[:-2])
        with contextlib.suppress(zlib.error):  # streams reportlab did not compress
            data = zlib.decompress(data)
        decoded.append(data)
    content = b"\n".join(decoded)
    content = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), content)
    content = content.replace(rb"\(", b"(").replace(rb"\)", b")")
    return content.decode("cp1252", errors="replace")


# Labels and links ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "tz", "expected"),
    [
        (REOPENING_MORNING, BAMAKO, "lundi 24 novembre 2025 à 08:30 (Africa/Bamako, UTC)"),
        (
            datetime(2026, 1, 12, 9, 0, tzinfo=UTC),
            PARIS,
            "lundi 12 janvier 2026 à 10:00 (Europe/Paris, UTC+1)",
        ),
        (
            datetime(2026, 7, 6, 8, 0, tzinfo=UTC),
            PARIS,
            "lundi 6 juillet 2026 à 10:00 (Europe/Paris, UTC+2)",
        ),
    ],
    ids=["bamako", "paris-winter", "paris-summer"],
)
def test_a_local_time_is_labelled_with_its_zone_in_french(moment, tz, expected):
    with translation.override("fr"):
        assert documents.local_datetime_label(moment, tz) == expected


def test_a_local_time_is_labelled_in_english():
    with translation.override("en"):
        label = documents.local_datetime_label(REOPENING_MORNING.astimezone(UTC), BAMAKO)
    assert label.startswith("Monday 24 November 2025 ")
    assert label.endswith(" 08:30 (Africa/Bamako, UTC)")


def test_the_manage_link_is_absolute_and_in_the_applicants_language(bamako):
    french, french_token = book(bamako, REOPENING_MORNING)
    english, english_token = book(bamako, REOPENING_MORNING + timedelta(minutes=15), language="en")

    link = documents.manage_url(french, french_token)
    assert link.startswith(settings.PORTAL_URL + "/")
    assert french.reference in link
    assert french_token in link
    assert "/en/" not in link

    link = documents.manage_url(english, english_token)
    assert link.startswith(settings.PORTAL_URL + "/en/")
    assert english.reference in link
    assert english_token in link


# Calendar file ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local_start", "utc_start"),
    [
        # Summer time in Paris: UTC+2.
        (datetime(2026, 7, 6, 10, 0, tzinfo=PARIS), datetime(2026, 7, 6, 8, 0, tzinfo=UTC)),
        # Winter time in Paris: UTC+1.
        (datetime(2026, 1, 12, 10, 0, tzinfo=PARIS), datetime(2026, 1, 12, 9, 0, tzinfo=UTC)),
    ],
    ids=["summer", "winter"],
)
def test_the_calendar_file_has_the_right_instant_in_utc(paris, local_start, utc_start):
    appointment, _token = book(paris, local_start)

    calendar = icalendar.Calendar.from_ical(documents.appointment_ics(appointment))

    assert calendar["method"] == "PUBLISH"
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["uid"]) == f"{appointment.reference}@premium-passport"
    assert event.decoded("dtstart") == utc_start
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert event.decoded("dtend") == utc_start + timedelta(minutes=15)


def test_the_calendar_file_is_in_french_for_a_french_applicant(paris):
    appointment, _token = book(paris, datetime(2026, 1, 12, 10, 0, tzinfo=PARIS))

    event = icalendar.Calendar.from_ical(documents.appointment_ics(appointment)).walk("VEVENT")[0]

    assert str(event["summary"]) == (
        "Rendez-vous passeport Premium – Consulat général du Mali à Paris"
    )
    location = str(event["location"])
    assert "Consulat général du Mali à Paris" in location
    assert "53 rue de la Convention" in location
    assert "75015 Paris" in location
    description = str(event["description"])
    assert appointment.reference in description
    assert "lundi 12 janvier 2026 à 10:00 (Europe/Paris, UTC+1)" in description
    assert "À apporter" in description
    for item in documents.WHAT_TO_BRING:
        assert str(item) in description


def test_the_calendar_file_follows_an_english_applicant(paris):
    appointment, _token = book(paris, datetime(2026, 1, 12, 10, 0, tzinfo=PARIS), language="en")

    event = icalendar.Calendar.from_ical(documents.appointment_ics(appointment)).walk("VEVENT")[0]

    assert "Consulate General of Mali in Paris" in str(event["summary"])
    assert "Consulat général" not in str(event["summary"])
    assert "Monday 12 January 2026" in str(event["description"])
    assert "lundi" not in str(event["description"])


def test_a_moved_appointment_gets_a_calendar_update_with_a_higher_sequence(paris, freeze):
    start = datetime(2026, 1, 12, 10, 0, tzinfo=PARIS)
    freeze("2026-01-05T10:00:00Z")
    appointment, _token = book(paris, start)
    first = icalendar.Calendar.from_ical(documents.appointment_ics(appointment)).walk("VEVENT")[0]
    later = SlotFactory(
        office=paris, starts_at=start + timedelta(hours=2), ends_at=start + timedelta(hours=2.25)
    )

    freeze("2026-01-05T11:00:00Z")
    moved = services.booking_reschedule(appointment=appointment, slot=later)
    moved.refresh_from_db()
    second = icalendar.Calendar.from_ical(documents.appointment_ics(moved)).walk("VEVENT")[0]

    # Same event (UID), later instant, and a SEQUENCE the calendar application sees grow.
    assert second["uid"] == first["uid"]
    assert second.decoded("dtstart") == datetime(2026, 1, 12, 11, 0, tzinfo=UTC)
    assert int(second["sequence"]) > int(first["sequence"])
    assert second.decoded("dtstamp") == datetime(2026, 1, 5, 11, 0, tzinfo=UTC)


# QR code and convocation -----------------------------------------------------------------


def png_modules(png: bytes, size: int) -> list[list[bool]]:
    """Read a QR code image back into its grid of modules (True = dark)."""
    image = Image.open(BytesIO(png)).convert("L")
    assert image.width == image.height
    box = image.width // size
    assert box * size == image.width
    return [
        [image.getpixel((x * box + box // 2, y * box + box // 2)) < 128 for x in range(size)]
        for y in range(size)
    ]


def qr_matrix(text: str) -> list[list[bool]]:
    qr = qrcode.QRCode(error_correction=documents.QR_ERROR_CORRECTION, border=documents.QR_BORDER)
    qr.add_data(text)
    qr.make(fit=True)
    return qr.get_matrix()


def test_the_qr_code_holds_exactly_the_reference():
    png = documents.reference_qr_png("PX7K-4MQD")

    assert png.startswith(b"\x89PNG")
    expected = qr_matrix("PX7K-4MQD")
    assert png_modules(png, len(expected)) == expected
    # The comparison can tell references apart.
    assert qr_matrix("PX7K-4MQE") != expected
    assert png_modules(png, len(expected)) != qr_matrix("PX7K-4MQE")


def test_the_convocation_is_a_one_page_pdf_in_french(bamako):
    appointment, token = book(bamako, REOPENING_MORNING, surname="TRAORÉ")
    link = documents.manage_url(appointment, token)

    pdf = documents.appointment_pdf(appointment, manage_url=link)

    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b(?!s)", pdf)) == 1
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf  # A4
    assert b"/Subtype /Image" in pdf  # the QR code
    text = pdf_text(pdf)
    assert "République du Mali" in text
    assert "Passeport Premium" in text
    assert appointment.reference in text
    assert "Aminata TRAORÉ" in text
    assert "lundi 24 novembre 2025 à 08:30 (Africa/Bamako, UTC)" in text
    assert "Centre de production de Bamako" in text
    assert "Avenue de l’Indépendance" in text
    for item in documents.WHAT_TO_BRING:
        assert str(item) in text
    assert token in text


def test_the_convocation_follows_an_english_applicant_and_omits_a_missing_link(bamako):
    appointment, token = book(bamako, REOPENING_MORNING, language="en")

    text = pdf_text(documents.appointment_pdf(appointment, manage_url=None))

    assert appointment.reference in text
    assert "Monday 24 November 2025" in text
    assert "lundi" not in text
    assert "Bamako production centre" in text
    assert token not in text
    assert "/rendez-vous/" not in text


def test_the_convocation_of_a_cancelled_appointment_says_it_is_no_longer_valid(bamako):
    appointment, _token = book(bamako, REOPENING_MORNING)
    assert "n’est plus valable" not in pdf_text(
        documents.appointment_pdf(appointment, manage_url=None)
    )

    cancelled = services.booking_cancel(
        appointment=appointment, now=REOPENING_MORNING - timedelta(days=1)
    )

    text = pdf_text(documents.appointment_pdf(cancelled, manage_url=None))
    assert "Ce rendez-vous n’est plus valable (annulé)." in text


def test_what_to_bring_covers_identity_old_passport_receipt_convocation_and_minors():
    with translation.override("fr"):
        items = " ".join(str(item) for item in documents.WHAT_TO_BRING)
    for expected in ("NINA", "acte de naissance", "ancien passeport", "reçu", "convocation"):
        assert expected in items
    assert "mineur" in items
