"""The favicon: /favicon.ico answers with an icon, and every page links it, so that no page
makes the browser log a failed request."""

import pytest

pytestmark = pytest.mark.django_db

ICO_MAGIC = b"\x00\x00\x01\x00"


def test_favicon_ico_is_an_icon_kept_a_day(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/")
    assert response["Cache-Control"] == "public, max-age=86400"
    body = b"".join(response.streaming_content)
    assert body.startswith(ICO_MAGIC)
    assert len(body) < 2048  # a few hundred bytes: three sizes of Mali's flag


@pytest.mark.parametrize("path", ["/", "/en/", "/statut/", "/suivi/", "/staff/connexion/"])
def test_every_page_links_the_icon(client, path):
    html = client.get(path).content.decode()
    assert '<link rel="icon" href="/static/favicon.ico"' in html


def test_the_static_files_are_not_served_at_the_root(client):
    # public/ only is: the stylesheet is a static file, not a root one.
    assert client.get("/css/portal.css").status_code == 404
