"""GET /api/v1/offices/ and GET /api/v1/offices/{code}/slots/."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Slot, Suspension
from appointments.tests.factories import (
    CentreOfficeFactory,
    OfficeFactory,
    SlotFactory,
    book,
    paris_consulate,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("protection_off")]

OFFICES = "/api/v1/offices/"


def slots_url(code: str, first: str | None = None, last: str | None = None) -> str:
    params = []
    if first is not None:
        params.append(f"from={first}")
    if last is not None:
        params.append(f"to={last}")
    return f"/api/v1/offices/{code}/slots/" + ("?" + "&".join(params) if params else "")


def make_slots(office, count: int, *, start: datetime) -> None:
    Slot.objects.bulk_create(
        Slot(
            office=office,
            starts_at=start + timedelta(minutes=15 * i),
            ends_at=start + timedelta(minutes=15 * (i + 1)),
            capacity=2,
        )
        for i in range(count)
    )


# Offices ---------------------------------------------------------------------------------


def test_offices_list_their_fields_and_whether_booking_is_open(api):
    bamako = CentreOfficeFactory(code="bko-centre", name="Centre de Bamako")
    SlotFactory(office=bamako)
    paris = OfficeFactory(code="paris-consulat", city="Paris")  # no slot at all
    dakar = OfficeFactory(code="dakar-ambassade", country="SN", timezone=ZoneInfo("Africa/Dakar"))
    SlotFactory(office=dakar)
    suspension = Suspension.objects.create(
        starts_at=timezone.now() - timedelta(days=1),
        reopens_at=timezone.now() + timedelta(days=30),
        message="Service suspendu.",
    )
    suspension.offices.add(dakar)
    OfficeFactory(code="ferme", active=False)

    response = api.get(OFFICES)

    assert response.status_code == 200
    by_code = {office["code"]: office for office in response.json()}
    assert set(by_code) == {"bko-centre", "paris-consulat", "dakar-ambassade"}
    assert by_code["bko-centre"] == {
        "code": "bko-centre",
        "name": "Centre de Bamako",
        "kind": "centre",
        "city": "Bamako",
        "country": "ML",
        "timezone": "Africa/Bamako",
        "booking_open": True,
    }
    assert by_code["paris-consulat"]["booking_open"] is False
    assert by_code["paris-consulat"]["country"] == "FR"
    assert by_code["paris-consulat"]["timezone"] == "Europe/Paris"
    assert by_code["dakar-ambassade"]["booking_open"] is False  # suspended now
    assert paris.kind == by_code["paris-consulat"]["kind"] == "mission"


def test_office_names_are_in_the_request_language(api):
    OfficeFactory(code="paris-consulat", name="Consulat général à Paris", name_en="Consulate")
    french = api.get(OFFICES, HTTP_ACCEPT_LANGUAGE="fr")
    english = api.get(OFFICES, HTTP_ACCEPT_LANGUAGE="en")
    assert french.json()[0]["name"] == "Consulat général à Paris"
    assert english.json()[0]["name"] == "Consulate"


def test_offices_list_costs_one_query_whatever_the_number_of_offices(api):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(OFFICES).status_code == 200
        return len(captured)

    for _ in range(2):
        SlotFactory(office=OfficeFactory())
    few = queries()
    for _ in range(20):
        SlotFactory(office=OfficeFactory())
    assert len(api.get(OFFICES).json()) == 22
    assert queries() == few == 1


# Slots: times at the office's offset -------------------------------------------------------


def test_paris_slots_carry_the_summer_offset(api, freeze):
    freeze("2026-01-10T12:00:00Z")
    slot = SlotFactory(
        office=paris_consulate(), starts_at=datetime(2026, 3, 30, 7, 0, tzinfo=UTC), capacity=4
    )
    response = api.get(slots_url("paris-consulat", "2026-03-30", "2026-03-30"))
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": slot.pk,
            "starts_at": "2026-03-30T09:00:00+02:00",
            "ends_at": "2026-03-30T09:15:00+02:00",
            "remaining": 4,
        }
    ]


def test_new_york_slots_carry_the_winter_offset(api, freeze):
    freeze("2026-01-10T12:00:00Z")
    new_york = OfficeFactory(code="new-york", country="US", timezone=ZoneInfo("America/New_York"))
    SlotFactory(
        office=new_york,
        starts_at=datetime(2026, 1, 20, 14, 0, tzinfo=UTC),
        ends_at=datetime(2026, 1, 20, 14, 30, tzinfo=UTC),
    )
    [slot] = api.get(slots_url("new-york", "2026-01-20", "2026-01-20")).json()
    assert slot["starts_at"] == "2026-01-20T09:00:00-05:00"
    assert slot["ends_at"] == "2026-01-20T09:30:00-05:00"


def test_bamako_slots_carry_an_explicit_zero_offset(api, freeze):
    freeze("2026-01-10T12:00:00Z")
    bamako = CentreOfficeFactory(code="bko-centre")
    SlotFactory(office=bamako, starts_at=datetime(2026, 1, 20, 8, 0, tzinfo=UTC))
    [slot] = api.get(slots_url("bko-centre", "2026-01-20", "2026-01-20")).json()
    assert slot["starts_at"] == "2026-01-20T08:00:00+00:00"


def test_dates_are_the_office_local_dates(api, freeze):
    """23:30 UTC on 19 January is already 20 January in Paris."""
    freeze("2026-01-10T12:00:00Z")
    paris = OfficeFactory(code="paris-consulat", timezone=ZoneInfo("Europe/Paris"))
    late = SlotFactory(office=paris, starts_at=datetime(2026, 1, 19, 23, 30, tzinfo=UTC))
    on_20th = api.get(slots_url("paris-consulat", "2026-01-20", "2026-01-20")).json()
    on_19th = api.get(slots_url("paris-consulat", "2026-01-19", "2026-01-19")).json()
    assert [s["id"] for s in on_20th] == [late.pk]
    assert on_19th == []


def test_only_free_future_open_slots_in_the_range_are_listed(api, freeze):
    freeze("2026-01-10T12:00:00Z")
    office = OfficeFactory(code="paris-consulat")
    day = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
    free = SlotFactory(office=office, starts_at=day, capacity=3)
    SlotFactory(office=office, starts_at=day + timedelta(hours=1), is_open=False)
    full = SlotFactory(office=office, starts_at=day + timedelta(hours=2), capacity=1)
    Slot.objects.filter(pk=full.pk).update(booked=1)
    SlotFactory(office=office, starts_at=day + timedelta(days=3))  # outside the range
    SlotFactory(office=office, starts_at=datetime(2026, 1, 10, 9, 0, tzinfo=UTC))  # past
    listed = api.get(slots_url("paris-consulat", "2026-01-10", "2026-01-21")).json()
    assert [s["id"] for s in listed] == [free.pk]


def test_slots_query_count_does_not_grow_with_the_number_of_slots(api):
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=2)
    first = start.astimezone(ZoneInfo("Europe/Paris")).date()
    few, many = OfficeFactory(code="few"), OfficeFactory(code="many")
    make_slots(few, 10, start=start)
    make_slots(many, 500, start=start)
    last = first + timedelta(days=10)

    counts, sizes = [], []
    for code in ("few", "many"):
        with CaptureQueriesContext(connection) as captured:
            response = api.get(slots_url(code, first.isoformat(), last.isoformat()))
        assert response.status_code == 200
        counts.append(len(captured))
        sizes.append(len(response.json()))
    assert sizes == [10, 500]
    assert counts[0] == counts[1] <= 2


def test_a_process_builds_the_free_slots_once_a_second(api, monkeypatch):
    """At a reopening everyone reads the same list: within FREE_SLOTS_SECONDS a process
    answers it again without a query; after that, a seat taken meanwhile shows."""
    from appointments.api import views

    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=2)
    office = OfficeFactory(code="bko-rush", timezone=ZoneInfo("Africa/Bamako"))
    make_slots(office, 3, start=start)
    day = start.astimezone(office.timezone).date().isoformat()
    url = slots_url("bko-rush", day, day)
    clock = [1000.0]
    monkeypatch.setattr(views, "monotonic", lambda: clock[0])

    first = api.get(url).json()
    slot = Slot.objects.get(pk=first[0]["id"])
    book(slot=slot)
    book(slot=slot)  # the two seats of the first slot taken
    clock[0] += views.FREE_SLOTS_SECONDS / 2
    with CaptureQueriesContext(connection) as captured:
        kept = api.get(url).json()
    assert kept == first
    assert len(captured) == 0  # the office is kept too (selectors.public_office_cached)
    clock[0] += views.FREE_SLOTS_SECONDS
    assert [s["id"] for s in api.get(url).json()] == [s["id"] for s in first[1:]]


def test_an_unknown_office_code_is_not_kept(api):
    """Codes are the client's to invent: an unknown one is looked up each time (nothing
    kept for it), and an office created meanwhile is found at once."""
    from appointments import selectors

    assert api.get(slots_url("nouveau", "2026-01-01", "2026-01-02")).status_code == 404
    assert "nouveau" not in selectors._public_office_cache
    OfficeFactory(code="nouveau")
    assert api.get(slots_url("nouveau", "2026-01-01", "2026-01-02")).status_code == 200


# Slots: errors ---------------------------------------------------------------------------


def test_an_unknown_or_inactive_office_is_not_found(api):
    OfficeFactory(code="ferme", active=False)
    for code in ("nowhere", "ferme"):
        response = api.get(slots_url(code, "2026-01-01", "2026-01-02"))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert response.json()["detail"] == "Bureau inconnu."


@pytest.mark.parametrize(
    ("first", "last", "fields"),
    [
        (None, None, {"from", "to"}),
        ("2026-01-01", None, {"to"}),
        (None, "2026-01-01", {"from"}),
        ("2026-13-01", "2026-01-02", {"from"}),
        ("demain", "2026-01-02", {"from"}),
        ("2026-01-01", "2026-01-01T10:00", {"to"}),
        ("2026-02-01", "2026-01-31", {"to"}),  # to before from
        ("2026-01-01", "2026-04-03", {"to"}),  # 93 days
        ("0001-01-01", "0001-01-02", {"from", "to"}),
        ("9999-12-30", "9999-12-31", {"from", "to"}),
        ("2026-01-01%00", "2026-01-02", {"from"}),
    ],
)
def test_bad_or_missing_dates_are_invalid(api, first, last, fields):
    OfficeFactory(code="paris-consulat")
    response = api.get(slots_url("paris-consulat", first, last))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"]
    assert set(body["fields"]) == fields


def test_a_range_of_92_days_is_accepted(api):
    OfficeFactory(code="paris-consulat")
    # 1 January to 2 April 2026: 92 days, both ends included.
    assert (date(2026, 4, 2) - date(2026, 1, 1)).days + 1 == 92
    response = api.get(slots_url("paris-consulat", "2026-01-01", "2026-04-02"))
    assert response.status_code == 200


def test_slots_are_rate_limited_per_address(api, settings, freeze):
    freeze(timezone.now())  # one rate limit window
    settings.RATE_LIMITS = settings.RATELIMIT_ENABLE = True
    settings.AVAILABILITY_RATE = "2/m"
    OfficeFactory(code="paris-consulat")
    url = slots_url("paris-consulat", "2026-01-01", "2026-01-02")
    statuses = [api.get(url, REMOTE_ADDR="198.51.100.7").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = api.get(url, REMOTE_ADDR="198.51.100.7").json()
    assert limited["code"] == "rate_limited"
    assert limited["detail"]
    assert api.get(url, REMOTE_ADDR="198.51.100.8").status_code == 200
