"""Logging in to the staff workspace: the second factor of supervisors and administrators
(the code at login, the enrolment of a device, the admin site), and `next` kept on this site.
The lockout after repeated failures is tested in test_staff_lockout.py."""

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from appointments.tests.factories import member
from core import twofactor
from core.models import EnrolmentCode
from core.services import staff_enrolment_code_issue, staff_totp_register
from production.tests.staff_login_support import LOGIN, NOON, attempt, logged_in_as
from tests.support import TEST_TOTP_SECRET, log_in, totp_code

pytestmark = pytest.mark.django_db


# The second factor at login ---------------------------------------------------------------


def test_a_supervisor_logs_in_with_the_code_of_their_app(client, supervisor, freeze):
    freeze(NOON)
    response = attempt(client, "sup", "pw", code=totp_code())
    assert response.status_code == 302
    assert logged_in_as(client) == str(supervisor.pk)
    assert client.get("/staff/backlog/").status_code == 200  # a supervisor's page


@pytest.mark.parametrize("code", ["", "000000", "12 34", "abcdef"])
def test_without_the_right_code_a_supervisor_is_not_logged_in(client, supervisor, freeze, code):
    freeze(NOON)
    if code == "000000" and totp_code() == code:
        code = "111111"
    response = attempt(client, "sup", "pw", code=code)
    assert response.status_code == 200
    # The same message as a wrong password: it does not tell that the password was right.
    assert "Identifiant, mot de passe ou code de vérification incorrect" in (
        response.content.decode()
    )
    assert logged_in_as(client) is None


def test_wrong_codes_count_towards_the_lockout(client, supervisor, freeze):
    freeze(NOON)
    for i in range(5):
        freeze(f"2026-03-02T12:0{i}:00Z")  # django-otp slows tries down; the lockout counts
        attempt(client, "sup", "pw", code="000000" if totp_code() != "000000" else "111111")
    freeze("2026-03-02T12:06:00Z")
    response = attempt(client, "sup", "pw", code=totp_code())
    assert response.status_code == 429
    assert logged_in_as(client) is None


def test_a_code_opens_one_session_only(client, supervisor, freeze):
    freeze(NOON)
    code = totp_code()
    assert attempt(client, "sup", "pw", code=code).status_code == 302
    client.logout()
    assert attempt(client, "sup", "pw", code=code).status_code == 200
    assert logged_in_as(client) is None


def test_an_agent_logs_in_with_the_password_alone(client, paris):
    member("agent", paris.office, username="awa")
    assert attempt(client, "awa", "pw").status_code == 302
    assert client.get("/staff/dossiers/").status_code == 200


# Enrolment --------------------------------------------------------------------------------


