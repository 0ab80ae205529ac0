"""Booking without JavaScript: the form's pacing token (appointments/pacing.py) stands for
the browser's proof of work. A person books with it; a bot gains nothing over a person:
tokens are bounded per address and per network, used once, accepted only after the time a
person takes to fill the form, only from the network they were given to, and cannot be
forged. The bounds on holds apply to both paths alike."""

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from appointments import pacing, protection
from appointments.models import Appointment
from appointments.tests.booking_form import FORM, day_url, pace_of, person
from appointments.tests.challenges import solve
from appointments.tests.factories import paris_consulate, slot_at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("challenge_on")]

ANOTHER_NETWORK = "203.0.113.9"


@pytest.fixture
def slot(settings):
    settings.RATE_LIMITS = False
    settings.BOOKING_PACE_SECONDS = 10
    return slot_at(paris_consulate(), 9, capacity=10)


def later(freeze, seconds: float) -> None:
    freeze(timezone.now() + timedelta(seconds=seconds), tick=True)


def post(client, slot, pace: str, *, data: dict = FORM, **extra):
    return client.post(day_url(slot), {**data, "slot": slot.pk, "pace": pace}, **extra)


def test_a_person_without_javascript_books_with_the_token_of_the_page(client, slot, freeze):
    page = client.get(day_url(slot))
    token = pace_of(page)
    assert token
    assert "demande JavaScript" not in page.content.decode()
    later(freeze, 12)  # filling the form in
    response = post(client, slot, token)
    assert response.status_code == 302
    assert Appointment.objects.get().slot_id == slot.pk


def test_too_early_the_form_comes_back_with_its_values_and_its_token(client, slot, freeze):
    token = pace_of(client.get(day_url(slot)))
    later(freeze, 3)  # faster than a person
    early = post(client, slot, token)
    html = early.content.decode()
    assert early.status_code == 400
    assert "Le formulaire a été envoyé très vite" in html
    for kept in ('value="  Traoré "', 'value="17"', "checked"):
        assert kept in html
    assert pace_of(early) == token  # the wait already done counts
    assert not Appointment.objects.exists()
    later(freeze, 8)
    assert post(client, slot, pace_of(early)).status_code == 302


def test_a_token_books_once(client, slot, freeze):
    token = pace_of(client.get(day_url(slot)))
    later(freeze, 11)
    assert post(client, slot, token).status_code == 302
    replay = post(client, slot, token, data=person(1))
    assert replay.status_code == 400
    assert "La vérification anti-robots a échoué ou a expiré" in replay.content.decode()
    assert pace_of(replay) not in ("", token)  # a new one, to wait for again
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # tampered
        lambda token: signing.Signer(key="not-ours", salt=pacing.PACE_SALT).sign(
            token.rsplit(":", 1)[0]
        ),
        lambda token: pacing.pace_token(network="127.0.0.0/24", now=0),  # issued long ago
        lambda token: "",
        lambda token: "x" * 5000,
    ],
    ids=["tampered", "other-key", "lapsed", "none", "huge"],
)
def test_a_forged_or_lapsed_token_books_nothing(client, slot, freeze, forge):
    token = pace_of(client.get(day_url(slot)))
    later(freeze, 11)
    response = post(client, slot, forge(token))
    assert response.status_code == 400
    assert "vérification anti-robots" in response.content.decode()
    assert 'id="form-errors"' in response.content.decode()  # shown beside the button
    assert not Appointment.objects.exists()


def test_a_token_is_good_for_an_hour_only(client, slot, freeze):
    token = pace_of(client.get(day_url(slot)))
    later(freeze, 61 * 60)
    assert post(client, slot, token).status_code == 400
    assert not Appointment.objects.exists()


def test_a_token_is_good_only_from_the_network_it_was_given_to(client, slot, freeze):
    token = pace_of(client.get(day_url(slot), REMOTE_ADDR="198.51.100.7"))
    later(freeze, 11)
    assert post(client, slot, token, REMOTE_ADDR=ANOTHER_NETWORK).status_code == 400
    assert not Appointment.objects.exists()
    # Another address of the same /24 (a phone whose address changed) may use it.
    assert post(client, slot, token, REMOTE_ADDR="198.51.100.200").status_code == 302


def test_tokens_are_bounded_per_address_and_per_network(client, slot, settings):
    settings.RATE_LIMITS = True
    settings.BOOKING_PACE_RATE = "3/h"
    settings.BOOKING_PACE_NETWORK_RATE = "5/h"
    url = day_url(slot)

    def token_for(address: str) -> str:
        return pace_of(client.get(url, REMOTE_ADDR=address))

    # A bot fetching forms from one address, then from its neighbours.
    assert [bool(token_for("198.51.100.1")) for _ in range(4)] == [True, True, True, False]
    assert [bool(token_for("198.51.100.2")) for _ in range(3)] == [True, True, False]
    assert token_for("198.51.100.3") == ""  # the network's tokens are spent
    assert token_for(ANOTHER_NETWORK)  # another network has its own


def test_without_a_token_the_form_says_so_beside_the_button(client, slot, settings):
    settings.RATE_LIMITS = True
    settings.BOOKING_PACE_RATE = "1/h"
    client.get(day_url(slot))
    page = client.get(day_url(slot))
    assert pace_of(page) == ""
    response = post(client, slot, "")
    html = response.content.decode()
    assert response.status_code == 400
    summary = html[html.index('id="form-errors"') : html.index('type="submit"')]
    assert "La vérification anti-robots n’a pas pu être faite" in summary
    assert not Appointment.objects.exists()


@pytest.mark.usefixtures("verify_on")
def test_the_bounds_of_holds_are_the_same_with_the_proof_of_work_or_the_token(
    client, slot, settings, freeze
):
    settings.HOLDS_PER_NETWORK = 2
    token = pace_of(client.get(day_url(slot)))
    solved = [solve(protection.challenge_create()) for _ in range(2)]
    later(freeze, 11)
    # Two holds from one network: one by the proof of work, one by the pacing token.
    by_work = {**person(1), "slot": slot.pk, "altcha": solved[0]}
    assert client.post(day_url(slot), by_work).status_code == 302
    assert post(client, slot, token, data=person(2)).status_code == 302
    # A third is refused whichever path it takes, with when to come back.
    again = pace_of(client.get(day_url(slot)))
    later(freeze, 11)
    for refused in (
        post(client, slot, again, data=person(3)),
        client.post(day_url(slot), {**person(4), "slot": slot.pk, "altcha": solved[1]}),
    ):
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) > 0
    assert Appointment.objects.filter(status="pending").count() == 2


def test_a_failed_proof_of_work_falls_back_on_the_token(client, slot, freeze):
    token = pace_of(client.get(day_url(slot)))
    later(freeze, 11)
    lapsed = solve(protection.challenge_create())
    later(freeze, 3 * 60)  # the proof of work has lapsed; the token holds
    data = {**FORM, "slot": slot.pk, "altcha": lapsed, "pace": token}
    assert client.post(day_url(slot), data).status_code == 302
