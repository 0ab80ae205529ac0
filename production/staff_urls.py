from django.contrib.auth import views as auth_views
from django.urls import path

from core import staff_login

from . import staff_evict, staff_views, staff_waiting

app_name = "staff"

urlpatterns = [
    path("", staff_views.home, name="home"),
    path("connexion/", staff_login.StaffLoginView.as_view(), name="login"),
    path("double-authentification/", staff_login.two_factor, name="two-factor"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("agenda/<slug:code>/", staff_views.agenda, name="agenda"),
    path("agenda/<slug:code>/liberer-un-numero/", staff_evict.evict, name="evict"),
    path("accueil/", staff_views.find, name="find"),
    path(
        "rendez-vous/<str:reference>/<slug:action>/",
        staff_views.appointment_action,
        name="appointment-action",
    ),
    path("dossiers/", staff_views.files, name="files"),
    path("dossiers/export.csv", staff_views.files_export, name="files-export"),
    path("dossiers/<str:reference>/", staff_views.file_detail, name="file"),
    path("backlog/", staff_views.backlog, name="backlog"),
    path("backlog/attente/<int:line_id>/", staff_waiting.waiting_line_rate, name="waiting-rate"),
]
