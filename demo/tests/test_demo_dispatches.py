"""The demo's histories hold the backlog dispatcher's work (demo/dispatches.py): files taken
from the queue into production in each centre's daily batch on its past working days, so
that the backlog dashboard shows every office's rate and clearing date."""

import bisect
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.access import StaffScope
from core.models import Office
from production import dashboard
from production.backlog import DISPATCH_NOTE
from production.models import FileEvent, FileStatus, PassportFile, ProductionBatch
from production.workdays import office_calendars

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", "--force")


def test_every_office_shows_a_rate_and_a_projected_date(demo):
    rows = dashboard.backlog_figures(scope=StaffScope(is_admin=True))

    assert {row.office.kind for row in rows} == {"centre", "mission"}
    for row in rows:
        code = row.office.code
        assert row.backlog > 0, code
        assert row.rate_per_day > 0, code
        assert row.projected_clear_date is not None, code
        assert row.projected_clear_date >= row.production_days.today, code
        assert row.production_days.centre.works_on(row.projected_clear_date), code
    assert PassportFile.objects.filter(status=FileStatus.IN_PRODUCTION).exists()


def test_the_files_enter_production_in_the_dispatcher_s_batches_on_working_days(demo):
    now = timezone.now()
    offices = {o.pk: o for o in Office.objects.all()}
    calendars = office_calendars(now - timedelta(days=150), offices)
    batches = {
        (batch.centre.office_id, batch.day): batch
        for batch in ProductionBatch.objects.select_related("centre")
    }
    taken = Counter()
    last_batch = {}
    dispatches = FileEvent.objects.filter(
        from_status=FileStatus.QUEUED, to_status=FileStatus.IN_PRODUCTION
    ).select_related("file__centre")
    for event in dispatches.order_by("at", "pk"):
        producer = event.file.centre.office_id
        calendar = calendars[producer]
        local = event.at.astimezone(calendar.tz)
        assert (event.by_id, event.note) == (None, str(DISPATCH_NOTE))
        assert calendar.works_on(local.date()), event.at
        assert local.date() < now.astimezone(calendar.tz).date()  # today's is the portal's
        assert local.time() == calendar.hours[local.weekday()][0]  # at the centre's opening
        taken[(producer, local.date())] += 1
        last_batch[event.file_id] = batches[(producer, local.date())].pk
    assert len(taken) > 20
    assert {key: batch.size for key, batch in batches.items()} == dict(taken)
    assert all(batch.size <= batch.capacity for batch in batches.values())
    assert (
        dict(PassportFile.objects.filter(batch__isnull=False).values_list("pk", "batch_id"))
        == last_batch
    )


def test_the_dispatcher_took_every_file_queued_when_its_batch_was_taken(demo):
    """A file sits in the queue only between two batches of its centre: the one before it
    came, and the one that takes it (or it leaves the queue otherwise before)."""
    now = timezone.now()
    calendars = office_calendars(now, {o.pk: o for o in Office.objects.all()})
    moments = defaultdict(list)
    for producer, day in ProductionBatch.objects.values_list("centre__office_id", "day"):
        calendar = calendars[producer]
        opens = calendar.hours[day.weekday()][0]
        moments[producer].append(datetime.combine(day, opens, tzinfo=calendar.tz))
    for times in moments.values():
        times.sort()
    events = defaultdict(list)
    rows = FileEvent.objects.order_by("file_id", "at", "pk").values_list(
        "file_id", "file__centre__office_id", "to_status", "at"
    )
    for file_id, producer, status, at in rows:
        events[file_id].append((producer, status, at))
    for history in events.values():
        for (producer, status, at), following in zip(history, [*history[1:], None], strict=True):
            if status != FileStatus.QUEUED:
                continue
            left_at = following[2] if following else now
            times = moments[producer]
            between = times[bisect.bisect_left(times, at) : bisect.bisect_left(times, left_at)]
            assert between == [], (at, left_at)
