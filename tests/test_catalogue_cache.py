"""The catalogues are compiled once per process, and again when a file changes.

Every test that builds an app used to compile all five again (about a quarter
of a second each time); a cache must never serve a catalogue older than its
``.po`` file, which is what compiling at start guaranteed.
"""

import os
import shutil
from pathlib import Path

from server.i18n import load_catalogues
from server.settings import ROOT


def _copy_locales(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "locales", tmp_path / "locales")
    return tmp_path / "locales"


def test_a_second_app_reuses_the_compiled_catalogues() -> None:
    first = load_catalogues(ROOT / "locales")
    second = load_catalogues(ROOT / "locales")
    assert second["fr"] is first["fr"]
    assert second["ar"] is first["ar"]
    assert second["fr"].gettext("Sign in") == "Se connecter"


def test_an_edited_catalogue_is_compiled_again(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    assert load_catalogues(locales)["fr"].gettext("Sign in") == "Se connecter"
    po = locales / "fr" / "LC_MESSAGES" / "messages.po"
    stamp = po.stat()
    po.write_text(
        po.read_text().replace(
            'msgid "Sign in"\nmsgstr "Se connecter"', 'msgid "Sign in"\nmsgstr "Entrer"'
        )
    )
    # Same modification time as before: the changed size alone must tell.
    os.utime(po, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert load_catalogues(locales)["fr"].gettext("Sign in") == "Entrer"


def test_a_catalogue_rewritten_to_the_same_size_is_compiled_again(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    assert load_catalogues(locales)["fr"].gettext("Sign in") == "Se connecter"
    po = locales / "fr" / "LC_MESSAGES" / "messages.po"
    stamp = po.stat()
    po.write_text(po.read_text().replace('msgstr "Se connecter"', 'msgstr "SE CONNECTER"', 1))
    # Same size; a later modification time (set, as a coarse clock may not move).
    os.utime(po, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000))
    assert po.stat().st_size == stamp.st_size
    assert load_catalogues(locales)["fr"].gettext("Sign in") == "SE CONNECTER"


def test_a_catalogue_that_appears_or_goes_is_noticed(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    po = locales / "kk" / "LC_MESSAGES" / "messages.po"
    kept = po.read_bytes()
    po.unlink()
    assert load_catalogues(locales)["kk"].gettext("Sign in") == "Sign in"
    po.write_bytes(kept)
    assert load_catalogues(locales)["kk"].gettext("Sign in") != "Sign in"
