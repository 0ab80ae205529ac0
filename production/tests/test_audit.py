"""Every staff view of a file's identity data is recorded (who, which file, when, how), in
one insert per page whatever the number of files, append-only, and visible to admins."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from appointments.models import AppointmentView
from appointments.tests.factories import SlotFactory, book, member
from production.models import FileView
from production.tests.factories import PassportFileFactory, applicant_file
from tests.support import log_in

pytestmark = pytest.mark.django_db


def views():
    return sorted(FileView.objects.values_list("user__username", "file__reference", "via"))


def test_the_file_page_the_list_and_the_export_record_who_saw_what(client, paris):
    files = [
        PassportFileFactory(centre=paris.centre, office=paris.office, surname=f"N{n}")
        for n in range(3)
    ]
    other = PassportFileFactory(surname="KEITA")  # not theirs: never shown, never recorded
    supervisor = member("supervisor", paris.office, username="sup")
    log_in(client, supervisor)

    assert client.get(f"/staff/dossiers/{files[0].reference}/").status_code == 200
    assert views() == [("sup", files[0].reference, "page")]

    client.get("/staff/dossiers/")
    listed = [v for v in views() if v[2] == "list"]
    assert sorted(r for _u, r, _v in listed) == sorted(f.reference for f in files)

    client.get("/staff/dossiers/export.csv")
    exported = [v for v in views() if v[2] == "export"]
    assert len(exported) == 3
    assert other.reference not in {r for _u, r, _v in views()}


def test_the_api_records_the_files_it_answers_with(paris):
    files = [PassportFileFactory(centre=paris.centre, office=paris.office) for _ in range(2)]
    api = APIClient()
    api.force_authenticate(member("agent", paris.office, username="agent"))
    assert api.get("/api/v1/files/").status_code == 200
    assert api.get(f"/api/v1/files/{files[1].reference}/").status_code == 200
    assert sorted(views()) == sorted(
        [("agent", f.reference, "api") for f in files] + [("agent", files[1].reference, "api")]
    )


def test_the_list_records_its_views_in_one_query_whatever_their_number(client, paris):
    log_in(client, member("agent", paris.office))
    PassportFileFactory(centre=paris.centre, office=paris.office)
    with CaptureQueriesContext(connection) as one:
        client.get("/staff/dossiers/")
    PassportFileFactory.create_batch(30, centre=paris.centre, office=paris.office)
    with CaptureQueriesContext(connection) as many:
        client.get("/staff/dossiers/")
    assert len(many) == len(one)
    assert FileView.objects.count() == 1 + 31


def test_views_are_append_only(client, paris):
    file = PassportFileFactory(centre=paris.centre, office=paris.office)
    log_in(client, member("agent", paris.office))
    client.get(f"/staff/dossiers/{file.reference}/")
    view = FileView.objects.get()
    for change in (lambda: FileView.objects.update(via="api"), view.delete):
        with pytest.raises(IntegrityError), transaction.atomic():
            change()


def test_admins_read_the_views_in_the_admin(client, paris):
    file = PassportFileFactory(centre=paris.centre, office=paris.office)
    admin = member("admin", username="root", is_staff=True, is_superuser=True)
    log_in(client, admin)
    assert client.get(f"/admin/production/passportfile/{file.pk}/change/").status_code == 200
    page = client.get("/admin/production/fileview/")
    assert page.status_code == 200
    assert file.reference in page.content.decode()
    assert views() == [("root", file.reference, "admin")]


# Appointments: the agenda, the check-in desk, the admin, the staff API ----------------------


def appointment_views():
    return sorted(
        AppointmentView.objects.values_list("user__username", "appointment__reference", "via")
    )


def test_the_admins_list_and_search_record_what_they_show(client, paris):
    """A search by identity number in the admin is a look at identity data too."""
    file = applicant_file(paris.office, centre=paris.centre)
    other = PassportFileFactory(centre=paris.centre, office=paris.office)
    log_in(client, member("admin", username="root", is_staff=True, is_superuser=True))
    found = client.get("/admin/production/passportfile/", {"q": file.national_id})
    assert found.status_code == 200
    assert views() == [("root", file.reference, "admin")]
    assert other.reference not in {r for _u, r, _v in views()}

    appointment = file.appointment
    listed = client.get("/admin/appointments/appointment/", {"q": appointment.national_id})
    assert listed.status_code == 200
    assert appointment_views() == [("root", appointment.reference, "alist")]
    page = client.get(f"/admin/appointments/appointment/{appointment.pk}/change/")
    assert page.status_code == 200
    assert ("root", appointment.reference, "admin") in appointment_views()
    assert client.get("/admin/appointments/appointmentview/").status_code == 200


def test_the_agenda_and_the_check_in_desk_record_who_saw_which_appointment(client, paris):
    slot = SlotFactory(office=paris.office, starts_at=timezone.now() + timedelta(hours=1))
    appointment, _token = book(slot=slot)
    log_in(client, member("agent", paris.office, username="awa"))
    day = slot.starts_at.astimezone(paris.office.timezone).date().isoformat()
    assert client.get(f"/staff/agenda/{paris.office.code}/", {"date": day}).status_code == 200
    assert appointment_views() == [("awa", appointment.reference, "agenda")]
    desk = client.get("/staff/accueil/", {"q": appointment.reference})
    assert desk.status_code == 200
    assert ("awa", appointment.reference, "counter") in appointment_views()
    api = APIClient()
    api.force_authenticate(member("agent", paris.office, username="api-agent"))
    answer = api.get("/api/v1/agenda/", {"date": day, "office": paris.office.code})
    assert answer.status_code == 200
    assert ("api-agent", appointment.reference, "api") in appointment_views()
    view = AppointmentView.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        view.delete()
