"""The waiting room in the API (appointments/waiting_room/): take a place in an office's
line around its reopening, then ask for it until the answer carries an admission, to be
sent with the booking as the header X-Admission.

Public, like booking: no account, no CSRF, and so no cookie. Taking a place counts in the address's
availability rate limit; asking for it counts in none (one read by primary key, which costs
what a rate limit check would, and a carrier-grade NAT address carries many people)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core import clients
from core.errors import NotFound
from core.models import Office

from .. import selectors, waiting_room
from .serializers import ErrorSerializer
from .views import NOT_FOUND, PublicAPIView, _private


class PlaceSerializer(serializers.Serializer):
    ticket = serializers.CharField(
        allow_null=True,
        help_text="The place's secret credential, for GET /api/v1/waiting-room/{code}/{ticket}/; "
        "null when no waiting room is open at the office.",
    )
    position = serializers.IntegerField(
        allow_null=True,
        min_value=0,
        help_text="Place in the line (1: next). Null before the reopening: the order of those "
        "who arrive before it is drawn at random at the reopening. 0 when no waiting room is "
        "open.",
    )
    estimated_wait_seconds = serializers.IntegerField(
        allow_null=True,
        min_value=0,
        help_text="Estimated seconds until admitted (before the reopening: until the draw); "
        "null when the line is paused or the reopening was put off.",
    )
    admission = serializers.CharField(
        allow_null=True,
        help_text="Null until admitted; then the admission, to send as the header X-Admission "
        "with POST /api/v1/bookings/, valid ADMISSION_MINUTES (10) from the moment of "
        "admission.",
    )
    seats_left = serializers.IntegerField(
        allow_null=True,
        min_value=0,
        help_text="Seats of the office neither taken nor kept for the people admitted already "
        "(each admitted place keeps a seat until it books, or for WAITING_ROOM_GRACE_SECONDS). "
        "Nobody is admitted without a seat: while waiting, 0 means no seat for this place now "
        "(`estimated_wait_seconds` is then null: seats come back when admissions go unused, "
        "holds lapse or bookings are cancelled). Null before the reopening and outside a "
        "waiting room.",
    )


def _office(code: str) -> Office:
    office = selectors.public_office_cached(code=code)
    if office is None:
        raise NotFound(_("Bureau inconnu."))
    return office


def _answer(place: waiting_room.Place, *, status: int = 200) -> Response:
    body = PlaceSerializer(
        {
            "ticket": place.ticket,
            "position": place.position,
            "estimated_wait_seconds": place.estimated_wait_seconds,
            "admission": place.admission,
            "seats_left": place.seats_left,
        }
    ).data
    response = _private(Response(body, status=status))
    if place.state in (waiting_room.State.BEFORE, waiting_room.State.WAITING):
        response["Retry-After"] = str(place.refresh_seconds)  # when asking again is useful
    return response


CODE = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH)
FULL = OpenApiResponse(
    ErrorSerializer,
    description="`waiting_room_full_network`: this address (an IPv4 address or the /64 of an "
    "IPv6 one) took WAITING_ROOM_PER_ADDRESS places in the line already (Retry-After: when "
    "the window closes), or `rate_limited`.",
)


class WaitingRoomJoinView(PublicAPIView):
    """Take a place in an office's waiting line: each POST a new one (the client keeps its
    `ticket`), at most WAITING_ROOM_PER_ADDRESS per address."""

    @extend_schema(
        operation_id="waiting_room_join",
        summary="Take a place in an office's waiting room around its reopening",
        description="For WAITING_ROOM_MINUTES (30) before and after a reopening at the office, "
        "booking there needs an admission. Before the reopening, the place has no position: "
        "the order of the early arrivals is drawn at random at the reopening; later arrivals "
        "follow in their order. Outside that window the answer carries an admission at once "
        "(`ticket` null). Each POST takes a new place: keep `ticket` and ask for it with GET. "
        "At most WAITING_ROOM_PER_ADDRESS (16) places per address; past "
        "WAITING_ROOM_PER_NETWORK (256) places of one network, a new place goes to the back "
        "of the line.",
        parameters=[CODE],
        request=None,
        responses={201: PlaceSerializer, 404: NOT_FOUND, 429: FULL},
        tags=["waiting room"],
    )
    def post(self, request: Request, code: str) -> Response:
        # No cookie is read or set here: this endpoint takes no CSRF token, so another
        # website could post to it from a visitor's browser; the client keeps its place
        # from the body. The waiting page (which checks CSRF) keeps a browser's in a cookie.
        office = _office(code)
        place = waiting_room.ticket_issue(
            office_id=office.pk,
            network=clients.hold_network(request),
            address=clients.client_ip("", request),
        )
        return _answer(place, status=201)


class WaitingRoomPlaceView(PublicAPIView):
    """Where a place stands: position, estimated wait, and the admission once admitted."""

    rate_group = None

    @extend_schema(
        operation_id="waiting_room_place",
        summary="A place in an office's waiting room: position, wait, admission",
        description="Ask again after the seconds in Retry-After. `admission` is null until the "
        "place is admitted (the portal admits WAITING_ROOM_RATE people per second from the "
        "reopening, and nobody for whom no seat is left: `seats_left`), then a string to send "
        "as X-Admission. Asking costs no write.",
        parameters=[
            CODE,
            OpenApiParameter(
                "ticket",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The `ticket` of the place, as POST gave it.",
            ),
        ],
        responses={
            200: PlaceSerializer,
            404: OpenApiResponse(
                ErrorSerializer, description="`not_found`: unknown office, or not a place of it."
            ),
            410: OpenApiResponse(
                ErrorSerializer,
                description="`admission_expired`: admitted more than ADMISSION_MINUTES ago; "
                "take a new place.",
            ),
        },
        tags=["waiting room"],
    )
    def get(self, request: Request, code: str, ticket: str) -> Response:
        office = _office(code)
        return _answer(waiting_room.place_of(credential=ticket, office_id=office.pk))
