"""Writing the files of a release: CSV (UTF-8, every field quoted, ``\\n`` line ends), the
delta against the previous release by a streaming merge of two id-ordered files, the
FollowTheMoney entities, the Frictionless data package and the manifest."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from vetting.publication.snapshot import COLUMNS

DELTA_COLUMNS = ("change", *COLUMNS)
CSV_FILES = ("listings.csv", "red.csv", "black.csv", "delta.csv")


def csv_writer(fh: TextIO) -> Any:
    return csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")


def csv_reader(fh: TextIO) -> Any:
    return csv.reader(fh, lineterminator="\n")


@dataclass
class Written:
    name: str
    rows: int = 0
    bytes: int = 0
    sha256: str = ""


@dataclass
class Snapshot:
    """What writing the listing files produced: the files and the rows per list."""
    files: dict[str, Written] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"red": 0, "black": 0})
    rulesets: set[str] = field(default_factory=set)


class _Line:
    """A file-like target that keeps the last line a csv writer wrote."""

    line = ""

    def write(self, text: str) -> None:
        self.line = text


def format_line(row: dict[str, str]) -> str:
    """A row as a CSV line without its line end (the form ``csv_lines`` gets from the database)."""
    line = _Line()
    csv_writer(line).writerow([row[c] for c in COLUMNS])
    return line.line[:-1]


def write_listings(folder: Path, lines: Iterable[tuple[str, str, str]]) -> Snapshot:
    """listings.csv with every line, red.csv and black.csv with each list's, in one pass.
    ``lines`` gives (list, ruleset version, CSV line without its end) in listing-id order, or is
    a ``snapshot.Lines``, whose blocks of finished bytes are written as they come."""
    out = Snapshot()
    if hasattr(lines, "blocks"):
        _write_blocks(folder, lines, out)
    else:
        _write_lines(folder, lines, out)
    total = out.counts["red"] + out.counts["black"]
    for name, rows_in in (("listings.csv", total), ("red.csv", out.counts["red"]), ("black.csv", out.counts["black"])):
        out.files[name] = describe(folder / name, rows_in)
    return out


def header_line() -> str:
    line = _Line()
    csv_writer(line).writerow(COLUMNS)
    return line.line


def _write_blocks(folder: Path, lines: Any, out: Snapshot) -> None:
    """The database's lines as they come: blocks of finished UTF-8 lines, written unchanged."""
    header = header_line().encode("utf-8")
    with (folder / "listings.csv").open("wb") as everything, (folder / "red.csv").open("wb") as red, \
            (folder / "black.csv").open("wb") as black:
        for fh in (everything, red, black):
            fh.write(header)
        counts = out.counts
        for all_lines, red_lines, black_lines, red_count, black_count in lines.blocks():
            everything.write(all_lines)
            red.write(red_lines)
            black.write(black_lines)
            counts["red"] += red_count
            counts["black"] += black_count
    out.rulesets.update(lines.versions)


def _write_lines(folder: Path, lines: Iterable[tuple[str, str, str]], out: Snapshot) -> None:
    """Any other source of (list, ruleset version, line without its end)."""
    handles = {name: (folder / name).open("w", encoding="utf-8", newline="", buffering=1 << 20)
               for name in ("listings.csv", "red.csv", "black.csv")}
    try:
        header = header_line()
        for fh in handles.values():
            fh.write(header)
        everything = handles["listings.csv"].write
        by_list = {"red": handles["red.csv"].write, "black": handles["black.csv"].write}
        counts, versions = out.counts, out.rulesets
        for list_type, version, text in lines:
            text += "\n"
            everything(text)
            by_list[list_type](text)
            counts[list_type] += 1
            versions.add(version)
        versions.discard("")
    finally:
        for fh in handles.values():
            fh.close()


def describe(path: Path, rows: int) -> Written:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return Written(path.name, rows, size, digest.hexdigest())


def _records(path: Path | None) -> Iterator[list[str]]:
    if path is None or not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv_reader(fh)
        header = next(reader, None)
        if header is not None and tuple(header) != COLUMNS:
            raise ValueError(f"{path} has columns {header}, not the release columns")
        yield from reader


def write_delta(folder: Path, previous: Path | None, current: Path) -> Written:
    """delta.csv: ADD for a listing new in ``current``, DEL for one gone from it (with the row
    it had), MOD for one whose row changed. Both files are ordered by listing id, so this is a
    merge of two streams."""
    path = folder / "delta.csv"
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv_writer(fh)
        writer.writerow(DELTA_COLUMNS)
        old_rows, new_rows = _records(previous), _records(current)
        old, new = next(old_rows, None), next(new_rows, None)
        while old is not None or new is not None:
            if new is None or (old is not None and int(old[0]) < int(new[0])):
                writer.writerow(["DEL", *old])
                old = next(old_rows, None)
            elif old is None or int(new[0]) < int(old[0]):
                writer.writerow(["ADD", *new])
                new = next(new_rows, None)
            else:
                if old != new:
                    writer.writerow(["MOD", *new])
                    rows += 1
                old, new = next(old_rows, None), next(new_rows, None)
                continue
            rows += 1
    return describe(path, rows)


