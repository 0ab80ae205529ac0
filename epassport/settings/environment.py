"""Read first: the environment (django-environ) and what every other part needs from it:
where the project is, DEBUG, the secret key and the hosts.

Every value that differs between machines comes from the environment, documented in the
README's configuration table. Bad values are refused at start-up rather than discovered by
an applicant."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()


def networks(name: str, *, default: list[str]) -> list[str]:
    """A list of IP addresses or networks (CIDR) from the environment, refused at start when
    an entry is neither."""
    import ipaddress

    entries = env.list(name, default=default)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as error:
            raise ImproperlyConfigured(
                f"{name}: {entry!r} is not an IP address or network."
            ) from error
    return entries


DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105 # nosec B105 # DEBUG only

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
