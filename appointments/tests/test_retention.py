"""Erasure of the identity of appointments that led to no passport file, 90 days
(RETENTION_APPOINTMENT_DAYS) after their slot: what goes, what stays, which appointments,
and what an erased appointment no longer does (manage link, messages, rebooking)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from appointments import services
from appointments.models import Appointment, Slot
from appointments.tests.factories import (
    CentreOfficeFactory,
    SlotFactory,
    book,
    displace,
    local_time,
    member,
    move,
)
from core import chunks
from core.models import Office, OutboxMessage
from core.outbox.delivery import outbox_retry
from tests.support import run_together

pytestmark = pytest.mark.django_db

IDENTITY = ("surname", "given_names", "birth_date", "national_id", "email", "phone")
KEPT = ("status", "slot_id", "office_id", "language", "created_at", "updated_at", "reference")


def book_ago(days: float, office=None, **who) -> tuple[Appointment, str]:
    """An appointment booked for a slot that ended `days` ago (booked the day before it)."""
    ends_at = timezone.now() - timedelta(days=days)
    starts_at = ends_at - timedelta(minutes=15)
    return book(office, starts_at, now=starts_at - timedelta(days=1), **who)


def set_status(appointment: Appointment, status: str) -> Appointment:
    move(Appointment.objects.filter(pk=appointment.pk), status)
    appointment.refresh_from_db()
    return appointment


def snapshot(appointment: Appointment) -> dict:
    appointment.refresh_from_db()
    return {name: getattr(appointment, name) for name in (*IDENTITY, *KEPT, "erased_at")}


def assert_erased(appointment: Appointment, *, before: dict, at) -> None:
    appointment.refresh_from_db()
    assert (appointment.surname, appointment.given_names, appointment.email) == ("", "", "")
    assert appointment.birth_date is None
    assert appointment.national_id is None
    assert appointment.phone is None
    assert appointment.manage_token_hash == ""
    assert appointment.erased_at == at
    assert {name: getattr(appointment, name) for name in KEPT} == {
        name: before[name] for name in KEPT
    }


def test_the_appointments_that_led_to_no_file_are_erased_90_days_after_their_slot(client):
    now = timezone.now()
    cancelled, cancelled_token = book_ago(91)
    services.booking_cancel(
        appointment=cancelled, now=cancelled.slot.starts_at - timedelta(hours=2)
    )
    no_show = set_status(book_ago(100)[0], Appointment.Status.NO_SHOW)
    forgotten = book_ago(120)[0]  # still `booked`: nobody marked it, no file was made
    checked_in = set_status(book_ago(95)[0], Appointment.Status.CHECKED_IN)
    recent = set_status(book_ago(89)[0], Appointment.Status.CANCELLED)
    enrolled = set_status(book_ago(400)[0], Appointment.Status.ENROLLED)  # erased with its file
    upcoming = book(None, now + timedelta(days=3))[0]
    erasable = [cancelled, no_show, forgotten, checked_in]
    before = {a.pk: snapshot(a) for a in erasable}
    kept = {a.pk: snapshot(a) for a in (recent, enrolled, upcoming)}

    assert services.appointments_erase_expired(now=now) == 4

    for appointment in erasable:
        assert_erased(appointment, before=before[appointment.pk], at=now)
    for appointment in (recent, enrolled, upcoming):
        assert snapshot(appointment) == kept[appointment.pk]
    # Its manage link is dead: the same answer as a wrong token.
    url = reverse("appointments:manage", args=[cancelled.reference, cancelled_token])
    assert client.get(url).status_code == 404
    # Done once: a second run finds nothing and changes nothing.
    assert services.appointments_erase_expired(now=now + timedelta(days=1)) == 0
    assert snapshot(cancelled)["erased_at"] == now


def test_the_erasure_follows_the_setting_of_days(settings):
    settings.RETENTION_APPOINTMENT_DAYS = 10
    old = set_status(book_ago(11)[0], Appointment.Status.CANCELLED)
    young = set_status(book_ago(9)[0], Appointment.Status.CANCELLED)
    assert services.appointments_erase_expired() == 1
    old.refresh_from_db()
    young.refresh_from_db()
    assert old.erased_at is not None
    assert young.erased_at is None


def test_their_messages_lose_recipient_payload_and_error_and_one_not_sent_never_will_be():
    appointment = book_ago(91)[0]  # its confirmation: email and SMS, with the manage token
    messages = OutboxMessage.objects.filter(appointment_id=appointment.pk).order_by("channel")
    assert [m.payload.keys() for m in messages] == [{"manage_token"}] * 2
    email, sms = messages
    OutboxMessage.objects.filter(pk=email.pk).update(
        status="sent", last_error="SMTPRecipientsRefused(aminata.traore@example.org)"
    )
    set_status(appointment, Appointment.Status.CANCELLED)

    services.appointments_erase_expired()

    email.refresh_from_db()
    sms.refresh_from_db()
    for message in (email, sms):
        assert (message.recipient, message.payload, message.last_error) == ("", {}, "")
        assert message.kind == "booking_confirmed"
    assert email.status == "sent"
    assert sms.status == "failed"  # was pending: nobody to send it to any more
    # The admin's "send again" leaves it abandoned.
    assert outbox_retry(message_ids=[sms.pk]) == 0


def test_a_displaced_appointment_waits_for_its_new_time_however_long_unless_it_will_not_get_one():
    waiting = book_ago(200)[0]  # a long suspension: the backlog will rebook it at the reopening
    displace(waiting)
    moved_on = book_ago(200)[0]
    displace(moved_on)
    book(None, timezone.now() + timedelta(days=2), national_id=moved_on.national_id)
    closed_for_good = book_ago(200)[0]
    displace(closed_for_good)
    closed_for_good.office.active = False
    closed_for_good.office.save(update_fields=["active"])
    for appointment in (waiting, moved_on, closed_for_good):
        appointment.refresh_from_db()
        assert appointment.status == Appointment.Status.DISPLACED

    # Just made inactive, the office may reopen and its displaced applicants book again.
    assert services.appointments_erase_expired() == 1
    closed_for_good.refresh_from_db()
    assert closed_for_good.erased_at is None
    # Inactive for the retention, it will not: its displaced appointments are erased.
    days = settings.RETENTION_APPOINTMENT_DAYS
    assert services.appointments_erase_expired(now=timezone.now() + timedelta(days=days + 1)) == 1

    for appointment in (waiting, moved_on, closed_for_good):
        appointment.refresh_from_db()
    assert waiting.erased_at is None
    assert moved_on.erased_at is not None
    assert closed_for_good.erased_at is not None


def test_the_database_keeps_since_when_an_office_is_inactive():
    office = CentreOfficeFactory()
    assert office.deactivated_at is None
    Office.objects.filter(pk=office.pk).update(active=False)
    since = Office.objects.get(pk=office.pk).deactivated_at
    assert since is not None
    # A save that did not know it (a stale form) keeps it; reopening clears it.
    office.name = "Bureau renommé"
    office.active = False
    office.save()
    assert Office.objects.get(pk=office.pk).deactivated_at == since
    Office.objects.filter(pk=office.pk).update(active=True)
    assert Office.objects.get(pk=office.pk).deactivated_at is None


def test_an_erased_displaced_appointment_is_never_rebooked_nor_holds_seats_back():
    office = CentreOfficeFactory()
    displaced = book_ago(200, office)[0]
    displace(displaced)
    # At 10:00 two days ahead, whatever the hour now: the applicant displaced below is rebooked
    # into the seat this one frees, which must stay outside the suspension made at the end
    # (from 20:00 the next day).
    newer, _token = book(office, local_time(office, 10, days=2), national_id=displaced.national_id)
    assert services.appointments_erase_expired() == 1
    # The applicant cancels the newer one: nothing ties the erased one to them any more.
    services.booking_cancel(appointment=newer)
    # Another applicant displaced at the same office waits for a new time.
    waiting = book(office, timezone.now() + timedelta(days=1))[0]
    displace(waiting)
    # Seats held back for the displaced of this office (a reopening's).
    for days in (4, 5):
        SlotFactory(office=office, starts_at=timezone.now() + timedelta(days=days), capacity=2)
    Slot.objects.filter(office=office, starts_at__gt=timezone.now() + timedelta(days=3)).update(
        reserved=1
    )

    assert services.displaced_rebook() == 1

    displaced.refresh_from_db()
    waiting.refresh_from_db()
    assert displaced.status == Appointment.Status.DISPLACED
    assert waiting.status == Appointment.Status.BOOKED
    assert not OutboxMessage.objects.filter(appointment_id=displaced.pk, kind="booking_rebooked")
    # Nobody left waiting there: the seats held back are everyone's again.
    assert not Slot.objects.filter(office=office, reserved__gt=0).exists()
    # A suspension of its office holds back no seat for it after the reopening.
    reopens_at = local_time(office, 8, days=3)
    while reopens_at.weekday() >= 5:
        reopens_at += timedelta(days=1)
    SlotFactory(office=office, starts_at=reopens_at + timedelta(hours=1), capacity=4)
    services.suspension_create(
        by=member("admin"),
        starts_at=reopens_at - timedelta(hours=12),
        reopens_at=reopens_at,
        office_codes=[office.code],
        message_fr="Suspension",
    )
    assert not Slot.objects.filter(office=office, reserved__gt=0).exists()


def test_nobody_is_written_to_about_an_erased_appointment():
    forgotten = book_ago(120)[0]  # still booked
    assert services.appointments_erase_expired() == 1
    day = forgotten.slot.starts_at.astimezone(forgotten.office.timezone).date()
    before = OutboxMessage.objects.count()

    # A closure over its (past) day displaces it: no message, and no failure either.
    services.closure_create(
        office=forgotten.office, start_date=day, end_date=day, reason="Inventaire"
    )

    forgotten.refresh_from_db()
    assert forgotten.status == Appointment.Status.DISPLACED
    assert OutboxMessage.objects.count() == before


def test_a_move_that_read_the_appointment_before_its_erasure_is_refused():
    appointment = book_ago(120)[0]
    displace(appointment)
    book(None, timezone.now() + timedelta(days=2), national_id=appointment.national_id)
    appointment.refresh_from_db()  # the applicant's page read it: displaced, changeable
    services.appointments_erase_expired()
    target = SlotFactory(office=appointment.office, starts_at=timezone.now() + timedelta(days=4))
    with pytest.raises(services.NotChangeable):
        services.booking_reschedule(appointment=appointment, slot=target)


def test_the_database_refuses_a_half_erased_appointment_and_accepts_erased_ones():
    first = book_ago(120)[0]
    second = book_ago(120)[0]

    def sql(statement: str, *params) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)

    with pytest.raises(IntegrityError, match="appointment_identity_or_erased"):
        sql("UPDATE appointments_appointment SET erased_at = now() WHERE id = %s", first.pk)
    with pytest.raises(IntegrityError, match="appointment_identity_or_erased"):
        sql("UPDATE appointments_appointment SET birth_date = NULL WHERE id = %s", first.pk)
    services.appointments_erase_expired()
    with pytest.raises(IntegrityError, match="appointment_identity_or_erased"):
        sql("UPDATE appointments_appointment SET email = 'a@b.ml' WHERE id = %s", first.pk)
    # Two erased appointments still `booked`: the one-active-booking index, the E.164 check
    # and the status check accept them.
    assert (
        Appointment.objects.filter(
            pk__in=[first.pk, second.pk], status="booked", erased_at__isnull=False
        ).count()
        == 2
    )


def test_erasing_is_set_based_walks_every_chunk_and_costs_a_few_queries_per_chunk(
    monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(chunks, "CHUNK", 4)
    office = CentreOfficeFactory()
    appointments = [book_ago(100, office)[0] for _ in range(10)]
    # Kept ones between them: the walk goes on past them.
    for index in (2, 5, 6):
        set_status(appointments[index], Appointment.Status.ENROLLED)
    for index in (0, 1, 3, 4, 7, 8, 9):
        set_status(appointments[index], Appointment.Status.CANCELLED)

    # 7 rows in chunks of 4: two chunks of (savepoint, pick, erase, release) at most.
    with django_assert_max_num_queries(8):
        assert services.appointments_erase_expired() == 7


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_erase_each_appointment_once(monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK", 3)
    office = CentreOfficeFactory()
    appointments = [book_ago(100, office)[0] for _ in range(24)]
    move(Appointment.objects.filter(pk__in=[a.pk for a in appointments]), "cancelled")
    now = timezone.now()

    counts = run_together([lambda: services.appointments_erase_expired(now=now)] * 2)

    assert all(isinstance(count, int) for count in counts), counts
    assert sum(counts) == 24
    assert Appointment.objects.filter(erased_at=now).count() == 24
    assert not OutboxMessage.objects.exclude(recipient="").exists()
