"""Routes of the staff API, included under /api/v1/ by epassport/urls.py."""

from django.urls import path

from core import api_auth

from . import backlog, suspensions, track, views

app_name = "production-api"

urlpatterns = [
    path("auth/token/", api_auth.TokenCreateView.as_view(), name="token"),
    path("agenda/", views.AgendaView.as_view(), name="agenda"),
    path(
        "appointments/<str:reference>/check-in/",
        views.AppointmentCheckInView.as_view(),
        name="appointment-check-in",
    ),
    path(
        "appointments/<str:reference>/enrol/",
        views.AppointmentEnrolView.as_view(),
        name="appointment-enrol",
    ),
    path("track/", track.TrackView.as_view(), name="track"),
    path("backlog/", backlog.BacklogView.as_view(), name="backlog"),
    path("suspensions/", suspensions.SuspensionListView.as_view(), name="suspensions"),
    path(
        "suspensions/<int:pk>/",
        suspensions.SuspensionDetailView.as_view(),
        name="suspension",
    ),
    path("files/", views.FileListView.as_view(), name="files"),
    # Before files/<reference>/: "bulk-transition" is not a file reference.
    path(
        "files/bulk-transition/",
        views.FileBulkTransitionView.as_view(),
        name="files-bulk-transition",
    ),
    path("files/<str:reference>/", views.FileDetailView.as_view(), name="file"),
    path(
        "files/<str:reference>/transition/",
        views.FileTransitionView.as_view(),
        name="file-transition",
    ),
]
