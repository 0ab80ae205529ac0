from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from appointments import selectors
from appointments.models import Office
from consulates.models import Mission
from production.models import Centre

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, list]:
    return {
        "offices": list(Office.objects.order_by("code").values()),
        "centres": list(Centre.objects.order_by("office__code").values()),
        "missions": list(Mission.objects.order_by("office__code").values()),
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
        days = selectors.free_days(
            office=office, date_from=today, date_to=today + timedelta(days=14)
        )
        assert len(days) >= 9, office.code  # two weeks of Monday-to-Friday opening
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
    from appointments.models import Membership
    from production.models import FileEvent, FileStatus, PassportFile

    call_command("seed_demo", "--force")
    call_command("seed_demo", "--force")
    offices_with_agents = set(
        Membership.objects.filter(role="agent").values_list("office__code", flat=True)
    )
    assert offices_with_agents == set(Office.objects.values_list("code", flat=True))
    assert Membership.objects.filter(role="operator").count() == Centre.objects.count()
    assert PassportFile.objects.count() == 2000  # not doubled by the second run
    assert set(PassportFile.objects.values_list("status", flat=True)) == set(FileStatus.values)
    # Every file's history ends at its status.
    for file in PassportFile.objects.order_by("?")[:50]:
        assert list(file.events.values_list("to_status", flat=True))[-1] == file.status
    assert FileEvent.objects.filter(from_status="").count() == 2000
