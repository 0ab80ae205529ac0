"""Views of the booking API's bookings: make one (with the refusal from memory of a slot
this process knows full), read it, confirm its code, cancel, reschedule, choose its
notifications. A booking is managed with its secret token in the X-Booking-Token header; a
wrong or missing token answers 404, exactly as an unknown reference does."""

import json

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core import clients
from core.api import domain_error_response
from core.errors import NotFound

from .. import protection, services, waiting_room
from ..models import Appointment
from ..validation import clean_reference
from .serializers import (
    BookingCreatedSerializer,
    BookingInputSerializer,
    BookingSerializer,
    ConfirmInputSerializer,
    ConflictErrorSerializer,
    ErrorSerializer,
    InvalidErrorSerializer,
    NotificationsInputSerializer,
    RescheduleInputSerializer,
    WrongCodeErrorSerializer,
    booking_created_body,
)
from .views import (
    ADMISSION,
    ADMISSION_REQUIRED,
    BOOKING_NOT_FOUND,
    CONFLICT,
    HOLD_REFUSED,
    INVALID,
    RATE_LIMITED,
    REFERENCE,
    TOKEN,
    TOKEN_HEADER,
    BookingWriteView,
    PublicAPIView,
    _private,
)


def _booking(request: Request, reference: str) -> Appointment:
    """The booking this request holds the token of; NotFound otherwise, the same answer for
    a malformed reference, an unknown one and a wrong token."""
    try:
        reference = clean_reference(reference)
        return services.booking_for_token(
            reference=reference, token=request.headers.get(TOKEN_HEADER, "")
        )
    except (DjangoValidationError, NotFound):
        raise NotFound(_("Rendez-vous introuvable.")) from None


def _booking_response(appointment: Appointment) -> Response:
    context = {"timezone": appointment.office.timezone}
    return _private(Response(BookingSerializer(appointment, context=context).data))


