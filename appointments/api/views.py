"""Views of the booking API: one per operation, thin. Each checks the address's rate limit
(and, to book, the anti-bot challenge), validates with an input serializer, calls a selector
or a service and shapes the answer with an output serializer. Errors are raised, and turned
into `{"code": ..., "detail": ...}` by core.api.exception_handler.

Public endpoints: no session, no CSRF, no account. Here: the base of every view of the
API, what their schema shares, the offices and their free slots, the anti-bot challenge;
the bookings are in bookings.py, the waiting room in waiting_room.py.
"""

from datetime import date
from time import monotonic

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import clients
from core.errors import NotFound
from core.models import Office
from core.parsers import JSONParser

from .. import protection, selectors, waiting_room
from .serializers import (
    ChallengeSerializer,
    ConflictErrorSerializer,
    ErrorSerializer,
    InvalidErrorSerializer,
    OfficeSerializer,
    SlotRangeSerializer,
    SlotSerializer,
    slots_body,
)

TOKEN_HEADER = "X-Booking-Token"  # noqa: S105 # nosec B105 # a header name, not a secret

RATE_LIMITED = OpenApiResponse(ErrorSerializer, description="`rate_limited`: too many requests.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="`not_found`.")
BOOKING_NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description="`not_found`: unknown reference, or missing or wrong X-Booking-Token.",
)
INVALID = OpenApiResponse(
    InvalidErrorSerializer, description="`invalid`: messages by field in `fields`."
)
CONFLICT = OpenApiResponse(
    ConflictErrorSerializer,
    description="`slot_full` (with `next_free`), `booking_closed` (with `reopens_at`), "
    "`slot_past`, `not_changeable` or `too_many_moves` (moved MAX_MOVES times already).",
)
HOLD_REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="`rate_limited` (too many requests from this address), `too_many_holds` (a "
    "hold already waits for its code for this identity number, phone number or mailbox, or "
    "HOLDS_PER_NETWORK holds from this network; `Retry-After` says when one ends) or "
    "`too_many_code_failures` (the identity number's booking cannot be replaced today).",
)
TOKEN = OpenApiParameter(
    TOKEN_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The manage token returned when the booking was made.",
)
# Around a reopening (appointments/waiting_room/).
ADMISSION = OpenApiParameter(
    waiting_room.ADMISSION_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="For WAITING_ROOM_MINUTES before and after a reopening at the slot's office: "
    "the `admission` of a place in its waiting room (/api/v1/waiting-room/{code}/).",
)
ADMISSION_REQUIRED = OpenApiResponse(
    ErrorSerializer,
    description="`admission_required`: the office reopens, and X-Admission is missing, "
    "invalid, of another office or expired; `admission_used`: that admission already "
    "holds a seat (a hold waiting for its code, or a booking).",
)
REFERENCE = OpenApiParameter(
    "reference",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Booking reference, e.g. `ACDE-FGHJ`.",
)


class PublicAPIView(APIView):
    """No authentication (hence no CSRF check), JSON in and out, a per-address rate limit
    in `rate_group` at the rate named by the setting `rate_setting`."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]
    rate_group: str | None = protection.AVAILABILITY_GROUP
    rate_setting = "AVAILABILITY_RATE"

    def initial(self, request: Request, *args, **kwargs) -> None:
        # The language of names and messages: LocaleMiddleware gives every path outside
        # i18n_patterns the default language (French), so the API reads the request's own
        # choice: the language cookie, then Accept-Language.
        language = translation.get_language_from_request(request, check_path=False)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        super().initial(request, *args, **kwargs)
        if self.rate_group is None:
            return  # the view counts its requests itself
        rate = getattr(settings, self.rate_setting)
        if clients.rate_limited(request, group=self.rate_group, rate=rate):
            raise clients.RateLimited()


class BookingWriteView(PublicAPIView):
    """Booking, cancelling, rescheduling: counted in the booking rate limit (which the HTML
    booking pages share), not in the availability one."""

    rate_group = protection.BOOKING_GROUP
    rate_setting = "BOOKING_RATE"


def _private(response: Response) -> Response:
    """Answers that carry a booking (and its token) are kept by no cache."""
    patch_cache_control(response, no_store=True, private=True)
    return response


class OfficeListView(PublicAPIView):
    """Active offices, each with `booking_open`; one query whatever their number."""

    @extend_schema(
        operation_id="offices_list",
        summary="Offices and whether Premium booking is open at each",
        responses={200: OfficeSerializer(many=True), 429: RATE_LIMITED},
        tags=["offices"],
    )
    def get(self, request: Request) -> Response:
        offices = selectors.offices_with_free_slots()
        return Response(OfficeSerializer(offices, many=True).data)


class OfficeSlotsView(PublicAPIView):
    """Free slots of an office between two of its local dates (both included)."""

    @extend_schema(
        operation_id="offices_slots_list",
        summary="Free slots of an office between two local dates",
        description="Times at the office's UTC offset. At most 92 days, both ends included.",
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH),
            OpenApiParameter(
                "from", OpenApiTypes.DATE, required=True, description="First local date."
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, required=True, description="Last local date (included)."
            ),
        ],
        responses={
            200: SlotSerializer(many=True),
            400: INVALID,
            404: NOT_FOUND,
            429: RATE_LIMITED,
        },
        tags=["offices"],
    )
    def get(self, request: Request, code: str) -> Response:
        office = selectors.public_office_cached(code=code)
        if office is None:
            raise NotFound(_("Bureau inconnu."))
        query = SlotRangeSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        dates = query.validated_data
        return Response(_free_slots(office, dates["from"], dates["to"]))


# The free slots of an office over a range, as answered, kept by each process for
# FREE_SLOTS_SECONDS: at a reopening every applicant reads the same list, often several
# times, and building it (a few hundred slots) cost 40% of the web processes' CPU in
# bench/reopening.py. A seat taken meanwhile is refused with `slot_full` and fresh next free
# slots; a seat freed is listed that much later at most. Built by hand: SlotSerializer stays
# the schema (test_refusals checks that both agree).
FREE_SLOTS_SECONDS = 1.0
_free_slots_kept: dict[tuple, tuple[float, list[dict]]] = {}


def forget_kept() -> None:
    """Drop the kept lists (tests: each starts as a fresh process would)."""
    _free_slots_kept.clear()


def _free_slots(office: Office, first: date, last: date) -> list[dict]:
    key = (office.pk, first, last)
    now = monotonic()
    hit = _free_slots_kept.get(key)
    if hit is None or hit[0] < now:
        slots = list(selectors.free_slots(office=office, date_from=first, date_to=last))
        if len(_free_slots_kept) > 1_000:
            _free_slots_kept.clear()
        hit = (now + FREE_SLOTS_SECONDS, slots_body(slots, timezone=office.timezone))
        _free_slots_kept[key] = hit
    return hit[1]


class ChallengeView(PublicAPIView):
    """An altcha proof-of-work challenge for one booking, valid two minutes and accepted
    once; an address gets at most BOOKING_CHALLENGE_RATE of them."""

    rate_group = protection.CHALLENGE_GROUP
    rate_setting = "BOOKING_CHALLENGE_RATE"

    @extend_schema(
        operation_id="challenge_create",
        summary="A proof-of-work challenge to solve before booking",
        description="Valid two minutes, for one booking.",
        responses={200: ChallengeSerializer, 429: RATE_LIMITED},
        tags=["bookings"],
    )
    def get(self, request: Request) -> Response:
        return _private(Response(protection.challenge_create()))
