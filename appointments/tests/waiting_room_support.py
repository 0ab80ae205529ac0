"""Helpers shared by the tests of the waiting room (test_waiting_room.py,
test_waiting_room_admissions.py): the moment of the reopening, a place taken and looked at
through the API, places taken through the service."""

from datetime import UTC, datetime

from appointments import waiting_room

REOPENS_AT = datetime(2025, 11, 24, 7, 30, tzinfo=UTC)  # 07:30 in Bamako


def join(client, office) -> dict:
    response = client.post(f"/api/v1/waiting-room/{office.code}/")
    assert response.status_code == 201, response.content
    return response.json()


def place(client, office, ticket: str):
    return client.get(f"/api/v1/waiting-room/{office.code}/{ticket}/")


def tickets(n: int, office, *, first_network: int = 0, now=None) -> list[waiting_room.Place]:
    """n places taken through the service, each from a network (and address) of its own."""
    return [
        waiting_room.ticket_issue(
            office_id=office.pk,
            network=f"10.{i // 256}.{i % 256}.0/24",
            address=f"10.{i // 256}.{i % 256}.1",
            now=now,
        )
        for i in range(first_network, first_network + n)
    ]
