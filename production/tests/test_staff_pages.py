"""The staff workspace pages: scoped to the member of staff's offices, bounded queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Appointment
from appointments.tests.factories import OfficeFactory, SlotFactory, book, local_time, member
from production.models import FileStatus, PassportFile
from production.tests.factories import PassportFileFactory
from tests.support import log_in

pytestmark = pytest.mark.django_db


def booked(office, n=1, *, skip=0):
    """`n` appointments at the office tomorrow, one in each 15-minute slot from 09:00 (after
    the first `skip` slots)."""
    nine = local_time(office, 9)
    starts = [nine + timedelta(minutes=15 * i) for i in range(skip, skip + n)]
    return [book(slot=SlotFactory(office=office, starts_at=s, capacity=1))[0] for s in starts]


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/staff/dossiers/")
    assert response.status_code == 302
    assert response.url.startswith("/staff/connexion/")


def test_an_agent_logs_in_and_lands_on_the_agenda_of_their_office(client, paris):
    member("agent", paris.office, username="awa")
    response = client.post("/staff/connexion/", {"username": "awa", "password": "pw"})
    assert response.status_code == 302
    assert client.get(response.url, follow=True).request["PATH_INFO"] == (
        f"/staff/agenda/{paris.office.code}/"
    )


def test_the_agenda_checks_in_and_enrols(client, paris):
    appointment = booked(paris.office)[0]
    log_in(client, member("agent", paris.office))
    day = appointment.slot.starts_at.astimezone(paris.office.timezone).date().isoformat()
    page = client.get(f"/staff/agenda/{paris.office.code}/?date={day}").content.decode()
    assert appointment.reference in page
    client.post(f"/staff/rendez-vous/{appointment.reference}/check-in/")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CHECKED_IN
    response = client.post(f"/staff/rendez-vous/{appointment.reference}/enrol/")
    file = PassportFile.objects.get(appointment=appointment)
    assert response.url == f"/staff/dossiers/{file.reference}/"
    assert file.reference in client.get(response.url).content.decode()


def test_the_check_in_desk_finds_a_reference_typed_or_scanned(client, paris):
    appointment = booked(paris.office)[0]
    log_in(client, member("agent", paris.office))
    scanned = appointment.reference.lower().replace("-", " ")
    page = client.get("/staff/accueil/", {"q": scanned}).content.decode()
    assert appointment.surname in page


def test_another_offices_agent_sees_and_changes_nothing(client, paris):
    appointment = booked(paris.office)[0]
    file = PassportFileFactory(centre=paris.centre, office=paris.office)
    dakar = OfficeFactory(code="dakar-consulat")
    log_in(client, member("agent", dakar))
    assert client.get(f"/staff/agenda/{paris.office.code}/").status_code == 404
    assert client.post(f"/staff/rendez-vous/{appointment.reference}/enrol/").status_code == 404
    assert client.get(f"/staff/dossiers/{file.reference}/").status_code == 404
    post = {"to": "queued", "expected": "enrolled"}
    assert client.post(f"/staff/dossiers/{file.reference}/", post).status_code == 404
    assert file.reference not in client.get("/staff/dossiers/").content.decode()
    found = client.get("/staff/accueil/", {"q": appointment.reference}, follow=True)
    assert appointment.surname not in found.content.decode()
    appointment.refresh_from_db()
    file.refresh_from_db()
    assert (appointment.status, file.status) == ("booked", "enrolled")


def test_a_file_moves_from_its_page_and_shows_its_timeline(client, paris):
    file = PassportFileFactory(centre=paris.centre, office=paris.office)
    log_in(client, member("operator", paris.centre.office))
    page = client.get(f"/staff/dossiers/{file.reference}/").content.decode()
    assert 'value="queued"' in page
    client.post(f"/staff/dossiers/{file.reference}/", {"to": "queued", "expected": "enrolled"})
    # A second form sent with the old status is refused, not applied twice.
    stale = client.post(
        f"/staff/dossiers/{file.reference}/",
        {"to": "queued", "expected": "enrolled"},
        follow=True,
    )
    assert "a changé entre-temps" in stale.content.decode()
    file.refresh_from_db()
    assert file.status == FileStatus.QUEUED
    assert "en attente de production" in stale.content.decode()


def test_pages_cost_a_bounded_number_of_queries(client, paris):
    log_in(client, member("supervisor", paris.office))
    booked(paris.office, 3)
    PassportFileFactory.create_batch(3, centre=paris.centre, office=paris.office)
    day = local_time(paris.office, 9).date()
    agenda = f"/staff/agenda/{paris.office.code}/?date={day.isoformat()}"
    with CaptureQueriesContext(connection) as few_agenda:
        client.get(agenda)
    with CaptureQueriesContext(connection) as few_files:
        client.get("/staff/dossiers/")
    booked(paris.office, 30, skip=3)
    PassportFileFactory.create_batch(45, centre=paris.centre, office=paris.office)
    with CaptureQueriesContext(connection) as many_agenda:
        assert client.get(agenda).content.decode().count("<tr>") > 30
    with CaptureQueriesContext(connection) as many_files:
        assert client.get("/staff/dossiers/").content.decode().count("<tr>") == 49
    assert len(many_agenda.captured_queries) == len(few_agenda.captured_queries)
    assert len(many_files.captured_queries) == len(few_files.captured_queries)


def test_bulk_moves_report_each_file(client, paris):
    ready = PassportFileFactory.create_batch(
        2, centre=paris.centre, office=paris.office, status=FileStatus.READY
    )
    other = PassportFileFactory(centre=paris.centre, office=paris.office, status="queued")
    log_in(client, member("agent", paris.office))
    response = client.post(
        "/staff/dossiers/",
        {
            "files": [f.reference for f in ready] + [other.reference, "DNOPE-00000"],
            "to": "delivered",
        },
        follow=True,
    )
    html = response.content.decode()
    assert "2 dossier(s) mis à jour." in html
    assert other.reference in html  # refused: queued cannot be delivered
    assert "DNOPE-00000 (introuvable)" in html
    assert {f.status for f in PassportFile.objects.filter(pk__in=[f.pk for f in ready])} == {
        "delivered"
    }
    other.refresh_from_db()
    assert other.status == "queued"


def test_supervisors_export_their_files_as_csv_agents_cannot(client, paris):
    mine = PassportFileFactory(centre=paris.centre, office=paris.office, surname="DIARRA")
    theirs = PassportFileFactory(surname="KEITA")
    log_in(client, member("supervisor", paris.office))
    response = client.get("/staff/dossiers/export.csv")
    body = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert mine.reference in body
    assert theirs.reference not in body
    assert body.splitlines()[0].startswith("reference,status,office")
    log_in(client, member("agent", paris.office))
    assert client.get("/staff/dossiers/export.csv").status_code == 403


def test_the_file_list_filters_by_status_day_and_name(client, paris):
    today = PassportFileFactory(centre=paris.centre, office=paris.office, surname="DIALLO")
    older = PassportFileFactory(
        centre=paris.centre, office=paris.office, surname="BAGAYOKO", status="queued"
    )
    PassportFile.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=3))
    log_in(client, member("supervisor", paris.office))

    def listed(**params):
        html = client.get("/staff/dossiers/", params).content.decode()
        return {f.surname for f in (today, older) if f.reference in html}

    assert listed() == {"DIALLO", "BAGAYOKO"}
    assert listed(status="queued") == {"BAGAYOKO"}
    assert listed(date=timezone.localdate().isoformat()) == {"DIALLO"}
    assert listed(q="bagay") == {"BAGAYOKO"}
    assert listed(q=today.reference) == {"DIALLO"}
    assert listed(date="not-a-date") == {"DIALLO", "BAGAYOKO"}
