from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from core import views
from production import schema
from production.metrics import metrics
from production.public_views import track, track_by_link, track_link_request

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    # The whole schema for staff, its public part for anyone else.
    path("api/schema/", schema.SchemaView.as_view(), name="api-schema"),
    path("api/docs/", schema.SwaggerView.as_view(), name="api-docs"),
    path("api/v1/", include("appointments.api.urls")),
    path("api/v1/", include("production.api.urls")),
]

# --- Operations: Prometheus metrics, for METRICS_ALLOWED_IPS only ---------------
urlpatterns += [path("metrics", metrics, name="metrics")]

# Pages for people: French at the root, English under /en/.
urlpatterns += i18n_patterns(
    path(settings.ADMIN_URL, admin.site.urls),  # the admin at ADMIN_URL
    path("staff/valises/", include("consulates.staff_urls")),
    path("staff/suspensions/", include("production.staff_suspension_urls")),
    path("staff/", include("production.staff_urls")),
    path("statut/", include("production.public_urls")),
    path("suivi/", track, name="track"),
    path("suivi/lien/", track_link_request, name="track-link-request"),
    path("suivi/lien/<str:token>/", track_by_link, name="track-link"),
    path("", include("appointments.urls")),
    prefix_default_language=False,
)

handler404 = "core.api.page_not_found"

# --- Celery and faults: a clean 503 while the database cannot be reached --------
handler500 = "core.unavailable.server_error"
