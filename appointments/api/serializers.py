"""Serializers of the booking API: input ones validate (with the rules of validation.py,
shared with the HTML form), output ones shape. Times leave at the office's UTC offset."""

import threading
from datetime import date, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import ErrorSerializer, InvalidErrorSerializer
from core.errors import NotFound
from core.models import Office, applicant_language

from .. import protection, services, validation
from ..models import Appointment, Slot

# Ids are PostgreSQL bigints: a larger number is not an id (and would overflow the query).
MAX_ID = 2**63 - 1
# The longest range of the free slots endpoint, both ends included.
MAX_RANGE_DAYS = 92


class LocalDateTimeField(serializers.DateTimeField):
    """An instant in ISO 8601 at the UTC offset of the office, whose timezone the caller
    puts in the context (`{"timezone": office.timezone}`): `2026-03-30T09:00:00+02:00`."""

    def to_representation(self, value):
        return value.astimezone(self.context["timezone"]).isoformat()


# Output --------------------------------------------------------------------------------------


class OfficeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", help_text="Name in the request language.")
    country = serializers.CharField(source="country.code", help_text="ISO 3166-1 alpha-2 code.")
    timezone = serializers.CharField(source="timezone.key", help_text="IANA timezone name.")
    booking_open = serializers.SerializerMethodField(
        help_text="A free slot is bookable in the future and the service is not suspended."
    )

    class Meta:
        model = Office
        fields = ["code", "name", "kind", "city", "country", "timezone", "booking_open"]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_booking_open(self, office: Office) -> bool:
        # Annotated by selectors.offices_with_free_slots: no query per office.
        return bool(office.has_free_slot and not office.suspended_now)


class SlotSerializer(serializers.ModelSerializer):
    starts_at = LocalDateTimeField()
    ends_at = LocalDateTimeField()
    remaining = serializers.IntegerField(help_text="Seats still free.")

    class Meta:
        model = Slot
        fields = ["id", "starts_at", "ends_at", "remaining"]


NULLABLE_DATETIME = serializers.DateTimeField(allow_null=True, read_only=True)
HOLD_HELP = (
    "While `status` is `pending`: when the seat is released unless the code is entered. "
    "Null otherwise."
)


class BookingSerializer(serializers.ModelSerializer):
    office = serializers.CharField(source="office.code", help_text="Code of the office.")
    starts_at = LocalDateTimeField(source="slot.starts_at")
    ends_at = LocalDateTimeField(source="slot.ends_at")
    hold_expires_at = serializers.SerializerMethodField(help_text=HOLD_HELP)

    class Meta:
        model = Appointment
        fields = [
            "reference",
            "status",
            "hold_expires_at",
            "office",
            "starts_at",
            "ends_at",
            "surname",
            "given_names",
            "notify_email",
            "notify_sms",
        ]
        extra_kwargs = {
            "notify_email": {"help_text": "Messages are sent by email (at least one channel)."},
            "notify_sms": {"help_text": "Messages are sent by SMS (at least one channel)."},
        }

    @extend_schema_field(NULLABLE_DATETIME)
    def get_hold_expires_at(self, appointment: Appointment) -> str | None:
        return _hold_expires_at(appointment, self.context["timezone"])


def _hold_expires_at(appointment: Appointment, timezone) -> str | None:
    if appointment.status != Appointment.Status.PENDING:
        return None
    return appointment.hold_expires_at.astimezone(timezone).isoformat()


class BookingCreatedSerializer(serializers.Serializer):
    # Declared fields, not a ModelSerializer: this answers every booking of a rush, and
    # building fields from the model at each request costs more than the rest of it.
    reference = serializers.CharField(help_text="Booking reference, e.g. `ACDE-FGHJ`.")
    manage_token = serializers.SerializerMethodField(
        help_text="Secret that authorises managing the booking (header X-Booking-Token). "
        "Given once: only its hash is kept."
    )
    status = serializers.ChoiceField(
        choices=Appointment.Status.choices,
        help_text="`pending` with contact verification on (the code is to be entered), "
        "`booked` otherwise.",
    )
    hold_expires_at = serializers.SerializerMethodField(help_text=HOLD_HELP)
    office = serializers.CharField(source="slot.office.code", help_text="Code of the office.")
    starts_at = LocalDateTimeField(source="slot.starts_at")

    @extend_schema_field(OpenApiTypes.STR)
    def get_manage_token(self, appointment: Appointment) -> str:
        return self.context["manage_token"]

    @extend_schema_field(NULLABLE_DATETIME)
    def get_hold_expires_at(self, appointment: Appointment) -> str | None:
        return _hold_expires_at(appointment, self.context["timezone"])


