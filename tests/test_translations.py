"""The Chinese catalog covers every message the code and templates mark, its placeholders
match, and the compiled ``.mo`` shipped in the package says the same as the ``.po``."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "vetting" / "translations" / "zh" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _marked() -> set[str | tuple[str, ...]]:
    keywords = dict(DEFAULT_KEYWORDS, _l=None, N_=None, M_=None)
    method_map = [("vetting/**.py", "python"), ("vetting/pages/templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, keywords=keywords):
        found.add(message)
    return found


def _po():
    with (CATALOG / "messages.po").open("rb") as fh:
        return read_po(fh)


def test_every_marked_message_has_a_chinese_translation():
    catalog = _po()
    missing = []
    for message in _marked():
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(msgid)
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else ((entry.string,) if entry else ())
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(msgid)
    assert not missing, f"untranslated (run pybabel extract/update, then translate): {sorted(missing)}"
    assert len(catalog) > 150


def test_placeholders_survive_translation():
    for entry in _po():
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, entry.id
            assert text.count("<") == ids[0].count("<"), f"markup differs: {entry.id}"


def test_the_compiled_catalog_matches_its_source():
    def table(catalog) -> dict:  # noqa: ANN001
        flat = lambda v: tuple(v) if isinstance(v, (list, tuple)) else v  # noqa: E731
        return {flat(m.id): flat(m.string) for m in catalog if m.id}

    with (CATALOG / "messages.mo").open("rb") as fh:
        compiled = table(read_mo(fh))
    source = table(_po())
    assert compiled == source, "vetting/translations is out of date: run `pybabel compile -d vetting/translations`"
