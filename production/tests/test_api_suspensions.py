"""/api/v1/suspensions/: administrators suspend the service and set or move the reopening;
anyone else gets 403 `forbidden`; the clocked task of the reopening follows the date."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from appointments.models import Appointment, Suspension
from appointments.tests.factories import SlotFactory, book, member
from core.models import OutboxMessage
from production.models import PassportFile
from production.tests.factories import PassportFileFactory
from tests.support import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _before_the_suspensions(freeze):
    """The suspensions below are in November 2025: made a week before (a suspension wholly
    in the past is refused)."""
    freeze("2025-11-10T12:00:00Z")


URL = "/api/v1/suspensions/"
BODY = {
    "starts_at": "2025-11-17T00:00:00",
    "reopens_at": "2025-11-24T07:30:00",
    "offices": None,
    "message_fr": "Le service Premium est suspendu.",
    "message_en": "The Premium service is suspended.",
}


@pytest.fixture
def admin_api():
    return token_client(member("admin", username="ministere"))


def test_an_administrator_suspends_every_office_with_naive_times_read_in_bamako(admin_api):
    response = admin_api.post(URL, BODY, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    suspension = Suspension.objects.get(pk=body["id"])
    assert suspension.starts_at == datetime(2025, 11, 17, 0, 0, tzinfo=UTC)
    assert suspension.reopens_at == datetime(2025, 11, 24, 7, 30, tzinfo=UTC)  # Bamako = UTC
    assert not suspension.offices.exists()
    assert body["offices"] is None
    assert body["message_fr"] == BODY["message_fr"]
    assert admin_api.get(URL).json()[0]["id"] == body["id"]


def test_times_with_an_offset_are_kept_and_offices_are_given_by_code(admin_api, paris):
    body = {**BODY, "starts_at": "2025-11-17T09:00:00+01:00", "offices": ["paris-consulat"]}
    created = admin_api.post(URL, body, format="json").json()
    suspension = Suspension.objects.get(pk=created["id"])
    assert suspension.starts_at == datetime(2025, 11, 17, 8, 0, tzinfo=UTC)
    assert list(suspension.offices.values_list("code", flat=True)) == ["paris-consulat"]
    assert created["offices"] == ["paris-consulat"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reopens_at": "2025-11-16T07:30:00"}, "reopens_at"),
        ({"reopens_at": "2025-11-17T00:00:00"}, "reopens_at"),
        ({"offices": ["nulle-part"]}, "offices"),
        ({"offices": []}, "offices"),
        ({"starts_at": "9999-12-31T23:59:59"}, "starts_at"),
        ({"starts_at": "hier"}, "starts_at"),
    ],
)
def test_bad_suspensions_are_invalid_and_nothing_is_made(admin_api, changes, field):
    response = admin_api.post(URL, {**BODY, **changes}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert not Suspension.objects.exists()


def test_a_suspension_already_over_is_refused(admin_api):
    past = {**BODY, "starts_at": "2025-11-01T00:00:00", "reopens_at": "2025-11-05T07:30:00"}
    response = admin_api.post(URL, past, format="json")
    assert response.status_code == 400
    assert "reopens_at" in response.json()["fields"]
    assert not Suspension.objects.exists()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (None, None),  # all offices, twice
        (None, ["paris-consulat"]),
        (["paris-consulat"], None),
        (["paris-consulat"], ["paris-consulat"]),
    ],
)
def test_overlapping_suspensions_of_one_office_are_refused(admin_api, paris, first, second):
    """One suspension at a time per office: with two, an office's reopening would be the
    later one's, and moving the other would not reopen it. The admin moves the first."""
    made = admin_api.post(URL, {**BODY, "offices": first}, format="json")
    assert made.status_code == 201
    body = {**BODY, "offices": second, "starts_at": "2025-11-20T00:00:00"}
    response = admin_api.post(URL, body, format="json")
    assert response.status_code == 400
    assert f"n° {made.json()['id']}" in response.json()["detail"]
    assert Suspension.objects.count() == 1
    # Open-ended, it overlaps everything after its start; moved to a later week, not.
    later = {**body, "starts_at": "2025-11-24T07:30:00", "reopens_at": "2025-12-01T07:30:00"}
    assert admin_api.post(URL, later, format="json").status_code == 201
    stretched = admin_api.patch(f"{URL}{made.json()['id']}/", {"reopens_at": None}, format="json")
    assert stretched.status_code == 400
    assert Suspension.objects.get(pk=made.json()["id"]).reopens_at is not None


