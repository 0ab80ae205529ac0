"""Bad input gets a clear answer, never a 500: dates far outside the calendar on pages and
in the API, and CSV cells a spreadsheet would run as formulas."""

import csv
import io

import pytest

from appointments.tests.factories import member
from production.tests.factories import PassportFileFactory
from tests.support import log_in

pytestmark = pytest.mark.django_db

FAR_DATES = ["9999-12-31", "0001-01-01", "1899-12-31", "2101-01-01"]


@pytest.mark.parametrize("day", FAR_DATES)
def test_an_office_day_far_outside_the_calendar_is_not_found(client, paris, day):
    response = client.get(f"/bureaux/{paris.office.code}/jour/{day}/")
    assert response.status_code == 404


@pytest.mark.parametrize("day", FAR_DATES)
def test_the_agenda_and_the_file_list_ignore_a_far_date(client, paris, day):
    log_in(client, member("agent", paris.office))
    assert client.get(f"/staff/agenda/{paris.office.code}/?date={day}").status_code == 200
    assert client.get(f"/staff/dossiers/?date={day}").status_code == 200


@pytest.mark.parametrize("day", FAR_DATES)
def test_the_api_refuses_a_far_date_as_invalid(paris, day):
    from rest_framework.test import APIClient

    api = APIClient()
    slots = api.get(f"/api/v1/offices/{paris.office.code}/slots/", {"from": day, "to": day})
    assert slots.status_code == 400
    assert slots.json()["code"] == "invalid"
    api.force_authenticate(member("agent", paris.office))
    agenda = api.get("/api/v1/agenda/", {"date": day, "office": paris.office.code})
    assert agenda.status_code == 400
    assert agenda.json()["code"] == "invalid"


@pytest.mark.parametrize("day", FAR_DATES)
def test_the_suspension_form_refuses_a_far_date(client, day):
    log_in(client, member("admin"))
    response = client.post(
        "/staff/suspensions/",
        {"starts_at": f"{day}T08:00", "reopens_at": "", "message_fr": "Suspendu"},
    )
    assert response.status_code == 400
    assert "hors de la période acceptée" in response.content.decode()


def test_csv_cells_that_start_like_a_formula_are_neutralised(client, paris):
    for surname in ('=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "DIARRA"):
        PassportFileFactory(centre=paris.centre, office=paris.office, surname=surname)
    log_in(client, member("supervisor", paris.office))
    body = client.get("/staff/dossiers/export.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    surnames = {row["surname"] for row in rows}
    assert surnames == {'\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)", "DIARRA"}


def test_the_admin_refuses_a_closure_ending_in_year_9999(client, paris):
    log_in(client, member("admin", is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/appointments/closure/add/",
        {
            "office": paris.office.pk,
            "start_date": "2026-12-01",
            "end_date": "9999-12-31",
            "reason": "Travaux",
        },
    )
    assert response.status_code == 200  # the form again, with its message
    assert "hors de la période acceptée" in response.content.decode()
