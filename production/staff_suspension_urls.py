from django.urls import path

from . import staff_suspensions

app_name = "suspensions"

urlpatterns = [
    path("", staff_suspensions.suspensions, name="list"),
    path("<int:pk>/reouverture/", staff_suspensions.suspension_reopening, name="reopening"),
    path("<int:pk>/supprimer/", staff_suspensions.suspension_delete, name="delete"),
]
