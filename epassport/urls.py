from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from production.public_views import track

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("appointments.api.urls")),
    path("api/v1/", include("production.api.urls")),
]

# Pages for people: French at the root, English under /en/.
urlpatterns += i18n_patterns(
    path(settings.ADMIN_URL, admin.site.urls),  # issue 10: the admin at ADMIN_URL
    path("staff/valises/", include("consulates.staff_urls")),
    path("staff/suspensions/", include("production.staff_suspension_urls")),
    path("staff/", include("production.staff_urls")),
    path("statut/", include("production.public_urls")),
    path("suivi/", track, name="track"),
    path("", include("appointments.urls")),
    prefix_default_language=False,
)
