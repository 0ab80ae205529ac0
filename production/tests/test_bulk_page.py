"""Bulk moves from the file list page go through files_bulk_transition, as the API does:
a bounded number of queries per file, the limit said aloud rather than files dropped."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.tests.factories import member
from production.models import FileEvent, FileStatus, PassportFile
from production.services import MAX_BULK_FILES
from production.tests.factories import PassportFileFactory

pytestmark = pytest.mark.django_db


def _bulk(client, files, to="delivered"):
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/staff/dossiers/", {"files": files, "to": to}, follow=True)
    return response, len(queries.captured_queries)


def test_a_bulk_move_costs_the_same_queries_for_each_file(client, paris):
    client.force_login(member("agent", paris.office))
    few = PassportFileFactory.create_batch(
        2, centre=paris.centre, office=paris.office, status=FileStatus.READY
    )
    many = PassportFileFactory.create_batch(
        12, centre=paris.centre, office=paris.office, status=FileStatus.READY
    )
    _response, queries_few = _bulk(client, [f.reference for f in few])
    response, queries_many = _bulk(client, [f.reference for f in many])
    assert "12 dossier(s) mis à jour." in response.content.decode()
    per_file = (queries_many - queries_few) / 10
    assert per_file == int(per_file)  # the same for every file
    # Lock and read the file, read the caller's roles, write the file and its event, and
    # the savepoint around each: no second lookup of the file by the page.
    assert per_file <= 6
    assert set(PassportFile.objects.values_list("status", flat=True)) == {FileStatus.DELIVERED}


def test_more_files_than_the_limit_are_refused_with_a_message_and_none_moves(client, paris):
    client.force_login(member("agent", paris.office))
    file = PassportFileFactory(centre=paris.centre, office=paris.office, status=FileStatus.READY)
    references = [file.reference] + [f"DNOPE-{n:05d}" for n in range(MAX_BULK_FILES)]
    response, _queries = _bulk(client, references)
    assert f"Choisissez au plus {MAX_BULK_FILES} dossiers à la fois." in response.content.decode()
    file.refresh_from_db()
    assert file.status == FileStatus.READY
    assert not FileEvent.objects.exists()
