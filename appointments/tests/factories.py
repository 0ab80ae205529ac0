import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth.models import User
from django.utils import timezone

from appointments.models import Appointment, Slot
from appointments.services import Applicant, booking_create, closure_create, opening_hours_set
from core.models import Membership, Office

BAMAKO = ZoneInfo("Africa/Bamako")
# The morning the service reopened after the suspension (a Monday): the instant the tests of
# notifications and documents book at, with the clock three days earlier.
REOPENING_MORNING = datetime(2025, 11, 24, 8, 30, tzinfo=BAMAKO)

# The Consulate General of Mali in Paris, as the tests describe it (without its code).
PARIS = {
    "name": "Consulat général du Mali à Paris",
    "kind": "mission",
    "city": "Paris",
    "country": "FR",
    "timezone": ZoneInfo("Europe/Paris"),
}


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"office-{n}")
    name = factory.LazyAttribute(lambda o: f"Bureau {o.city}")
    kind = Office.Kind.MISSION
    city = factory.Faker("city", locale="fr_FR")
    country = "FR"
    timezone = ZoneInfo("Europe/Paris")
    address = factory.Faker("address", locale="fr_FR")
    active = True


class CentreOfficeFactory(OfficeFactory):
    code = factory.Sequence(lambda n: f"centre-{n}")
    kind = Office.Kind.CENTRE
    country = "ML"
    city = "Bamako"
    timezone = BAMAKO


def paris_consulate(**overrides) -> Office:
    """The consulate in Paris (`paris-consulat`), in French and in English."""
    fields = {
        **PARIS,
        "name_en": "Consulate General of Mali in Paris",
        "address": "64 rue de Prony, 75017 Paris",
    }
    return OfficeFactory(code="paris-consulat", **{**fields, **overrides})


def bamako_centre(**overrides) -> Office:
    """The production centre of Bamako, its name in French and English, its address."""
    fields = {
        "name": "Centre de production de Bamako",
        "name_en": "Bamako production centre",
        "address": "Avenue de l’Indépendance\nBamako",
    }
    return CentreOfficeFactory(**{**fields, **overrides})


def weekday_mornings(office: Office) -> Office:
    """Opening hours Monday to Friday, 09:00-12:00, in 30-minute slots with two counters."""
    opening_hours_set(
        office=office,
        weekdays=[0, 1, 2, 3, 4],
        periods=[(time(9, 0), time(12, 0))],
        slot_minutes=30,
        counters=2,
    )
    return office


class SlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Slot

    office = factory.SubFactory(OfficeFactory)
    starts_at = factory.Sequence(
        lambda n: (
            timezone.now().replace(minute=0, second=0, microsecond=0)
            + timedelta(days=2, minutes=15 * n)
        )
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(minutes=15))
    capacity = 3


def local_time(office: Office, hour: int, minute: int = 0, *, days: int = 1) -> datetime:
    """`hour:minute` at the office, in its own timezone, `days` from today (tomorrow)."""
    local = timezone.now().astimezone(office.timezone) + timedelta(days=days)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def slot_at(office: Office, hour: int, minute: int = 0, *, days: int = 1, **fields) -> Slot:
    """A 15-minute slot at `hour:minute`, local time, `days` from today (tomorrow)."""
    start = local_time(office, hour, minute, days=days)
    return SlotFactory(
        office=office, starts_at=start, ends_at=start + timedelta(minutes=15), **fields
    )


_identity = itertools.count(100000)


def applicant(**overrides) -> Applicant:
    """A valid, normalised applicant with a fresh identity number."""
    values = {
        "surname": "TRAORÉ",
        "given_names": "Aminata",
        "birth_date": date(1990, 5, 17),
        "national_id": f"NINA{next(_identity):011d}",
        "email": "aminata.traore@example.org",
        "phone": "+22376123456",
        "language": "fr",
    }
    values.update(overrides)
    return Applicant(**values)


_contacts = iter(range(1_000_000, 9_999_999))


def someone(**overrides) -> Applicant:
    """An applicant with an identity number, a phone number and a mailbox of their own (one
    pending hold each, at most)."""
    n = next(_contacts)
    return applicant(**{"phone": f"+2237{n:07d}", "email": f"person{n}@example.org", **overrides})


def book(
    office: Office | None = None,
    starts_at: datetime | None = None,
    *,
    slot: Slot | None = None,
    now: datetime | None = None,
    **who,
) -> tuple[Appointment, str]:
    """Book through the service, as an applicant does; returns the appointment and its manage
    token. In `slot`, or else in a 15-minute slot of its own at `office` (a new centre if
    none) starting at `starts_at` (in two hours if none). `who` changes the applicant."""
    if slot is None:
        starts_at = starts_at or timezone.now() + timedelta(hours=2)
        slot = SlotFactory(
            office=office or CentreOfficeFactory(),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=15),
        )
    return booking_create(slot=slot, applicant=applicant(**who), now=now)


def reopening_slot(office: Office | None = None, **fields) -> Slot:
    """A 15-minute slot on the reopening morning, at `office` (a new centre if none)."""
    return SlotFactory(
        office=office or CentreOfficeFactory(),
        starts_at=REOPENING_MORNING,
        ends_at=REOPENING_MORNING + timedelta(minutes=15),
        **fields,
    )


def book_at_reopening(office: Office | None = None, **kwargs) -> tuple[Appointment, str]:
    """Book for the reopening morning (or in `slot=`), three days before it."""
    return book(office, REOPENING_MORNING, now=REOPENING_MORNING - timedelta(days=3), **kwargs)


def displace(appointment: Appointment) -> None:
    """Close the appointment's office on its day, which displaces it."""
    day = appointment.slot.starts_at.astimezone(appointment.office.timezone).date()
    closure_create(
        office=appointment.office, start_date=day, end_date=day, reason="Fermeture exceptionnelle"
    )


# Staff ------------------------------------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff-{n}")
    password = factory.django.Password("pw")


class MembershipFactory(factory.django.DjangoModelFactory):
    """A member of staff's role at an office; an administrator's has no office."""

    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Membership.Role.AGENT
    office = factory.Maybe(
        factory.LazyAttribute(lambda o: o.role == Membership.Role.ADMIN),
        yes_declaration=None,
        no_declaration=factory.SubFactory(OfficeFactory),
    )


def member(role: str, office: Office | None = None, **user) -> User:
    """A new member of staff holding `role` at `office` (none for an administrator), whose
    password is `pw`; `user` sets fields of the account (`username="awa"`)."""
    fields = {f"user__{name}": value for name, value in user.items()}
    if office is not None:
        fields["office"] = office
    return MembershipFactory(role=role, **fields).user


def move(appointments, status: str) -> int:
    """Bring these appointments (a queryset) to `status` as the services would, by a move of
    the table (appointments/transitions.py), for a test that needs them there; returns how
    many moved. A move outside the table is a mistake of the test: ValueError."""
    from django.db import transaction

    from appointments import transitions

    moved = 0
    with transaction.atomic():
        for appointment in appointments.select_for_update().order_by("pk"):
            if appointment.status == status:
                continue  # already there: no move
            actions = sorted(transitions.MOVES.get((appointment.status, status), ()))
            if not actions:
                raise ValueError(f"no move from {appointment.status} to {status}")
            with transitions.recorded(action=actions[0]):
                moved += Appointment.objects.filter(pk=appointment.pk).update(status=status)
    return moved
