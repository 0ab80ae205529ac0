import pytest
from django.urls import reverse

from appointments.tests.factories import member
from production import services
from production.tests.factories import PassportFileFactory
from tests.support import log_in

pytestmark = pytest.mark.django_db


def test_files_are_read_only_in_the_admin_with_their_events(client):
    admin = member("admin", username="minister", is_staff=True, is_superuser=True)
    file = PassportFileFactory()
    services.file_transition(file=file, to="queued", expected="enrolled", by=admin, note="Lot 12")
    log_in(client, admin)

    change = reverse("admin:production_passportfile_change", args=[file.pk])
    page = client.get(change)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Lot 12" in html  # the event, inline
    assert 'name="_save"' not in html  # nothing to save
    assert client.get(reverse("admin:production_passportfile_add")).status_code == 403
    delete = reverse("admin:production_passportfile_delete", args=[file.pk])
    response = client.post(delete, {"post": "yes"})
    assert response.status_code == 403
    file.refresh_from_db()
    assert file.status == "queued"
