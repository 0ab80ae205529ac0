"""The booking's input serializer builds its fields once per thread (FieldsKeptPerThread):
each request still gets its own validation, errors and data."""

import threading

import pytest

from appointments.api.serializers import BookingInputSerializer
from appointments.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


def body(slot, **changes):
    return {
        "slot": slot.pk,
        "surname": "Traoré",
        "given_names": "Awa",
        "birth_date": "1990-04-01",
        "national_id": "NINA12345678",
        "email": "awa@example.org",
        "phone": "+22376123456",
        **changes,
    }


def test_one_thread_reuses_its_fields_and_each_request_keeps_its_own_errors():
    slot = SlotFactory()
    wrong = BookingInputSerializer(data=body(slot, email="nope", surname=""))
    assert not wrong.is_valid()
    right = BookingInputSerializer(data=body(slot))
    assert right.is_valid(), right.errors
    assert right.fields is wrong.fields  # built once in this thread
    assert all(field.parent is right for field in right.fields.values())
    assert set(wrong.errors) == {"email", "surname"}
    assert right.validated_data["surname"] == "TRAORÉ"
    assert BookingInputSerializer(data=body(slot, phone="123")).is_valid() is False


def test_threads_have_fields_of_their_own():
    slot = SlotFactory()
    seen = {}

    def validate(name, data):
        serializer = BookingInputSerializer(data=data)
        seen[name] = (serializer.is_valid(), serializer.fields)

    threads = [
        threading.Thread(target=validate, args=("right", body(slot))),
        threading.Thread(target=validate, args=("wrong", body(slot, email="nope"))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen["right"][0] is True
    assert seen["wrong"][0] is False
    assert seen["right"][1] is not seen["wrong"][1]
