"""The name in messages is never a link and is cut to a sane length: whatever the applicant
typed as their name, no email of any kind (subject, text, HTML, convocation) carries it as a
URL, an address or a phone number, the HTML escapes it, and no SMS carries it at all."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from appointments import documents
from appointments.tests.factories import book_at_reopening
from core.models import OutboxMessage
from core.outbox import kinds as outbox_messages

pytestmark = pytest.mark.django_db

HOSTILE = [
    ("Visit http://evil.example", "TRAORÉ"),
    ("www.evil.com", "KEÏTA"),
    ("Aminata", "HTTPS://EVIL.EXAMPLE/PRIX?X=1 <b>gagnez</b>"),
    ("Aminata", "appelez+22370000000 ou ecrivez a gain@evil.example"),
    ("Aminata", "evil．example ｗｗｗ。evil。com"),  # full-width and ideographic dots
]
# What mail clients and phones make a link of: a scheme (http:, mailto:), a dot between two
# words (www.evil.com, evil.example), an address (@), a phone number (digits).
LINK = re.compile(r"[a-z][a-z0-9+.\-]*:|\.\S|@|\d|<", re.IGNORECASE)


class Named:
    def __init__(self, given_names: str, surname: str) -> None:
        self.given_names, self.surname = given_names, surname


@pytest.mark.parametrize(("given_names", "surname"), HOSTILE)
def test_the_name_is_never_a_link(given_names, surname):
    name = documents.applicant_name(Named(given_names, surname), limit=None)

    assert not LINK.search(name), name


def test_the_name_keeps_what_names_are_made_of():
    named = Named("Marie-Ève N’Diaye", "O'NEILL J.P.")
    assert documents.applicant_name(named) == "Marie-Ève N’Diaye O'NEILL J. P."
    assert documents.applicant_name(Named("Visit http://evil.example", "")) == (
        "Visit http evil. example"
    )


def test_the_name_is_cut_to_40_characters_with_an_ellipsis():
    long = Named("Aminata Fatoumata Mariam Kadiatou Oumou", "TRAORÉ KEÏTA DIARRA")

    name = documents.applicant_name(long)

    assert len(name) == documents.NAME_CHARS == 40
    assert name == "Aminata Fatoumata Mariam Kadiatou Oumou…"
    assert documents.applicant_name(Named("Awa", "DIARRA")) == "Awa DIARRA"
    assert documents.applicant_name(long, limit=None).endswith("DIARRA")  # the convocation


def payload_of(kind: str) -> dict:
    return {
        "code": "123456",
        "file_reference": "BKO-1",
        "reason": "Photo floue",
        "manage_token": "t",
    }


@pytest.mark.parametrize(("given_names", "surname"), HOSTILE)
def test_no_message_of_any_kind_carries_the_name_as_a_link(given_names, surname):
    appointment, _token = book_at_reopening(given_names=given_names, surname=surname)
    portal = settings.PORTAL_URL

    for kind in outbox_messages.names():
        message = OutboxMessage(
            kind=kind,
            channel="email",
            appointment_id=appointment.pk,
            language="fr",
            payload=payload_of(kind),
            recipient="a@example.org",
        )
        email = outbox_messages.render_email(message)
        [(html, _type)] = email.alternatives
        for part in (email.subject, email.body, html):
            # The portal's own links are the only ones (and its address, the only "http").
            text = part.replace(portal, "").lower()
            shown = ("evil.example", "evil.com", "www.evil", "gain@", "2237")
            assert not [link for link in shown if link in text], (kind, part)
            assert "<b>gagnez" not in text
        assert documents.applicant_name(appointment) in email.body or "Bonjour" not in email.body
        sms = outbox_messages.sms_text(
            OutboxMessage(
                kind=kind,
                channel="sms",
                appointment_id=appointment.pk,
                language="fr",
                payload=payload_of(kind),
                recipient="+22376123456",
            )
        )
        # No SMS carries the name at all (the portal's own links aside).
        words = set(re.findall(r"[^\W\d_]{4,}", f"{given_names} {surname}".lower()))
        assert not [word for word in words - {"http", "https"} if word in sms.lower()], sms


def test_the_html_of_emails_is_autoescaped():
    appointment, _token = book_at_reopening(given_names="Awa", surname="D'ARCY")
    message = OutboxMessage(
        kind="booking_confirmed",
        channel="email",
        appointment_id=appointment.pk,
        language="fr",
        payload={},
        recipient="a@example.org",
    )
    [(html, _type)] = outbox_messages.render_email(message).alternatives

    assert "Bonjour Awa D&#x27;ARCY," in html
    templates = Path(settings.BASE_DIR, "templates")
    for template in templates.glob("*/email/*.html"):
        source = template.read_text(encoding="utf-8")
        assert "autoescape off" not in source, template.name
        assert "|safe" not in source, template.name
