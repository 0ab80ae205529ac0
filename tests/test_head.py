"""HEAD answers like GET (same status and headers, no body) on the health check and the
pages people open: link checkers, monitoring and some browsers' prefetch send it."""

import pytest

from appointments.tests.factories import paris_consulate

pytestmark = pytest.mark.django_db


def public_paths() -> list[str]:
    office = paris_consulate()
    return [
        "/",
        "/en/",
        f"/bureaux/{office.code}/",
        "/statut/",
        "/suivi/",
        "/staff/connexion/",
    ]


def test_head_answers_like_get_on_the_health_check(client):
    get, head = client.get("/healthz"), client.head("/healthz")
    assert head.status_code == get.status_code
    assert head.content == b""
    assert head["Content-Type"] == get["Content-Type"]


def test_head_answers_like_get_on_the_public_pages(client):
    for path in public_paths():
        get, head = client.get(path), client.head(path)
        assert get.status_code == 200, path
        assert head.status_code == 200, path
        assert head.content == b"", path
        assert head["Content-Type"] == get["Content-Type"], path
