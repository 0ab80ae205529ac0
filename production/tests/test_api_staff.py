"""The staff API: token, agenda, check-in and enrolment. Files and their transitions are
tested in test_api_files.py."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from appointments import services as appointment_services
from appointments.models import Appointment
from appointments.tests.factories import book, member
from production.models import PassportFile
from production.tests.api_staff_support import agents_api
from tests.support import token_client

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


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
