"""The floor of the booking-rush benchmark (bench/booking_rush.py).

A minimal view that does only what a booking cannot avoid: the two SQL statements of a
seat reservation, a conditional update of the slot's counter and the insert of the booking,
in one transaction. The benchmark measures it on the same server, in the same run, as the
real booking API, so that the API's throughput is read as a fraction of this floor rather
than as a bare time on a noisy machine.

Served at /bench/floor/ by the benchmark's own settings (bench/settings.py, bench/urls.py),
never by the portal's. Its two tables, bench_floor_slot and bench_floor_booking, are created
with raw SQL by the benchmark's set-up (FLOOR_TABLES_SQL), never by a migration.
"""

import json
import secrets

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

FLOOR_TABLES_SQL = """
CREATE TABLE bench_floor_slot (
    id bigint PRIMARY KEY,
    capacity smallint NOT NULL CHECK (capacity > 0),
    booked smallint NOT NULL DEFAULT 0,
    CHECK (booked >= 0 AND booked <= capacity)
);
CREATE TABLE bench_floor_booking (
    id bigserial PRIMARY KEY,
    reference varchar(16) NOT NULL,
    slot_id bigint NOT NULL REFERENCES bench_floor_slot (id),
    surname varchar(100) NOT NULL,
    given_names varchar(150) NOT NULL,
    birth_date date NOT NULL,
    national_id varchar(20) NOT NULL,
    email varchar(254) NOT NULL,
    phone varchar(16) NOT NULL,
    language varchar(2) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""

_UPDATE = "UPDATE bench_floor_slot SET booked = booked + 1 WHERE id = %s AND booked < capacity"
_INSERT = (
    "INSERT INTO bench_floor_booking (reference, slot_id, surname, given_names, birth_date,"
    " national_id, email, phone, language) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


@csrf_exempt
@require_POST
def floor_booking(request: HttpRequest) -> JsonResponse:
    """POST {slot, surname, given_names, birth_date, national_id, email, phone, language}:
    201 {reference, slot} when a seat was taken, 409 {code: slot_full} otherwise."""
    try:
        data = json.loads(request.body)
        slot = int(data["slot"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"code": "invalid"}, status=400)
    reference = secrets.token_hex(4).upper()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_UPDATE, [slot])
        if cursor.rowcount != 1:
            return JsonResponse({"code": "slot_full"}, status=409)
        cursor.execute(
            _INSERT,
            [
                reference,
                slot,
                data.get("surname", ""),
                data.get("given_names", ""),
                data.get("birth_date", "1990-01-01"),
                data.get("national_id", ""),
                data.get("email", ""),
                data.get("phone", ""),
                data.get("language", "fr"),
            ],
        )
    return JsonResponse({"reference": reference, "slot": slot}, status=201)
