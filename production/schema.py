"""The API's OpenAPI schema and its Swagger UI.

Anyone gets the public part: the offices and their slots, booking and managing a booking,
the proof-of-work challenge, tracking. A member of staff (by token or session, as the staff
API authenticates) gets the whole API. The split is made per request by the generator
class, never by patching drf-spectacular's global settings, which a concurrent request in
another thread would see.

The Swagger UI is served in two answers (the page, then its script), with a stylesheet of
our own: the Content-Security-Policy allows no inline script or style."""

from django.utils.cache import patch_cache_control, patch_vary_headers
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.request import Request
from rest_framework.response import Response

from core.access import staff_scope
from production.api.views import StaffAPIView

# The operations of applicants and of the systems that act for them.
PUBLIC_PATH_PREFIXES = (
    "/api/v1/offices/",
    "/api/v1/bookings/",
    "/api/v1/challenge/",
    "/api/v1/track/",
    "/api/v1/waiting-room/",
)


def is_public_path(path: str) -> bool:
    return path.startswith(PUBLIC_PATH_PREFIXES)


class PublicSchemaGenerator(SchemaGenerator):
    """Only the public operations, and so only the components they use."""

    def _initialise_endpoints(self) -> None:
        super()._initialise_endpoints()
        self.endpoints = [endpoint for endpoint in self.endpoints if is_public_path(endpoint[0])]


class SchemaView(SpectacularAPIView):
    authentication_classes = StaffAPIView.authentication_classes

    @extend_schema(exclude=True)
    def get(self, request: Request, *args, **kwargs) -> Response:
        if not staff_scope(request.user).is_member:
            self.generator_class = PublicSchemaGenerator
        response = super().get(request, *args, **kwargs)
        # One address, two answers: no shared cache may give a member's to anyone else.
        patch_vary_headers(response, ["Authorization", "Cookie"])
        patch_cache_control(response, private=True)
        return response


class SwaggerView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
    url_name = "api-schema"
