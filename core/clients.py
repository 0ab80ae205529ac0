"""Who the client is and how much it may ask: its address as every per-address rule takes
it (through our own proxies only), its network, and its budgets of requests, counted in
Redis by django-ratelimit's core. Shared by the applicant pages and API (booking, the
waiting room, tracking), the staff login's lockout and the metrics' address check."""

import functools
import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

from .errors import DomainError

logger = logging.getLogger(__name__)


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_detail = _("Trop de demandes depuis votre connexion. Réessayez dans une minute.")


def _network_key(address: str) -> str | None:
    """The address as a rate limit key: an IPv4 address, or the /64 of an IPv6 address (one
    subscriber usually holds a whole /64). None when it is not an address."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:198.51.100.7 is 198.51.100.7
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def client_address(request: HttpRequest) -> str:
    """The client's address, as every per-address rule takes it (the rate limits, the holds'
    and the waiting room's bounds, the login lockout, the metrics check): "" when unknown.

    TRUSTED_PROXY_COUNT says how many proxies of ours stand in front of the portal, each
    appending the address it received the request from to X-Forwarded-For:

    - 0: nobody; REMOTE_ADDR is the client and X-Forwarded-For is the client's own words;
    - 1: our reverse proxy; the client is the last hop (the one it wrote);
    - 2: a CDN, then our proxy; the client is the second to last (the CDN's), and so on.

    The header is read only when the connection comes from one of TRUSTED_PROXIES (CIDR
    list): where gunicorn can be reached without the proxy, a client sending the header
    itself is the client. Hops further left were sent by the client, who could change them
    at will to escape a limit: they are never read. A header shorter than the proxies we
    expect, or whose hop is not an address, means the request did not come through them:
    the connection's address is taken then."""
    remote = (request.META.get("REMOTE_ADDR") or "").strip()
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted > 0 and _from_trusted_proxy(remote):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= trusted and _is_address(hops[-trusted]):
            return hops[-trusted]
    return remote


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _from_trusted_proxy(remote: str) -> bool:
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in trusted_proxies())


def trusted_proxies() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return _parsed_networks(tuple(settings.TRUSTED_PROXIES))


@functools.lru_cache(maxsize=8)
def _parsed_networks(entries: tuple[str, ...]):
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def client_ip(group: str, request: HttpRequest) -> str:
    """The key of the client's budgets (a django-ratelimit key function: `(group,
    request)`): its address (client_address), the /64 of an IPv6 one."""
    address = client_address(request)
    return _network_key(address) or address or "unknown"


def hold_network(request: HttpRequest) -> str:
    """The network the request comes from, as the bounds on holds and waiting-room tickets
    count it: the /24 of an IPv4 address, the /48 of an IPv6 one (what one subscriber, or
    one small hosting customer, can easily spread over); "" when the address is unknown."""
    return _network_of(client_ip("", request))


@functools.lru_cache(maxsize=4096)
def _network_of(key: str) -> str:
    # Kept per process: in a rush the same addresses come back many times a minute, and
    # each parse builds two address objects (bounded: a bot's many addresses only push the
    # oldest out).
    try:
        ip = ipaddress.ip_address(key)
    except ValueError:
        return ""
    prefix = 24 if isinstance(ip, ipaddress.IPv4Address) else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _hold_network_key(group: str, request: HttpRequest) -> str:
    return hold_network(request) or "unknown"


def rate_limited(
    request: HttpRequest, *, group: str, rate: str, per_network: bool = False
) -> bool:
    """Count this request against the address's budget for `group` (with `per_network`,
    the budget of its network as hold_network takes it); True when over it.

    Always False when RATE_LIMITS is off. When Redis cannot be reached the request passes
    (and a warning is logged): closing booking to everybody would be worse."""
    if not settings.RATE_LIMITS:
        return False
    key = _hold_network_key if per_network else client_ip
    try:
        return is_ratelimited(request, group=group, key=key, rate=rate, increment=True)
    except (RedisError, OSError):
        logger.warning("rate limit %s skipped: cache unreachable", group, exc_info=True)
        return False
