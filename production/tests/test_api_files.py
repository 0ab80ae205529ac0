"""The staff API's files: the list (filters, search, pages of fifty), a file with its
events, transitions one by one and in bulk, refusals, and errors in English when asked."""

from datetime import date

import pytest

from appointments.tests.factories import book, member
from production import services
from production.api import views
from production.models import FileEvent, FileStatus, PassportFile
from production.tests.api_staff_support import agents_api
from production.tests.factories import CentreFactory, PassportFileFactory
from tests.support import token_client

pytestmark = pytest.mark.django_db


# Files --------------------------------------------------------------------------------------


def test_the_file_list_filters_and_searches(paris, bamako):
    at_paris = PassportFileFactory(centre=bamako, office=paris.office, surname="DIARRA")
    queued = PassportFileFactory(
        centre=bamako, office=paris.office, status=FileStatus.QUEUED, given_names="Seydou"
    )
    at_bamako = PassportFileFactory(centre=bamako, surname="KEITA")
    client = token_client(member("operator", bamako.office))

    def references(**query):
        response = client.get("/api/v1/files/", query)
        assert response.status_code == 200, response.json()
        return {item["reference"] for item in response.json()["results"]}

    assert references() == {at_paris.reference, queued.reference, at_bamako.reference}
    assert references(status="queued") == {queued.reference}
    assert references(office="paris-consulat") == {at_paris.reference, queued.reference}
    assert references(q="diar") == {at_paris.reference}
    assert references(q="SEYD") == {queued.reference}
    assert references(q=at_bamako.reference.lower()) == {at_bamako.reference}
    item = client.get("/api/v1/files/", {"q": "diarra"}).json()["results"][0]
    assert item == {
        "reference": at_paris.reference,
        "status": "enrolled",
        "office": "paris-consulat",
        "centre": "bko-centre",
        "surname": "DIARRA",
        "given_names": "Fanta",
        "due_date": "2026-12-15",
        "created_at": item["created_at"],
    }


def test_an_unknown_status_filter_is_invalid(paris):
    response = agents_api(paris).get("/api/v1/files/", {"status": "lost"})
    assert response.status_code == 400
    assert "status" in response.json()["fields"]


def test_the_file_list_has_pages_of_fifty(paris, bamako):
    PassportFileFactory.create_batch(53, centre=bamako, office=paris.office)
    client = agents_api(paris)
    first = client.get("/api/v1/files/").json()
    assert first["count"] == 53
    assert len(first["results"]) == 50
    assert first["next"].endswith("page=2")
    second = client.get("/api/v1/files/", {"page": 2}).json()
    assert len(second["results"]) == 3
    seen = {i["reference"] for i in first["results"]} | {i["reference"] for i in second["results"]}
    assert len(seen) == 53
    assert client.get("/api/v1/files/", {"page": 3}).status_code == 404


def test_a_file_comes_with_its_events(paris, bamako):
    agent = member("agent", paris.office, username="awa")
    appointment, _token = book(paris.office)
    file, _ = services.file_enrol(appointment=appointment, by=agent)
    services.file_transition(file=file, to="queued", expected="enrolled", by=agent, note="OK")
    response = token_client(agent).get(f"/api/v1/files/{file.reference}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["reference"], body["status"], body["office"]) == (
        file.reference,
        "queued",
        "paris-consulat",
    )
    assert [(e["from_status"], e["to_status"], e["by"], e["note"]) for e in body["events"]] == [
        ("", "enrolled", "awa", ""),
        ("enrolled", "queued", "awa", "OK"),
    ]