def test_a_supervisor_without_a_device_can_do_nothing_but_enrol(client, paris, freeze):
    freeze(NOON)
    member("supervisor", paris.office, username="sup")
    response = attempt(client, "sup", "pw")
    assert response.status_code == 302
    enrol = reverse("staff:two-factor")
    for path in ["/staff/", "/staff/dossiers/", "/staff/backlog/", "/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.url.startswith(enrol), path
    # Nor the API with this session.
    assert client.get("/api/v1/files/").status_code == 401

    # The password alone shows no secret: it needs the code an administrator gave.
    page = client.get(enrol)
    assert page.status_code == 200
    assert "<svg" not in page.content.decode()
    assert 'name="enrolment_code"' in page.content.decode()
    response = client.post(enrol, {"enrolment_code": "ABCD-EFGH-JKMN"})
    assert "Code d’enregistrement incorrect" in response.content.decode()
    assert not TOTPDevice.objects.exists()

    code = staff_enrolment_code_issue(user=page.wsgi_request.user)
    page = client.post(enrol, {"enrolment_code": code.lower().replace("-", " ")})
    html = page.content.decode()
    assert "<svg" in html  # the QR code, inline
    device = TOTPDevice.objects.get(confirmed=False)
    secret = twofactor.secret_base32(device)
    assert twofactor.secret_grouped(device) in html
    # The same secret on every visit of this session (an app that scanned it keeps working).
    assert client.get(enrol).content.decode().count(twofactor.secret_grouped(device)) == 1

    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    response = client.post(enrol, {"code": wrong})
    assert "Code incorrect" in response.content.decode()
    assert client.get("/staff/dossiers/").status_code == 302

    freeze("2026-03-02T12:01:00Z")  # past django-otp's wait after a wrong code
    response = client.post(enrol, {"code": totp_code(secret), "next": "/staff/backlog/"})
    assert response.status_code == 302
    assert response.url == "/staff/backlog/"
    assert client.get("/staff/backlog/").status_code == 200
    assert twofactor.confirmed_device(device.user).pk == device.pk

    # From now on the code is asked at login.
    client.logout()
    freeze("2026-03-02T12:02:00Z")
    assert attempt(client, "sup", "pw").status_code == 200
    assert attempt(client, "sup", "pw", code=totp_code(secret)).status_code == 302


def test_a_session_without_the_code_of_an_existing_device_is_ended(client, supervisor):
    client.force_login(supervisor)  # a password-only session (e.g. before the device)
    response = client.get("/staff/dossiers/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
    assert logged_in_as(client) is None


def enrolled_secret(client, user) -> str:
    """Log in as `user` and start enrolling with a code an administrator issued."""
    client.force_login(user)
    code = staff_enrolment_code_issue(user=user)
    client.post(reverse("staff:two-factor"), {"enrolment_code": code})
    return twofactor.secret_base32(TOTPDevice.objects.get(user=user, confirmed=False))


def test_enrolment_never_redirects_off_the_site(client, paris, freeze):
    freeze(NOON)
    user = member("supervisor", paris.office, username="sup")
    secret = enrolled_secret(client, user)
    response = client.post(
        reverse("staff:two-factor"), {"code": totp_code(secret), "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response.url == "/staff/"


def test_whoever_knows_a_new_supervisors_password_cannot_enrol_a_device(client, paris):
    """The race of first come, first served: the stranger has the password but no code, and
    sees no secret; the owner's code, once used, is no good to anyone else."""
    user = member("supervisor", paris.office, username="sup")
    code = staff_enrolment_code_issue(user=user)
    stranger = Client()
    stranger.force_login(user)
    page = stranger.get(reverse("staff:two-factor"))
    assert "<svg" not in page.content.decode()
    refused = stranger.post(reverse("staff:two-factor"), {"code": "123456"})  # no device
    assert "<svg" not in refused.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    # The owner uses the code; the stranger, even told it afterwards, cannot use it again
    # nor see the secret given to the owner's session.
    client.force_login(user)
    client.post(reverse("staff:two-factor"), {"enrolment_code": code})
    secret = TOTPDevice.objects.get(user=user, confirmed=False)
    again = stranger.post(reverse("staff:two-factor"), {"enrolment_code": code})
    assert "Code d’enregistrement incorrect" in again.content.decode()
    assert (
        twofactor.secret_grouped(secret)
        not in stranger.get(reverse("staff:two-factor")).content.decode()
    )


def test_an_enrolment_code_lasts_its_hours_and_a_new_one_replaces_it(paris, freeze, settings):
    from core.services import InvalidEnrolmentCode, staff_totp_enrol

    freeze(NOON)
    user = member("supervisor", paris.office, username="sup")
    first = staff_enrolment_code_issue(user=user)
    second = staff_enrolment_code_issue(user=user)
    with pytest.raises(InvalidEnrolmentCode):
        staff_totp_enrol(user=user, enrolment_code=first)  # replaced by the second
    other = member("supervisor", paris.office, username="other")
    with pytest.raises(InvalidEnrolmentCode):
        staff_totp_enrol(user=other, enrolment_code=second)  # someone else's
    freeze("2026-03-03T12:00:01Z")  # 24 h and a second later
    with pytest.raises(InvalidEnrolmentCode):
        staff_totp_enrol(user=user, enrolment_code=second)
    assert staff_totp_enrol(user=user, enrolment_code=staff_enrolment_code_issue(user=user))
    stored = EnrolmentCode.objects.filter(user=user).values_list("digest", flat=True)
    assert all(len(digest) == 64 and "-" not in digest for digest in stored)


def test_an_administrator_issues_a_code_in_the_admin(client, paris, freeze):
    freeze(NOON)
    minister = member("admin", username="minister", is_staff=True, is_superuser=True)
    log_in(client, minister)
    sup = member("supervisor", paris.office, username="sup")
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "issue_enrolment_code", "_selected_action": [sup.pk]},
        follow=True,
    )
    text = response.content.decode()
    shown = re.search(
        r"sup : code d’enregistrement ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})", text, re.I
    )
    assert shown
    record = EnrolmentCode.objects.get(user=sup)
    assert record.issued_by == minister
    assert shown.group(1) not in record.digest
    other = Client()
    other.force_login(sup)
    other.post(reverse("staff:two-factor"), {"enrolment_code": shown.group(1)})
    assert TOTPDevice.objects.filter(user=sup, confirmed=False).exists()


def test_the_command_prints_a_code_for_operations(paris):
    sup = member("supervisor", paris.office, username="sup")
    out = io.StringIO()
    call_command("enrolment_code", "sup", stdout=out)
    code = out.getvalue().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    assert EnrolmentCode.objects.filter(user=sup, used_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/staff/", "//evil.example/", "https:/evil.example"]
)
def test_the_login_never_redirects_off_the_site(client, paris, next_url):
    member("agent", paris.office, username="awa")
    response = attempt(client, "awa", "pw", next=next_url)
    assert response.status_code == 302
    assert response.url == "/staff/"
    # Nor does the page carry it into its form.
    assert "evil.example" not in client.get(LOGIN, {"next": next_url}).content.decode()


def test_a_local_next_is_followed(client, paris):
    member("agent", paris.office, username="awa")
    response = attempt(client, "awa", "pw", next="/staff/dossiers/?status=queued")
    assert response.url == "/staff/dossiers/?status=queued"


# The admin site -----------------------------------------------------------------------------


def test_the_admin_site_asks_for_the_second_factor(client, freeze):
    freeze(NOON)
    minister = member("admin", username="minister", is_staff=True, is_superuser=True)
    staff_totp_register(user=minister, secret=TEST_TOTP_SECRET)
    index = reverse("admin:index")
    login = reverse("admin:login")
    # The password alone opens nothing.
    response = client.post(login, {"username": "minister", "password": "pw", "next": index})
    assert response.status_code == 200
    assert logged_in_as(client) is None
    assert 'name="code"' in response.content.decode()
    # With the code, the admin.
    response = client.post(
        login, {"username": "minister", "password": "pw", "code": totp_code(), "next": index}
    )
    assert response.status_code == 302
    assert client.get(index).status_code == 200


def test_a_superuser_without_a_device_enrols_before_the_admin(client):
    minister = member("admin", username="minister", is_staff=True, is_superuser=True)
    client.force_login(minister)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("staff:two-factor"))


def test_the_admin_refuses_a_weak_password(client):
    log_in(client, member("admin", username="minister", is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:auth_user_add"),
        {"username": "awa", "usable_password": "true", "password1": "123", "password2": "123"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "trop court" in html
    assert "entièrement numérique" in html