def booking_created_body(appointment: Appointment, *, manage_token: str) -> dict:
    """What BookingCreatedSerializer gives (it stays the schema), built by hand: this answers
    every booking of a rush, where instantiating the serializer's fields cost a tenth of the
    request (test_api_bookings checks that both agree)."""
    office = appointment.slot.office
    return {
        "reference": appointment.reference,
        "manage_token": manage_token,
        "status": appointment.status,
        "hold_expires_at": _hold_expires_at(appointment, office.timezone),
        "office": office.code,
        "starts_at": appointment.slot.starts_at.astimezone(office.timezone).isoformat(),
    }


def slots_body(slots: list[Slot], *, timezone) -> list[dict]:
    """What SlotSerializer(many=True) gives (it stays the schema), built by hand: the next
    free slots go with every `slot_full` refusal, most of the answers of a rush, where the
    serializer's fields cost a quarter of the refusal (test_refusals checks that both
    agree)."""
    return [_slot_body(slot, timezone) for slot in slots]


def _slot_body(slot: Slot, timezone) -> dict:
    # Kept on the slot: the next free slots of a refusal are the same objects for every
    # refusal of a process for a moment (selectors.next_free_slots_cached).
    kept = slot.__dict__.get("_body")
    if kept is None or kept[0] is not timezone:
        body = {
            "id": slot.pk,
            "starts_at": slot.starts_at.astimezone(timezone).isoformat(),
            "ends_at": slot.ends_at.astimezone(timezone).isoformat(),
            "remaining": slot.remaining,
        }
        kept = slot.__dict__["_body"] = (timezone, body)
    return kept[1]


class ChallengeSerializer(serializers.Serializer):
    """An altcha (v1) challenge: find `number` in [0, maxnumber] with
    SHA-256(salt + number) == challenge, then send base64(JSON {algorithm, challenge,
    number, salt, signature}) as `altcha` with the booking."""

    algorithm = serializers.CharField()
    challenge = serializers.CharField()
    maxnumber = serializers.IntegerField()
    salt = serializers.CharField()
    signature = serializers.CharField()


# Errors (for the schema: the exception handler writes them) ---------------------------------


class WrongCodeErrorSerializer(InvalidErrorSerializer):
    attempts_left = serializers.IntegerField(
        required=False, help_text="With `wrong_code`: tries left (0: the seat is released)."
    )


class ConflictErrorSerializer(ErrorSerializer):
    next_free = SlotSerializer(
        many=True, required=False, help_text="With `slot_full`: the next free slots."
    )
    reopens_at = serializers.DateTimeField(
        allow_null=True,
        required=False,
        help_text="With `booking_closed`: planned reopening, null when none is planned.",
    )


# Input ---------------------------------------------------------------------------------------


class SlotRangeSerializer(serializers.Serializer):
    """Query of the free slots endpoint: `?from=YYYY-MM-DD&to=YYYY-MM-DD` (local dates of the
    office, both included)."""

    from_ = serializers.DateField(validators=[validation.within_calendar])
    to = serializers.DateField(validators=[validation.within_calendar])

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # `from` is a Python keyword
        return fields

    def validate(self, attrs):
        first, last = attrs["from"], attrs["to"]
        if last < first:
            raise serializers.ValidationError(
                {"to": _("La date de fin précède la date de début.")}
            )
        if last - first >= timedelta(days=MAX_RANGE_DAYS):
            raise serializers.ValidationError(
                {"to": _("Demandez au plus %(days)s jours à la fois.") % {"days": MAX_RANGE_DAYS}}
            )
        return attrs


def _bookable_slot(slot_id: int, office: Office | None = None) -> Slot:
    try:
        return services.slot_for_booking(slot_id=slot_id, office=office)
    except NotFound:
        raise serializers.ValidationError(_("Ce créneau n’existe pas.")) from None


