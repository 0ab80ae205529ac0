"""The middleware that the public applicant API does without, each passing its requests
straight on.

The API that applicants and their apps use (offices and free slots, the anti-bot challenge,
the waiting room, bookings: PUBLIC_API) has no account (its views are DRF's and
authenticate nobody), hence no second factor and no staff session rule, no flash message
and no static file: the middleware for those has nothing to do there but costs its time.
At a reopening that API answers thousands of requests a second, most of them `slot_full`
refusals, and that middleware was a seventh of a refusal's CPU in the portal's process.
Each class below is the library's own, unchanged for every other path; MIDDLEWARE names
them in the library's place, and the test client goes through them as gunicorn does.

What stays on every path: the security and policy headers, the language, the host check,
the metrics; and the session, CSRF and lockout middleware, which the deploy checks of
Django and django-axes look for by name (they cost little where nothing reads a session).
"""

from django.contrib.auth.middleware import AuthenticationMiddleware as _Authentication
from django.contrib.messages.middleware import MessageMiddleware as _Message
from django_otp.middleware import OTPMiddleware as _OTP
from whitenoise.middleware import WhiteNoiseMiddleware as _WhiteNoise

from .staff_sessions import StaffSessionMiddleware as _StaffSession

# The public applicant API: every path under these prefixes is public (no account).
PUBLIC_API = (
    "/api/v1/offices/",
    "/api/v1/bookings/",
    "/api/v1/challenge/",
    "/api/v1/waiting-room/",
)


def _passing_the_public_api(middleware: type) -> type:
    """`middleware`, passing requests to the public API straight on."""

    def __call__(self, request):
        if request.path_info.startswith(PUBLIC_API):
            return self.get_response(request)
        return middleware.__call__(self, request)

    return type(
        middleware.__name__,
        (middleware,),
        {"__call__": __call__, "__module__": __name__, "__doc__": middleware.__doc__},
    )


WhiteNoiseMiddleware = _passing_the_public_api(_WhiteNoise)
AuthenticationMiddleware = _passing_the_public_api(_Authentication)
OTPMiddleware = _passing_the_public_api(_OTP)
MessageMiddleware = _passing_the_public_api(_Message)
StaffSessionMiddleware = _passing_the_public_api(_StaffSession)
