"""Production headers: Content-Security-Policy without 'unsafe-inline',
Permissions-Policy, frame denial on every answer; no cache and no referrer for the answers
reached by a booking's token (manage pages, calendar file, PDF, the API's booking)."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from appointments.tests.factories import CentreOfficeFactory, book
from tests.support import log_in

pytestmark = pytest.mark.django_db

TEMPLATES = Path(django_settings.BASE_DIR) / "templates"


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (piece.strip() for piece in policy.split(";"))
        if part
    }


@pytest.mark.parametrize("path", ["/", "/statut/", "/suivi/", "/staff/connexion/", "/healthz"])
def test_every_answer_has_the_security_headers(client, path):
    response = client.get(path)
    csp = directives(response)
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in permissions


def test_the_admin_and_the_api_docs_have_them_too(client):
    for path in ("/admin/login/", "/api/docs/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], path
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], path


# No inline script, style or event handler in the pages' templates: the policy would block
# them (the emails are not pages: their inline styles are for mail readers).
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def page_templates() -> list[Path]:
    templates = [
        path
        for path in TEMPLATES.rglob("*.html")
        if "email" not in path.relative_to(TEMPLATES).parts
    ]
    for app in ("appointments", "production", "consulates", "core"):
        templates += (Path(django_settings.BASE_DIR) / app / "templates").rglob("*.html")
    return templates


EXECUTABLE_INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE
)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/django_celery_beat/periodictask/add/",
        "/admin/core/office/add/",
        "/admin/appointments/suspension/add/",
    ],
)
def test_the_admin_pages_hold_no_inline_code(client, path):
    """Django's admin keeps its scripts in files; django-celery-beat's periodic task form
    has an inline one, which templates/admin/djcelery/ replaces."""
    log_in(client, User.objects.create_superuser("root", password="pw"))
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert not EXECUTABLE_INLINE_SCRIPT.search(html)
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE)


def test_no_template_holds_inline_code_or_style():
    found = [
        f"{path.relative_to(django_settings.BASE_DIR)}: {what}"
        for path in page_templates()
        for pattern, what in INLINE
        if pattern.search(path.read_text())
    ]
    assert len(page_templates()) > 20
    assert found == []


# Answers reached by a booking's token ---------------------------------------------------------


def assert_private(response, referrer_policy: str = "no-referrer") -> None:
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == referrer_policy


@pytest.fixture
def booking():
    return book(CentreOfficeFactory(code="bko-centre"))


@pytest.mark.parametrize("suffix", ["", "calendrier.ics", "convocation.pdf"])
def test_manage_ics_and_pdf_are_not_stored_and_send_no_referrer(client, booking, suffix):
    appointment, token = booking
    response = client.get(f"/rendez-vous/{appointment.reference}/{token}/{suffix}")
    assert response.status_code == 200
    assert_private(response)


@pytest.mark.parametrize("suffix", ["annuler/", "deplacer/"])
def test_the_manage_forms_are_not_stored_and_send_their_address_to_no_other_site(
    client, booking, suffix
):
    """Under no-referrer the browser would send their POST with `Origin: null`, which the
    CSRF protection refuses (tests/test_browser_booking.py cancels through the form)."""
    appointment, token = booking
    response = client.get(f"/rendez-vous/{appointment.reference}/{token}/{suffix}")
    assert response.status_code == 200
    assert_private(response, "same-origin")


def test_a_wrong_token_and_the_english_page_too(client, booking):
    appointment, token = booking
    assert_private(client.get(f"/rendez-vous/{appointment.reference}/wrong/"))
    response = client.get(f"/en/rendez-vous/{appointment.reference}/{token}/")
    assert response.status_code == 200
    assert_private(response)


def test_a_cancel_through_the_manage_link_is_not_stored(client, booking):
    appointment, token = booking
    response = client.post(f"/rendez-vous/{appointment.reference}/{token}/annuler/")
    assert response.status_code in (200, 302)
    assert_private(response, "same-origin")


def test_the_api_booking_read_with_its_token_is_not_stored(booking):
    appointment, token = booking
    response = APIClient().get(
        f"/api/v1/bookings/{appointment.reference}/", HTTP_X_BOOKING_TOKEN=token
    )
    assert response.status_code == 200
    assert_private(response)


def test_other_pages_keep_the_site_wide_referrer_policy(client):
    response = client.get("/")
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_policy_built_once_is_django_csps_and_follows_the_settings(client, settings):
    from csp.utils import build_policy

    assert client.get("/statut/")["Content-Security-Policy"] == build_policy()
    assert "Content-Security-Policy-Report-Only" not in client.get("/statut/")

    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": ["'self'"]}}
    answer = client.get("/statut/")
    assert answer["Content-Security-Policy"] == "default-src 'none'" == build_policy()
    report_only = answer["Content-Security-Policy-Report-Only"]
    assert "img-src 'self'" in report_only.split("; ")
    assert report_only == build_policy(report_only=True)


def test_an_answer_that_changes_the_policy_is_left_to_django_csp(rf):
    from django.http import HttpResponse

    from core.headers import ContentSecurityPolicyMiddleware

    def view(request):
        response = HttpResponse("ok")
        response._csp_update = {"img-src": ["https://tiles.example.org"]}
        return response

    answer = ContentSecurityPolicyMiddleware(view)(rf.get("/"))
    assert "https://tiles.example.org" in answer["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in answer["Content-Security-Policy"]
