"""Every write about centres and passport files."""

from django.db import transaction

from appointments.models import Office

from .models import Centre


@transaction.atomic
def centre_upsert(*, office: Office, daily_capacity: int) -> Centre:
    """Make `office` a production centre with this capacity (idempotent)."""
    centre = Centre.objects.select_for_update().filter(office=office).first()
    if centre is None:
        centre = Centre(office=office, daily_capacity=daily_capacity)
        centre.full_clean()
        centre.save()
    elif centre.daily_capacity != daily_capacity:
        centre.daily_capacity = daily_capacity
        centre.full_clean()
        centre.save(update_fields=["daily_capacity"])
    return centre
