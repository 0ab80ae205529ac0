"""Following a file or an appointment: GET /api/v1/track/ and the page /suivi/, in French and
English; no enumeration (one answer, one query for any mismatch) and rate limits per
address and per reference."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from appointments import services as appointment_services
from appointments.tests.factories import book, member
from core.models import OutboxMessage
from core.outbox import delivery
from production import services, tracking
from production.models import FileEvent, FileStatus
from production.tests.factories import PassportFileFactory, applicant_file, works_weekdays

pytestmark = pytest.mark.django_db

BORN = date(1990, 1, 1)
URL = "/api/v1/track/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def file(bamako):
    works_weekdays(bamako.office)
    file = PassportFileFactory(centre=bamako, status="enrolled", birth_date=BORN)
    FileEvent.objects.create(file=file, from_status="", to_status="enrolled")
    FileEvent.objects.create(file=file, from_status="enrolled", to_status="queued")
    file.status = "queued"
    file.save(update_fields=["status"])
    return file


def track(api, reference, birth_date="1990-01-01", **extra):
    return api.get(URL, {"reference": reference, "birth_date": birth_date}, **extra)


def test_a_file_with_its_status_timeline_office_and_estimate(api, file, freeze):
    freeze(datetime(2026, 12, 3, 10, 0, tzinfo=UTC))  # Thursday
    response = track(api, file.reference.lower())
    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == file.reference
    assert body["kind"] == "file"
    assert (body["status"], body["status_label"]) == ("queued", "En attente de fabrication")
    assert [(s["status"], s["label"]) for s in body["timeline"]] == [
        ("enrolled", "Dossier reçu"),
        ("queued", "En attente de fabrication"),
    ]
    assert body["timeline"][0]["at"].endswith("+00:00")  # Bamako's offset
    assert body["office"]["code"] == "bko-centre"
    assert body["office"]["timezone"] == "Africa/Bamako"
    assert body["estimated_ready_date"] == "2026-12-04"  # today's batch, ready tomorrow
    assert body["appointment"] is None
    assert response["Cache-Control"] == "no-store, private"

    english = track(api, file.reference, HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["status_label"] == "Waiting for production"


def test_a_rejected_file_gives_its_reason(api, file):
    file.status, file.rejection_reason = "rejected", "Photo non conforme"
    file.save()
    body = track(api, file.reference).json()
    assert (body["status"], body["rejection_reason"]) == ("rejected", "Photo non conforme")
    assert body["estimated_ready_date"] is None


def test_an_appointment_then_the_file_it_became(api, bamako):
    appointment, _token = book(bamako.office, birth_date=BORN)
    slot = appointment.slot
    body = track(api, appointment.reference.replace("-", "")).json()
    assert (body["kind"], body["reference"], body["status"]) == (
        "appointment",
        appointment.reference,
        "booked",
    )
    assert body["appointment"]["starts_at"] == slot.starts_at.isoformat()  # Bamako is UTC
    assert body["appointment"]["what_to_bring"]
    assert body["office"]["code"] == "bko-centre"
    assert body["estimated_ready_date"] is None

    agent = member("agent", bamako.office)
    appointment_services.appointment_check_in(appointment=appointment, by=agent)
    file, _created = services.file_enrol(appointment=appointment, by=agent)
    assert file.birth_date == BORN
    body = track(api, appointment.reference).json()
    assert (body["kind"], body["reference"], body["status"]) == (
        "file",
        file.reference,
        FileStatus.ENROLLED,
    )
    assert track(api, file.reference).json() == body


def _without_values(content: bytes) -> bytes:
    """The page without what differs by nature: the CSRF token and the values typed."""
    return re.sub(rb' value="[^"]*"', b"", content)


def test_an_unknown_reference_and_a_wrong_birth_date_get_one_answer(api, client, file):
    appointment, _token = book(file.office, birth_date=BORN)
    lookups = {
        "unknown file": (file.reference[:-1] + "X", "1990-01-01"),
        "wrong birth date": (file.reference, "1990-01-02"),
        "unknown booking": ("AAAA-AAAA", "1990-01-01"),
        "booking, wrong birth date": (appointment.reference, "1991-01-01"),
    }
    answers, queries, pages = set(), set(), set()
    for reference, born in lookups.values():
        with CaptureQueriesContext(connection) as captured:
            response = track(api, reference, born)
        answers.add((response.status_code, response.content))
        queries.add(len(captured))
        page = client.post("/suivi/", {"reference": reference, "birth_date": born})
        pages.add((page.status_code, _without_values(page.content)))
    assert len(answers) == 1
    assert next(iter(answers))[0] == 404
    assert queries == {1}  # the same single read, whichever part does not match
    assert len(pages) == 1
    assert "Aucun dossier ni rendez-vous" in pages.pop()[1].decode()


def test_a_file_without_a_birth_date_is_not_found(api, bamako):
    file = PassportFileFactory(centre=bamako, birth_date=None)
    assert track(api, file.reference).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"reference": "DOS-0000001", "birth_date": "1990-13-01"},
        {"reference": "DOS-0000001", "birth_date": "01/01/1990"},
        {"reference": "DOS-0000001"},
        {"birth_date": "1990-01-01"},
        {"reference": "DOS-0000001", "birth_date": "2999-01-01"},
    ],
)
def test_a_malformed_query_is_400_invalid(api, db, query):
    response = api.get(URL, query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_lookups_are_limited_per_address(api, file, settings):
    settings.TRACK_RATE = "3/m"
    for n in range(3):
        assert track(api, f"DOS-{n:07d}").status_code == 404
    response = track(api, file.reference)
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 60
    # Another address still gets its answer.
    assert track(api, file.reference, REMOTE_ADDR="198.51.100.7").status_code == 200


def test_lookups_of_one_reference_are_limited_whatever_the_address(api, file, settings):
    settings.TRACK_REFERENCE_RATE = "3/h"
    for n in range(3):
        response = track(api, file.reference, f"1990-01-0{n + 2}", REMOTE_ADDR=f"192.0.2.{n}")
        assert response.status_code == 404
    # The right date now comes too late: the reference's budget is spent.
    response = track(api, file.reference, REMOTE_ADDR="192.0.2.99")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 3600
    assert track(api, "DOS-0000000", REMOTE_ADDR="192.0.2.99").status_code == 404


def test_the_page_limits_lookups_too(client, file, settings):
    settings.TRACK_REFERENCE_RATE = "1/h"
    wrong = client.post("/suivi/", {"reference": file.reference, "birth_date": "1991-01-01"})
    assert wrong.status_code == 200
    response = client.post("/suivi/", {"reference": file.reference, "birth_date": BORN})
    assert response.status_code == 429
    assert "Retry-After" in response
    # The page says what the owner can do: a link sent to their contacts.
    assert 'action="/suivi/lien/"' in response.content.decode()


def test_the_owners_lookups_never_spend_the_references_budget(api, file, settings):
    settings.TRACK_REFERENCE_RATE = "3/h"
    for n in range(10):
        assert track(api, file.reference, REMOTE_ADDR=f"192.0.2.{n}").status_code == 200


def test_a_stranger_who_spent_the_budget_does_not_stop_the_owner_following_their_file(
    client, api, bamako, settings, mailoutbox
):
    """The stranger knows the reference and tries dates of birth: the reference answers 429
    to everyone for the hour, and the owner asks for a link, which goes to their contacts
    (not to the stranger), opens the file without the date of birth and is counted nowhere."""
    settings.TRACK_REFERENCE_RATE = "3/h"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    file = applicant_file(centre=bamako, status="queued")
    for n in range(3):
        track(api, file.reference, f"1990-02-0{n + 1}", REMOTE_ADDR=f"203.0.113.{n}")
    assert track(api, file.reference, REMOTE_ADDR="192.0.2.7").status_code == 429

    # Asked twice (and by the stranger too): one link in the hour, the same answer each time.
    answers = [
        client.post("/suivi/lien/", {"reference": file.reference.lower()}, REMOTE_ADDR=a)
        for a in ("192.0.2.7", "203.0.113.9")
    ]
    unknown = client.post("/suivi/lien/", {"reference": "DXXXXX-XXXXX"}, REMOTE_ADDR="192.0.2.7")
    for answer in [*answers, unknown]:
        assert answer.status_code == 200
        assert "Si cette référence existe, un lien de suivi vient d’être envoyé" in (
            answer.content.decode()
        )
    messages = OutboxMessage.objects.filter(kind="track_link")
    assert {m.channel for m in messages} == {"email", "sms"}
    assert all(m.appointment_id == file.appointment_id for m in messages)

    delivery.outbox_sweep()
    (email,) = [m for m in mailoutbox if "lien de suivi" in m.subject]
    assert email.to == [file.appointment.email]
    link = re.search(r"https?://\S+/suivi/lien/[^/\s]+/", email.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert not OutboxMessage.objects.filter(payload__has_key="track_token").exists()
    for _ in range(5):  # counted against nothing, from anywhere
        page = client.get(f"/{path}", REMOTE_ADDR="198.51.100.1")
        assert page.status_code == 200
        assert file.reference in page.content.decode()
    # A link not ours, or for another reference, opens nothing.
    assert client.get("/suivi/lien/abc/").status_code == 404
    forged = tracking.link_token(file.reference)[:-2] + "xx"
    assert client.get(f"/suivi/lien/{forged}/").status_code == 404


def test_a_tracking_link_lasts_its_hours(client, file, freeze, settings):
    start = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    freeze(start)
    token = tracking.link_token(file.reference)
    assert client.get(f"/suivi/lien/{token}/").status_code == 200
    freeze(start + timedelta(hours=settings.TRACK_LINK_HOURS, seconds=1))
    expired = client.get(f"/suivi/lien/{token}/")
    assert expired.status_code == 404
    assert "a expiré" in expired.content.decode()


def test_the_page_shows_the_file_in_french_and_english(client, file, freeze):
    freeze(datetime(2026, 12, 3, 10, 0, tzinfo=UTC))
    form = client.get("/suivi/?reference=ACDE-FGHJ")
    assert form.status_code == 200
    assert 'value="ACDE-FGHJ"' in form.content.decode()
    assert form["Cache-Control"] == "no-store, private"

    page = client.post("/suivi/", {"reference": file.reference, "birth_date": "1990-01-01"})
    text = page.content.decode()
    assert "En attente de fabrication" in text
    assert "vendredi 4 décembre 2026" in text
    assert "la place de votre dossier dans la file de production" in text
    assert "Africa/Bamako" in text
    assert "no-store" in page["Cache-Control"]

    english = client.post("/en/suivi/", {"reference": file.reference, "birth_date": "1990-01-01"})
    text = english.content.decode()
    assert "Waiting for production" in text
    assert "Friday 4 December 2026" in text


def test_a_wrong_date_on_the_page_is_a_form_message(client, db):
    page = client.post("/suivi/", {"reference": "DOS-1", "birth_date": "pas une date"})
    assert page.status_code == 200
    assert "field-error" in page.content.decode()


def test_home_and_manage_pages_link_to_tracking(client, bamako):
    assert 'href="/suivi/"' in client.get("/").content.decode()
    appointment, token = book(bamako.office)
    manage = client.get(f"/rendez-vous/{appointment.reference}/{token}/").content.decode()
    assert f'href="/suivi/?reference={appointment.reference}"' in manage


def test_the_hand_built_answer_is_the_serializer_s(api, file, bamako, freeze):
    from production import tracking
    from production.api.track import TrackSerializer, as_json

    freeze(datetime(2026, 12, 3, 10, 0, tzinfo=UTC))
    appointment, _token = book(bamako.office, birth_date=BORN)
    for found in (
        tracking.track(reference=file.reference, birth_date=BORN),
        tracking.track(reference=appointment.reference, birth_date=BORN),
    ):
        context = {"timezone": found.office.timezone}
        assert as_json(found) == TrackSerializer(found, context=context).data
