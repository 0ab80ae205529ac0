"""Headers for answers that carry a secret or identity data.

The manage pages, their calendar file and their PDF convocation are reached by a link that
holds the booking's token, and show the applicant's identity: no cache (a shared computer's
browser, a proxy) may keep them, and no link followed from them may carry their address (the
token) in its Referer."""

from collections.abc import Callable
from functools import wraps

from django.core.handlers.exception import response_for_exception
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
