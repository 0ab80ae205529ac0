"""An applicant turns the messages by email or by SMS off (and on again) from the manage
page or the API; one channel at least stays on, the database sees to it."""

import re

import pytest
from django.db import IntegrityError, transaction

from appointments import services
from appointments.errors import NoChannelLeft
from appointments.models import Appointment
from appointments.tests.api_bookings import assert_error, manage
from appointments.tests.factories import book, paris_consulate, slot_at
from core.models import OutboxMessage
from tests.support import run_together

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("protection_off")]


@pytest.fixture
def booked():
    return book(slot=slot_at(paris_consulate(), 9))


def checked(html: str, name: str) -> bool:
    """Whether the page's checkbox `name` is checked."""
    box = re.search(rf'<input type="checkbox" name="{name}"[^>]*>', html)
    assert box, name
    return " checked" in box[0]


def channels(appointment: Appointment) -> tuple[bool, bool]:
    appointment.refresh_from_db()
    return appointment.notify_email, appointment.notify_sms


# The manage page ------------------------------------------------------------------------


def test_the_manage_page_leads_to_both_channels_checked(client, booked):
    appointment, token = booked
    manage_page = client.get(f"/rendez-vous/{appointment.reference}/{token}/").content.decode()
    assert f'href="/rendez-vous/{appointment.reference}/{token}/messages/"' in manage_page
    page = client.get(f"/rendez-vous/{appointment.reference}/{token}/messages/")
    assert page["Referrer-Policy"] == "same-origin"  # its form posts with its origin
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    form = html[html.index('<form method="post"') : html.index("Enregistrer mes choix")]
    assert checked(form, "notify_email")
    assert checked(form, "notify_sms")
    assert appointment.email in form
    assert appointment.phone in form


def test_turning_sms_off_on_the_page_stops_the_sms_and_keeps_the_emails(client, booked):
    appointment, token = booked
    url = f"/rendez-vous/{appointment.reference}/{token}/"

    response = client.post(url + "messages/", {"notify_email": "on"}, follow=True)

    assert response.redirect_chain == [(url, 302)]
    html = response.content.decode()
    assert "Vos choix de messages sont enregistrés." in html
    assert "Par SMS : non" in html
    assert channels(appointment) == (True, False)
    services.booking_cancel(appointment=appointment)
    told = OutboxMessage.objects.filter(appointment_id=appointment.pk, kind="booking_cancelled")
    assert list(told.values_list("channel", flat=True)) == ["email"]

    # And on again.
    client.post(url + "messages/", {"notify_email": "on", "notify_sms": "on"})
    assert channels(appointment) == (True, True)


def test_turning_both_off_on_the_page_is_refused_with_a_clear_message(client, booked):
    appointment, token = booked

    response = client.post(f"/rendez-vous/{appointment.reference}/{token}/messages/", {})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Gardez au moins un moyen d’être prévenu" in html
    assert 'role="alert"' in html
    assert checked(html, "notify_email") is False  # the page shows what was sent
    assert channels(appointment) == (True, True)


def test_a_wrong_token_changes_nothing(client, booked):
    appointment, token = booked
    response = client.post(f"/rendez-vous/{appointment.reference}/wrong/messages/", {})
    assert response.status_code == 404
    assert client.get(f"/rendez-vous/{appointment.reference}/wrong/messages/").status_code == 404
    assert client.get(f"/rendez-vous/{appointment.reference}/{token}/messages/").status_code == 200
    assert channels(appointment) == (True, True)


# The service and the database -----------------------------------------------------------


def test_the_service_refuses_to_turn_the_last_channel_off(booked):
    appointment, _token = booked
    services.booking_notifications_set(appointment=appointment, email=False)

    with pytest.raises(NoChannelLeft):
        services.booking_notifications_set(appointment=appointment, sms=False)

    assert channels(appointment) == (False, True)
    # Switching from one to the other at once is allowed.
    services.booking_notifications_set(appointment=appointment, email=True, sms=False)
    assert channels(appointment) == (True, False)


def test_the_database_refuses_an_appointment_with_no_channel(booked):
    appointment, _token = booked
    with (
        pytest.raises(IntegrityError, match="appointment_notify_some_channel"),
        transaction.atomic(),
    ):
        Appointment.objects.filter(pk=appointment.pk).update(notify_email=False, notify_sms=False)


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_turning_off_one_channel_each_leave_one_on():
    appointment, _token = book(slot=slot_at(paris_consulate(), 9))

    def turn_off(channel: str):
        return services.booking_notifications_set(
            appointment=Appointment.objects.get(pk=appointment.pk), **{channel: False}
        )

    results = run_together([lambda: turn_off("email"), lambda: turn_off("sms")])

    assert sorted(type(result).__name__ for result in results) == ["Appointment", "NoChannelLeft"]
    assert sum(channels(appointment)) == 1


# The API --------------------------------------------------------------------------------


def test_the_api_turns_a_channel_off_and_shows_the_choice(api, booked):
    appointment, token = booked

    response = manage(
        api, "post", appointment.reference, token, "notifications/", notify_sms=False
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["notify_email"], body["notify_sms"]) == (True, False)
    assert "no-store" in response["Cache-Control"]
    assert manage(api, "get", appointment.reference, token).json()["notify_sms"] is False
    # An empty body changes nothing.
    assert manage(api, "post", appointment.reference, token, "notifications/").status_code == 200
    assert channels(appointment) == (True, False)


def test_the_api_refuses_no_channel_and_wrong_input(api, booked):
    appointment, token = booked
    reference = appointment.reference

    both = manage(
        api, "post", reference, token, "notifications/", notify_email=False, notify_sms=False
    )
    assert_error(both, 400, "no_channel")
    bad = manage(api, "post", reference, token, "notifications/", notify_sms="sometimes")
    assert_error(bad, 400, "invalid")
    assert_error(manage(api, "post", reference, "wrong", "notifications/"), 404, "not_found")
    assert channels(appointment) == (True, True)
