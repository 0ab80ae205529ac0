"""POST /api/v1/auth/token/ and the tokens it gives: the lockout (429 `locked_out`), the
second factor of supervisors and administrators (one answer, 400 `invalid_credentials`,
whichever part is wrong), expiry, and revocation by a new password."""

from datetime import UTC, datetime, timedelta

import pytest
import yaml
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from appointments.tests.factories import member
from core.services import staff_totp_register, staff_upsert
from tests.support import TEST_TOTP_SECRET, run_together, token_client, totp_code

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def ask(username="awa", password="pw", address="198.51.100.7", **extra):  # noqa: S107
    body = {"username": username, "password": password, **extra}
    return APIClient().post(URL, body, format="json", REMOTE_ADDR=address)


def files_with(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/v1/files/").status_code


@pytest.fixture
def supervisor(paris):
    user = member("supervisor", paris.office, username="sup")
    staff_totp_register(user=user, secret=TEST_TOTP_SECRET)
    return user


# Lockout ------------------------------------------------------------------------------------


def test_a_pair_is_locked_after_five_failures_not_the_account(paris, settings):
    settings.RATE_LIMITS = False  # the lockout, not the per-address rate limit
    member("agent", paris.office, username="awa")
    codes = [ask(password="guess", address="203.0.113.9").status_code for _ in range(5)]
    assert codes == [400, 400, 400, 400, 429]
    response = ask(address="203.0.113.9")  # the right password, from there
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert "15 minutes" in response.json()["detail"]
    assert response["Retry-After"] == "900"
    assert not Token.objects.exists()
    assert ask(address="192.0.2.50").status_code == 200  # the owner, from elsewhere


def test_an_address_is_locked_after_five_failures(paris, settings, freeze):
    settings.RATE_LIMITS = False
    freeze(NOON)
    member("agent", paris.office, username="awa")
    for name in ["a", "b", "c", "d", "e"]:
        ask(username=name, password="guess", address="203.0.113.9")
    assert ask(address="203.0.113.9").json()["code"] == "locked_out"
    assert ask(address="192.0.2.50").status_code == 200
    freeze(NOON + timedelta(minutes=16))
    assert ask(address="203.0.113.9").status_code == 200


# The second factor --------------------------------------------------------------------------


def test_a_supervisor_gets_a_token_with_the_code_of_their_app(supervisor, freeze):
    freeze(NOON)
    response = ask(username="sup", otp=totp_code())
    assert response.status_code == 200
    assert files_with(response.json()["token"]) == 200


@pytest.mark.parametrize("otp", [None, "", "000000", "abc"])
def test_without_the_right_code_a_supervisor_gets_what_a_wrong_password_gets(
    supervisor, freeze, otp
):
    """Nothing tells a right password from a wrong one before the code is right."""
    freeze(NOON)
    if otp == totp_code():
        otp = "111111"
    extra = {} if otp is None else {"otp": otp}
    right_password = ask(username="sup", address="203.0.113.1", **extra)
    wrong_password = ask(username="sup", password="guess", address="203.0.113.2", **extra)
    assert right_password.status_code == wrong_password.status_code == 400
    assert right_password.json() == wrong_password.json()
    assert right_password.json()["code"] == "invalid_credentials"
    assert not Token.objects.exists()


def test_a_right_password_without_the_code_counts_as_a_failure(supervisor, settings, freeze):
    settings.RATE_LIMITS = False
    freeze(NOON)
    for _ in range(5):
        ask(username="sup", address="203.0.113.9")  # no otp at all
    response = ask(username="sup", otp=totp_code(), address="203.0.113.9")
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"


def test_an_administrator_without_a_device_gets_what_a_wrong_password_gets(freeze):
    member("admin", username="minister")
    right = ask(username="minister", otp="123456", address="203.0.113.1")
    wrong = ask(username="minister", password="guess", otp="123456", address="203.0.113.2")
    assert right.status_code == wrong.status_code == 400
    assert right.json() == wrong.json()
    assert "/staff/" in right.json()["detail"]


def test_wrong_codes_count_towards_the_lockout(supervisor, settings, freeze):
    settings.RATE_LIMITS = False
    for i in range(5):
        freeze(NOON + timedelta(minutes=i))
        wrong = "000000" if totp_code() != "000000" else "111111"
        ask(username="sup", otp=wrong, address="203.0.113.9")
    freeze(NOON + timedelta(minutes=6))
    response = ask(username="sup", otp=totp_code(), address="203.0.113.9")
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"


def test_an_agent_needs_no_code(paris):
    member("agent", paris.office, username="awa")
    assert ask().status_code == 200


# Expiry and revocation ----------------------------------------------------------------------


def test_a_token_expires_after_api_token_ttl_hours(paris, freeze, settings):
    settings.API_TOKEN_TTL_HOURS = 12
    freeze(NOON)
    member("agent", paris.office, username="awa")
    first = ask().json()
    assert first["expires_at"] == "2026-03-03T00:00:00Z"
    freeze(NOON + timedelta(hours=11, minutes=59))
    assert files_with(first["token"]) == 200
    assert ask().json() == first  # asked again while valid: the same token
    freeze(NOON + timedelta(hours=12))
    response = APIClient(HTTP_AUTHORIZATION=f"Token {first['token']}").get("/api/v1/files/")
    assert response.status_code == 401
    assert "expiré" in response.json()["detail"]
    second = ask().json()
    assert second["token"] != first["token"]
    assert files_with(second["token"]) == 200


def test_a_new_password_revokes_the_token(paris):
    agent = member("agent", paris.office, username="awa")
    token = ask().json()["token"]
    agent.set_password("a-new-Passw0rd")
    agent.save()
    assert files_with(token) == 401
    assert not Token.objects.exists()


def test_a_new_password_from_create_staff_revokes_the_token_and_the_same_one_does_not(paris):
    user = staff_upsert(
        username="awa", password="first-Passw0rd", role="agent", office_codes=[paris.office.code]
    )
    token_client(user)  # gives the user a token
    staff_upsert(
        username="awa", password="first-Passw0rd", role="agent", office_codes=[paris.office.code]
    )
    assert Token.objects.filter(user=user).exists()  # same password: kept
    staff_upsert(
        username="awa", password="second-Passw0rd", role="agent", office_codes=[paris.office.code]
    )
    assert not Token.objects.filter(user=user).exists()


def test_a_login_keeps_the_token(client, paris):
    member("agent", paris.office, username="awa")
    token = ask().json()["token"]
    client.post("/staff/connexion/", {"username": "awa", "password": "pw"})  # saves last_login
    assert files_with(token) == 200


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_get_one_token(paris):
    member("agent", paris.office, username="awa")
    answers = run_together([ask, ask])
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].json()["token"] == answers[1].json()["token"]
    assert Token.objects.count() == 1


def test_the_schema_documents_the_answers_of_the_token_endpoint(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target))
    operation = yaml.safe_load(target.read_text())["paths"][URL]["post"]
    assert set(operation["responses"]) == {"200", "400", "429"}
    assert "locked_out" in operation["responses"]["429"]["description"]
    assert "`otp` missing or wrong" in operation["responses"]["400"]["description"]


@pytest.mark.django_db(transaction=True)
def test_one_code_sent_twice_at_once_opens_one_request_only(supervisor, settings):
    settings.RATE_LIMITS = False
    code = totp_code()
    answers = run_together([lambda: ask(username="sup", otp=code)] * 2)
    assert sorted(answer.status_code for answer in answers) == [200, 400]
