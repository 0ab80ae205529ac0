from django.urls import path

from . import views

app_name = "appointments"

urlpatterns = [
    path("", views.home, name="home"),
    path("bureaux/<slug:code>/", views.office_detail, name="office"),
    path("bureaux/<slug:code>/jour/<str:day>/", views.office_day, name="office-day"),
    path("bureaux/<slug:code>/creneau/<int:slot_id>/", views.book, name="book"),
    path("rendez-vous/<str:reference>/<str:token>/", views.manage, name="manage"),
    path(
        "rendez-vous/<str:reference>/<str:token>/calendrier.ics",
        views.manage_ics,
        name="manage-ics",
    ),
    path(
        "rendez-vous/<str:reference>/<str:token>/convocation.pdf",
        views.manage_pdf,
        name="manage-pdf",
    ),
    path(
        "rendez-vous/<str:reference>/<str:token>/confirmer/",
        views.manage_confirm,
        name="manage-confirm",
    ),
    path(
        "rendez-vous/<str:reference>/<str:token>/annuler/",
        views.manage_cancel,
        name="manage-cancel",
    ),
    path(
        "rendez-vous/<str:reference>/<str:token>/messages/",
        views.manage_notifications,
        name="manage-notifications",
    ),
    path(
        "rendez-vous/<str:reference>/<str:token>/deplacer/",
        views.manage_move,
        name="manage-move",
    ),
]
