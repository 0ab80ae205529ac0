"""Serializers of the staff API: input ones validate, output ones shape. Appointment times
leave at the office's UTC offset (LocalDateTimeField, context `{"timezone": ...}`)."""

from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

from appointments import validation
from appointments.api.serializers import LocalDateTimeField
from appointments.models import Appointment, Suspension
from production.models import FileEvent, FileStatus, PassportFile
from production.services import MAX_BULK_FILES


class FileStatusField(serializers.ChoiceField):
    """A status of a passport file; one named enum of the schema, FileStatusEnum."""

    def __init__(self, **kwargs):
        super().__init__(choices=FileStatus.choices, **kwargs)


class FileStatusFieldExtension(OpenApiSerializerFieldExtension):
    # Named here, not in ENUM_NAME_OVERRIDES: spectacular would otherwise name this choice
    # set after each field (`status` colliding with AppointmentStatusEnum, `to`, ...).
    target_class = FileStatusField

    def map_serializer_field(self, auto_schema, direction):
        component = ResolvedComponent(
            name="FileStatusEnum",
            type=ResolvedComponent.SCHEMA,
            object="FileStatusEnum",
            schema={"type": "string", "enum": list(FileStatus.values)},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


# Counter work --------------------------------------------------------------------------------


class AgendaQuerySerializer(serializers.Serializer):
    date = serializers.DateField(
        help_text="Local date of the office.", validators=[validation.within_calendar]
    )
    office = serializers.SlugField(max_length=40, help_text="Code of the office.")


class AgendaItemSerializer(serializers.ModelSerializer):
    starts_at = LocalDateTimeField(source="slot.starts_at")

    class Meta:
        model = Appointment
        fields = ["reference", "status", "starts_at", "surname", "given_names", "national_id"]


class CheckInSerializer(serializers.ModelSerializer):
    class Meta:
        model = Appointment
        fields = ["reference", "status"]


class EnrolledSerializer(serializers.Serializer):
    file_reference = serializers.CharField(source="reference", help_text="Number of the file.")
    status = FileStatusField()


# Passport files ------------------------------------------------------------------------------


class FileQuerySerializer(serializers.Serializer):
    status = FileStatusField(required=False)
    office = serializers.SlugField(
        max_length=40, required=False, help_text="Code of the enrolling office."
    )
    q = serializers.CharField(
        max_length=100,
        required=False,
        help_text="Part of the file number, the surname or the given names.",
    )


class FileSerializer(serializers.ModelSerializer):
    status = FileStatusField()
    office = serializers.CharField(source="office.code", help_text="Code of the enrolling office.")
    centre = serializers.CharField(
        source="centre.office.code", help_text="Code of the producing centre."
    )

    class Meta:
        model = PassportFile
        fields = [
            "reference",
            "status",
            "office",
            "centre",
            "surname",
            "given_names",
            "due_date",
            "created_at",
        ]


class FileExportSerializer(FileSerializer):
    """A row of the CSV export of the file list (supervisors): the list's fields and the
    identity number."""

    class Meta(FileSerializer.Meta):
        fields = [*FileSerializer.Meta.fields[:6], "national_id", *FileSerializer.Meta.fields[6:]]


class FileEventSerializer(serializers.ModelSerializer):
    from_status = serializers.CharField(help_text="Empty for the file's first event.")
    to_status = FileStatusField()
    by = serializers.CharField(
        source="by.username", allow_null=True, default=None, help_text="Username."
    )

    class Meta:
        model = FileEvent
        fields = ["from_status", "to_status", "by", "at", "note"]


class FileDetailSerializer(FileSerializer):
    events = FileEventSerializer(many=True, read_only=True)

    class Meta(FileSerializer.Meta):
        fields = [*FileSerializer.Meta.fields, "rejection_reason", "events"]


class TransitionInputSerializer(serializers.Serializer):
    to = FileStatusField()
    expected = FileStatusField(
        help_text="The status the caller saw: 409 `status_changed` if it has changed since."
    )
    note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text="Required to reject."
    )


class BulkTransitionInputSerializer(serializers.Serializer):
    files = serializers.ListField(
        child=serializers.CharField(max_length=16),
        min_length=1,
        max_length=MAX_BULK_FILES,
        help_text=f"File numbers, at most {MAX_BULK_FILES}.",
    )
    to = FileStatusField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class BulkResultSerializer(serializers.Serializer):
    file = serializers.CharField(help_text="The file number as sent.")
    ok = serializers.BooleanField()
    status = FileStatusField(required=False, help_text="With `ok`: the new status.")
    code = serializers.CharField(required=False, help_text="Without `ok`: the error code.")
    detail = serializers.CharField(required=False, help_text="Without `ok`: the message.")


class BulkTransitionSerializer(serializers.Serializer):
    results = BulkResultSerializer(many=True)


# Suspensions (administrators) -----------------------------------------------------------

BAMAKO = ZoneInfo("Africa/Bamako")


class BamakoDateTimeField(serializers.DateTimeField):
    """A time with an explicit offset, or a naive one read as Africa/Bamako; within the
    calendar's bounds."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=BAMAKO, **kwargs)

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        validation.within_calendar(moment.astimezone(BAMAKO))
        return moment


class SuspensionInputSerializer(serializers.Serializer):
    starts_at = BamakoDateTimeField(help_text="Start; naive times are read as Africa/Bamako.")
    reopens_at = BamakoDateTimeField(
        allow_null=True, required=False, help_text="Planned reopening; null: not set yet."
    )
    offices = serializers.ListField(
        child=serializers.SlugField(max_length=40),
        allow_null=True,
        required=False,
        max_length=500,
        help_text="Codes of the offices concerned; null (or absent): every office.",
    )
    message_fr = serializers.CharField(max_length=2000, help_text="Public message in French.")
    message_en = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text="Public message in English."
    )

    def validate(self, attrs):
        starts_at = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        reopens_at = attrs.get("reopens_at", getattr(self.instance, "reopens_at", None))
        if starts_at and reopens_at and reopens_at <= starts_at:
            raise serializers.ValidationError(
                {"reopens_at": [_("La réouverture doit suivre le début.")]}
            )
        if attrs.get("offices") == []:
            raise serializers.ValidationError(
                {"offices": [_("Donnez au moins un bureau, ou null pour tous.")]}
            )
        return attrs


class SuspensionSerializer(serializers.ModelSerializer):
    offices = serializers.SerializerMethodField(
        help_text="Codes of the offices concerned; null: every office."
    )
    message_fr = serializers.CharField(source="message")

    class Meta:
        model = Suspension
        fields = ["id", "starts_at", "reopens_at", "offices", "message_fr", "message_en"]

    def get_offices(self, suspension: Suspension) -> list[str] | None:
        codes = sorted(office.code for office in suspension.offices.all())
        return codes or None
