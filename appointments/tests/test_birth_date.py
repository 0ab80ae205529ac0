"""The date of birth as three plain fields (day, month, year), with a clear message for a
date left incomplete or impossible: in the booking form and in the tracking form."""

from datetime import date

import pytest

from appointments.birth_date import BirthDateField
from appointments.models import Appointment
from appointments.tests.booking_form import FORM, day_url
from appointments.tests.factories import paris_consulate, slot_at


def parts(day: str, month: str, year: str) -> dict:
    return {"birth_date_day": day, "birth_date_month": month, "birth_date_year": year}


def clean(data: dict):
    from django import forms

    class Form(forms.Form):
        birth_date = BirthDateField()

    form = Form(data)
    return form.cleaned_data["birth_date"] if form.is_valid() else form.errors["birth_date"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (parts("17", "5", "1990"), date(1990, 5, 17)),
        (parts(" 07 ", "05", "1990"), date(1990, 5, 7)),
        (parts("29", "2", "2000"), date(2000, 2, 29)),
        ({"birth_date": "1990-05-17"}, date(1990, 5, 17)),  # as a date picker sent it
    ],
)
def test_three_fields_make_a_date(typed, expected):
    assert clean(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (parts("", "", ""), "Saisissez votre date de naissance."),
        ({}, "Saisissez votre date de naissance."),
        (parts("17", "", "1990"), "La date de naissance doit comprendre le mois."),
        (parts("", "5", "1990"), "La date de naissance doit comprendre le jour."),
        (parts("17", "5", ""), "La date de naissance doit comprendre l’année."),
        (parts("17", "", ""), "doit comprendre le jour, le mois et l’année"),
        (parts("31", "2", "1990"), "doit être une vraie date"),
        (parts("29", "2", "1990"), "doit être une vraie date"),
        (parts("0", "5", "1990"), "doit être une vraie date"),
        (parts("17", "13", "1990"), "doit être une vraie date"),
        (parts("dix", "5", "1990"), "doit être une vraie date"),
        (parts("١٧", "5", "1990"), "doit être une vraie date"),  # digits, not ASCII ones
        (parts("17", "5", "90"), "4 chiffres"),
        (parts("17", "5", "9" * 5000), "4 chiffres"),
        (parts("117", "5", "1990"), "doit être une vraie date"),
        ({"birth_date": "1990-13-01"}, "doit être une vraie date"),
    ],
)
def test_an_incomplete_or_impossible_date_gets_a_clear_message(typed, message):
    errors = clean(typed)
    assert any(message in error for error in errors), errors


@pytest.mark.django_db
def test_the_booking_form_asks_three_numeric_fields(client, settings):
    settings.BOOKING_CHALLENGE = False
    slot = slot_at(paris_consulate(), 9)
    html = client.get(day_url(slot)).content.decode()
    assert 'type="date"' not in html
    assert "<legend>Date de naissance</legend>" in html
    for part, label in (("day", "Jour"), ("month", "Mois"), ("year", "Année")):
        field = html[html.index(f'name="birth_date_{part}"') :].split(">")[0]
        assert 'inputmode="numeric"' in field
        assert f'autocomplete="bday-{part}"' in field
        assert f'<label for="id_birth_date_{"dmy".index(part[0])}">{label}</label>' in html


@pytest.mark.django_db
def test_a_booking_with_an_impossible_date_says_so_and_books_nothing(client, settings):
    settings.BOOKING_CHALLENGE = False
    slot = slot_at(paris_consulate(), 9)
    data = {**FORM, **parts("31", "4", "1990"), "slot": slot.pk}
    response = client.post(day_url(slot), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "La date de naissance doit être une vraie date" in html
    assert 'value="31"' in html  # what was typed stays
    assert not Appointment.objects.exists()
    data.update(parts("30", "4", "1990"))
    assert client.post(day_url(slot), data).status_code == 302
    assert Appointment.objects.get().birth_date == date(1990, 4, 30)


@pytest.mark.django_db
def test_the_tracking_form_asks_the_same_three_fields(client):
    html = client.get("/suivi/").content.decode()
    assert 'type="date"' not in html
    assert 'autocomplete="bday-year"' in html
    response = client.post("/suivi/", {"reference": "ACDE-FGHJ", **parts("30", "2", "1990")})
    assert "La date de naissance doit être une vraie date" in response.content.decode()
