"""Bot protection: the proof-of-work challenge (accepted once, refused when wrong, expired or
malformed) and the per-address rate limits, against the real Redis."""

import base64
import logging
import time
from datetime import timedelta

import pytest
from altcha import v1 as altcha
from django.test import RequestFactory
from django.utils import timezone

from appointments import protection
from appointments.protection import ChallengeFailed
from appointments.tests.challenges import encoded, solution_number, solve
from core import clients

# Challenge -------------------------------------------------------------------------------


def test_a_challenge_has_the_fields_of_the_altcha_protocol_and_expires_in_two_minutes(
    challenge_on,
):
    challenge = protection.challenge_create()
    assert set(challenge) == {"algorithm", "challenge", "maxnumber", "salt", "signature"}
    assert challenge["algorithm"] == "SHA-256"
    assert challenge["maxnumber"] == 2_000
    expires = altcha.extract_params(challenge)["expires"][0]
    assert 100 < int(expires) - time.time() <= 2 * 60
    assert protection.challenge_create()["salt"] != challenge["salt"]


@pytest.mark.django_db
def test_a_solved_challenge_is_accepted_once_and_refused_on_replay(challenge_on):
    payload = solve(protection.challenge_create())
    protection.challenge_verify(payload)  # accepted
    with pytest.raises(ChallengeFailed) as caught:
        protection.challenge_verify(payload)
    assert caught.value.code == "challenge_failed"
    assert caught.value.status == 400


@pytest.mark.django_db
def test_two_challenges_each_accepted_once(challenge_on):
    first, second = solve(protection.challenge_create()), solve(protection.challenge_create())
    protection.challenge_verify(first)
    protection.challenge_verify(second)
    with pytest.raises(ChallengeFailed):
        protection.challenge_verify(second)


@pytest.mark.django_db
def test_a_wrong_number_is_refused(challenge_on):
    challenge = protection.challenge_create()
    right = solution_number(challenge)
    with pytest.raises(ChallengeFailed):
        protection.challenge_verify(solve(challenge, number=right + 1))
    # A refused attempt does not burn the challenge: the right answer still passes once.
    protection.challenge_verify(solve(challenge, number=right))


def test_a_challenge_signed_with_another_key_is_refused(challenge_on):
    forged = altcha.create_challenge(
        hmac_key="not-our-key",
        max_number=100,
        expires=timezone.now() + timedelta(minutes=5),
    ).to_dict()
    forged["maxnumber"] = forged.pop("maxNumber")
    with pytest.raises(ChallengeFailed):
        protection.challenge_verify(solve(forged))


def test_a_tampered_expiry_is_refused(challenge_on):
    challenge = protection.challenge_create()
    nonce = challenge["salt"].split("?")[0]
    later = int(time.time()) + 86_400
    with pytest.raises(ChallengeFailed):
        protection.challenge_verify(solve(challenge, salt=f"{nonce}?expires={later}&"))


def test_an_expired_challenge_is_refused(challenge_on, freeze):
    challenge = protection.challenge_create()
    payload = solve(challenge)
    freeze(timezone.now() + timedelta(minutes=2, seconds=1))
    with pytest.raises(ChallengeFailed):
        protection.challenge_verify(payload)


def test_a_challenge_without_expiry_is_refused_even_if_signed_with_our_key(challenge_on):
    unexpiring = altcha.create_challenge(hmac_key=protection._hmac_key(), max_number=100)
    challenge = unexpiring.to_dict()
    challenge["maxnumber"] = challenge.pop("maxNumber")
    with pytest.raises(ChallengeFailed):
        protection.challenge_verify(solve(challenge))


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "",
        "   ",
        "not base64 at all!",
        base64.b64encode(b"\xff\xfe not utf-8").decode(),
        base64.b64encode(b"{not json").decode(),
        encoded([1, 2, 3]),
        encoded(42),
        encoded(None),
        encoded({}),
        encoded({"algorithm": "SHA-256"}),
        encoded(
            {"algorithm": "MD5", "challenge": "a", "number": 1, "salt": "s", "signature": "x"}
        ),
        encoded(
            {"algorithm": "SHA-256", "challenge": "a", "number": 1, "salt": 7, "signature": "x"}
        ),
        encoded(
            {
                "algorithm": "SHA-256",
                "challenge": "a",
                "number": "1",
                "salt": "s",
                "signature": "x",
            }
        ),
        encoded(
            {
                "algorithm": "SHA-256",
                "challenge": "a",
                "number": True,
                "salt": "s",
                "signature": "x",
            }
        ),
        encoded(
            {
                "algorithm": "SHA-256",
                "challenge": "a",
                "number": 1,
                "salt": "s?expires=soon&",
                "signature": "x",
            }
        ),
        "A" * 100_000,
        12345,
        {"number": 1},
    ],
)
def test_malformed_payloads_are_refused_never_crash(challenge_on, payload):
    with pytest.raises(ChallengeFailed):
        protection.challenge_verify(payload)