def _fits(value: str, field_name: str) -> str:
    """Normalising can lengthen text ('ß'.upper() is 'SS'): check the column still holds it."""
    max_length = Appointment._meta.get_field(field_name).max_length
    if len(value) > max_length:
        message = serializers.CharField.default_error_messages["max_length"]
        raise serializers.ValidationError(message.format(max_length=max_length))
    return value


class FieldsKeptPerThread:
    """Build an input serializer's fields once per thread, not once per request.

    DRF deep-copies the declared fields for each instance (a new instance of every field,
    with its validators): for the booking, the one request a reopening rush is made of, that
    was a seventh of the portal's CPU (py-spy on the gunicorn workers, bench/booking_rush.py).
    A thread validates one request at a time, and these flat serializers keep nothing of a
    request on their fields (each instance takes them as their parent), so a thread reuses
    its copy."""

    _kept = threading.local()

    @cached_property
    def fields(self):
        kept = self._kept.__dict__.get(type(self))
        if kept is None:
            kept = self._kept.__dict__[type(self)] = super().fields
        else:
            kept.serializer = self
            for field in kept.values():
                field.parent = self
        return kept


class BookingInputSerializer(FieldsKeptPerThread, serializers.Serializer):
    slot = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Id of a free slot.")
    surname = serializers.CharField(max_length=100)
    given_names = serializers.CharField(max_length=150)
    birth_date = serializers.DateField()
    national_id = serializers.CharField(max_length=40, help_text="NINA or passport number.")
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(
        max_length=30, help_text="E.164 (+22376123456), or national in the office's country."
    )
    language = serializers.ChoiceField(
        choices=Appointment.Language.choices,
        required=False,
        help_text="Language of the messages; the request language when omitted.",
    )
    altcha = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        write_only=True,
        max_length=protection.PAYLOAD_MAX_LENGTH,
        help_text="Solution of a challenge from /api/v1/challenge/, when the challenge is on.",
    )

    def validate_surname(self, value: str) -> str:
        return _fits(" ".join(value.split()).upper(), "surname")

    def validate_given_names(self, value: str) -> str:
        return _fits(" ".join(value.split()), "given_names")

    def validate_birth_date(self, value: date) -> date:
        return validation.clean_birth_date(value, today=validation.today())

    def validate_national_id(self, value: str) -> str:
        return validation.clean_national_id(value)

    def validate_email(self, value: str) -> str:
        return _fits(value.strip().lower(), "email")

    def validate(self, attrs):
        # The phone is read in the office's country when typed without +: only then is the
        # slot's office needed here (the booking itself reads the slot in its one statement).
        region = None
        if not attrs["phone"].strip().startswith("+"):
            region = (
                Slot.objects.filter(pk=attrs["slot"]).values_list("office__country", flat=True)
            ).first()
            if region is None:
                raise serializers.ValidationError({"slot": [_("Ce créneau n’existe pas.")]})
        try:
            attrs["phone"] = validation.clean_phone(attrs["phone"], region=region)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"phone": error.messages}) from None
        attrs.setdefault("language", applicant_language())
        attrs.pop("altcha", None)
        return attrs

    def applicant(self) -> services.Applicant:
        data = self.validated_data
        return services.Applicant(
            surname=data["surname"],
            given_names=data["given_names"],
            birth_date=data["birth_date"],
            national_id=data["national_id"],
            email=data["email"],
            phone=data["phone"],
            language=data["language"],
        )


class RescheduleInputSerializer(serializers.Serializer):
    """The new slot, of the booking's office (given in the context as `office`)."""

    slot = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Id of a free slot.")

    def validate_slot(self, value: int) -> Slot:
        return _bookable_slot(value, office=self.context["office"])


class ConfirmInputSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=20, help_text="The 6-digit code sent by SMS and email (spaces ignored)."
    )

    def validate_code(self, value: str) -> str:
        code = "".join(value.split())
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            raise serializers.ValidationError(_("Saisissez les 6 chiffres du code reçu."))
        return code


class NotificationsInputSerializer(serializers.Serializer):
    """The channels of the applicant's messages; an absent field is left as it is."""

    notify_email = serializers.BooleanField(
        required=False, help_text="Send the messages by email."
    )
    notify_sms = serializers.BooleanField(required=False, help_text="Send the messages by SMS.")
