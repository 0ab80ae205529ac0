"""Members of staff and their memberships (`manage.py create_staff`, seed_demo)."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ..models import Membership, Office


@transaction.atomic
def staff_upsert(*, username: str, password: str, role: str, office_codes: list[str]):
    """Create or update a member of staff with exactly these memberships (idempotent).

    `admin` is the ministry's role for every office (no office may be given); every other
    role needs at least one office. Raises ValidationError for an unknown role or office."""

    if role not in Membership.Role.values:
        raise ValidationError({"role": _("Rôle inconnu : %(role)s.") % {"role": role}})
    offices = list(Office.objects.filter(code__in=office_codes))
    missing = sorted(set(office_codes) - {office.code for office in offices})
    if missing:
        raise ValidationError(
            {"office": _("Bureau inconnu : %(codes)s.") % {"codes": ", ".join(missing)}}
        )
    if (role == Membership.Role.ADMIN) == bool(offices):
        raise ValidationError(
            {"office": _("Un administrateur n’a pas de bureau ; les autres rôles en ont un.")}
        )
    user, _created = User.objects.get_or_create(username=username)
    if not user.check_password(password) or not user.is_active:
        user.set_password(password)
        user.is_active = True
    user.is_staff = role == Membership.Role.ADMIN  # the Django admin is for the ministry only
    user.save()
    wanted = {(office.pk, role) for office in offices} or {(None, role)}
    current = {(m.office_id, m.role): m for m in Membership.objects.filter(user=user)}
    for key, membership in current.items():
        if key not in wanted:
            membership.delete()
    Membership.objects.bulk_create(
        [
            Membership(user=user, office_id=office_id, role=r)
            for office_id, r in wanted - set(current)
        ]
    )
    return user
