"""Helpers of the booking API tests: a valid body, booking and managing calls (the `slot`
and `booking` fixtures are in conftest.py)."""

import json

BOOKINGS = "/api/v1/bookings/"


_numbers = iter(range(10_000_000, 99_999_999))


def payload(slot, /, **overrides) -> dict:
    values = {
        "slot": slot.pk,
        "surname": "Traoré",
        "given_names": "Aminata",
        "birth_date": "1990-05-17",
        "national_id": f"NINA{next(_numbers)}",
        "email": "Aminata.Traore@Example.org",
        "phone": "+223 76 12 34 56",
        "language": "fr",
    }
    values.update(overrides)
    return values


def book(api, slot, /, **overrides):
    # json.dumps escapes what is not ASCII, so that even a lone surrogate can be sent.
    body = json.dumps(payload(slot, **overrides))
    return api.post(BOOKINGS, body, content_type="application/json")


def manage(api, method: str, reference: str, token: str | None, suffix: str = "", **data):
    headers = {} if token is None else {"HTTP_X_BOOKING_TOKEN": token}
    url = f"{BOOKINGS}{reference}/{suffix}"
    if method == "get":
        return api.get(url, **headers)
    return api.post(url, data, format="json", **headers)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body
