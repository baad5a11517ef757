"""The release files as the database writes them (``snapshot.Lines`` blocks of finished bytes)
hold the same bytes as the reference rows written line by line, on this database: each shortcut
the SQL takes for the common case (values without line breaks, one alias, plain reason codes)
and its general form."""

from __future__ import annotations

from pathlib import Path

from vetting.models import Decision, EnterpriseAlias, Identifier
from vetting.publication import files
from vetting.publication.snapshot import Lines, csv_lines, rows
from vetting.services import assessments, listings

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()
EV = [{"kind": "document", "reference": "inspection report"}]


def _black(session, clock, make_account, make_association, make_enterprise, name, chinese=None):
    reviewer = make_account("reviewer", association=make_association())
    registrar = make_account("registrar")
    ent = make_enterprise(legal_name=name, chinese_name=chinese, contact_email="c@example.org")
    body = {"enterprise_id": ent.id, "conflict": {"declared": False},
            "scores": {c: {"score": 2, "evidence": EV} for c in CRITERIA},
            "knockouts": [{"code": "FORCED_EVICTION", "status": "confirmed", "evidence": EV}]}
    assessments.file_and_submit(session, reviewer, body)
    proposal = listings.open_proposal(session, ent.id)
    clock.advance(days=16)
    return ent, listings.confirm(session, registrar, proposal.id)


def _bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in ("listings.csv", "red.csv", "black.csv")}


def test_the_written_blocks_are_the_reference_lines(session, clock, make_account, make_association, make_enterprise,
                                                    tmp_path):
    def listed(name, chinese=None):
        return _black(session, clock, make_account, make_association, make_enterprise, name, chinese)

    tricky, first = listed(" Lamu\u2028Port\x85Works\x0bCo., \"Ltd\" ", "港湾\r\n工程\u3000有限公司\r")
    tricky.aliases = [EnterpriseAlias(name="A;B"), EnterpriseAlias(name="A,B"), EnterpriseAlias(name="  "),
                      EnterpriseAlias(name="Zeta\r\nWorks"), EnterpriseAlias(name="港湾"), EnterpriseAlias(name='"q"')]
    tricky.identifiers.append(Identifier(scheme="lei", value="5493001KJTIIGC8Y1R12"))
    first.grounds = ' He said "no",\r\r\n then\x1c\x1d\x1e\x0c\u2029 left '
    # not the plain form (a quote and a backslash inside): decoded by the JSON functions
    first.reason_codes = ["Z_LAST", 'Q"UOTE', "back\\slash", "A_FIRST"]
    decision = session.get(Decision, first.decision_id)
    decision.total_score, decision.pillar_scores = 12.25, {"S": None, "E": 84.35, "G": 0.05, "P": 99.95, "Ä": 1.45}

    # one alias only (twice the same after cleaning), plain reason codes, no Chinese name
    single, second = listed("Single Alias Co.")
    single.aliases = [EnterpriseAlias(name="Same\nName"), EnterpriseAlias(name="Same Name")]
    second.reason_codes = ["B_SECOND", "A_FIRST"]
    session.get(Decision, second.decision_id).total_score = None

    # no aliases at all, no reason codes, only empty values after cleaning
    _, third = listed("\r\nPlain\r\n")
    third.reason_codes = []
    third.grounds = "\u2028 \u2029"
    session.flush()

    reference = tmp_path / "reference"
    reference.mkdir()
    expected = files.write_listings(reference, ((row["list"], row["ruleset_version"], files.format_line(row))
                                                for row in rows(session)))
    written = tmp_path / "written"
    written.mkdir()
    lines = csv_lines(session)
    assert isinstance(lines, Lines)
    got = files.write_listings(written, lines)

    assert _bytes(written) == _bytes(reference)
    assert got.counts == expected.counts == {"red": 0, "black": 3}
    assert got.rulesets == expected.rulesets and got.rulesets
    assert {n: (w.rows, w.bytes, w.sha256) for n, w in got.files.items()} == \
        {n: (w.rows, w.bytes, w.sha256) for n, w in expected.files.items()}
    body = (written / "listings.csv").read_text(encoding="utf-8")
    assert '"Lamu Port Works Co., ""Ltd""","港湾 工程\u3000有限公司","""q"";A,B;Zeta Works;港湾"' in body
    assert '"Same Name"' in body and '"B_SECOND;A_FIRST"' in body and '"Z_LAST;Q""UOTE;back\\slash;A_FIRST"' in body
