"""Every write about missions and pouches."""

from django.db import transaction

from appointments.models import Office
from production.models import Centre

from .models import Mission


@transaction.atomic
def mission_upsert(*, office: Office, centre: Centre, pouch_weekdays: list[int]) -> Mission:
    """Make `office` a mission produced by `centre`, with its pouch days (idempotent)."""
    weekdays = sorted(set(pouch_weekdays))
    mission = Mission.objects.select_for_update().filter(office=office).first()
    if mission is None:
        mission = Mission(office=office, centre=centre, pouch_weekdays=weekdays)
        mission.full_clean()
        mission.save()
        return mission
    changed = []
    if mission.centre_id != centre.pk:
        mission.centre = centre
        changed.append("centre")
    if list(mission.pouch_weekdays) != weekdays:
        mission.pouch_weekdays = weekdays
        changed.append("pouch_weekdays")
    if changed:
        mission.full_clean()
        mission.save(update_fields=changed)
    return mission
