"""Headers for answers that carry a secret or identity data, and the Content-Security-Policy
of every answer.

The manage pages, their calendar file and their PDF convocation are reached by a link that
holds the booking's token, and show the applicant's identity: no cache (a shared computer's
browser, a proxy) may keep them, and no link followed from them may carry their address (the
token) in its Referer."""

from collections.abc import Callable
from functools import wraps

import csp.constants
import csp.middleware
from csp.middleware import CheckableLazyObject
from csp.utils import build_policy
from django.conf import settings
from django.core.handlers.exception import response_for_exception
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse

NO_REFERRER = "no-referrer"
# For the pages holding a POST form (cancel, move): under `no-referrer` the browser sends
# `Origin: null` with the form, which Django's CSRF protection rightly refuses. `same-origin`
# still sends the address to no other site.
SAME_ORIGIN = "same-origin"


def private_answer(
    view: Callable[..., HttpResponse], *, referrer_policy: str = NO_REFERRER
) -> Callable[..., HttpResponse]:
    """`Cache-Control: no-store` and `Referrer-Policy: no-referrer` (or `referrer_policy`) on
    every answer of `view`, redirects and "not found" included (a wrong or old token is still
    in the address). SecurityMiddleware keeps a Referrer-Policy that is already set."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404 as exc:
            response = response_for_exception(request, exc)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = referrer_policy
        return response

    return wrapper


class ContentSecurityPolicyMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with the settings' policy built once.

    django-csp builds its two headers (the policy and its report-only twin) anew for every
    answer: a tenth of the CPU of a `slot_full` refusal, what a reopening rush is mostly
    answered (bench/booking_rush.py). An answer that changes nothing of the policy (its page
    asked for no nonce, its view has no csp decorator) gets the settings' policy, which only
    changes with the settings: built once here (again after a setting changes, in tests), and
    set exactly as django-csp sets it. Any other answer is left to django-csp."""

    _built: dict[str, str] | None = None
    _CHANGES = ("_csp_exempt", "_csp_config", "_csp_update", "_csp_replace")

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) or hasattr(response, f"{name}_ro") for name in self._CHANGES
        ):
            return super().process_response(request, response)
        built = ContentSecurityPolicyMiddleware._built
        if built is None:
            built = ContentSecurityPolicyMiddleware._built = _settings_policy()
        if built.get("excluded"):  # prefixes to leave alone: django-csp checks them
            return super().process_response(request, response)
        for header in (csp.constants.HEADER, csp.constants.HEADER_REPORT_ONLY):
            if built.get(header) and header not in response:
                response[header] = built[header]
        # As django-csp does: a nonce asked for after the header was written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


def _settings_policy() -> dict:
    excluded = any(
        (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES")
        for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
    )
    return {
        "excluded": excluded,
        csp.constants.HEADER: build_policy(),
        csp.constants.HEADER_REPORT_ONLY: build_policy(report_only=True),
    }


@receiver(setting_changed)
def _forget_policy(**_kwargs) -> None:
    ContentSecurityPolicyMiddleware._built = None
