import shlex
import subprocess
import sys
from datetime import timedelta
from itertools import pairwise

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from appointments import selectors
from appointments.models import Closure
from consulates.models import Mission
from core import twofactor
from core.access import staff_scope
from core.models import Membership, Office
from demo.staff import DEMO_TOTP_SECRET, TOTP_CODE_COMMAND
from production.models import Centre, FileEvent, FileStatus, PassportFile
from production.selectors import roles_for_file
from production.transitions import TRANSITIONS, route_allows

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, list]:
    return {
        "offices": list(Office.objects.order_by("code").values()),
        "centres": list(Centre.objects.order_by("office__code").values()),
        "missions": list(Mission.objects.order_by("office__code").values()),
        "closures": list(Closure.objects.order_by("pk").values()),  # the public holidays
        "users": list(
            get_user_model()
            .objects.order_by("username")
            .values("id", "username", "is_superuser", "is_staff", "is_active", "password")
        ),
    }


def test_seed_demo_twice_gives_the_same_data(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    first = snapshot()
    assert first["closures"]  # each office's public holidays of the next 90 days
    call_command("seed_demo")
    assert snapshot() == first
    assert "admin / premium-admin" in capsys.readouterr().out


def test_seed_demo_looks_like_the_real_service():
    call_command("seed_demo", "--force")
    centres = Office.objects.filter(kind="centre")
    assert {o.country.code for o in centres} == {"ML"}
    assert {"Bamako", "Sikasso"} <= {o.city for o in centres}
    assert Centre.objects.count() == centres.count()
    missions = {o.city: o for o in Office.objects.filter(kind="mission")}
    assert {"Paris", "Abidjan", "Dakar"} <= set(missions)
    # At least one office several hours away from Bamako.
    assert "America/New_York" in {str(o.timezone) for o in missions.values()}
    assert Mission.objects.count() == len(missions)
    assert all(m.pouch_weekdays for m in Mission.objects.all())
    # Every office has bookable slots on each of the next 14 days it opens.
    today = timezone.localdate()
    for office in Office.objects.all():
        last = today + timedelta(days=14)
        days = selectors.free_days(office=office, date_from=today, date_to=last)
        holidays = Closure.objects.filter(office=office, start_date__range=(today, last))
        # Two weeks of Monday-to-Friday opening, less the public holidays among them.
        assert len(days) >= 9 - holidays.count(), office.code
        assert not {day.day for day in days} & {c.start_date for c in holidays}
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("premium-admin")


def test_seed_demo_restores_a_demo_office_that_was_edited():
    call_command("seed_demo", "--force")
    Office.objects.filter(code="paris-consulat").update(city="Lyon", active=False)
    call_command("seed_demo", "--force")
    paris = Office.objects.get(code="paris-consulat")
    assert (paris.city, paris.active) == ("Paris", True)


def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo")
    assert not Office.objects.exists()


def test_seed_demo_has_staff_at_every_office_and_files_in_every_status():
    call_command("seed_demo", "--force")
    call_command("seed_demo", "--force")
    offices_with_agents = set(
        Membership.objects.filter(role="agent").values_list("office__code", flat=True)
    )
    assert offices_with_agents == set(Office.objects.values_list("code", flat=True))
    assert Membership.objects.filter(role="operator").count() == Centre.objects.count()
    assert PassportFile.objects.count() == 2000  # not doubled by the second run
    assert set(PassportFile.objects.values_list("status", flat=True)) == set(FileStatus.values)
    # Every file's history ends at its status (every file, not a sample; the whole history is
    # checked against the table by the next test).
    last = FileEvent.objects.filter(file=OuterRef("pk")).order_by("-at", "-pk")
    ends = PassportFile.objects.annotate(last=Subquery(last.values("to_status")[:1]))
    assert all(last == status for last, status in ends.values_list("last", "status"))
    assert FileEvent.objects.filter(from_status="").count() == 2000


def test_every_demo_file_has_a_history_the_table_allows():
    call_command("seed_demo", "--force")
    now = timezone.now()
    files = {
        file.pk: file for file in PassportFile.objects.select_related("office", "centre__office")
    }
    histories = {pk: [] for pk in files}
    for event in FileEvent.objects.select_related("by").order_by("file_id", "at", "pk"):
        histories[event.file_id].append(event)
    may_act = {}  # (user, office, move) -> whether the project's rules let them make it
    moves_seen = set()
    for pk, events in histories.items():
        file = files[pk]
        at_mission = file.office.kind == Office.Kind.MISSION
        # Created enrolled, as production.services.file_enrol does.
        assert (events[0].from_status, events[0].to_status) == ("", FileStatus.ENROLLED)
        for before, event in pairwise(events):
            move = (event.from_status, event.to_status)
            assert event.from_status == before.to_status, file.reference
            assert move in TRANSITIONS, (file.reference, move)
            assert route_allows(
                start=event.from_status, to=event.to_status, enrolled_at_mission=at_mission
            ), (file.reference, move)
            assert before.at < event.at, file.reference
            moves_seen.add(move)
        assert events[-1].to_status == file.status, file.reference
        assert events[-1].at <= now
        assert (file.created_at, file.updated_at) == (events[0].at, events[-1].at)
        if file.status == FileStatus.REJECTED:
            assert file.rejection_reason
            assert events[-1].note == file.rejection_reason
        for event in events:
            if event.by is None:
                continue
            move = (event.from_status, event.to_status)
            key = (event.by_id, file.office_id, move)
            if key not in may_act:
                may_act[key] = (
                    staff_scope(event.by).works_at_counter(file.office_id)
                    if not event.from_status
                    else bool(roles_for_file(user=event.by, file=file) & TRANSITIONS[move])
                )
            assert may_act[key], (file.reference, event.by.username, move)
    # Variety: every move of the table happens in some demo file; staff make most, the
    # backlog dispatcher takes files from the queue into production (test_demo_dispatches).
    assert moves_seen == set(TRANSITIONS)
    dispatches = FileEvent.objects.filter(from_status="queued", to_status="in_production")
    by_staff = FileEvent.objects.exclude(pk__in=dispatches.values("pk"))
    assert by_staff.filter(by__isnull=False).count() > 0.9 * by_staff.count()
    assert not dispatches.filter(by__isnull=False).exists()


def test_the_demo_administrator_and_supervisors_log_in_with_the_published_code(capsys, client):
    call_command("seed_demo", "--force")
    out = capsys.readouterr().out
    assert DEMO_TOTP_SECRET in out
    assert TOTP_CODE_COMMAND in out
    User = get_user_model()
    for username in ["admin", "superviseur.bko", "superviseur.paris"]:
        device = twofactor.confirmed_device(User.objects.get(username=username))
        assert twofactor.secret_base32(device) == DEMO_TOTP_SECRET, username
    assert twofactor.confirmed_device(User.objects.get(username="agent.bko")) is None
    # The printed command gives the code of the moment, which the login takes.
    program, *arguments = shlex.split(TOTP_CODE_COMMAND)
    assert program == ".venv/bin/python"
    code = subprocess.run(  # (with this interpreter: the tests may run from another venv)
        [sys.executable, *arguments],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    response = client.post(
        "/staff/connexion/",
        {"username": "superviseur.bko", "password": "premium-demo", "code": code},
    )
    assert response.status_code == 302
    assert client.get("/staff/backlog/").status_code == 200
