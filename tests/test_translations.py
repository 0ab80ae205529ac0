"""Every user-facing string has its English translation, and French stays the source."""

from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale"


@pytest.mark.parametrize("language", ["en"])
def test_every_message_is_translated(language):
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert len(catalogue) > 0
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


def test_english_and_french_catalogues_have_the_same_messages():
    english = polib.pofile(str(LOCALE / "en" / "LC_MESSAGES" / "django.po"))
    french = polib.pofile(str(LOCALE / "fr" / "LC_MESSAGES" / "django.po"))
    assert {e.msgid for e in english} == {e.msgid for e in french}
