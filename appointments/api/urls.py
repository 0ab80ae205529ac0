"""Routes of the booking API, included under /api/v1/ by epassport/urls.py."""

from django.urls import path

from core.headers import private_answer

from . import bookings, views, waiting_room

app_name = "appointments-api"

urlpatterns = [
    path("offices/", views.OfficeListView.as_view(), name="offices"),
    path("offices/<str:code>/slots/", views.OfficeSlotsView.as_view(), name="office-slots"),
    path("bookings/", bookings.BookingCreateView.as_view(), name="bookings"),
    path(
        "bookings/<str:reference>/",
        private_answer(bookings.BookingDetailView.as_view()),  # identity data
        name="booking",
    ),
    path(
        "bookings/<str:reference>/confirm/",
        bookings.BookingConfirmView.as_view(),
        name="booking-confirm",
    ),
    path(
        "bookings/<str:reference>/cancel/",
        bookings.BookingCancelView.as_view(),
        name="booking-cancel",
    ),
    path(
        "bookings/<str:reference>/reschedule/",
        bookings.BookingRescheduleView.as_view(),
        name="booking-reschedule",
    ),
    path(
        "bookings/<str:reference>/notifications/",
        bookings.BookingNotificationsView.as_view(),
        name="booking-notifications",
    ),
    path("challenge/", views.ChallengeView.as_view(), name="challenge"),
    path(
        "waiting-room/<str:code>/", waiting_room.WaitingRoomJoinView.as_view(), name="waiting-room"
    ),
    path(
        "waiting-room/<str:code>/<str:ticket>/",
        waiting_room.WaitingRoomPlaceView.as_view(),
        name="waiting-room-place",
    ),
]
