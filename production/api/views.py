"""Views of the staff API: one per operation, thin. Each validates with an input serializer,
reads through a scoping selector or calls a service, and shapes the answer with an output
serializer. Errors are raised and turned into `{"code": ..., "detail": ...}` by
core.api.exception_handler.

Authentication: `Authorization: Token <token>` (integrations, from /api/v1/auth/token/; it
expires, see core/tokens.py) or the session of the browser (with its CSRF token). The token
comes first so that a request without credentials answers 401 (its WWW-Authenticate header),
not 403.

Another office's appointment or file answers 404, exactly as an unknown reference does.
"""

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments import services as appointment_services
from appointments.api.serializers import ErrorSerializer, InvalidErrorSerializer
from appointments.audit import record_appointment_views
from appointments.models import Appointment, AppointmentView
from core import access, tokens
from core.errors import NotFound
from core.parsers import JSONParser

from .. import audit, selectors, services
from ..models import FileView, PassportFile
from .serializers import (
    AgendaItemSerializer,
    AgendaQuerySerializer,
    BulkTransitionInputSerializer,
    BulkTransitionSerializer,
    CheckInSerializer,
    EnrolledSerializer,
    FileDetailSerializer,
    FileQuerySerializer,
    FileSerializer,
    TransitionInputSerializer,
)

UNAUTHENTICATED = OpenApiResponse(ErrorSerializer, description="`not_authenticated`.")
NOT_FOUND = OpenApiResponse(
    ErrorSerializer, description="`not_found`: unknown, or not of the caller's offices."
)
INVALID = OpenApiResponse(
    InvalidErrorSerializer, description="`invalid`: messages by field in `fields`."
)
REFERENCE = OpenApiParameter(
    "reference", OpenApiTypes.STR, OpenApiParameter.PATH, description="Booking reference."
)
FILE_REFERENCE = OpenApiParameter(
    "reference", OpenApiTypes.STR, OpenApiParameter.PATH, description="File number."
)


class StaffAPIView(APIView):
    """A member of staff, by token or session; JSON in and out, in the request's language."""

    authentication_classes = [tokens.ExpiringTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    def initial(self, request: Request, *args, **kwargs) -> None:
        # As the public API: paths outside i18n_patterns read the language cookie, then
        # Accept-Language, themselves.
        language = translation.get_language_from_request(request, check_path=False)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        super().initial(request, *args, **kwargs)


def _appointment_id(reference: str) -> int:
    """The id of the appointment with this reference; the services check the office."""
    appointment_id = (
        Appointment.objects.filter(reference=reference.strip().upper())
        .values_list("pk", flat=True)
        .first()
    )
    if appointment_id is None:
        raise NotFound(_("Rendez-vous introuvable."))
    return appointment_id


def _file_detail(request: Request, reference: str) -> PassportFile:
    file = selectors.file_with_events(user=request.user, reference=reference)
    if file is None:
        raise NotFound(_("Dossier introuvable."))
    audit.record_views(user=request.user, files=[file], via=FileView.Via.API)
    return file


# Counter work --------------------------------------------------------------------------------


class AgendaView(StaffAPIView):
    """The appointments of an office on one of its local dates, in order of time."""

    @extend_schema(
        operation_id="agenda_list",
        summary="Appointments of an office on a local date",
        description="Times at the office's UTC offset. The office must be one the caller "
        "works at (agent or supervisor), or the caller an administrator.",
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE, required=True, description="Local date."),
            OpenApiParameter(
                "office", OpenApiTypes.STR, required=True, description="Code of the office."
            ),
        ],
        responses={
            200: AgendaItemSerializer(many=True),
            400: INVALID,
            401: UNAUTHENTICATED,
            404: NOT_FOUND,
        },
        tags=["staff"],
    )
    def get(self, request: Request) -> Response:
        query = AgendaQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day, code = query.validated_data["date"], query.validated_data["office"]
        office = access.counter_office(access.staff_scope(request.user), code=code)
        if office is None:
            raise NotFound(_("Bureau inconnu."))
        appointments = list(selectors.agenda(office=office, day=day))
        record_appointment_views(
            user=request.user, appointments=appointments, via=AppointmentView.Via.API
        )
        context = {"timezone": office.timezone}
        return Response(AgendaItemSerializer(appointments, many=True, context=context).data)


class AppointmentCheckInView(StaffAPIView):
    """The applicant is at the counter (idempotent)."""

    @extend_schema(
        operation_id="appointments_check_in",
        summary="Check an applicant in",
        parameters=[REFERENCE],
        request=None,
        responses={
            200: CheckInSerializer,
            401: UNAUTHENTICATED,
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="`not_changeable`."),
        },
        tags=["staff"],
    )
    def post(self, request: Request, reference: str) -> Response:
        appointment = appointment_services.appointment_check_in(
            appointment=_appointment_id(reference), by=request.user
        )
        return Response(CheckInSerializer(appointment).data)


