"""Every write about offices, calendars and bookings."""

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Office


@transaction.atomic
def office_upsert(*, code: str, **fields: object) -> Office:
    """Create the office with this code, or bring its fields up to date (idempotent).

    Raises ValidationError for a bad value (unknown timezone or country, bad code...).
    """
    errors, values = {}, {}
    for name, value in fields.items():
        try:  # field by field, so that each error names its field
            values[name] = Office._meta.get_field(name).clean(value, None)
        except ValidationError as error:
            errors[name] = error.error_list
    if errors:
        raise ValidationError(errors)
    wanted = Office(code=code, **values)
    office = Office.objects.select_for_update().filter(code=code).first()
    if office is None:
        wanted.full_clean()
        wanted.save()
        return wanted
    wanted.full_clean(exclude=["code"])
    changed = [name for name in fields if getattr(office, name) != getattr(wanted, name)]
    for name in changed:
        setattr(office, name, getattr(wanted, name))
    if changed:
        office.save(update_fields=changed)
    return office
