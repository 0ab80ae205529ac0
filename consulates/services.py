"""Every write about missions and pouches."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import Office
from production.models import Centre, FileStatus, PassportFile
from production.services import file_transition

from .errors import NothingToShip, NotInShipment, ShipmentAlreadyReceived
from .models import Mission, Shipment, ShipmentItem


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


# Pouches ---------------------------------------------------------------------------------


@transaction.atomic
def shipment_send(*, mission: Mission, by: User, files: list[str] | None = None) -> Shipment:
    """An operator of the producing centre puts the mission's passports that passed quality
    control into a pouch: each file goes `in_transit` (with its event) and is listed in the
    shipment. `files` restricts to these references; by default every one that is ready.
    Files are taken with SKIP LOCKED: one another operator is moving stays out."""
    ready = (
        PassportFile.objects.select_for_update(skip_locked=True)
        .filter(office=mission.office, centre=mission.centre, status=FileStatus.QUALITY_CHECK)
        .order_by("created_at", "pk")
    )
    if files is not None:
        ready = ready.filter(reference__in=files)
    chosen = list(ready)
    if not chosen:
        raise NothingToShip()
    for file in chosen:
        file_transition(
            file=file.pk, to=FileStatus.IN_TRANSIT, expected=file.status, by=by, via_pouch=True
        )
    shipment = Shipment.objects.create(
        mission=mission, centre=mission.centre, expected_count=len(chosen), sent_by=by
    )
    ShipmentItem.objects.bulk_create(ShipmentItem(shipment=shipment, file=f) for f in chosen)
    return shipment


@transaction.atomic
def shipment_receive(*, shipment: Shipment, by: User, received: list[str]) -> Shipment:
    """The mission opens the pouch and lists the passports it holds: those become `ready`
    for the applicants; a listed passport that is missing is flagged on the shipment
    (status `incomplete`, its item `received=False`) and stays `in_transit`, so that it is
    looked for, not lost. A reference that was not in the pouch is refused."""
    locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if locked.status != Shipment.Status.SENT:
        raise ShipmentAlreadyReceived()
    items = list(locked.items.select_related("file"))
    in_pouch = {item.file.reference for item in items}
    unknown = sorted(set(received) - in_pouch)
    if unknown:
        raise NotInShipment(files=unknown)
    for item in items:
        item.received = item.file.reference in received
        if item.received:
            file_transition(
                file=item.file_id,
                to=FileStatus.READY,
                expected=FileStatus.IN_TRANSIT,
                by=by,
                note=_("Reçu par valise diplomatique"),
                via_pouch=True,
            )
    ShipmentItem.objects.bulk_update(items, ["received"])
    locked.received_count = sum(1 for item in items if item.received)
    locked.status = (
        Shipment.Status.RECEIVED
        if locked.received_count == locked.expected_count
        else Shipment.Status.INCOMPLETE
    )
    locked.received_by = by
    locked.received_at = timezone.now()
    locked.save(update_fields=["received_count", "status", "received_by", "received_at"])
    return locked