def test_suspensions_of_different_offices_may_overlap(admin_api, paris, bamako):
    one = admin_api.post(URL, {**BODY, "offices": ["paris-consulat"]}, format="json")
    other = admin_api.post(URL, {**BODY, "offices": [bamako.office.code]}, format="json")
    assert (one.status_code, other.status_code) == (201, 201)


@pytest.mark.parametrize("role", ["agent", "supervisor", "operator"])
def test_only_administrators_may(role, paris):
    api = token_client(member(role, paris.office))
    created = Suspension.objects.create(starts_at=datetime(2025, 1, 1, tzinfo=UTC), message="x")
    for response in (
        api.get(URL),
        api.post(URL, BODY, format="json"),
        api.patch(f"{URL}{created.pk}/", {"reopens_at": None}, format="json"),
        api.delete(f"{URL}{created.pk}/"),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    assert Suspension.objects.count() == 1
    assert token_client().get(URL).status_code == 401


def _reopening_task(suspension_id: int) -> PeriodicTask:
    return PeriodicTask.objects.select_related("clocked").get(
        name=f"suspension {suspension_id}: reopening"
    )


def test_moving_the_reopening_moves_its_clocked_task_and_deleting_removes_it(admin_api):
    created = admin_api.post(URL, BODY, format="json").json()
    task = _reopening_task(created["id"])
    assert (task.task, task.one_off, task.enabled) == ("appointments.suspension_edge", True, True)
    assert json.loads(task.kwargs) == {"suspension_id": created["id"], "edge": "reopening"}
    assert task.clocked.clocked_time == datetime(2025, 11, 24, 7, 30, tzinfo=UTC)

    moved = admin_api.patch(
        f"{URL}{created['id']}/", {"reopens_at": "2025-11-25T07:30:00Z"}, format="json"
    )
    assert moved.status_code == 200
    assert moved.json()["reopens_at"].startswith("2025-11-25T07:30:00")
    assert _reopening_task(created["id"]).clocked.clocked_time == datetime(
        2025, 11, 25, 7, 30, tzinfo=UTC
    )
    assert PeriodicTask.objects.filter(name__endswith=": reopening").count() == 1

    unset = admin_api.patch(f"{URL}{created['id']}/", {"reopens_at": None}, format="json")
    assert unset.json()["reopens_at"] is None
    assert not PeriodicTask.objects.filter(name__endswith=": reopening").exists()

    admin_api.patch(f"{URL}{created['id']}/", {"reopens_at": "2025-11-26T07:30"}, format="json")
    assert admin_api.delete(f"{URL}{created['id']}/").status_code == 204
    assert not Suspension.objects.exists()
    assert not PeriodicTask.objects.filter(name__startswith="suspension ").exists()


def test_a_reopening_before_the_start_is_refused_on_patch(admin_api):
    created = admin_api.post(URL, BODY, format="json").json()
    response = admin_api.patch(
        f"{URL}{created['id']}/", {"reopens_at": "2025-11-01T00:00:00"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert Suspension.objects.get().reopens_at == datetime(2025, 11, 24, 7, 30, tzinfo=UTC)


def test_appointments_inside_are_displaced_and_told_files_are_held(admin_api, paris, bamako):
    slot = SlotFactory(office=paris.office, capacity=2)
    inside = book(slot=slot)[0]
    after = book(
        slot=SlotFactory(office=paris.office, starts_at=slot.starts_at.replace(year=2099))
    )
    file = PassportFileFactory(centre=bamako, office=paris.office, status="queued")
    body = {
        **BODY,
        "starts_at": (timezone.now() - timedelta(hours=1)).isoformat(),  # in force now
        "reopens_at": slot.ends_at.isoformat(),
        "offices": ["paris-consulat"],
    }
    assert admin_api.post(URL, body, format="json").status_code == 201

    inside.refresh_from_db()
    assert inside.status == Appointment.Status.DISPLACED
    assert Appointment.objects.get(pk=after[0].pk).status == Appointment.Status.BOOKED
    slot.refresh_from_db()
    assert slot.booked == 0  # the seat is freed
    told = OutboxMessage.objects.filter(appointment_id=inside.pk, kind="booking_displaced")
    assert sorted(told.values_list("channel", flat=True)) == ["email", "sms"]
    assert PassportFile.objects.get(pk=file.pk).status == "on_hold"
