from django.urls import path

from core.headers import SAME_ORIGIN, private_answer

from . import booking_views, views, waiting_views

app_name = "appointments"

urlpatterns = [
    path("", views.home, name="home"),
    path("bureaux/<slug:code>/", booking_views.office_detail, name="office"),
    path("bureaux/<slug:code>/jour/<str:day>/", booking_views.office_day, name="office-day"),
    path("bureaux/<slug:code>/creneau/<int:slot_id>/", booking_views.book, name="book"),
    path(
        "bureaux/<slug:code>/salle-d-attente/",
        waiting_views.waiting_room_page,
        name="waiting-room",
    ),
    path("rendez-vous/<str:reference>/<str:token>/", private_answer(views.manage), name="manage"),
    path(
        "rendez-vous/<str:reference>/<str:token>/calendrier.ics",
        private_answer(views.manage_ics),
        name="manage-ics",
    ),
    path(
        "rendez-vous/<str:reference>/<str:token>/convocation.pdf",
        private_answer(views.manage_pdf),
        name="manage-pdf",
    ),
    path(
        "rendez-vous/<str:reference>/<str:token>/confirmer/",
        private_answer(views.manage_confirm, referrer_policy=SAME_ORIGIN),
        name="manage-confirm",
    ),
    path(
        "rendez-vous/<str:reference>/<str:token>/annuler/",
        private_answer(views.manage_cancel, referrer_policy=SAME_ORIGIN),
        name="manage-cancel",
    ),
    path(
        "rendez-vous/<str:reference>/<str:token>/messages/",
        private_answer(views.manage_notifications, referrer_policy=SAME_ORIGIN),
        name="manage-notifications",
    ),
    path(
        "rendez-vous/<str:reference>/<str:token>/deplacer/",
        private_answer(views.manage_move, referrer_policy=SAME_ORIGIN),
        name="manage-move",
    ),
]