@pytest.mark.django_db
def test_verification_is_a_no_op_when_the_challenge_is_off(challenge_on, settings):
    payload = solve(protection.challenge_create())
    settings.BOOKING_CHALLENGE = False
    # Nothing is refused, a valid solution included...
    for anything in (None, "garbage", encoded({"algorithm": "SHA-256"}), payload):
        assert protection.challenge_verify(anything) is None
    # ...and nothing is remembered: the solution passed while the check was off is not used
    # up, and is accepted once when it is back on.
    settings.BOOKING_CHALLENGE = True
    protection.challenge_verify(payload)
    with pytest.raises(ChallengeFailed):
        protection.challenge_verify(payload)


@pytest.mark.django_db
def test_replay_is_refused_with_redis_down(challenge_on, settings):
    # The used challenges are rows in PostgreSQL: with the cache unreachable a replay is
    # still refused (it used to be let through for a while after a Redis error).
    payload = solve(protection.challenge_create())
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    protection.challenge_verify(payload)
    with pytest.raises(ChallengeFailed):
        protection.challenge_verify(payload)
    with pytest.raises(ChallengeFailed):  # the proof of work itself is still checked
        protection.challenge_verify(encoded({"algorithm": "SHA-256"}))


@pytest.mark.django_db
def test_used_challenges_are_forgotten_once_expired(challenge_on, freeze):
    from appointments.models import UsedChallenge

    protection.challenge_verify(solve(protection.challenge_create()))
    assert protection.challenges_purge() == 0  # not expired yet: kept, so refused on replay
    freeze(timezone.now() + timedelta(minutes=3))
    assert protection.challenges_purge() == 1
    assert not UsedChallenge.objects.exists()


# Client address --------------------------------------------------------------------------


def request_from(remote_addr: str, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/api/v1/bookings/", **headers)


def test_client_ip_is_remote_addr_and_ignores_forwarded_for_without_our_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert clients.client_ip("g", request_from("198.51.100.7")) == "198.51.100.7"
    assert clients.client_ip("g", request_from("198.51.100.7", "203.0.113.9")) == ("198.51.100.7")


def test_behind_our_proxy_the_hop_it_wrote_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    assert clients.client_ip("g", request_from("10.0.0.2", "203.0.113.9")) == "203.0.113.9"
    # A client sending its own X-Forwarded-For cannot choose its key: the proxy appends.
    spoofed = request_from("10.0.0.2", "1.2.3.4, 203.0.113.9")
    assert clients.client_ip("g", spoofed) == "203.0.113.9"
    # Garbage or an empty header: the connection's address.
    assert clients.client_ip("g", request_from("10.0.0.2", "not-an-ip")) == "10.0.0.2"
    assert clients.client_ip("g", request_from("10.0.0.2", "")) == "10.0.0.2"


def test_ipv6_addresses_share_the_budget_of_their_64(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    one = clients.client_ip("g", request_from("2001:db8:1:2::1"))
    other = clients.client_ip("g", request_from("2001:db8:1:2:ffff::9"))
    elsewhere = clients.client_ip("g", request_from("2001:db8:1:3::1"))
    assert one == other == "2001:db8:1:2::"
    assert elsewhere != one


# Rate limits -----------------------------------------------------------------------------


@pytest.fixture
def limits_on(settings, freeze):
    settings.RATE_LIMITS = True
    settings.RATELIMIT_ENABLE = True
    settings.TRUSTED_PROXY_COUNT = 0
    freeze(timezone.now())  # one rate limit window for the whole test


def test_rate_limit_counts_per_address_and_per_group(limits_on):
    first, second = request_from("198.51.100.7"), request_from("198.51.100.8")
    results = [clients.rate_limited(first, group="booking", rate="3/m") for _ in range(4)]
    assert results == [False, False, False, True]
    assert clients.rate_limited(second, group="booking", rate="3/m") is False
    assert clients.rate_limited(first, group="availability", rate="3/m") is False


def test_rate_limits_off(settings, limits_on):
    settings.RATE_LIMITS = False
    request = request_from("198.51.100.7")
    assert not any(clients.rate_limited(request, group="booking", rate="1/m") for _ in range(5))


def test_rate_limits_let_requests_through_when_redis_is_down(limits_on, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with caplog.at_level(logging.WARNING, logger="core.clients"):
        limited = clients.rate_limited(request_from("198.51.100.7"), group="b", rate="1/m")
    assert limited is False
    assert "cache unreachable" in caplog.text


def test_an_ipv4_mapped_ipv6_address_is_its_ipv4_address(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert clients.client_ip("g", request_from("::ffff:198.51.100.7")) == "198.51.100.7"
