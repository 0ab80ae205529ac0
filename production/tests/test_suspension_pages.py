"""/staff/suspensions/: the ministry's administrators suspend the service, set or move the
reopening and remove a suspension from the workspace; nobody else may."""

from datetime import UTC, datetime

import pytest
from django_celery_beat.models import PeriodicTask

from appointments.models import Suspension
from appointments.tests.factories import member
from tests.support import log_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _before_the_suspensions(freeze):
    """The suspensions below are in November 2025: made a week before (a suspension wholly
    in the past is refused)."""
    freeze("2025-11-10T12:00:00Z")


URL = "/staff/suspensions/"


@pytest.fixture
def admin_client(client):
    log_in(client, member("admin", username="ministere"))
    return client


def test_an_administrator_suspends_some_offices_in_bamako_time(admin_client, paris):
    response = admin_client.post(
        URL,
        {
            "starts_at": "2025-11-17T00:00",
            "reopens_at": "2025-11-24T07:30",
            "offices": [paris.office.pk],
            "message_fr": "Le service Premium est suspendu.",
            "message_en": "The Premium service is suspended.",
        },
        follow=True,
    )
    assert "Suspension enregistrée." in response.content.decode()
    suspension = Suspension.objects.get()
    assert suspension.reopens_at == datetime(2025, 11, 24, 7, 30, tzinfo=UTC)
    assert list(suspension.offices.all()) == [paris.office]
    page = admin_client.get(URL).content.decode()
    assert "24/11/2025 07:30" in page
    assert PeriodicTask.objects.filter(name=f"suspension {suspension.pk}: reopening").exists()


def test_a_reopening_before_the_start_is_refused_with_a_message(admin_client):
    response = admin_client.post(
        URL,
        {"starts_at": "2025-11-17T00:00", "reopens_at": "2025-11-16T00:00", "message_fr": "x"},
    )
    assert response.status_code == 400
    assert "La réouverture doit suivre le début." in response.content.decode()
    assert not Suspension.objects.exists()


def test_the_reopening_is_moved_then_the_suspension_removed(admin_client):
    suspension = Suspension.objects.create(
        starts_at=datetime(2025, 11, 17, tzinfo=UTC), message="Suspendu."
    )
    admin_client.post(f"{URL}{suspension.pk}/reouverture/", {"reopens_at": "2025-11-25T07:30"})
    suspension.refresh_from_db()
    assert suspension.reopens_at == datetime(2025, 11, 25, 7, 30, tzinfo=UTC)
    admin_client.post(f"{URL}{suspension.pk}/supprimer/")
    assert not Suspension.objects.exists()
    assert not PeriodicTask.objects.filter(name__startswith="suspension ").exists()


@pytest.mark.parametrize("role", ["agent", "supervisor", "operator"])
def test_nobody_else_may(client, paris, role):
    suspension = Suspension.objects.create(
        starts_at=datetime(2025, 11, 17, tzinfo=UTC), message="Suspendu."
    )
    log_in(client, member(role, paris.office))
    assert client.get(URL).status_code == 403
    assert (
        client.post(URL, {"starts_at": "2025-11-17T00:00", "message_fr": "x"}).status_code == 403
    )
    assert client.post(f"{URL}{suspension.pk}/supprimer/").status_code == 403
    assert Suspension.objects.count() == 1