TYPES = {"listing_id": "integer", "enterprise_id": "integer", "decision_id": "integer", "effective_from": "date",
         "expires_on": "date", "first_listed": "date", "last_change": "datetime", "total_score": "number"}
DESCRIPTIONS = {
    "listing_id": "Stable id of the listing", "list": "red or black", "enterprise_id": "Stable id of the enterprise",
    "legal_name": "Registered legal name", "chinese_name": "Registered Chinese name", "aliases": "Other names, ';'-joined, sorted",
    "identifiers": "scheme:value identifiers (uscc, lei, ...), ';'-joined, sorted", "country": "ISO 3166-1 alpha-2 country",
    "sector": "Sector code", "effective_from": "First day the listing is in force", "expires_on": "Last day of its term",
    "reason_codes": "Reason codes of the listing, ';'-joined, sorted", "grounds": "Grounds in plain words",
    "total_score": "Total score 0-100 of the decision", "pillar_scores": "code:score per pillar, ';'-joined",
    "ruleset_version": "Ruleset the decision was made under", "decision_id": "Stable id of the decision behind the listing",
    "first_listed": "First day the enterprise was on this list", "last_change": "Time of the listing's last transition (UTC)",
}


def _schema(columns: tuple[str, ...], key: list[str]) -> dict[str, Any]:
    fields = []
    for name in columns:
        spec: dict[str, Any] = {"name": name, "type": TYPES.get(name, "string")}
        if name in DESCRIPTIONS:
            spec["description"] = DESCRIPTIONS[name]
        if name == "list":
            spec["constraints"] = {"enum": ["red", "black"]}
        if name == "change":
            spec["constraints"] = {"required": True, "enum": ["ADD", "MOD", "DEL"]}
            spec["description"] = "ADD, MOD or DEL against the previous release"
        if name in ("listing_id", "enterprise_id", "decision_id", "list", "legal_name", "country"):
            spec.setdefault("constraints", {})["required"] = True
        fields.append(spec)
    return {"fields": fields, "primaryKey": key, "missingValues": [""]}


def datapackage(number: int, files: dict[str, Written]) -> dict[str, Any]:
    dialect = {"delimiter": ",", "quoteChar": "\"", "doubleQuote": True, "lineTerminator": "\n", "header": True}
    resources = []
    for name in CSV_FILES:
        columns = DELTA_COLUMNS if name == "delta.csv" else COLUMNS
        resources.append({
            "name": name.removesuffix(".csv"), "path": name, "profile": "tabular-data-resource", "format": "csv",
            "mediatype": "text/csv", "encoding": "utf-8", "bytes": files[name].bytes, "hash": f"sha256:{files[name].sha256}",
            "dialect": dialect, "schema": _schema(columns, ["listing_id"]),
        })
    return {"profile": "tabular-data-package", "name": f"vetting-release-{number}", "title": f"Red and black lists, release {number}",
            "resources": resources}


def entities(rows: Iterable[dict[str, str]], fh: TextIO) -> int:
    """The listed enterprises as FollowTheMoney entities, one JSON object per line: a Company
    per listed enterprise; for the black list also a Sanction pointing at it (programme, grounds,
    term), and the company carries the ``debarment`` topic. A red-listed company carries its
    listing in ``notes``."""
    from followthemoney import model

    count = 0
    for row in rows:
        company = model.make_entity("Company")
        company.id = f"vetting-enterprise-{row['enterprise_id']}"
        company.add("name", row["legal_name"])
        if row["chinese_name"]:
            company.add("name", row["chinese_name"])
        for alias in filter(None, row["aliases"].split(";")):
            company.add("alias", alias)
        company.add("country", row["country"].lower())
        company.add("sector", row["sector"])
        for identifier in filter(None, row["identifiers"].split(";")):
            scheme, _, value = identifier.partition(":")
            company.add({"uscc": "uscCode", "lei": "leiCode"}.get(scheme, "registrationNumber"), value)
        out = [company]
        if row["list"] == "black":
            company.add("topics", "debarment")
            sanction = model.make_entity("Sanction")
            sanction.id = f"vetting-listing-{row['listing_id']}"
            sanction.add("entity", company.id)
            sanction.add("program", "vetting black list")
            sanction.add("reason", row["grounds"])
            sanction.add("startDate", row["effective_from"])
            sanction.add("endDate", row["expires_on"])
            sanction.add("authority", "vetting registry")
            out.append(sanction)
        else:
            company.add("notes", f"On the vetting red list from {row['effective_from']} to {row['expires_on']}: {row['grounds']}")
        for entity in out:
            fh.write(json.dumps(entity.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


def sync_folder(folder: Path) -> None:
    """fsync every file in ``folder`` and the folder itself."""
    for path in sorted(folder.iterdir()):
        with path.open("rb") as fh:
            os.fsync(fh.fileno())
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