def test_a_transition_moves_the_file_and_writes_its_event(paris, bamako):
    file = PassportFileFactory(centre=bamako, office=paris.office)
    response = agents_api(paris).post(
        f"/api/v1/files/{file.reference}/transition/",
        {"to": "queued", "expected": "enrolled", "note": "Complet"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    assert response.json()["events"][-1]["note"] == "Complet"
    assert FileEvent.objects.get(file=file).to_status == "queued"
    assert PassportFile.objects.get(pk=file.pk).status == "queued"


@pytest.mark.parametrize(
    ("role", "body", "status", "code"),
    [
        ("agent", {"to": "queued", "expected": "queued"}, 409, "status_changed"),
        ("agent", {"to": "delivered", "expected": "enrolled"}, 409, "illegal_transition"),
        ("agent", {"to": "on_hold", "expected": "enrolled"}, 403, "forbidden"),
        ("supervisor", {"to": "rejected", "expected": "enrolled"}, 400, "reason_required"),
        ("agent", {"to": "lost", "expected": "enrolled"}, 400, "invalid"),
        ("agent", {"to": "queued"}, 400, "invalid"),
    ],
)
def test_refused_transitions(paris, bamako, role, body, status, code):
    file = PassportFileFactory(centre=bamako, office=paris.office)
    response = token_client(member(role, paris.office)).post(
        f"/api/v1/files/{file.reference}/transition/", body, format="json"
    )
    assert response.status_code == status
    assert response.json()["code"] == code
    if code in ("status_changed", "illegal_transition"):
        assert response.json()["current"] == "enrolled"
    assert PassportFile.objects.get(pk=file.pk).status == "enrolled"
    assert not FileEvent.objects.exists()


def test_errors_speak_english_when_asked(paris):
    response = agents_api(paris).get("/api/v1/files/DOS-9999999/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "File not found."}


# Bulk ---------------------------------------------------------------------------------------


def test_a_bulk_transition_moves_each_file_on_its_own(paris, bamako):
    queueable = PassportFileFactory(centre=bamako, office=paris.office)
    done = PassportFileFactory(centre=bamako, office=paris.office, status=FileStatus.DELIVERED)
    elsewhere = PassportFileFactory(centre=CentreFactory(office__code="kayes-centre"))
    agent = member("agent", paris.office)
    response = token_client(agent).post(
        "/api/v1/files/bulk-transition/",
        {
            "files": [queueable.reference, done.reference, elsewhere.reference, "NOPE"],
            "to": "queued",
        },
        format="json",
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0] == {"file": queueable.reference, "ok": True, "status": "queued"}
    assert {k: results[1][k] for k in ("file", "ok", "code")} == {
        "file": done.reference,
        "ok": False,
        "code": "illegal_transition",
    }
    assert results[1]["detail"]
    for result, reference in zip(results[2:], [elsewhere.reference, "NOPE"], strict=True):
        assert result == {
            "file": reference,
            "ok": False,
            "code": "not_found",
            "detail": "Dossier introuvable.",
        }
    assert PassportFile.objects.get(pk=queueable.pk).status == "queued"
    assert PassportFile.objects.get(pk=elsewhere.pk).status == "enrolled"


def test_a_file_changed_during_a_bulk_transition_is_not_overwritten(paris, bamako, monkeypatch):
    first = PassportFileFactory(centre=bamako, office=paris.office)
    second = PassportFileFactory(centre=bamako, office=paris.office)
    supervisor = member("supervisor", paris.office)
    real = services.file_transition

    def someone_else_moves_the_second_file_first(**kwargs):
        if kwargs["file"] == first.pk:
            # Meanwhile, at another counter: the second file is put on hold.
            real(file=second.pk, to="on_hold", expected="enrolled", by=supervisor)
        return real(**kwargs)

    monkeypatch.setattr(
        views.services, "file_transition", someone_else_moves_the_second_file_first
    )
    response = agents_api(paris).post(
        "/api/v1/files/bulk-transition/",
        {"files": [first.reference, second.reference], "to": "queued"},
        format="json",
    )
    results = response.json()["results"]
    assert results[0]["ok"] is True
    assert (results[1]["ok"], results[1]["code"]) == (False, "status_changed")
    assert PassportFile.objects.get(pk=second.pk).status == "on_hold"


def test_a_bulk_transition_takes_at_most_500_files(paris):
    response = agents_api(paris).post(
        "/api/v1/files/bulk-transition/",
        {"files": [f"DOS-{n:07d}" for n in range(501)], "to": "queued"},
        format="json",
    )
    assert response.status_code == 400
    assert "files" in response.json()["fields"]


def test_a_reference_sent_twice_is_moved_once(paris, bamako):
    file = PassportFileFactory(centre=bamako, office=paris.office)
    response = agents_api(paris).post(
        "/api/v1/files/bulk-transition/",
        {"files": [file.reference, file.reference], "to": "queued"},
        format="json",
    )
    assert response.json()["results"] == [{"file": file.reference, "ok": True, "status": "queued"}]
    assert FileEvent.objects.filter(file=file).count() == 1


def test_due_dates_are_dates(paris, bamako):
    PassportFileFactory(centre=bamako, office=paris.office, due_date=date(2027, 1, 4))
    item = agents_api(paris).get("/api/v1/files/").json()["results"][0]
    assert item["due_date"] == "2027-01-04"
