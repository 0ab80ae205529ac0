"""The applicant's pages: office, day, booking form, confirmation and the manage link."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Appointment, Slot
from appointments.tests.booking_form import FORM
from appointments.tests.factories import SlotFactory, book, local_time, paris_consulate, slot_at
from appointments.waiting_room.window import forget_no_window

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("protection_off")]


@pytest.fixture
def paris():
    return paris_consulate()


def test_the_office_page_shows_the_month_with_its_free_days(client, paris):
    slot_at(paris, 9)
    slot_at(paris, 10)
    full = slot_at(paris, 11, capacity=1, days=2)
    book(slot=full)
    html = client.get(f"/bureaux/{paris.code}/").content.decode()
    day = local_time(paris, 9).date()
    assert f'href="/bureaux/{paris.code}/jour/{day.isoformat()}/"' in html
    assert "2 horaires libres" in html
    # The day whose only slot is full is shown off, not as a link.
    full_day = local_time(paris, 11, days=2).date()
    its_month = client.get(f"/bureaux/{paris.code}/?mois={full_day:%Y-%m}").content.decode()
    assert f"/jour/{full_day.isoformat()}/" not in its_month
    assert f'<span class="off">{full_day.day}</span>' in its_month
    assert '<table class="month">' in html
    assert '<th scope="col">' in html
    assert "À apporter le jour du rendez-vous" in html


def test_the_day_page_offers_its_times_inside_the_booking_form(client, paris):
    slot = slot_at(paris, 9, 30)
    day = local_time(paris, 9).date().isoformat()
    html = client.get(f"/bureaux/{paris.code}/jour/{day}/").content.decode()
    assert ">09:30</time>" in html
    assert "Europe/Paris" in html
    form = html[html.index('id="booking-form"') : html.index("</form>")]
    assert f'<input type="radio" name="slot" value="{slot.pk}"' in form
    assert 'name="surname"' in form


def test_booking_from_the_day_page(client, paris):
    slot = slot_at(paris, 9)
    other = slot_at(paris, 10)
    day = local_time(paris, 9).date().isoformat()
    missing = client.post(f"/bureaux/{paris.code}/jour/{day}/", FORM)
    assert missing.status_code == 400
    assert "Choisissez un horaire." in missing.content.decode()
    elsewhere = slot_at(paris, 9, days=3)
    wrong_day = client.post(f"/bureaux/{paris.code}/jour/{day}/", {**FORM, "slot": elsewhere.pk})
    assert "Choisissez un horaire dans la liste." in wrong_day.content.decode()
    response = client.post(f"/bureaux/{paris.code}/jour/{day}/", {**FORM, "slot": other.pk})
    assert response.status_code == 302
    assert Appointment.objects.get().slot_id == other.pk
    assert Slot.objects.get(pk=slot.pk).booked == 0


def test_availability_pages_cost_a_bounded_number_of_queries(client, paris):
    day = local_time(paris, 8).date().isoformat()
    slot_at(paris, 8)
    forget_no_window()  # each page reads the reopenings near (kept a second per process)
    with CaptureQueriesContext(connection) as few_office:
        client.get(f"/bureaux/{paris.code}/")
    forget_no_window()  # each page reads the reopenings near (kept a second per process)
    with CaptureQueriesContext(connection) as few_day:
        client.get(f"/bureaux/{paris.code}/jour/{day}/")
    start = local_time(paris, 8, 15)
    Slot.objects.bulk_create(
        Slot(
            office=paris,
            starts_at=start + timedelta(days=d, minutes=m),
            ends_at=start + timedelta(days=d, minutes=m + 1),
            capacity=2,
        )
        for d in range(30)
        for m in range(0, 600, 5)
    )
    forget_no_window()  # each page reads the reopenings near (kept a second per process)
    with CaptureQueriesContext(connection) as many_office:
        response = client.get(f"/bureaux/{paris.code}/")
    assert response.content.decode().count('class="free"') >= 1
    forget_no_window()  # each page reads the reopenings near (kept a second per process)
    with CaptureQueriesContext(connection) as many_day:
        response = client.get(f"/bureaux/{paris.code}/jour/{day}/")
    assert response.content.decode().count('class="time"') > 100
    # The office's month: its free days, its closures (named under the grid), the page's own.
    assert len(many_office.captured_queries) == len(few_office.captured_queries) <= 5
    assert len(many_day.captured_queries) == len(few_day.captured_queries) <= 4


def test_booking_through_the_form_shows_the_confirmation(client, paris):
    slot = slot_at(paris, 9)
    response = client.post(f"/bureaux/{paris.code}/creneau/{slot.pk}/", FORM)
    assert response.status_code == 302
    match = re.fullmatch(r"/rendez-vous/([A-Z0-9]{4}-[A-Z0-9]{4})/([\w-]+)/", response.url)
    assert match
    appointment = Appointment.objects.get(reference=match[1])
    assert appointment.surname == "TRAORÉ"
    assert appointment.given_names == "Aminata Fatoumata"
    assert appointment.national_id == "123456789012A"
    assert appointment.phone == "+33612345678"  # read in the office's country, stored E.164
    assert appointment.email == "aminata@example.org"
    page = client.get(response.url).content.decode()
    assert appointment.reference in page
    assert "Votre rendez-vous est réservé." in page
    assert "09:00" in page
    assert "Europe/Paris" in page
    assert "64 rue de Prony" in page
    assert f"{response.url}convocation.pdf" in page
    assert f"{response.url}calendrier.ics" in page
    slot.refresh_from_db()
    assert slot.booked == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "12", "numéro de téléphone valide"),
        ("phone", "+989601", "numéro de téléphone valide"),  # valid but too short for E.164
        ("surname", "ß" * 100, "trop long"),  # 200 characters once in upper case
        ("national_id", "AB", "NINA"),
        ("birth_date_year", "2999", "futur"),
        ("email", "not-an-email", "adresse e-mail valide"),
        ("consent", "", "Ce champ est obligatoire"),
    ],
)
def test_invalid_fields_get_a_clear_message_and_book_nothing(client, paris, field, value, message):
    slot = slot_at(paris, 9)
    data = {**FORM, field: value}
    if not value:
        data.pop(field)
    response = client.post(f"/bureaux/{paris.code}/creneau/{slot.pk}/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_full_slot_offers_the_next_free_times(client, paris):
    slot = slot_at(paris, 9, capacity=1)
    later = slot_at(paris, 10)
    book(slot=slot)
    response = client.post(f"/bureaux/{paris.code}/creneau/{slot.pk}/", FORM)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Ce créneau est complet" in html
    assert f"/bureaux/{paris.code}/creneau/{later.pk}/" in html


def test_booking_twice_with_the_same_identity_says_how_to_manage(client, paris):
    client.post(f"/bureaux/{paris.code}/creneau/{slot_at(paris, 9).pk}/", FORM)
    response = client.post(f"/bureaux/{paris.code}/creneau/{slot_at(paris, 10).pk}/", FORM)
    assert response.status_code == 400
    assert "lien reçu par e-mail" in response.content.decode()
    assert Appointment.objects.count() == 1


def test_a_slot_in_the_past_cannot_be_booked(client, paris):
    start = timezone.now() - timedelta(hours=1)
    slot = SlotFactory(office=paris, starts_at=start, ends_at=start + timedelta(minutes=15))
    response = client.post(f"/bureaux/{paris.code}/creneau/{slot.pk}/", FORM)
    assert "déjà passé" in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_suspended_office_refuses_bookings_and_says_when_it_reopens(client, paris):
    from appointments.models import Suspension

    slot = slot_at(paris, 9)
    Suspension.objects.create(
        starts_at=timezone.now() - timedelta(days=1),
        reopens_at=timezone.now() + timedelta(days=3),
        message="Le service Premium est suspendu pour maintenance.",
    )
    page = client.get(f"/bureaux/{paris.code}/").content.decode()
    assert "Le service Premium est suspendu pour maintenance." in page
    assert "Réouverture prévue le" in page
    response = client.post(f"/bureaux/{paris.code}/creneau/{slot.pk}/", FORM)
    assert response.status_code == 400
    assert not Appointment.objects.exists()


def test_another_offices_slot_is_not_found(client, paris):
    other = SlotFactory()
    assert client.get(f"/bureaux/{paris.code}/creneau/{other.pk}/").status_code == 404
    assert client.post(f"/bureaux/{paris.code}/creneau/{other.pk}/", FORM).status_code == 404
    assert not Appointment.objects.exists()


def test_the_manage_link_cancels_and_frees_the_seat(client, paris):
    slot = slot_at(paris, 9, capacity=1)
    appointment, token = book(slot=slot)
    url = f"/rendez-vous/{appointment.reference}/{token}/"
    assert "Oui, annuler" in client.get(url + "annuler/").content.decode()
    response = client.post(url + "annuler/", follow=True)
    assert "Votre rendez-vous est annulé" in response.content.decode()
    appointment.refresh_from_db()
    slot.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert slot.booked == 0


def test_the_manage_link_moves_the_appointment(client, paris):
    first = slot_at(paris, 9)
    second = slot_at(paris, 11)
    appointment, token = book(slot=first)
    url = f"/rendez-vous/{appointment.reference}/{token}/deplacer/"
    day = local_time(paris, 9).date().isoformat()
    page = client.get(url + f"?jour={day}").content.decode()
    assert f'value="{second.pk}"' in page
    response = client.post(url, {"slot": second.pk}, follow=True)
    assert "Votre rendez-vous est déplacé." in response.content.decode()
    appointment.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert appointment.slot_id == second.pk
    assert (first.booked, second.booked) == (0, 1)


def test_a_wrong_token_is_not_found(client, paris):
    appointment, token = book(slot=slot_at(paris, 9))
    assert client.get(f"/rendez-vous/{appointment.reference}/{token}x/").status_code == 404
    assert client.get(f"/rendez-vous/{appointment.reference}/{token}/").status_code == 200
    assert client.post(f"/rendez-vous/{appointment.reference}/wrong/annuler/").status_code == 404
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_calendar_file_and_pdf_are_served_from_the_manage_link(client, paris):
    appointment, token = book(slot=slot_at(paris, 9))
    url = f"/rendez-vous/{appointment.reference}/{token}/"
    ics = client.get(url + "calendrier.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VCALENDAR" in ics.content
    pdf = client.get(url + "convocation.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_the_booking_pages_in_english(client, paris):
    slot = slot_at(paris, 9)
    html = client.get(f"/en/bureaux/{paris.code}/creneau/{slot.pk}/").content.decode()
    assert '<html lang="en">' in html
    assert "Confirm the appointment" in html
