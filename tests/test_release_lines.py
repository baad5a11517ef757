"""Stored release lines: after any change to what a line shows, the next release holds exactly
the reference rows, on both databases; a stored line is served only while its mark says
nothing it was built from has changed."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.test_releases import CRITERIA, EV, HOSTILE_GROUNDS, _black, _confirmed, actors, config  # noqa: F401  (shared fixtures)
from vetting.models import Decision, EnterpriseAlias, Identifier, ListingEvent, ListingLine, ListingStatus
from vetting.publication import files
from vetting.publication.snapshot import csv_lines, refresh, rows
from vetting.services import assessments, enterprises, listings
from vetting.services.releases import publish

NAMES = ("listings.csv", "red.csv", "black.csv")


def _red(session, clock, actors, make_enterprise, name):
    """A red listing: three counted assessments from three associations, every criterion at 4."""
    reviewers, registrar = actors
    ent = make_enterprise(legal_name=name, contact_email="r@example.org")
    for reviewer in reviewers:
        assessments.file_and_submit(session, reviewer, {
            "enterprise_id": ent.id, "conflict": {"declared": False},
            "scores": {c: {"score": 4, "evidence": EV} for c in CRITERIA}, "knockouts": []})
    return ent, _confirmed(session, clock, registrar, ent)


def _reference(session, folder: Path) -> None:
    """The listing files as the Python reference rows give them."""
    folder.mkdir()
    files.write_listings(folder, ((row["list"], row["ruleset_version"], files.format_line(row)) for row in rows(session)))


def _held_to_reference(session, database, config, actor, tmp_path: Path, label: str, previous: Path | None):
    """Publish; every listing file equals the reference and delta.csv equals the delta between
    the previous release and the reference. Returns the release folder."""
    published = publish(database, config, actor, force=True, session=session)
    reference = tmp_path / f"reference-{label}"
    _reference(session, reference)
    for name in NAMES:
        assert (published.path / name).read_bytes() == (reference / name).read_bytes(), (label, name)
    expected = tmp_path / f"delta-{label}"
    expected.mkdir()
    files.write_delta(expected, previous / "listings.csv" if previous else None, reference / "listings.csv")
    assert (published.path / "delta.csv").read_bytes() == (expected / "delta.csv").read_bytes(), label
    # the release left every line stored and current: the next snapshot streams them
    with database.session() as check:
        check.info["clock"] = session.info["clock"]
        assert refresh(check) == 0
        lines = csv_lines(check)
        assert b"".join(block[0] for block in lines.blocks()) == (reference / "listings.csv").read_bytes().split(b"\n", 1)[1]
        assert lines.stored is True
        check.rollback()
    return published.path


@pytest.fixture()
def register(session, clock, actors, make_enterprise):
    """Two black listings and a red one, one of them with awkward values, and an enterprise
    without a listing (to be merged)."""
    a, listing_a = _black(session, clock, actors, make_enterprise, " Lamu\u2028Port Works, \"Ltd\" ", "港湾\r\n工程有限公司")
    a.aliases = [EnterpriseAlias(name="A;B"), EnterpriseAlias(name="Lamu Port")]
    listing_a.grounds = HOSTILE_GROUNDS
    b, listing_b = _black(session, clock, actors, make_enterprise, "Beta Marine Works Co., Ltd.")
    c, listing_c = _red(session, clock, actors, make_enterprise, "Gamma Power Co., Ltd.")
    d = make_enterprise(legal_name="Delta Holdings Ltd.", chinese_name="德尔塔控股")
    d.aliases = [EnterpriseAlias(name="Delta HK")]
    d.identifiers.append(Identifier(scheme="lei", value="5493001KJTIIGC8Y1R12"))
    session.commit()
    assert {listing_a.list_type.value, listing_c.list_type.value} == {"black", "red"}
    return {"a": a, "b": b, "c": c, "d": d, "listing_a": listing_a, "listing_b": listing_b, "listing_c": listing_c}


def _change(kind, session, clock, actors, make_enterprise, r):
    registrar = actors[1]
    if kind == "enterprise name":
        r["b"].legal_name = "Beta Marine & Port Works Co., Ltd."
    elif kind == "chinese name, country and sector":
        r["c"].chinese_name, r["c"].country, r["c"].sector = "伽马电力", "KE", "power"
    elif kind == "alias added":
        r["b"].aliases.append(EnterpriseAlias(name="Beta\nMarine"))
    elif kind == "alias renamed":
        r["a"].aliases[1].name = "Lamu Harbour"
    elif kind == "alias removed":
        r["a"].aliases.pop(0)
    elif kind == "identifier added":
        r["c"].identifiers.append(Identifier(scheme="lei", value="529900T8BM49AURSDO55"))
    elif kind == "identifier removed":
        r["b"].identifiers.clear()
    elif kind == "listing revoked":
        listings.revoke(session, registrar, r["listing_b"].id, "evidence withdrawn by the court")
    elif kind == "listing grounds":
        r["listing_c"].grounds = "Commended, \"again\"."
    elif kind == "listing event":
        session.add(ListingEvent(listing_id=r["listing_a"].id, at=r["listing_a"].confirmed_at + timedelta(days=3),
                                 from_status=ListingStatus.ACTIVE, to_status=ListingStatus.ACTIVE, reason="note"))
    elif kind == "new listing":
        _black(session, clock, actors, make_enterprise, "Epsilon Mining Co., Ltd.")
    elif kind == "new decision":
        # a second black assessment: a new decision, the active listing stays
        assessments.file_and_submit(session, actors[0][1], {
            "enterprise_id": r["b"].id, "conflict": {"declared": False},
            "scores": {c: {"score": 1, "evidence": EV} for c in CRITERIA},
            "knockouts": [{"code": "FORCED_EVICTION", "status": "confirmed", "evidence": EV}]})
    elif kind == "decision scores":
        decision = session.get(Decision, r["listing_a"].decision_id)
        decision.total_score, decision.pillar_scores = 33.35, {"E": 12.25, "S": None, "G": 40.0, "P": 99.95}
    elif kind == "merge":
        enterprises.merge(session, registrar, r["d"].id, r["a"].id, "the same company")
    elif kind == "alias in SQL":
        session.execute(text("UPDATE enterprise_aliases SET name = name || '; Harbour' WHERE enterprise_id = :e"), {"e": r["a"].id})
    elif kind == "identifier moved in SQL":
        session.execute(text("UPDATE identifiers SET enterprise_id = :to WHERE enterprise_id = :e"),
                        {"to": r["b"].id, "e": r["d"].id})
    elif kind == "ruleset version in SQL":
        session.execute(text("UPDATE rulesets SET version = version || '-r' WHERE id = "
                             "(SELECT ruleset_id FROM decisions WHERE id = :d)"), {"d": r["listing_c"].decision_id})
    elif kind == "listing moved in SQL":
        session.execute(text("UPDATE listings SET enterprise_id = :to WHERE id = :l"), {"to": r["d"].id, "l": r["listing_b"].id})
    else:
        raise AssertionError(kind)
    session.commit()


KINDS = ["enterprise name", "chinese name, country and sector", "alias added", "alias renamed", "alias removed",
         "identifier added", "identifier removed", "listing revoked", "listing grounds", "listing event", "new listing",
         "new decision", "decision scores", "merge", "alias in SQL", "identifier moved in SQL", "ruleset version in SQL",
         "listing moved in SQL"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_release_after_a_change_holds_the_reference_rows(kind, app, session, clock, config, actors, make_enterprise,
                                                              register, tmp_path):
    database = app.extensions["vetting"].database
    first = _held_to_reference(session, database, config, actors[1], tmp_path, "first", None)
    before = (first / "listings.csv").read_bytes()
    _change(kind, session, clock, actors, make_enterprise, register)
    second = _held_to_reference(session, database, config, actors[1], tmp_path, "second", first)
    # the change shows (a new decision leaves the active listing on its own decision)
    assert ((second / "listings.csv").read_bytes() == before) == (kind == "new decision")


def test_a_change_raises_the_marks_of_exactly_the_lines_that_show_it(app, session, clock, config, actors, make_enterprise,
                                                                     register):
    """A refresh rebuilds the lines a change touched and no others."""
    assert refresh(session) == 3
    assert refresh(session) == 0
    register["b"].legal_name = "Beta Renamed Co., Ltd."
    register["d"].legal_name = "Delta Renamed Ltd."  # listed nowhere
    session.commit()
    assert refresh(session) == 1
    register["a"].website = "https://example.org"  # not shown in a line
    session.get(Decision, register["listing_c"].decision_id).document = '{"changed": true}'
    session.commit()
    assert refresh(session) == 0


def test_a_line_made_stale_after_the_refresh_is_not_served(app, session, clock, actors, make_enterprise, register, tmp_path):
    """Between the refresh and the snapshot a writer changes a line's sources: the snapshot
    sees the mark moved and formats every line itself."""
    refresh(session)
    register["listing_a"].grounds = "Changed after the refresh."
    session.commit()
    lines = csv_lines(session)
    got = tmp_path / "got"
    got.mkdir()
    files.write_listings(got, lines)
    assert lines.stored is False
    reference = tmp_path / "reference"
    _reference(session, reference)
    for name in NAMES:
        assert (got / name).read_bytes() == (reference / name).read_bytes()
    assert "Changed after the refresh." in (got / "listings.csv").read_text(encoding="utf-8")


def test_a_line_stored_in_another_form_is_built_again(session, clock, actors, make_enterprise, register):
    refresh(session)
    session.execute(text("UPDATE listing_lines SET form = 'older', line = :x WHERE listing_id = :l"),
                    {"x": b"forged\n", "l": register["listing_b"].id})
    session.commit()
    assert refresh(session) == 1
    stored = session.get(ListingLine, register["listing_b"].id)
    session.refresh(stored)
    assert stored.line != b"forged\n"


def test_stored_lines_are_the_reference_bytes_for_awkward_values(session, clock, actors, make_enterprise, tmp_path):
    """The stored line is quoted by SQL (not by COPY): every awkward value comes out as the
    reference writes it."""
    tricky, first = _black(session, clock, actors, make_enterprise, " Lamu\u2028Port\x85Works\x0bCo., \"Ltd\" ",
                           "港湾\r\n工程\u3000有限公司\r")
    tricky.aliases = [EnterpriseAlias(name="A;B"), EnterpriseAlias(name="A,B"), EnterpriseAlias(name="  "),
                      EnterpriseAlias(name="Zeta\r\nWorks"), EnterpriseAlias(name="港湾"), EnterpriseAlias(name='"q"')]
    tricky.identifiers.append(Identifier(scheme="lei", value="5493001KJTIIGC8Y1R12"))
    first.grounds = ' He said "no",\r\r\n then\x1c\x1d\x1e\x0c\u2029 left \\ '
    first.reason_codes = ["Z_LAST", 'Q"UOTE', "back\\slash", "A_FIRST"]
    decision = session.get(Decision, first.decision_id)
    decision.total_score, decision.pillar_scores = 12.25, {"S": None, "E": 84.35, "G": 0.05, "P": 99.95, "Ä": 1.45}
    single, second = _black(session, clock, actors, make_enterprise, "Single\tAlias Co.")
    single.aliases = [EnterpriseAlias(name="Same\nName"), EnterpriseAlias(name="Same Name")]
    second.reason_codes = ["B_SECOND", "A_FIRST"]
    session.get(Decision, second.decision_id).total_score = None
    _, third = _black(session, clock, actors, make_enterprise, "\r\nPlain\r\n")
    third.reason_codes = []
    third.grounds = "\u2028 \u2029"
    session.commit()

    assert refresh(session) == 3
    written = tmp_path / "written"
    written.mkdir()
    lines = csv_lines(session)
    got = files.write_listings(written, lines)
    assert lines.stored is True
    reference = tmp_path / "reference"
    _reference(session, reference)
    for name in NAMES:
        assert (written / name).read_bytes() == (reference / name).read_bytes()
    assert got.counts == {"red": 0, "black": 3} and got.rulesets
    with (written / "listings.csv").open(encoding="utf-8", newline="") as fh:
        assert len(list(csv.reader(fh))) == 4


def test_a_release_without_the_rebuild_formats_every_line(app, session, clock, config, actors, make_enterprise, register,
                                                          tmp_path, monkeypatch):
    """Rebuilding decides how fast a release is, never what it holds: with the rebuild step
    doing nothing, stale stored lines are not served, and the release is still the reference."""
    from vetting.publication import release

    database = app.extensions["vetting"].database
    first = _held_to_reference(session, database, config, actors[1], tmp_path, "first", None)
    monkeypatch.setattr(release, "refresh", lambda _session, _day=None: 0)
    _change("alias renamed", session, clock, actors, make_enterprise, register)
    with release.snapshot_lines(database, clock) as (_snapshot, lines):
        assert lines.stale() == 1
        list(lines.blocks())
        assert lines.stored is False
    published = publish(database, config, actors[1], force=True, session=session)
    reference = tmp_path / "reference"
    _reference(session, reference)
    for name in NAMES:
        assert (published.path / name).read_bytes() == (reference / name).read_bytes()
    assert (published.path / "listings.csv").read_bytes() != (first / "listings.csv").read_bytes()


def test_reason_codes_are_distinct_cleaned_and_sorted_by_code_point_in_every_form(app, session, clock, config, actors,
                                                                                   make_enterprise, tmp_path):
    """docs/releases.md: multi-valued fields are distinct values, sorted by code point, a ';'
    inside becoming ','. The reason codes come out so from the Python reference, from the SQL
    that formats every line, from the stored lines and in the published files: several codes
    (the JSON functions), a single plain code and a single code to clean (PostgreSQL's shortcut)."""
    _, several = _black(session, clock, actors, make_enterprise, "Several Codes Co., Ltd.")
    several.reason_codes = ["Z_LAST", "A_FIRST", "Ärger", "M;IDDLE", "A_FIRST", " B_PAD ", "C\u2028BREAK", "", "  "]
    _, single = _black(session, clock, actors, make_enterprise, "Single Code Co., Ltd.")
    single.reason_codes = [" K;X\u2029"]
    _, plain = _black(session, clock, actors, make_enterprise, "Plain Code Co., Ltd.")
    plain.reason_codes = ["ONLY"]
    session.commit()
    expected = {several.id: "A_FIRST;B_PAD;C BREAK;M,IDDLE;Z_LAST;Ärger", single.id: "K,X", plain.id: "ONLY"}

    reference = tmp_path / "reference"
    _reference(session, reference)
    with (reference / "listings.csv").open(encoding="utf-8", newline="") as fh:
        assert {int(r["listing_id"]): r["reason_codes"] for r in csv.DictReader(fh)} == expected
    formatted = csv_lines(session)
    assert b"".join(block[0] for block in formatted.blocks()) == (reference / "listings.csv").read_bytes().split(b"\n", 1)[1]
    assert formatted.stored is False
    session.rollback()
    assert refresh(session) == 3
    stored = csv_lines(session)
    assert b"".join(block[0] for block in stored.blocks()) == (reference / "listings.csv").read_bytes().split(b"\n", 1)[1]
    assert stored.stored is True
    session.rollback()
    published = publish(app.extensions["vetting"].database, config, actors[1], session=session)
    assert (published.path / "listings.csv").read_bytes() == (reference / "listings.csv").read_bytes()
