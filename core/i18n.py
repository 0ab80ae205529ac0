"""Translation catalogues, compiled without GNU gettext (a fresh machine has only Python)."""

from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def compile_messages(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Compile every locale/*/LC_MESSAGES/*.po whose .mo is missing or older; returns them."""
    import polib

    compiled = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
            compiled.append(mo_path)
    return compiled
