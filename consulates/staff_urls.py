from django.urls import path

from . import staff_views

app_name = "pouches"

urlpatterns = [
    path("", staff_views.pouches, name="list"),
    path("missions/<int:mission_id>/expedier/", staff_views.pouch_send, name="send"),
    path("<int:shipment_id>/reception/", staff_views.pouch_receive, name="receive"),
]
