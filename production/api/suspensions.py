"""The suspensions of the service, by API, for administrators of the ministry only (403
`forbidden` for anyone else). Thin: the rules are in appointments.services.suspension."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from appointments import services
from appointments.api.serializers import ErrorSerializer
from appointments.models import Suspension
from core import access
from core.errors import Forbidden, NotFound
from core.models import Office

from .serializers import SuspensionInputSerializer, SuspensionSerializer
from .views import INVALID, NOT_FOUND, UNAUTHENTICATED, StaffAPIView

FORBIDDEN = OpenApiResponse(ErrorSerializer, description="`forbidden`: not an administrator.")
SUSPENSION_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


def _suspensions():
    offices = Prefetch("offices", queryset=Office.objects.only("pk", "code"))
    return Suspension.objects.prefetch_related(offices).order_by("-starts_at", "-pk")


class AdminAPIView(StaffAPIView):
    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if not access.staff_scope(request.user).is_admin:
            raise Forbidden()


class SuspensionListView(AdminAPIView):
    @extend_schema(
        operation_id="suspensions_list",
        summary="Suspensions of the service, latest first",
        responses={200: SuspensionSerializer(many=True), 401: UNAUTHENTICATED, 403: FORBIDDEN},
        tags=["suspensions"],
    )
    def get(self, request: Request) -> Response:
        return Response(SuspensionSerializer(_suspensions(), many=True).data)

    @extend_schema(
        operation_id="suspensions_create",
        summary="Suspend the service at some offices or all",
        description="Booking closes at once where the suspension is in force; appointments "
        "inside it are displaced and their applicants told; waiting files are held. The "
        "reopening is computed: booking opens at `reopens_at` without anyone acting.",
        request=SuspensionInputSerializer,
        responses={
            201: SuspensionSerializer,
            400: INVALID,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
        },
        tags=["suspensions"],
    )
    def post(self, request: Request) -> Response:
        serializer = SuspensionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        suspension = services.suspension_create(
            by=request.user,
            starts_at=data["starts_at"],
            reopens_at=data.get("reopens_at"),
            office_codes=data.get("offices"),
            message_fr=data["message_fr"],
            message_en=data.get("message_en", ""),
        )
        return Response(SuspensionSerializer(_suspensions().get(pk=suspension.pk)).data, 201)


class SuspensionDetailView(AdminAPIView):
    def _get(self, pk: int) -> Suspension:
        suspension = _suspensions().filter(pk=pk).first()
        if suspension is None:
            raise NotFound(_("Suspension introuvable."))
        return suspension

    @extend_schema(
        operation_id="suspensions_retrieve",
        summary="A suspension",
        parameters=[SUSPENSION_ID],
        responses={
            200: SuspensionSerializer,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        tags=["suspensions"],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(SuspensionSerializer(self._get(pk)).data)

    @extend_schema(
        operation_id="suspensions_partial_update",
        summary="Set or move the reopening (or change the message, the start, the offices)",
        parameters=[SUSPENSION_ID],
        request=SuspensionInputSerializer(partial=True),
        responses={
            200: SuspensionSerializer,
            400: INVALID,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        tags=["suspensions"],
    )
    def patch(self, request: Request, pk: int) -> Response:
        suspension = self._get(pk)
        serializer = SuspensionInputSerializer(suspension, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        if "offices" in fields:
            fields["office_codes"] = fields.pop("offices")
        services.suspension_update(suspension=suspension, by=request.user, **fields)
        return Response(SuspensionSerializer(self._get(pk)).data)

    @extend_schema(
        operation_id="suspensions_destroy",
        summary="Remove a suspension made by mistake",
        parameters=[SUSPENSION_ID],
        responses={204: None, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
        tags=["suspensions"],
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.suspension_delete(suspension=self._get(pk), by=request.user)
        return Response(status=204)