class BookingCreateView(BookingWriteView):
    """Book a seat of a free slot; the answer carries the manage token, given once."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # In a rush most requests are for a slot this process found full a moment ago. They
        # are refused here, before DRF wraps the request, negotiates and renders (half of a
        # refusal's CPU in the portal's process), with the answer and the rate limit of the
        # view itself (test_refusals compares both); anything else goes on to DRF.
        if request.method == "POST":
            refused = self._refused_from_memory(request)
            if refused is not None:
                return refused
        return super().dispatch(request, *args, **kwargs)

    def _refused_from_memory(self, request: HttpRequest) -> HttpResponse | None:
        if request.content_type != "application/json":
            return None
        try:
            slot_id = json.loads(request.body).get("slot")
        except (ValueError, AttributeError, RecursionError):  # not JSON, not an object, or
            return None  # nested too deep to read: DRF's parser gives the answer
        if not services.slot_remembered_full(slot_id=slot_id):
            return None
        language = translation.get_language_from_request(request, check_path=False)
        translation.activate(language)
        full = services.slot_known_full(slot_id=slot_id)
        if full is None:
            return None
        rate = getattr(settings, self.rate_setting)
        if clients.rate_limited(request, group=self.rate_group, rate=rate):
            full = clients.RateLimited()
        response = domain_error_response(full)
        response["Allow"] = ", ".join(self.allowed_methods)
        return response

    @extend_schema(
        operation_id="bookings_create",
        summary="Book a free slot",
        description="When the anti-bot challenge is on, `altcha` carries the solution of a "
        "challenge from /api/v1/challenge/ (each is accepted once); without it the answer "
        "is 400 `challenge_failed`. With contact verification on, the booking is `pending`: "
        "its seat is held until `hold_expires_at` (15 minutes) and a 6-digit code is sent by "
        "SMS and email, to be posted to `/api/v1/bookings/{reference}/confirm/`. When the "
        "identity number already holds a booking, the answer is the same and the code goes "
        "to that booking's contacts: confirming replaces it.",
        request=BookingInputSerializer,
        responses={
            201: BookingCreatedSerializer,
            400: OpenApiResponse(
                InvalidErrorSerializer,
                description="`invalid` (messages by field in `fields`; an unknown slot in "
                "`fields.slot`) or `challenge_failed`.",
            ),
            409: OpenApiResponse(
                ConflictErrorSerializer,
                description="`slot_full` (with `next_free`), `already_booked` (only with "
                "contact verification off), `booking_closed` (with `reopens_at`) or "
                "`slot_past`.",
            ),
            403: ADMISSION_REQUIRED,
            429: HOLD_REFUSED,
        },
        parameters=[ADMISSION],
        tags=["bookings"],
    )
    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        # A slot this process found full a moment ago (and not caught by dispatch: another
        # content type) is refused before anything costs.
        full = services.slot_known_full(slot_id=data.get("slot"))
        if full is not None:
            raise full
        serializer = BookingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The admission, then the proof of work: a request refused for either (or for its
        # fields) has not used up its challenge.
        ticket = waiting_room.admission_check(
            request=request, slot_id=serializer.validated_data["slot"]
        )
        solved = protection.challenge_check(data.get("altcha"))
        try:
            appointment, token = services.booking_create(
                slot=serializer.validated_data["slot"],
                applicant=serializer.applicant(),
                network=clients.hold_network(request),
                admission_ticket=ticket,
                challenge=solved,
            )
        except NotFound as error:
            raise ValidationError({"slot": [error.detail]}) from None
        body = booking_created_body(appointment, manage_token=token)
        return _private(Response(body, status=201))


class BookingDetailView(PublicAPIView):
    """A booking, for whoever holds its manage token."""

    @extend_schema(
        operation_id="bookings_retrieve",
        summary="A booking, authorised by its manage token",
        parameters=[REFERENCE, TOKEN],
        responses={200: BookingSerializer, 404: BOOKING_NOT_FOUND, 429: RATE_LIMITED},
        tags=["bookings"],
    )
    def get(self, request: Request, reference: str) -> Response:
        return _booking_response(_booking(request, reference))


class BookingConfirmView(BookingWriteView):
    """Turn a pending booking into a booked one with the code sent to the applicant."""

    @extend_schema(
        operation_id="bookings_confirm",
        summary="Confirm a pending booking with the 6-digit code sent by SMS and email",
        description="Three tries: each wrong code answers 400 `wrong_code` with "
        "`attempts_left`; after the third the seat is released. A booking confirmed already "
        "is answered as it is.",
        parameters=[REFERENCE, TOKEN],
        request=ConfirmInputSerializer,
        responses={
            200: BookingSerializer,
            400: OpenApiResponse(
                WrongCodeErrorSerializer,
                description="`invalid` (messages by field in `fields`) or `wrong_code` (with "
                "`attempts_left`).",
            ),
            404: BOOKING_NOT_FOUND,
            409: OpenApiResponse(
                ConflictErrorSerializer,
                description="`hold_expired` (not confirmed in time, or after three wrong "
                "codes: the seat is free again), `already_booked`, `booking_closed` or "
                "`slot_past`.",
            ),
            429: RATE_LIMITED,
        },
        tags=["bookings"],
    )
    def post(self, request: Request, reference: str) -> Response:
        appointment = _booking(request, reference)
        serializer = ConfirmInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment = services.booking_confirm(
            appointment=appointment,
            code=serializer.validated_data["code"],
            token=request.headers.get(TOKEN_HEADER, ""),
        )
        return _booking_response(appointment)


class BookingCancelView(BookingWriteView):
    """Cancel a booked appointment; its seat is freed at once."""

    @extend_schema(
        operation_id="bookings_cancel",
        summary="Cancel a booking; its seat is freed at once",
        parameters=[REFERENCE, TOKEN],
        request=None,
        responses={
            200: BookingSerializer,
            404: BOOKING_NOT_FOUND,
            409: OpenApiResponse(
                ErrorSerializer, description="`not_changeable`: not booked, or already past."
            ),
            429: RATE_LIMITED,
        },
        tags=["bookings"],
    )
    def post(self, request: Request, reference: str) -> Response:
        appointment = services.booking_cancel(appointment=_booking(request, reference))
        return _booking_response(appointment)


class BookingRescheduleView(BookingWriteView):
    """Move a booked appointment to another free slot of its office, atomically."""

    @extend_schema(
        operation_id="bookings_reschedule",
        summary="Move a booking to another free slot of the same office",
        parameters=[REFERENCE, TOKEN, ADMISSION],
        request=RescheduleInputSerializer,
        responses={
            200: BookingSerializer,
            400: INVALID,
            403: ADMISSION_REQUIRED,
            404: BOOKING_NOT_FOUND,
            409: CONFLICT,
            429: RATE_LIMITED,
        },
        tags=["bookings"],
    )
    def post(self, request: Request, reference: str) -> Response:
        appointment = _booking(request, reference)
        serializer = RescheduleInputSerializer(
            data=request.data, context={"office": appointment.office}
        )
        serializer.is_valid(raise_exception=True)
        if appointment.status != Appointment.Status.DISPLACED:
            # Around a reopening a move takes a seat in the line's turn, as a booking does.
            waiting_room.admission_check(request=request, office_id=appointment.office_id)
        appointment = services.booking_reschedule(
            appointment=appointment, slot=serializer.validated_data["slot"]
        )
        return _booking_response(appointment)


class BookingNotificationsView(BookingWriteView):
    """Turn the applicant's messages by email or by SMS on or off."""

    @extend_schema(
        operation_id="bookings_notifications",
        summary="Choose the channels of the booking's messages (email, SMS)",
        description="Both fields are optional: an absent one is left as it is. One channel at "
        "least stays on: turning both off (or the last one) answers 400 `no_channel` and "
        "changes nothing. The choice holds for every later message of the booking, its "
        "passport file's included; messages written already are sent as they are.",
        parameters=[REFERENCE, TOKEN],
        request=NotificationsInputSerializer,
        responses={
            200: BookingSerializer,
            400: OpenApiResponse(
                InvalidErrorSerializer,
                description="`invalid` (messages by field in `fields`) or `no_channel`.",
            ),
            404: BOOKING_NOT_FOUND,
            429: RATE_LIMITED,
        },
        tags=["bookings"],
    )
    def post(self, request: Request, reference: str) -> Response:
        appointment = _booking(request, reference)
        serializer = NotificationsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment = services.booking_notifications_set(
            appointment=appointment,
            email=serializer.validated_data.get("notify_email"),
            sms=serializer.validated_data.get("notify_sms"),
        )
        return _booking_response(appointment)
