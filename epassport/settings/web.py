"""What every page and answer has: languages and time, static files, the portal's public
address, the security defaults and headers, and who the client is behind our proxies."""

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .environment import BASE_DIR, DEBUG, env, networks

# Internationalisation: French first, English second. Times are stored in UTC and shown in
# each office's own timezone.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Africa/Bamako"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# public/ holds the files browsers ask for at the root (/favicon.ico): WhiteNoise serves them
# there, and they are static files too, so that pages link their hashed, immutable copy.
STATICFILES_DIRS = [BASE_DIR / "static", BASE_DIR / "public"]
WHITENOISE_ROOT = BASE_DIR / "public"
# The root's files carry no hash in their names but hardly ever change: a day's cache spares
# a request per visit to browsers that ask for /favicon.ico without reading the page's
# <link rel="icon">. The static files, hashed, keep WhiteNoise's year.
ROOT_FILES_MAX_AGE = 24 * 3600


def _root_files_cached(headers, path: str, url: str) -> None:
    if url.count("/") == 1:
        headers["Cache-Control"] = f"public, max-age={ROOT_FILES_MAX_AGE}"


WHITENOISE_ADD_HEADERS_FUNCTION = _root_files_cached
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}


# Public address of the portal, for the links in emails, SMS, calendar files and PDFs.
PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000").rstrip("/")

# Security defaults and headers.
# With DEBUG off, `manage.py check --deploy` is silent with only SECRET_KEY and ALLOWED_HOSTS
# (and ALLOW_CONSOLE_DELIVERY, or real delivery backends) set.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The load balancer's probe and Prometheus may come over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
# How many proxies of ours stand in front of the portal, each appending the address it saw
# to X-Forwarded-For: 0, REMOTE_ADDR is the client; 1, the last hop; 2 (a CDN, then our
# proxy), the one before it. The hops before those were written by the client itself.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must not be negative.")
# Behind the TLS proxy, with no hop trusted, every client would be the proxy's address: one
# booking budget for the whole country and one lockout for all staff.
if SECURE_PROXY_SSL_HEADER and TRUSTED_PROXY_COUNT == 0:
    raise ImproperlyConfigured(
        "BEHIND_TLS_PROXY=true needs TRUSTED_PROXY_COUNT (1 behind one reverse proxy): "
        "without it every client would share the proxy's address, its rate limits and "
        "its login lockout."
    )
# The addresses our proxies connect from (CIDR list): X-Forwarded-For is read only on a
# connection from one of them, so that where gunicorn can be reached without the proxy, a
# client cannot choose its own address.
TRUSTED_PROXIES = networks("TRUSTED_PROXIES", default=["127.0.0.1/32", "::1/128"])

# Content-Security-Policy (django-csp): our own files only, no inline script, style or event
# handler anywhere (tests/test_headers.py reads the templates; the browser tests fail on any
# violation in the console). data: images for the icons in Swagger UI's stylesheet.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Permissions-Policy (django-permissions-policy): no page of the portal uses these.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}
