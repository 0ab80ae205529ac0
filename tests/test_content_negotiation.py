"""The API's content negotiation: the commonest Accept headers are answered at once, any
other is negotiated by DRF as before."""

import pytest

from appointments.tests.factories import CentreOfficeFactory

pytestmark = pytest.mark.django_db

OFFICES = "/api/v1/offices/"


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "application/json, text/plain, */*"]
)
def test_json_for_whoever_accepts_it(client, accept):
    CentreOfficeFactory(code="bko-centre")
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = client.get(OFFICES, **extra)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert [office["code"] for office in response.json()] == ["bko-centre"]


def test_a_client_that_accepts_no_json_is_told_so(client):
    response = client.get(OFFICES, HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"


def test_a_format_asked_in_the_url_is_still_negotiated(client):
    assert client.get(OFFICES + "?format=json").status_code == 200
    assert client.get(OFFICES + "?format=xml").status_code == 404
