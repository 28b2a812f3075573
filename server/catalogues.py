"""Keep the message catalogues in step with the code (``homeward messages``).

``extract`` rewrites ``locales/messages.pot`` from Python, Jinja2 and the
``pwa/`` JavaScript; ``update`` merges it into each language's ``.po``;
``check`` lists what is stale, missing or fuzzy (the test suite calls it).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from server.settings import LANGUAGES, ROOT

KEYWORDS = {
    "_": None,
    "N_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
}
POT = ROOT / "locales" / "messages.pot"


def build_template(root: Path = ROOT) -> Catalog:
    with (root / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    catalog = Catalog(project="Homeward", fuzzy=False)
    for filename, _lineno, message, comments, context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, 0)], auto_comments=comments, context=context)
    return catalog


def render_template(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, omit_header=True, sort_output=True, include_lineno=False)
    return buffer.getvalue()


def extract() -> None:
    POT.write_bytes(render_template(build_template()))


def update() -> None:
    """Merge the template into every language, keeping existing translations."""
    with POT.open("rb") as handle:
        template = read_po(handle)
    for language in LANGUAGES:
        path = ROOT / "locales" / language / "LC_MESSAGES" / "messages.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        else:
            catalog = Catalog(locale=language, project="Homeward")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        buffer = io.BytesIO()
        write_po(buffer, catalog, sort_output=True, include_lineno=False, omit_header=False)
        path.write_bytes(buffer.getvalue())


@dataclass
class Problems:
    stale_template: bool
    untranslated: dict[str, list[str]]

    @property
    def ok(self) -> bool:
        return not self.stale_template and not any(self.untranslated.values())


def check() -> Problems:
    fresh = render_template(build_template())
    stale = not POT.exists() or POT.read_bytes() != fresh
    with io.BytesIO(fresh) as handle:
        template = read_po(handle)
    wanted = {message.id for message in template if message.id}
    untranslated: dict[str, list[str]] = {}
    for language in LANGUAGES:
        path = ROOT / "locales" / language / "LC_MESSAGES" / "messages.po"
        missing: list[str] = []
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            for message in catalog:
                if message.id and message.id in wanted:
                    strings = (
                        message.string if isinstance(message.string, tuple) else (message.string,)
                    )
                    if message.fuzzy or not all(strings):
                        missing.append(str(message.id))
            present = {message.id for message in catalog if message.id}
            missing += [str(m) for m in wanted - present]
        else:
            missing = [str(m) for m in wanted]
        untranslated[language] = sorted(missing)
    return Problems(stale_template=stale, untranslated=untranslated)
