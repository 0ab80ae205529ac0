from django.urls import path

from . import public_views

app_name = "status"

urlpatterns = [
    path("", public_views.status, name="page"),
]
