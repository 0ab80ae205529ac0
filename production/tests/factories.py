import itertools
from datetime import date, time

import factory

from appointments.services import opening_hours_set
from appointments.tests.factories import CentreOfficeFactory, book
from production.models import Centre, FileStatus, PassportFile

_file_number = itertools.count(1)


class CentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Centre
        skip_postgeneration_save = True

    office = factory.SubFactory(CentreOfficeFactory)
    daily_capacity = 200

    @factory.post_generation
    def works_every_day(centre, create, extracted, **kwargs):
        """Open all day every day (the dispatcher takes a batch only on a day its centre
        works), unless `works_every_day=False`."""
        if create and extracted is not False:
            opening_hours_set(
                office=centre.office,
                weekdays=list(range(7)),
                periods=[(time(0), time(23, 59))],
                slot_minutes=60,
                counters=1,
            )


class PassportFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PassportFile

    reference = factory.LazyFunction(lambda: f"DOS-{next(_file_number):07d}")
    centre = factory.SubFactory(CentreFactory)
    office = factory.LazyAttribute(lambda o: o.centre.office)
    status = FileStatus.ENROLLED
    surname = "COULIBALY"
    given_names = "Fanta"
    national_id = factory.Sequence(lambda n: f"NINA{n:011d}")
    due_date = date(2026, 12, 15)
    rejection_reason = factory.LazyAttribute(
        lambda o: "Dossier incomplet" if o.status == FileStatus.REJECTED else ""
    )


def queued_files(centre, n: int, *, due_date: date, **fields) -> list[PassportFile]:
    """n queued files of `centre`, in the dispatcher's order (one due date, enrolled one
    after another)."""
    return [
        PassportFileFactory(
            centre=centre,
            office=centre.office,
            status=FileStatus.QUEUED,
            due_date=due_date,
            **fields,
        )
        for _ in range(n)
    ]


def applicant_file(office=None, *, centre=None, status=FileStatus.ENROLLED, **who) -> PassportFile:
    """A passport file with its appointment (booked through the service at `office`, by an
    applicant changed by `who`): the applicant is told of its steps. Produced by `centre`
    (by default a new one, whose office is `office` when none is given)."""
    centre = centre or CentreFactory()
    office = office or centre.office
    appointment, _token = book(office, **who)
    return PassportFileFactory(
        centre=centre,
        office=office,
        status=status,
        appointment=appointment,
        surname=appointment.surname,
        national_id=appointment.national_id,
        birth_date=appointment.birth_date,
    )


def works_weekdays(office) -> None:
    """Open 08:00-16:00 Monday to Friday only."""
    office.opening_hours.all().delete()
    opening_hours_set(
        office=office,
        weekdays=[0, 1, 2, 3, 4],
        periods=[(time(8), time(16))],
        slot_minutes=15,
        counters=2,
    )
