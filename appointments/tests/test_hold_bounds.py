"""Pending holds are bounded per person, per contact and per network, in PostgreSQL: a bot
with fake identities, or one identity with many contacts, cannot hold many seats; over a
bound the answer is 429 `too_many_holds` with Retry-After and nothing is queued to send."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from appointments import services
from appointments.errors import TooManyHolds
from appointments.models import Appointment, HoldNetwork
from appointments.tests.api_bookings import assert_error, book, manage
from appointments.tests.factories import SlotFactory, someone
from appointments.tests.verification import sent_code
from appointments.validation import email_key
from core.models import OutboxMessage
from tests.support import run_together

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("verify_on", "protection_off")]

_numbers = iter(range(10_000_000, 99_999_999))


def own_contacts(**overrides) -> dict:
    """Fields of an API booking with an identity number, phone and mailbox of its own."""
    n = next(_numbers)
    return {
        "national_id": f"NINA{n}",
        "phone": f"+2237{n % 10_000_000:07d}",
        "email": f"person{n}@example.org",
        **overrides,
    }


def refused_holds(response) -> None:
    assert_error(response, 429, "too_many_holds")
    assert 0 < int(response["Retry-After"]) <= 15 * 60 + 1


def test_one_pending_hold_per_identity_number(api, slot):
    first = book(api, slot, **own_contacts(national_id="NINA55550001"))
    assert first.status_code == 201
    messages = OutboxMessage.objects.count()

    again = book(api, slot, **own_contacts(national_id="nina 5555-0001"))

    refused_holds(again)
    assert OutboxMessage.objects.count() == messages  # nothing queued to send
    assert Appointment.objects.filter(national_id="NINA55550001").count() == 1


def test_one_pending_hold_per_phone_number_however_written(api, slot):
    assert book(api, slot, **own_contacts(phone="+223 70 11 22 33")).status_code == 201
    refused_holds(book(api, slot, **own_contacts(phone="0022370112233")))
    refused_holds(book(api, slot, **own_contacts(phone="+22370112233")))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Awa.Diarra@Example.org", "awa.diarra@example.org "),
        ("awa.diarra@gmail.com", "AwaDiarra+premium@googlemail.com"),
        ("a.w.a@gmail.com", "awa@gmail.com"),
        ("awa@outlook.fr", "awa+2@outlook.fr"),
        ("awa@yahoo.fr", "awa-bot7@yahoo.fr"),
    ],
)
def test_one_pending_hold_per_mailbox(api, slot, first, second):
    assert email_key(first) == email_key(second)
    assert book(api, slot, **own_contacts(email=first)).status_code == 201
    refused_holds(book(api, slot, **own_contacts(email=second)))


def test_other_mailboxes_of_one_domain_are_other_people(api, slot):
    assert book(api, slot, **own_contacts(email="awa@orange.ml")).status_code == 201
    assert book(api, slot, **own_contacts(email="awa+1@orange.ml")).status_code == 201


def test_once_the_hold_ends_the_same_person_may_hold_again(api, slot):
    fields = own_contacts()
    body = book(api, slot, **fields).json()
    manage(api, "post", body["reference"], body["manage_token"], "confirm/", code="000000")
    refused_holds(book(api, slot, **fields))  # still waiting for its code (2 tries left)

    confirmed = manage(
        api,
        "post",
        body["reference"],
        body["manage_token"],
        "confirm/",
        code=sent_code(body["reference"]),
    )
    assert confirmed.status_code == 200

    other_slot = SlotFactory(office=slot.office)
    # Now a booking: a new hold of the same number is a replacement (its code goes to the
    # booking's contacts), no longer over the bound of one pending hold.
    assert book(api, other_slot, **fields).status_code == 201


def test_a_lapsed_hold_does_not_stand_in_the_way(api, slot, freeze):
    fields = own_contacts()
    first = book(api, slot, **fields).json()
    freeze(timezone.now() + timedelta(minutes=15, seconds=1))  # no periodic expiry ran

    assert book(api, slot, **fields).status_code == 201
    assert Appointment.objects.get(reference=first["reference"]).status == "expired"


# Per network ------------------------------------------------------------------------------


@pytest.fixture
def network_of_three(settings):
    settings.HOLDS_PER_NETWORK = 3
    settings.TRUSTED_PROXY_COUNT = 1


def book_from(api, slot, address: str):
    return api.post(
        "/api/v1/bookings/",
        {
            "slot": slot.pk,
            "surname": "Traoré",
            "given_names": "Aminata",
            "birth_date": "1990-05-17",
            "language": "fr",
            **own_contacts(),
        },
        format="json",
        HTTP_X_FORWARDED_FOR=address,
    )


def test_holds_per_ipv4_network(api, network_of_three):
    slot = SlotFactory(capacity=20)
    for host in (1, 2, 3):
        assert book_from(api, slot, f"198.51.100.{host}").status_code == 201
    refused_holds(book_from(api, slot, "198.51.100.200"))
    assert book_from(api, slot, "198.51.101.1").status_code == 201  # the next /24
    assert HoldNetwork.objects.get(network="198.51.100.0/24").held == 3


def test_holds_per_ipv6_network(api, network_of_three):
    slot = SlotFactory(capacity=20)
    for subnet in ("1", "2", "ffff"):
        assert book_from(api, slot, f"2001:db8:7:{subnet}::1").status_code == 201
    refused_holds(book_from(api, slot, "2001:db8:7:beef::9"))
    assert book_from(api, slot, "2001:db8:8::1").status_code == 201


def test_a_confirmed_hold_gives_its_network_place_back(api, network_of_three):
    slot = SlotFactory(capacity=20)
    bodies = [book_from(api, slot, f"203.0.113.{h}").json() for h in (1, 2, 3)]
    refused_holds(book_from(api, slot, "203.0.113.4"))

    first = bodies[0]
    manage(
        api,
        "post",
        first["reference"],
        first["manage_token"],
        "confirm/",
        code=sent_code(first["reference"]),
    )

    assert book_from(api, slot, "203.0.113.4").status_code == 201


def test_lapsed_holds_of_a_network_are_freed_when_its_budget_is_spent(
    api, network_of_three, freeze
):
    slot = SlotFactory(capacity=20)
    for h in (1, 2, 3):
        assert book_from(api, slot, f"192.0.2.{h}").status_code == 201
    freeze(timezone.now() + timedelta(minutes=16))
    assert book_from(api, slot, "192.0.2.9").status_code == 201
    assert HoldNetwork.objects.get(network="192.0.2.0/24").held == 1


@pytest.mark.django_db(transaction=True)
def test_the_network_bound_holds_under_concurrency_and_with_redis_down(settings):
    # Twelve bookings at once through the API from one /24, each with its own identity and
    # contacts, the rate limits on but the cache unreachable (they let everything through
    # then): the database alone keeps the bound.
    settings.HOLDS_PER_NETWORK = 4
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATE_LIMITS = True
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    slot = SlotFactory(capacity=30)
    attempts = [
        lambda host=host: book_from(APIClient(), slot, f"10.9.8.{host}") for host in range(12)
    ]

    results = run_together(attempts)

    assert sorted(r.status_code for r in results) == [201] * 4 + [429] * 8
    assert Appointment.objects.filter(status="pending", hold_network="10.9.8.0/24").count() == 4
    assert HoldNetwork.objects.get(network="10.9.8.0/24").held == 4
    slot.refresh_from_db()
    assert slot.booked == 4


@pytest.mark.django_db(transaction=True)
def test_one_phone_holds_once_under_concurrency():
    slot = SlotFactory(capacity=30)
    attempts = [
        lambda: services.booking_create(slot=slot.pk, applicant=someone(phone="+22370998877"))
        for _ in range(8)
    ]

    results = run_together(attempts)

    assert sum(isinstance(r, tuple) for r in results) == 1
    assert sum(isinstance(r, TooManyHolds) for r in results) == 7
    slot.refresh_from_db()
    assert slot.booked == 1


def test_the_network_counter_follows_every_way_a_hold_ends(freeze):
    slot = SlotFactory(capacity=10)
    network = "100.64.0.0/24"
    holds = [
        services.booking_create(slot=slot, applicant=someone(), network=network) for _ in range(4)
    ]
    assert HoldNetwork.objects.get(network=network).held == 4

    confirmed, token = holds[0]
    services.booking_confirm(appointment=confirmed, code=sent_code(confirmed), token=token)
    services.holds_release(slots=[slot.pk])  # a closure releases the others
    assert HoldNetwork.objects.get(network=network).held == 0

    services.booking_create(slot=slot, applicant=someone(), network=network)
    freeze(timezone.now() + timedelta(minutes=16))
    services.holds_expire()
    assert HoldNetwork.objects.get(network=network).held == 0


def test_without_verification_there_is_no_hold_to_bound(settings):
    settings.HOLDS_PER_NETWORK = 1
    slot = SlotFactory(capacity=5)
    for _ in range(3):
        appointment, _token = services.booking_create(
            slot=slot, applicant=someone(), network="10.0.0.0/24", verify=False
        )
        assert appointment.status == "booked"
    assert not HoldNetwork.objects.exists()


def test_the_form_says_a_hold_waits_and_when_to_come_back(client):
    from appointments.tests.factories import paris_consulate, slot_at

    paris = paris_consulate()
    form = {
        "surname": "Traoré",
        "given_names": "Aminata",
        "birth_date": "1990-05-17",
        "national_id": "NINA88880001",
        "email": "aminata@example.org",
        "phone": "+33612345678",
        "language": "fr",
        "consent": "on",
    }
    first = client.post(f"/bureaux/{paris.code}/creneau/{slot_at(paris, 9).pk}/", form)
    assert first.status_code == 302

    again = client.post(f"/bureaux/{paris.code}/creneau/{slot_at(paris, 10).pk}/", form)

    assert again.status_code == 429
    assert 0 < int(again["Retry-After"]) <= 15 * 60 + 1
    assert "Une place est déjà retenue en attente de son code" in again.content.decode()
    assert Appointment.objects.count() == 1
