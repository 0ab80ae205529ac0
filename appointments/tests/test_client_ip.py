"""The client's address behind TRUSTED_PROXY_COUNT proxies of ours: the key of
every per-address limit, which a client must not be able to choose."""

import pytest
from django.test import RequestFactory
from django.utils import timezone

from core import clients

CLIENT = "203.0.113.9"
CDN = "198.51.100.20"  # the CDN's edge, as our proxy sees it
PROXY = "10.0.0.2"  # our reverse proxy, as the portal sees it


@pytest.fixture(autouse=True)
def _our_proxy_is_trusted(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]


def request_from(remote_addr: str, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/api/v1/bookings/", **headers)


def test_no_proxy_the_connection_is_the_client_whatever_the_header_says(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert clients.client_ip("g", request_from(CLIENT)) == CLIENT
    assert clients.client_ip("g", request_from(CLIENT, "1.2.3.4")) == CLIENT


def test_the_tls_proxy_setting_alone_does_not_trust_the_header(settings):
    """BEHIND_TLS_PROXY trusts X-Forwarded-Proto; which hop is the client is another
    setting, with its own default."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXY_COUNT = 0
    assert clients.client_ip("g", request_from(PROXY, "1.2.3.4")) == PROXY


def test_one_proxy_the_last_hop_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert clients.client_ip("g", request_from(PROXY, CLIENT)) == CLIENT


def test_one_proxy_a_spoofed_header_does_not_choose_the_key(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client sent "X-Forwarded-For: 1.2.3.4, 5.6.7.8"; our proxy appended what it saw.
    spoofed = request_from(PROXY, f"1.2.3.4, 5.6.7.8, {CLIENT}")
    assert clients.client_ip("g", spoofed) == CLIENT


def test_a_cdn_and_a_proxy_the_second_to_last_hop_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert clients.client_ip("g", request_from(PROXY, f"{CLIENT}, {CDN}")) == CLIENT
    spoofed = request_from(PROXY, f"1.2.3.4, {CLIENT}, {CDN}")
    assert clients.client_ip("g", spoofed) == CLIENT


def test_a_direct_connection_cannot_choose_its_address(settings):
    """Where gunicorn can be reached without the proxy, the header is the client's word."""
    settings.TRUSTED_PROXY_COUNT = 1
    assert clients.client_ip("g", request_from(CLIENT, "1.2.3.4")) == CLIENT
    settings.TRUSTED_PROXIES = []
    assert clients.client_ip("g", request_from(PROXY, CLIENT)) == PROXY


def test_a_header_shorter_than_the_proxies_or_not_an_address_is_not_read(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    # One hop where two proxies should have written: it did not come through them.
    assert clients.client_ip("g", request_from(PROXY, CLIENT)) == PROXY
    assert clients.client_ip("g", request_from(PROXY, "")) == PROXY
    assert clients.client_ip("g", request_from(PROXY, f"not-an-ip, {CDN}")) == PROXY


@pytest.mark.django_db
def test_spoofed_headers_share_one_budget_behind_a_cdn(settings, freeze):
    settings.RATE_LIMITS = True
    settings.TRUSTED_PROXY_COUNT = 2
    freeze(timezone.now())  # one rate limit window
    answers = [
        clients.rate_limited(
            request_from(PROXY, f"192.0.2.{n}, {CLIENT}, {CDN}"), group="booking", rate="3/m"
        )
        for n in range(4)
    ]
    assert answers == [False, False, False, True]
    # Another client behind the same CDN edge has a budget of its own.
    other = request_from(PROXY, f"203.0.113.10, {CDN}")
    assert clients.rate_limited(other, group="booking", rate="3/m") is False
