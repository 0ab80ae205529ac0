"""GET /api/v1/backlog/: the backlog dashboard's figures as JSON, the same read as the page
/staff/backlog/ (production.dashboard). Supervisors get the offices they supervise,
administrators every office; anyone else 403 `forbidden`."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from appointments.api.serializers import ErrorSerializer
from core import access
from core.errors import Forbidden

from .. import dashboard
from ..models import FileStatus
from .views import UNAUTHENTICATED, StaffAPIView

FORBIDDEN = OpenApiResponse(
    ErrorSerializer, description="`forbidden`: neither a supervisor nor an administrator."
)


class DayCountSerializer(serializers.Serializer):
    day = serializers.DateField(help_text="Local date of the office.")
    count = serializers.IntegerField(min_value=0)


class HistoryPointSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="Top of the hour the backlog was recorded (UTC).")
    backlog = serializers.IntegerField(min_value=0)


class ByStatusSerializer(serializers.Serializer):
    """Files in each status (every status, zeros included)."""

    def get_fields(self):
        return {status: serializers.IntegerField(min_value=0) for status in FileStatus.values}


class OfficeBacklogSerializer(serializers.Serializer):
    code = serializers.CharField(source="office.code")
    kind = serializers.CharField(
        source="office.kind",
        help_text="`centre`: the files it produces; `mission`: the files enrolled there.",
    )
    today = serializers.DateField(help_text="The office's local date now.")
    backlog = serializers.IntegerField(
        min_value=0, help_text="Files on hold, enrolled or queued for production."
    )
    by_status = ByStatusSerializer()
    dispatched_per_day = DayCountSerializer(
        many=True,
        help_text="Files taken into production on each of the last 30 local days, oldest "
        "first: a centre's daily batch, a mission's files moved from queued to in_production.",
    )
    history = HistoryPointSerializer(
        many=True, help_text="The backlog at the top of each hour of the last 30 days."
    )
    rate_per_day = serializers.FloatField(
        help_text="Files per working day: the mean of dispatched_per_day over its last 7 "
        "days with any dispatch (0 when none)."
    )
    projected_clear_date = serializers.DateField(
        allow_null=True,
        help_text="The day the last waiting file is taken into production at rate_per_day, "
        "counted in the working days of the centre producing the office's files (opening "
        "hours, closures, suspensions: the tracking estimate's calendar); today still takes "
        "the rest of a day's worth if the centre works today. Null when the rate is 0 or no "
        "working day is in sight.",
    )


class BacklogSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="When the figures were computed.")
    offices = OfficeBacklogSerializer(many=True)


class BacklogView(StaffAPIView):
    @extend_schema(
        operation_id="backlog_retrieve",
        summary="The backlog of the caller's offices",
        description="Per office the caller supervises (every office for an administrator): "
        "files by status, files taken into production per day over 30 days, the hourly "
        "history of the backlog, the measured rate and the projected clearing date.",
        responses={
            200: BacklogSerializer,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
        },
        tags=["staff"],
    )
    def get(self, request: Request) -> Response:
        scope = access.staff_scope(request.user)
        if not dashboard.may_see_backlog(scope):
            raise Forbidden(_("Réservé aux superviseurs et aux administrateurs."))
        now = timezone.now()
        figures = dashboard.backlog_figures(scope=scope, now=now)
        return Response(BacklogSerializer({"at": now, "offices": figures}).data)
