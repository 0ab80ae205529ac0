"""The backlog dashboard (/staff/backlog/ and GET /api/v1/backlog/, one read:
production.dashboard): who counts which files, files taken into production per local day,
the measured rate and the projected clearing date, the hourly history, the page and its
charts, bounded queries. Who sees which office is in the access matrices."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask

from appointments.tests.factories import CentreOfficeFactory, OfficeFactory, member
from consulates.tests.factories import MissionFactory
from core.access import StaffScope, staff_scope
from production import backlog, dashboard, selectors, tasks
from production.dashboard import DayCount, OfficeBacklog
from production.models import BacklogSnapshot, FileStatus, PassportFile
from production.tests.factories import CentreFactory, PassportFileFactory
from production.workdays import OfficeCalendar, ProductionDays
from tests.support import log_in, token_client

pytestmark = pytest.mark.django_db

ADMIN = StaffScope(is_admin=True)
# Monday 1 December 2025, 18:00 UTC: 18:00 in Bamako, 19:00 in Paris.
NOW = datetime(2025, 12, 1, 18, 0, tzinfo=UTC)


def files(n, *, centre, office=None, status=FileStatus.QUEUED):
    return PassportFileFactory.create_batch(
        n, centre=centre, office=office or centre.office, status=status
    )


def figures(scope=ADMIN, now=NOW) -> dict[str, OfficeBacklog]:
    return {row.office.code: row for row in dashboard.backlog_figures(scope=scope, now=now)}


def test_a_centre_counts_the_files_it_produces_a_mission_those_enrolled_there(bamako, paris):
    kayes = CentreFactory(office__code="kayes-centre", office__city="Kayes")
    files(2, centre=bamako, office=paris.office, status=FileStatus.ENROLLED)
    files(1, centre=bamako, office=paris.office, status=FileStatus.QUEUED)
    files(4, centre=bamako, office=paris.office, status=FileStatus.DELIVERED)
    files(3, centre=bamako, status=FileStatus.QUEUED)
    files(1, centre=bamako, status=FileStatus.ON_HOLD)
    files(5, centre=kayes, status=FileStatus.QUEUED)

    rows = figures()

    assert list(rows) == ["bko-centre", "kayes-centre", "paris-consulat"]  # centres first
    centre, mission = rows["bko-centre"].by_status, rows["paris-consulat"].by_status
    assert list(centre) == FileStatus.values  # every status, in order, zeros included
    assert (centre["on_hold"], centre["enrolled"], centre["queued"], centre["delivered"]) == (
        1,
        2,
        4,
        4,
    )
    assert (mission["on_hold"], mission["enrolled"], mission["queued"]) == (0, 2, 1)
    assert mission["delivered"] == 4
    assert (rows["bko-centre"].backlog, rows["paris-consulat"].backlog) == (7, 3)
    assert rows["kayes-centre"].backlog == 5


def test_files_taken_into_production_per_local_day_the_rate_and_the_clearing_date(bamako, paris):
    bamako.daily_capacity = 2
    bamako.save(update_fields=["daily_capacity"])
    files(10, centre=bamako, office=paris.office)
    for days_ago in (3, 2, 0):  # nothing the day before yesterday... yesterday
        backlog.backlog_run(now=NOW - timedelta(days=days_ago, hours=6))

    rows = figures()

    for code in ("bko-centre", "paris-consulat"):
        row = rows[code]
        per_day = row.dispatched_per_day
        assert len(per_day) == dashboard.DAYS
        assert per_day[-1].day == date(2025, 12, 1)  # today, local
        assert [d.count for d in per_day[-4:]] == [2, 2, 0, 2]
        assert sum(d.count for d in per_day) == 6
        assert row.backlog == 4
        assert row.rate_per_day == 2.0  # days without dispatch are not in the mean
        assert row.projected_clear_date == date(2025, 12, 3)  # 4 files at 2 a day


def test_a_day_is_the_office_s_own(bamako, paris):
    files(1, centre=bamako, office=paris.office)
    late = datetime(2025, 11, 30, 23, 30, tzinfo=UTC)  # Sunday in Bamako, Monday in Paris
    backlog.backlog_run(now=late)

    rows = figures(now=late + timedelta(hours=1))

    centre = {d.day: d.count for d in rows["bko-centre"].dispatched_per_day}
    mission = {d.day: d.count for d in rows["paris-consulat"].dispatched_per_day}
    assert (centre[date(2025, 11, 30)], centre[date(2025, 12, 1)]) == (1, 0)
    assert date(2025, 11, 30) in mission
    assert mission[date(2025, 12, 1)] == 1


def test_a_mission_counts_only_its_files_taken_from_the_queue(bamako, paris, freeze):
    (file,) = files(1, centre=bamako, office=paris.office)
    backlog.backlog_run(now=NOW - timedelta(hours=1))
    admin = member("admin")
    # A failed quality check sends the passport back to production: not the backlog's.
    from production import services

    freeze(NOW - timedelta(minutes=30))
    services.file_transition(file=file, to="quality_check", expected=None, by=admin)
    services.file_transition(file=file, to="in_production", expected=None, by=admin)

    assert figures()["paris-consulat"].dispatched_per_day[-1].count == 1


def office_backlog(counts: list[int], *, backlog: int) -> OfficeBacklog:
    """An office whose centre works every day, seen on Monday 1 December 2025."""
    today = date(2025, 12, 1)
    every_day = OfficeCalendar(tz=ZoneInfo("Africa/Bamako"), hours=dict.fromkeys(range(7), HOURS))
    return OfficeBacklog(
        office=None,
        today=today,
        by_status=dict.fromkeys(FileStatus.values, 0) | {"queued": backlog},
        dispatched_per_day=[
            DayCount(day=today - timedelta(days=len(counts) - 1 - n), count=count)
            for n, count in enumerate(counts)
        ],
        history=[],
        production_days=ProductionDays(centre=every_day, office=every_day, now=NOW),
    )


HOURS = (time(8), time(16))


@pytest.mark.parametrize(
    ("counts", "backlog", "rate", "clears"),
    [
        # The last 7 days with dispatch: the two busy days before them do not count. Today
        # takes 4 (nothing taken yet), then 4 a day: Wednesday 3 takes the last two.
        ([0] * 20 + [50, 50] + [1, 2, 3, 0, 4, 5, 6, 7, 0], 10, 4.0, date(2025, 12, 3)),
        ([0] * 27 + [3, 0, 0], 7, 3.0, date(2025, 12, 3)),  # 3 today, 3 tomorrow, 1 after
        ([0] * 29 + [4], 10, 4.0, date(2025, 12, 4)),  # today's batch is taken: 3 more days
        ([0] * 28 + [4, 2], 1, 3.0, date(2025, 12, 1)),  # today still takes one: the last
        ([0] * 28 + [4, 2], 2, 3.0, date(2025, 12, 2)),  # ... and tomorrow the other
        ([0] * 30, 5, 0.0, None),  # nothing measured: no date
        ([0] * 29 + [4], 0, 4.0, date(2025, 12, 1)),  # nothing waits: cleared today
    ],
)
def test_the_rate_and_the_projected_date(counts, backlog, rate, clears):
    row = office_backlog(counts, backlog=backlog)
    assert row.rate_per_day == rate
    assert row.projected_clear_date == clears


# The hourly snapshot --------------------------------------------------------------------------


def test_the_snapshot_records_every_office_once_per_hour(bamako, paris):
    empty = OfficeFactory(code="dakar-consulat")
    files(2, centre=bamako, office=paris.office, status=FileStatus.ENROLLED)
    files(3, centre=bamako, status=FileStatus.QUEUED)
    files(1, centre=bamako, status=FileStatus.IN_PRODUCTION)
    files(1, centre=bamako, status=FileStatus.DELIVERED)

    taken = backlog.backlog_snapshot_take(now=datetime(2025, 12, 1, 10, 7, tzinfo=UTC))
    assert taken == datetime(2025, 12, 1, 10, 0, tzinfo=UTC)
    # Later in the same hour: nothing changes, whatever happened since.
    files(5, centre=bamako, status=FileStatus.QUEUED)
    backlog.backlog_snapshot_take(now=datetime(2025, 12, 1, 10, 59, tzinfo=UTC))

    rows = {
        s.office.code: (s.on_hold, s.enrolled, s.queued, s.in_production, s.backlog)
        for s in BacklogSnapshot.objects.select_related("office")
    }
    assert rows == {
        "bko-centre": (0, 2, 3, 1, 5),
        "paris-consulat": (0, 2, 0, 0, 2),
        empty.code: (0, 0, 0, 0, 0),
    }
    backlog.backlog_snapshot_take(now=datetime(2025, 12, 1, 11, 0, 30, tzinfo=UTC))
    assert BacklogSnapshot.objects.count() == 6
    latest = BacklogSnapshot.objects.get(office=bamako.office, taken_at__hour=11)
    assert latest.backlog == 10


def test_the_history_is_the_snapshots_of_the_last_30_days_in_order(bamako):
    files(4, centre=bamako)
    for hours_ago in (24 * 31, 5, 3, 1):  # the first, too old, is not shown
        backlog.backlog_snapshot_take(now=NOW - timedelta(hours=hours_ago))
    files(1, centre=bamako, status=FileStatus.ON_HOLD)
    backlog.backlog_snapshot_take(now=NOW)

    history = figures()["bko-centre"].history

    assert [(p.at, p.backlog) for p in history] == [
        (NOW - timedelta(hours=5), 4),
        (NOW - timedelta(hours=3), 4),
        (NOW - timedelta(hours=1), 4),
        (NOW, 5),
    ]


def test_the_snapshot_task_and_its_hourly_schedule(bamako, freeze):
    freeze(NOW + timedelta(minutes=2))
    assert tasks.backlog_snapshot() == NOW.isoformat()
    assert BacklogSnapshot.objects.filter(office=bamako.office, taken_at=NOW).exists()
    schedule = PeriodicTask.objects.get(name="backlog snapshot")
    assert schedule.task == "production.backlog_snapshot"
    assert (schedule.crontab.minute, schedule.crontab.hour) == ("0", "*")


# Scope ----------------------------------------------------------------------------------------


def test_a_supervisor_sees_only_the_offices_they_supervise(bamako, paris):
    files(3, centre=bamako, office=paris.office)
    of_centre = staff_scope(member("supervisor", bamako.office))
    of_mission = staff_scope(member("supervisor", paris.office))
    assert list(figures(of_centre)) == ["bko-centre"]
    assert figures(of_centre)["bko-centre"].backlog == 3
    assert list(figures(of_mission)) == ["paris-consulat"]
    for role in ("agent", "operator"):
        scope = staff_scope(member(role, bamako.office))
        assert not dashboard.may_see_backlog(scope)
        assert figures(scope) == {}


# The page and the API -------------------------------------------------------------------------


@pytest.fixture
def busy(bamako, paris):
    """Bamako and Paris after three days of dispatch and hourly snapshots."""
    bamako.daily_capacity = 2
    bamako.save(update_fields=["daily_capacity"])
    files(9, centre=bamako, office=paris.office)
    for days_ago in (2, 1, 0):
        backlog.backlog_snapshot_take(now=NOW - timedelta(days=days_ago, hours=7))
        backlog.backlog_run(now=NOW - timedelta(days=days_ago, hours=6))
        backlog.backlog_snapshot_take(now=NOW - timedelta(days=days_ago, hours=5))
    return {"bamako": bamako, "paris": paris}


def test_the_page_draws_the_figures_in_french_without_javascript(client, busy, freeze):
    freeze(NOW)
    log_in(client, member("admin"))
    response = client.get("/staff/backlog/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Arriéré de production" in html
    assert "Dossiers produits par ce centre" in html  # says what a centre's row counts
    assert "Dossiers déposés dans cette ambassade ou ce consulat." in html
    assert "Comment ces chiffres sont calculés" in html
    assert "<script" not in html
    # Two charts per office, each with a title and a description for screen readers.
    assert html.count("<svg") == 4
    assert '<title id="history-bko-centre-title">' in html
    assert '<desc id="dispatch-paris-consulat-desc">' in html
    assert html.count("<polyline") == 2
    assert html.count('<rect class="chart-bar"') == 6  # 3 days x 2 offices
    # 3 files left at 2 a day from Monday 1 December: Wednesday 3.
    assert '<time datetime="2025-12-03">mercredi 3 décembre 2025</time>' in html
    english = client.get("/en/staff/backlog/").content.decode()
    assert "Production backlog" in english
    assert "Wednesday 3 December 2025" in english


def test_the_api_gives_the_same_figures(busy, freeze):
    freeze(NOW)
    response = token_client(member("admin")).get("/api/v1/backlog/")
    assert response.status_code == 200
    body = response.json()
    assert body["at"] == "2025-12-01T18:00:00Z"
    paris = {office["code"]: office for office in body["offices"]}["paris-consulat"]
    assert paris["kind"] == "mission"
    assert paris["today"] == "2025-12-01"
    assert paris["backlog"] == 3
    assert paris["by_status"] == {
        **dict.fromkeys(FileStatus.values, 0),
        "queued": 3,
        "in_production": 6,
    }
    assert paris["dispatched_per_day"][-3:] == [
        {"day": "2025-11-29", "count": 2},
        {"day": "2025-11-30", "count": 2},
        {"day": "2025-12-01", "count": 2},
    ]
    assert len(paris["dispatched_per_day"]) == 30
    assert paris["history"][:2] == [
        {"at": "2025-11-29T11:00:00Z", "backlog": 9},
        {"at": "2025-11-29T13:00:00Z", "backlog": 7},
    ]
    assert paris["rate_per_day"] == 2.0
    assert paris["projected_clear_date"] == "2025-12-03"


def test_no_rate_no_date(bamako, freeze):
    freeze(NOW)
    files(3, centre=bamako)
    office = token_client(member("admin")).get("/api/v1/backlog/").json()["offices"][0]
    assert (office["rate_per_day"], office["projected_clear_date"]) == (0.0, None)


def test_the_workspace_offers_the_dashboard_to_supervisors_only(client, paris):
    link = 'href="/staff/backlog/"'
    log_in(client, member("supervisor", paris.office))
    assert link in client.get("/staff/dossiers/").content.decode()
    log_in(client, member("agent", paris.office))
    assert link not in client.get("/staff/dossiers/").content.decode()
    assert client.get("/staff/backlog/").status_code == 403


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as context:
        response = call()
    assert response.status_code == 200
    return len(context.captured_queries)


def test_the_page_and_the_api_cost_the_same_queries_for_few_or_many_offices_and_days(
    client, busy, freeze
):
    admin = member("admin")
    log_in(client, admin)
    api = token_client(admin)
    freeze(NOW)
    few = (
        _queries(lambda: client.get("/staff/backlog/")),
        _queries(lambda: api.get("/api/v1/backlog/")),
    )

    for n in range(3):
        centre = CentreFactory(office=CentreOfficeFactory(city=f"Ville {n}"), daily_capacity=3)
        mission = MissionFactory(
            office=OfficeFactory(timezone=ZoneInfo("America/New_York")), centre=centre
        )
        files(40, centre=centre, office=mission.office)
        files(20, centre=centre, status=FileStatus.ON_HOLD)
    for days_ago in range(29, -1, -1):
        backlog.backlog_run(now=NOW - timedelta(days=days_ago, hours=1))
    for hours_ago in range(48):
        backlog.backlog_snapshot_take(now=NOW - timedelta(hours=hours_ago))
    many = (
        _queries(lambda: client.get("/staff/backlog/")),
        _queries(lambda: api.get("/api/v1/backlog/")),
    )

    assert len(api.get("/api/v1/backlog/").json()["offices"]) == 8
    assert PassportFile.objects.filter(status="in_production").count() > 100
    assert many == few


def test_the_waiting_index_covers_the_waiting_statuses():
    index = {i.name: i for i in PassportFile._meta.indexes}["file_waiting"]
    ((_lookup, statuses),) = index.condition.children
    assert set(statuses) == set(selectors.WAITING) == set(dashboard.BACKLOG)
