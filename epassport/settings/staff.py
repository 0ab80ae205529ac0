"""Staff logins: the login rate and lockout (django-axes; the apps and middleware are in
apps.py), the second factor (django-otp) and its enrolment codes, the admin's path, staff
session lifetimes and the staff API's tokens."""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from .environment import env, networks

# Staff logins ---------------------------------------------------------------------
# Lockout (django-axes), two-factor authentication (django-otp, TOTP) for supervisors and
# administrators, the admin's path, staff session lifetimes and API token lifetime.
# A failure counts against the pair (username, address) and against the address (the /64
# of an IPv6 address, taken as the rate limits take it), never against a username alone
# (anyone could lock staff out); addresses in STAFF_NETWORKS (the ministry's and offices'
# networks, CIDR list) are never locked as a whole (core/lockout.py).
STAFF_NETWORKS = networks("STAFF_NETWORKS", default=[])
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = "core.lockout.lockout_parameters"
AXES_VERBOSE = False  # no banner on every start (check --deploy stays silent)
AXES_CLIENT_IP_CALLABLE = "core.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "core.lockout.lockout_response"
# Tries during a lockout neither count nor extend it: the lockout ends when announced.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Never written into the attempts table in clear.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code", "otp", "csrfmiddlewaretoken"]
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME.total_seconds() <= 0:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_MINUTES must be positive.")

OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Passeport Premium")
# How long the one-time code an administrator gives for enrolling an authenticator app is
# valid (core/services.py).
ENROLMENT_CODE_HOURS = env.int("ENROLMENT_CODE_HOURS", default=24)
if ENROLMENT_CODE_HOURS < 1:
    raise ImproperlyConfigured("ENROLMENT_CODE_HOURS must be at least 1.")

# The Django admin, at a path of its own choosing (`admin/` by default, under the language
# prefix like every page for people).
ADMIN_URL = env.str("ADMIN_URL", default="admin/")
if not ADMIN_URL.endswith("/") or ADMIN_URL.startswith("/") or "//" in ADMIN_URL:
    raise ImproperlyConfigured("ADMIN_URL must be a relative path ending with /, e.g. admin/.")

# A staff session ends after STAFF_SESSION_IDLE_MINUTES without a request and, whatever the
# activity, STAFF_SESSION_MAX_HOURS after the login (core/staff_sessions.py).
STAFF_SESSION_IDLE_MINUTES = env.int("STAFF_SESSION_IDLE_MINUTES", default=30)
STAFF_SESSION_MAX_HOURS = env.int("STAFF_SESSION_MAX_HOURS", default=12)
if STAFF_SESSION_IDLE_MINUTES < 1 or STAFF_SESSION_MAX_HOURS < 1:
    raise ImproperlyConfigured("STAFF_SESSION_* lifetimes must be positive.")
SESSION_COOKIE_AGE = STAFF_SESSION_MAX_HOURS * 3600

# Tokens of the staff API expire this many hours after they are issued, and a new password
# revokes them (core/tokens.py).
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=12)
if API_TOKEN_TTL_HOURS < 1:
    raise ImproperlyConfigured("API_TOKEN_TTL_HOURS must be positive.")
