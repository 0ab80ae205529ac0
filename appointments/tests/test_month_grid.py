"""The office page's month grid: weeks as rows, the days with free times as links and the
others off, months reached by links within the booking horizon, its days those of the
availability API, and one query for the whole horizon."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from appointments import month
from appointments.tests.factories import local_time, paris_consulate, slot_at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("protection_off")]


@pytest.fixture
def paris():
    return paris_consulate()


def linked_days(html: str) -> set[str]:
    return set(re.findall(r'class="free" href="/bureaux/paris-consulat/jour/([\d-]+)/"', html))


def test_weeks_are_rows_of_seven_days_monday_first(paris):
    slot_at(paris, 9)
    today = timezone.now().astimezone(paris.timezone).date()
    grid = month.month_grid(office=paris, today=today, horizon_days=60, asked=None)
    assert all(len(week) == 7 for week in grid.weeks)
    days = [cell.day for week in grid.weeks for cell in week if cell]
    assert days[0] == grid.first
    assert days[-1].month == grid.first.month
    assert all(
        cell.day.weekday() == index
        for week in grid.weeks
        for index, cell in enumerate(week)
        if cell
    )


def test_month_links_stay_within_the_horizon(client, paris):
    today = timezone.now().astimezone(paris.timezone).date()
    this_month = today.replace(day=1)
    html = client.get(f"/bureaux/{paris.code}/").content.decode()
    assert 'rel="prev"' not in html  # nothing before this month
    assert f"?mois={(this_month + timedelta(days=32)):%Y-%m}" in html
    last = (today + timedelta(days=60)).replace(day=1)
    far = client.get(f"/bureaux/{paris.code}/?mois=2099-01").content.decode()
    assert f"<caption>{_month_name(last)}" in far  # brought back within the horizon
    assert 'rel="next"' not in far
    for junk in ("x", "2026-13", "-1", "9999999-01"):
        assert client.get(f"/bureaux/{paris.code}/?mois={junk}").status_code == 200


def _month_name(first: date) -> str:
    from django.utils.dateformat import format as date_format

    return date_format(first, "F Y")


def test_the_grid_opens_on_the_month_of_the_first_free_day(client, paris):
    later = slot_at(paris, 9, days=40)
    html = client.get(f"/bureaux/{paris.code}/").content.decode()
    first = later.starts_at.astimezone(paris.timezone).date()
    assert f"<caption>{_month_name(first.replace(day=1))}" in html
    assert first.isoformat() in linked_days(html)


def test_the_grid_days_are_those_of_the_availability_api(client, paris):
    for days in (1, 2, 5, 20, 33, 50):
        slot_at(paris, 10, days=days)
    slot_at(paris, 11, days=3, is_open=False)  # closed: not offered
    today = timezone.now().astimezone(paris.timezone).date()
    end = today + timedelta(days=60)
    api = client.get(
        f"/api/v1/offices/{paris.code}/slots/", {"from": today.isoformat(), "to": end.isoformat()}
    ).json()
    from_api = {slot["starts_at"][:10] for slot in api}
    shown, asked = set(), today.replace(day=1)
    while asked <= end:
        shown |= linked_days(
            client.get(f"/bureaux/{paris.code}/?mois={asked:%Y-%m}").content.decode()
        )
        asked = (asked + timedelta(days=32)).replace(day=1)
    assert shown == from_api
    assert len(shown) == 6


def test_the_office_page_costs_the_same_queries_for_one_day_or_sixty(
    client, paris, django_assert_max_num_queries
):
    from appointments.waiting_room.window import forget_no_window

    slot_at(paris, 9)
    forget_no_window()
    # The free days of the whole horizon, the month's closures, and the office's page's own.
    with django_assert_max_num_queries(5):
        client.get(f"/bureaux/{paris.code}/")
    for days in range(2, 60):
        slot_at(paris, 9, days=days)
    forget_no_window()
    with django_assert_max_num_queries(5):
        html = client.get(f"/bureaux/{paris.code}/").content.decode()
    assert local_time(paris, 9, days=2).date().isoformat() in linked_days(html) or (
        local_time(paris, 9).month != local_time(paris, 9, days=2).month  # another month
    )
