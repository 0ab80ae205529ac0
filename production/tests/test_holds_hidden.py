"""Contact verification seen from production: a booking whose code was not entered (yet) is
no appointment, so neither tracking nor the counter's agenda shows it; once confirmed, both
do."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from appointments import services
from appointments.tests.factories import SlotFactory, applicant, someone
from appointments.tests.verification import sent_code
from production import selectors, tracking

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("verify_on")]


@pytest.fixture
def verify_on(settings):
    settings.BOOKING_VERIFY_CONTACT = True


def test_a_pending_or_expired_hold_is_not_tracked_a_confirmed_one_is():
    born = date(1990, 5, 17)
    hold, token = services.booking_create(slot=SlotFactory(), applicant=applicant(birth_date=born))
    assert tracking.track(reference=hold.reference, birth_date=born) is None

    services.booking_confirm(appointment=hold, code=sent_code(hold), token=token)
    found = tracking.track(reference=hold.reference, birth_date=born)
    assert found is not None
    assert found.status == "booked"

    lapsed, _token = services.booking_create(
        slot=SlotFactory(), applicant=applicant(birth_date=born)
    )
    services.holds_expire(now=lapsed.hold_expires_at)
    assert tracking.track(reference=lapsed.reference, birth_date=born) is None


def test_the_agenda_lists_the_confirmed_appointments_not_the_holds():
    slot = SlotFactory(capacity=3)
    confirmed, token = services.booking_create(slot=slot, applicant=applicant())
    services.booking_confirm(appointment=confirmed, code=sent_code(confirmed), token=token)
    pending, _token = services.booking_create(slot=slot, applicant=someone())
    twenty_minutes_ago = timezone.now() - timedelta(minutes=20)
    lapsed, _token = services.booking_create(
        slot=slot, applicant=someone(), now=twenty_minutes_ago
    )
    assert services.holds_expire() == 1

    day = slot.starts_at.astimezone(slot.office.timezone).date()
    listed = list(selectors.agenda(office=slot.office, day=day))

    assert listed == [confirmed]
    statuses = {a.pk: a.status for a in (pending, lapsed) if not a.refresh_from_db()}
    assert statuses == {pending.pk: "pending", lapsed.pk: "expired"}
