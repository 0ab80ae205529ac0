"""The staff API: token, agenda, check-in, enrolment, files and their transitions."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from appointments import services as appointment_services
from appointments.models import Appointment
from appointments.tests.factories import book, member
from production import services
from production.api import views
from production.models import FileEvent, FileStatus, PassportFile
from production.tests.factories import CentreFactory, PassportFileFactory
from tests.support import token_client

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def agents_api(mission):
    """The API as a new agent of the mission calls it."""
    return token_client(member("agent", mission.office))


# Token --------------------------------------------------------------------------------------


def test_a_member_of_staff_gets_a_token_that_opens_the_api(paris):
    agent = member("agent", paris.office, username="awa")
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "awa", "password": "pw"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=agent).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/files/").status_code == 200
    # Asked again, the same token.
    again = APIClient().post(
        "/api/v1/auth/token/", {"username": "awa", "password": "pw"}, format="json"
    )
    assert again.json() == response.json()  # the same token, the same expiry


@pytest.mark.parametrize(
    ("username", "password"), [("awa", "wrong"), ("nobody", "pw"), ("outsider", "pw")]
)
def test_wrong_credentials_and_people_without_a_membership_get_no_token(paris, username, password):
    member("agent", paris.office, username="awa")
    User.objects.create_user("outsider", password="pw")  # an account, but not staff
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_credentials",
        "detail": "Identifiant, mot de passe ou code de vérification incorrect. Les "
        "superviseurs et administrateurs envoient aussi dans `otp` le code à 6 chiffres de "
        "leur application d’authentification, enregistrée dans l’espace agents (/staff/).",
    }
    assert not Token.objects.exists()


def test_a_token_request_without_a_password_is_invalid():
    response = APIClient().post("/api/v1/auth/token/", {"username": "awa"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "password" in response.json()["fields"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/agenda/?date=2026-03-30&office=paris-consulat"),
        ("post", "/api/v1/appointments/PX7K-4MQD/check-in/"),
        ("post", "/api/v1/appointments/PX7K-4MQD/enrol/"),
        ("get", "/api/v1/files/"),
        ("get", "/api/v1/files/DOS-0000001/"),
        ("post", "/api/v1/files/DOS-0000001/transition/"),
        ("post", "/api/v1/files/bulk-transition/"),
    ],
)
def test_without_credentials_every_staff_endpoint_answers_401(method, path):
    response = getattr(APIClient(), method)(path, {}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_answers_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.get("/api/v1/files/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert set(response.json()) == {"code", "detail"}  # an error, and no list of files


def test_the_browser_uses_its_session(paris):
    client = APIClient()
    client.force_login(member("agent", paris.office))
    assert client.get("/api/v1/files/").status_code == 200


# Agenda -------------------------------------------------------------------------------------


def test_the_agenda_lists_the_local_day_of_the_office_in_order_of_time(paris):
    day = timezone.localdate() + timedelta(days=3)
    late, _token = book(
        paris.office, datetime.combine(day, datetime.min.time(), PARIS).replace(hour=23)
    )
    early, _token = book(
        paris.office, datetime.combine(day, datetime.min.time(), PARIS).replace(hour=0)
    )
    # Outside the local day: 23:59 the day before and midnight the day after.
    book(paris.office, datetime.combine(day, datetime.min.time(), PARIS) - timedelta(minutes=1))
    book(paris.office, datetime.combine(day + timedelta(days=1), datetime.min.time(), PARIS))
    agent = member("agent", paris.office)
    response = token_client(agent).get(
        "/api/v1/agenda/", {"date": day.isoformat(), "office": paris.office.code}
    )
    assert response.status_code == 200
    body = response.json()
    assert [item["reference"] for item in body] == [early.reference, late.reference]
    first = body[0]
    assert set(first) == {
        "reference",
        "status",
        "starts_at",
        "surname",
        "given_names",
        "national_id",
    }
    assert first["status"] == "booked"
    assert first["starts_at"] == early.slot.starts_at.astimezone(PARIS).isoformat()
    assert first["starts_at"].endswith(("+01:00", "+02:00"))
    assert first["national_id"] == early.national_id


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"office": "paris-consulat"},
        {"date": "2026-03-30"},
        {"date": "30/03/2026", "office": "paris-consulat"},
        {"date": "9999-12-31", "office": "paris-consulat"},
        {"date": "2026-03-30", "office": "not a code"},
    ],
)
def test_the_agenda_needs_a_date_and_an_office(paris, query):
    response = agents_api(paris).get("/api/v1/agenda/", query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_an_unknown_office_is_not_found(paris):
    response = token_client(member("admin")).get(
        "/api/v1/agenda/", {"date": "2026-03-30", "office": "nowhere"}
    )
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Bureau inconnu."}


# Check-in and enrolment ---------------------------------------------------------------------


def test_check_in_then_enrol_then_enrol_again(paris):
    appointment, _token = book(paris.office)
    client = agents_api(paris)
    checked_in = client.post(f"/api/v1/appointments/{appointment.reference}/check-in/")
    assert checked_in.status_code == 200
    assert checked_in.json() == {"reference": appointment.reference, "status": "checked_in"}
    assert Appointment.objects.get(pk=appointment.pk).status == "checked_in"

    enrolled = client.post(f"/api/v1/appointments/{appointment.reference}/enrol/")
    assert enrolled.status_code == 201
    file = PassportFile.objects.get(appointment=appointment)
    assert enrolled.json() == {"file_reference": file.reference, "status": "enrolled"}

    again = client.post(f"/api/v1/appointments/{appointment.reference}/enrol/")
    assert again.status_code == 200
    assert again.json() == enrolled.json()
    assert PassportFile.objects.count() == 1
    assert Appointment.objects.get(pk=appointment.pk).status == "enrolled"


def test_a_reference_is_read_in_any_case(paris):
    appointment, _token = book(paris.office)
    response = agents_api(paris).post(
        f"/api/v1/appointments/{appointment.reference.lower()}/check-in/"
    )
    assert response.status_code == 200
    assert response.json() == {"reference": appointment.reference, "status": "checked_in"}
    assert Appointment.objects.get(pk=appointment.pk).status == "checked_in"


def test_checking_in_a_cancelled_appointment_is_a_conflict(paris):
    appointment, _token = book(paris.office)
    appointment_services.booking_cancel(appointment=appointment)
    response = agents_api(paris).post(f"/api/v1/appointments/{appointment.reference}/check-in/")
    assert response.status_code == 409
    assert response.json()["code"] == "not_changeable"
    assert Appointment.objects.get(pk=appointment.pk).status == "cancelled"


def test_an_unknown_appointment_is_not_found(paris):
    response = agents_api(paris).post("/api/v1/appointments/PX7K-4MQD/enrol/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Rendez-vous introuvable."}


# Files --------------------------------------------------------------------------------------


def test_the_file_list_filters_and_searches(paris, bamako):
    at_paris = PassportFileFactory(centre=bamako, office=paris.office, surname="DIARRA")
    queued = PassportFileFactory(
        centre=bamako, office=paris.office, status=FileStatus.QUEUED, given_names="Seydou"
    )
    at_bamako = PassportFileFactory(centre=bamako, surname="KEITA")
    client = token_client(member("operator", bamako.office))

    def references(**query):
        response = client.get("/api/v1/files/", query)
        assert response.status_code == 200, response.json()
        return {item["reference"] for item in response.json()["results"]}

    assert references() == {at_paris.reference, queued.reference, at_bamako.reference}
    assert references(status="queued") == {queued.reference}
    assert references(office="paris-consulat") == {at_paris.reference, queued.reference}
    assert references(q="diar") == {at_paris.reference}
    assert references(q="SEYD") == {queued.reference}
    assert references(q=at_bamako.reference.lower()) == {at_bamako.reference}
    item = client.get("/api/v1/files/", {"q": "diarra"}).json()["results"][0]
    assert item == {
        "reference": at_paris.reference,
        "status": "enrolled",
        "office": "paris-consulat",
        "centre": "bko-centre",
        "surname": "DIARRA",
        "given_names": "Fanta",
        "due_date": "2026-12-15",
        "created_at": item["created_at"],
    }


def test_an_unknown_status_filter_is_invalid(paris):
    response = agents_api(paris).get("/api/v1/files/", {"status": "lost"})
    assert response.status_code == 400
    assert "status" in response.json()["fields"]


def test_the_file_list_has_pages_of_fifty(paris, bamako):
    PassportFileFactory.create_batch(53, centre=bamako, office=paris.office)
    client = agents_api(paris)
    first = client.get("/api/v1/files/").json()
    assert first["count"] == 53
    assert len(first["results"]) == 50
    assert first["next"].endswith("page=2")
    second = client.get("/api/v1/files/", {"page": 2}).json()
    assert len(second["results"]) == 3
    seen = {i["reference"] for i in first["results"]} | {i["reference"] for i in second["results"]}
    assert len(seen) == 53
    assert client.get("/api/v1/files/", {"page": 3}).status_code == 404


def test_a_file_comes_with_its_events(paris, bamako):
    agent = member("agent", paris.office, username="awa")
    appointment, _token = book(paris.office)
    file, _ = services.file_enrol(appointment=appointment, by=agent)
    services.file_transition(file=file, to="queued", expected="enrolled", by=agent, note="OK")
    response = token_client(agent).get(f"/api/v1/files/{file.reference}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["reference"], body["status"], body["office"]) == (
        file.reference,
        "queued",
        "paris-consulat",
    )
    assert [(e["from_status"], e["to_status"], e["by"], e["note"]) for e in body["events"]] == [
        ("", "enrolled", "awa", ""),
        ("enrolled", "queued", "awa", "OK"),
    ]


def test_a_transition_moves_the_file_and_writes_its_event(paris, bamako):
    file = PassportFileFactory(centre=bamako, office=paris.office)
    response = agents_api(paris).post(
        f"/api/v1/files/{file.reference}/transition/",
        {"to": "queued", "expected": "enrolled", "note": "Complet"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    assert response.json()["events"][-1]["note"] == "Complet"
    assert FileEvent.objects.get(file=file).to_status == "queued"
    assert PassportFile.objects.get(pk=file.pk).status == "queued"


@pytest.mark.parametrize(
    ("role", "body", "status", "code"),
    [
        ("agent", {"to": "queued", "expected": "queued"}, 409, "status_changed"),
        ("agent", {"to": "delivered", "expected": "enrolled"}, 409, "illegal_transition"),
        ("agent", {"to": "on_hold", "expected": "enrolled"}, 403, "forbidden"),
        ("supervisor", {"to": "rejected", "expected": "enrolled"}, 400, "reason_required"),
        ("agent", {"to": "lost", "expected": "enrolled"}, 400, "invalid"),
        ("agent", {"to": "queued"}, 400, "invalid"),
    ],
)
def test_refused_transitions(paris, bamako, role, body, status, code):
    file = PassportFileFactory(centre=bamako, office=paris.office)
    response = token_client(member(role, paris.office)).post(
        f"/api/v1/files/{file.reference}/transition/", body, format="json"
    )
    assert response.status_code == status
    assert response.json()["code"] == code
    if code in ("status_changed", "illegal_transition"):
        assert response.json()["current"] == "enrolled"
    assert PassportFile.objects.get(pk=file.pk).status == "enrolled"
    assert not FileEvent.objects.exists()


def test_errors_speak_english_when_asked(paris):
    response = agents_api(paris).get("/api/v1/files/DOS-9999999/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "File not found."}


# Bulk ---------------------------------------------------------------------------------------


def test_a_bulk_transition_moves_each_file_on_its_own(paris, bamako):
    queueable = PassportFileFactory(centre=bamako, office=paris.office)
    done = PassportFileFactory(centre=bamako, office=paris.office, status=FileStatus.DELIVERED)
    elsewhere = PassportFileFactory(centre=CentreFactory(office__code="kayes-centre"))
    agent = member("agent", paris.office)
    response = token_client(agent).post(
        "/api/v1/files/bulk-transition/",
        {
            "files": [queueable.reference, done.reference, elsewhere.reference, "NOPE"],
            "to": "queued",
        },
        format="json",
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0] == {"file": queueable.reference, "ok": True, "status": "queued"}
    assert {k: results[1][k] for k in ("file", "ok", "code")} == {
        "file": done.reference,
        "ok": False,
        "code": "illegal_transition",
    }
    assert results[1]["detail"]
    for result, reference in zip(results[2:], [elsewhere.reference, "NOPE"], strict=True):
        assert result == {
            "file": reference,
            "ok": False,
            "code": "not_found",
            "detail": "Dossier introuvable.",
        }
    assert PassportFile.objects.get(pk=queueable.pk).status == "queued"
    assert PassportFile.objects.get(pk=elsewhere.pk).status == "enrolled"


def test_a_file_changed_during_a_bulk_transition_is_not_overwritten(paris, bamako, monkeypatch):
    first = PassportFileFactory(centre=bamako, office=paris.office)
    second = PassportFileFactory(centre=bamako, office=paris.office)
    supervisor = member("supervisor", paris.office)
    real = services.file_transition

    def someone_else_moves_the_second_file_first(**kwargs):
        if kwargs["file"] == first.pk:
            # Meanwhile, at another counter: the second file is put on hold.
            real(file=second.pk, to="on_hold", expected="enrolled", by=supervisor)
        return real(**kwargs)

    monkeypatch.setattr(
        views.services, "file_transition", someone_else_moves_the_second_file_first
    )
    response = agents_api(paris).post(
        "/api/v1/files/bulk-transition/",
        {"files": [first.reference, second.reference], "to": "queued"},
        format="json",
    )
    results = response.json()["results"]
    assert results[0]["ok"] is True
    assert (results[1]["ok"], results[1]["code"]) == (False, "status_changed")
    assert PassportFile.objects.get(pk=second.pk).status == "on_hold"


def test_a_bulk_transition_takes_at_most_500_files(paris):
    response = agents_api(paris).post(
        "/api/v1/files/bulk-transition/",
        {"files": [f"DOS-{n:07d}" for n in range(501)], "to": "queued"},
        format="json",
    )
    assert response.status_code == 400
    assert "files" in response.json()["fields"]


def test_a_reference_sent_twice_is_moved_once(paris, bamako):
    file = PassportFileFactory(centre=bamako, office=paris.office)
    response = agents_api(paris).post(
        "/api/v1/files/bulk-transition/",
        {"files": [file.reference, file.reference], "to": "queued"},
        format="json",
    )
    assert response.json()["results"] == [{"file": file.reference, "ok": True, "status": "queued"}]
    assert FileEvent.objects.filter(file=file).count() == 1


def test_due_dates_are_dates(paris, bamako):
    PassportFileFactory(centre=bamako, office=paris.office, due_date=date(2027, 1, 4))
    item = agents_api(paris).get("/api/v1/files/").json()["results"][0]
    assert item["due_date"] == "2027-01-04"


def test_token_requests_are_rate_limited_per_address(client, settings):
    settings.RATE_LIMITS = True
    settings.LOGIN_RATE = "3/m"
    answers = [
        client.post(
            "/api/v1/auth/token/",
            {"username": "nobody", "password": "guess"},
            content_type="application/json",
            REMOTE_ADDR="198.51.100.7",
        ).status_code
        for _ in range(4)
    ]
    assert answers == [400, 400, 400, 429]
