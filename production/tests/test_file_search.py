"""File search by part of a name or number reads trigram indexes, not every file."""

import pytest
from django.db import connection

from appointments.tests.factories import member
from production import selectors
from production.tests.factories import PassportFileFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("index", ["file_surname_trgm", "file_given_names_trgm"])
def test_the_name_search_uses_the_trigram_indexes(paris, index):
    PassportFileFactory.create_batch(20, centre=paris.centre, office=paris.office)
    files = selectors.files_search(user=member("admin"), text="ouliba")
    sql, params = files.query.sql_with_params()
    with connection.cursor() as cursor:
        # The plan of a large table: neither reading it all nor walking another index.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
        (trigrams,) = cursor.fetchone()
    if trigrams:
        assert index in plan
    else:  # the embedded server of `make test` has no contrib: the migration did without
        assert "trgm" not in plan
    assert [f.surname for f in files] == ["COULIBALY"] * 20
