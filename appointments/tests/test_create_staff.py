import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from appointments.models import Membership
from appointments.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db


def memberships(username: str) -> set[tuple[str | None, str]]:
    return {
        (m.office.code if m.office else None, m.role)
        for m in Membership.objects.filter(user__username=username).select_related("office")
    }


def test_create_staff_is_idempotent_and_sets_exactly_the_given_offices():
    OfficeFactory(code="paris-consulat")
    OfficeFactory(code="lyon-consulat")
    args = ["--username", "awa", "--password", "s3cret-Pass", "--role", "agent"]
    call_command("create_staff", *args, "--office", "paris-consulat", "--office", "lyon-consulat")
    call_command("create_staff", *args, "--office", "paris-consulat", "--office", "lyon-consulat")
    assert memberships("awa") == {("paris-consulat", "agent"), ("lyon-consulat", "agent")}
    call_command("create_staff", *args, "--office", "paris-consulat")
    assert memberships("awa") == {("paris-consulat", "agent")}
    user = User.objects.get(username="awa")
    assert user.check_password("s3cret-Pass")
    assert not user.is_staff  # the staff workspace, not the Django admin


def test_an_administrator_has_every_office_and_the_admin_site():
    call_command("create_staff", "--username", "min", "--password", "pw-123456", "--role", "admin")
    assert memberships("min") == {(None, "admin")}
    assert User.objects.get(username="min").is_staff


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--role", "agent"], "bureau"),
        (["--role", "agent", "--office", "nowhere"], "nowhere"),
        (["--role", "admin", "--office", "paris-consulat"], "administrateur"),
    ],
)
def test_bad_arguments_are_refused_clearly(extra, message):
    OfficeFactory(code="paris-consulat")
    with pytest.raises(CommandError, match=message):
        call_command("create_staff", "--username", "x", "--password", "pw-123456", *extra)
    assert not User.objects.filter(username="x").exists()
