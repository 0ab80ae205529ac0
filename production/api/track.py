"""GET /api/v1/track/?reference=...&birth_date=YYYY-MM-DD: the applicant's own view of a
passport file or of an appointment not yet enrolled, the same read as the page /suivi/
(production.tracking). Public: no account; the date of birth is the proof."""

import re
from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from appointments import validation
from appointments.api.serializers import (
    ErrorSerializer,
    InvalidErrorSerializer,
    LocalDateTimeField,
)
from appointments.api.views import PublicAPIView, _private
from appointments.documents import WHAT_TO_BRING
from core import clients
from core.errors import NotFound

from .. import tracking


class TrackQuerySerializer(serializers.Serializer):
    reference = serializers.CharField(
        max_length=40, help_text="File number (e.g. `DACDEF-GHJKM`) or booking reference."
    )
    birth_date = serializers.DateField(
        input_formats=["%Y-%m-%d"], help_text="The applicant's date of birth, YYYY-MM-DD."
    )

    def validate_birth_date(self, value):
        return validation.clean_birth_date(value, today=timezone.localdate())


class StepSerializer(serializers.Serializer):
    status = serializers.CharField()
    label = serializers.CharField(help_text="The step in plain words, in the request language.")
    at = LocalDateTimeField(help_text="When, at the office's UTC offset (ISO 8601).")


class TrackOfficeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="display_name")
    city = serializers.CharField()
    address = serializers.CharField()
    timezone = serializers.CharField(source="timezone.key")


class TrackAppointmentSerializer(serializers.Serializer):
    starts_at = LocalDateTimeField(source="slot.starts_at", help_text="At the office's offset.")
    ends_at = LocalDateTimeField(source="slot.ends_at")
    what_to_bring = serializers.SerializerMethodField()

    def get_what_to_bring(self, _appointment) -> list[str]:
        return [str(item) for item in WHAT_TO_BRING]


class TrackSerializer(serializers.Serializer):
    reference = serializers.CharField(
        help_text="The file number once the applicant is enrolled, else the booking reference."
    )
    kind = serializers.ChoiceField(choices=["file", "appointment"])
    status = serializers.CharField()
    status_label = serializers.CharField()
    timeline = StepSerializer(many=True, help_text="The public steps, oldest first.")
    office = TrackOfficeSerializer(
        help_text="Where to come: to collect the passport, or for the appointment."
    )
    estimated_ready_date = serializers.DateField(
        allow_null=True,
        help_text="When the passport should be ready to collect (office's local date); null "
        "for an appointment, a passport ready, delivered or rejected, or when no honest date "
        "can be given (e.g. a suspension with no reopening date).",
    )
    rejection_reason = serializers.CharField(help_text="Set when `status` is `rejected`.")
    appointment = TrackAppointmentSerializer(
        allow_null=True, help_text="For an appointment not yet enrolled: when, and what to bring."
    )


NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description="`not_found`: no file or appointment with this reference and date of birth "
    "(the same answer whichever does not match).",
)


class TrackView(PublicAPIView):
    rate_group = None  # two budgets of its own: the address's and the reference's

    @extend_schema(
        operation_id="track",
        summary="Follow a passport file or an appointment",
        parameters=[TrackQuerySerializer],
        responses={
            200: TrackSerializer,
            400: OpenApiResponse(InvalidErrorSerializer, description="`invalid`."),
            404: NOT_FOUND,
            429: OpenApiResponse(
                ErrorSerializer,
                description="`rate_limited`, with Retry-After: too many lookups from this "
                "address, or too many that failed for this reference (its holder then asks "
                "for a tracking link on the page /suivi/lien/, sent to their contacts).",
            ),
        },
        tags=["tracking"],
    )
    def get(self, request: Request) -> Response:
        reference, birth_date = _query(request.query_params)
        reference = tracking.clean_reference(reference)
        if tracking.rate_limited(request, reference=reference):
            raise clients.RateLimited(retry_after=tracking.retry_after())
        found = tracking.track(reference=reference, birth_date=birth_date)
        if found is None:
            tracking.lookup_failed(reference)
            raise NotFound(_("Aucun dossier ne correspond à cette référence et à cette date."))
        return _private(Response(as_json(found)))


WELL_FORMED_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _query(params) -> tuple[str, date]:
    """The reference and the date of birth asked for. A well-formed query is read directly
    (this is the read path of a reopening); anything else goes through
    TrackQuerySerializer, whose errors are the answer (400 `invalid`)."""
    reference, raw = params.get("reference", ""), params.get("birth_date", "")
    if reference.strip() and len(reference) <= 40 and WELL_FORMED_DATE.match(raw):
        try:
            born = date.fromisoformat(raw)
            return reference, validation.clean_birth_date(born, today=timezone.localdate())
        except (ValueError, DjangoValidationError):
            pass
    query = TrackQuerySerializer(data=params)
    query.is_valid(raise_exception=True)
    return query.validated_data["reference"], query.validated_data["birth_date"]


def as_json(found: tracking.Tracked) -> dict:
    """The answer TrackSerializer describes, built by hand: this is the read path of a
    reopening, and a serializer costs a third of its time (bench/track.py);
    production/tests/test_tracking.py checks that both give the same answer."""
    tz = found.office.timezone
    office = found.office
    appointment = None
    if found.appointment is not None:
        slot = found.appointment.slot
        appointment = {
            "starts_at": slot.starts_at.astimezone(tz).isoformat(),
            "ends_at": slot.ends_at.astimezone(tz).isoformat(),
            "what_to_bring": [str(item) for item in WHAT_TO_BRING],
        }
    ready = found.estimated_ready_date
    return {
        "reference": found.reference,
        "kind": found.kind,
        "status": found.status,
        "status_label": found.status_label,
        "timeline": [
            {"status": s.status, "label": s.label, "at": s.at.astimezone(tz).isoformat()}
            for s in found.timeline
        ],
        "office": {
            "code": office.code,
            "name": office.display_name,
            "city": office.city,
            "address": office.address,
            "timezone": tz.key,
        },
        "estimated_ready_date": ready.isoformat() if ready else None,
        "rejection_reason": found.rejection_reason,
        "appointment": appointment,
    }