class AppointmentEnrolView(StaffAPIView):
    """Enrol the applicant: creates the passport file. Idempotent: 201 the first time, 200
    with the same file after."""

    @extend_schema(
        operation_id="appointments_enrol",
        summary="Enrol an applicant, creating the passport file",
        parameters=[REFERENCE],
        request=None,
        responses={
            201: EnrolledSerializer,
            200: OpenApiResponse(EnrolledSerializer, description="Already enrolled."),
            401: UNAUTHENTICATED,
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="`not_changeable`."),
        },
        tags=["staff"],
    )
    def post(self, request: Request, reference: str) -> Response:
        file, created = services.file_enrol(
            appointment=_appointment_id(reference), by=request.user
        )
        return Response(EnrolledSerializer(file).data, status=201 if created else 200)


# Passport files ------------------------------------------------------------------------------


class FilePagination(PageNumberPagination):
    page_size = 50


class FileListView(StaffAPIView):
    """The files the caller may see, newest first, 50 a page."""

    pagination_class = FilePagination  # read by the schema; the view paginates itself

    @extend_schema(
        operation_id="files_list",
        summary="Passport files of the caller's offices",
        parameters=[FileQuerySerializer],
        responses={
            200: FileSerializer(many=True),
            400: INVALID,
            401: UNAUTHENTICATED,
            404: OpenApiResponse(ErrorSerializer, description="`not_found`: no such page."),
        },
        tags=["staff"],
    )
    def get(self, request: Request) -> Response:
        query = FileQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        files = selectors.files_search(
            user=request.user,
            status=filters.get("status"),
            office=filters.get("office"),
            text=filters.get("q"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(files, request, view=self)
        audit.record_views(user=request.user, files=page, via=FileView.Via.API)
        return paginator.get_paginated_response(FileSerializer(page, many=True).data)


class FileDetailView(StaffAPIView):
    """A file and its events."""

    @extend_schema(
        operation_id="files_retrieve",
        summary="A passport file and its history",
        parameters=[FILE_REFERENCE],
        responses={200: FileDetailSerializer, 401: UNAUTHENTICATED, 404: NOT_FOUND},
        tags=["staff"],
    )
    def get(self, request: Request, reference: str) -> Response:
        return Response(FileDetailSerializer(_file_detail(request, reference)).data)


class FileTransitionView(StaffAPIView):
    """Move a file to its next status, if it is still at `expected`."""

    @extend_schema(
        operation_id="files_transition",
        summary="Move a file to its next status",
        parameters=[FILE_REFERENCE],
        request=TransitionInputSerializer,
        responses={
            200: FileDetailSerializer,
            400: OpenApiResponse(
                InvalidErrorSerializer, description="`invalid` or `reason_required`."
            ),
            401: UNAUTHENTICATED,
            403: OpenApiResponse(
                ErrorSerializer, description="`forbidden`: the role may not make this move."
            ),
            404: NOT_FOUND,
            409: OpenApiResponse(
                ErrorSerializer,
                description="`status_changed`, `illegal_transition` or `pouch_only` (a "
                "mission's passport leaves and arrives only through the pouch services), with "
                "`current`.",
            ),
        },
        tags=["staff"],
    )
    def post(self, request: Request, reference: str) -> Response:
        serializer = TransitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        file_id = (
            selectors.files_visible_to(user=request.user)
            .filter(reference=reference)
            .values_list("pk", flat=True)
            .first()
        )
        if file_id is None:
            raise NotFound(_("Dossier introuvable."))
        services.file_transition(
            file=file_id,
            to=data["to"],
            expected=data["expected"],
            by=request.user,
            note=data.get("note", ""),
        )
        return Response(FileDetailSerializer(_file_detail(request, reference)).data)


class FileBulkTransitionView(StaffAPIView):
    """Move many files to one status, each in its own transaction: one file refused does
    not hold back the others."""

    @extend_schema(
        operation_id="files_bulk_transition",
        summary="Move many files to one status, each on its own",
        description="Each file is moved only if it is still at the status it had when the "
        "request began; otherwise its result is `status_changed`. A file that is unknown or "
        "not of the caller's offices is `not_found`.",
        request=BulkTransitionInputSerializer,
        responses={200: BulkTransitionSerializer, 400: INVALID, 401: UNAUTHENTICATED},
        tags=["staff"],
    )
    def post(self, request: Request) -> Response:
        serializer = BulkTransitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        results = services.files_bulk_transition(
            by=request.user, references=data["files"], to=data["to"], note=data.get("note", "")
        )
        return Response(BulkTransitionSerializer({"results": results}).data)
