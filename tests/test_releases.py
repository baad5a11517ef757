"""Releases: the files, the delta between consecutive releases, the signature, crashes and
races."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import serve_notice
from vetting.models import Decision, EnterpriseAlias, Identifier
from vetting.publication import files, release, signing
from vetting.publication.snapshot import COLUMNS, Lines, csv_lines, rows
from vetting.services import assessments, listings
from vetting.services.releases import publish

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()
EV = [{"kind": "document", "reference": "inspection report"}]
HOSTILE_GROUNDS = 'Site "A", Lamu;\nworkers\' camp — 强迫劳动, "quoted", line\r\nbreaks'


@pytest.fixture()
def config(app):
    return dict(app.config)


@pytest.fixture()
def actors(make_association, make_account):
    return [make_account("reviewer", association=make_association()) for _ in range(3)], make_account("registrar")


def _black(session, clock, actors, make_enterprise, name, chinese=None):
    reviewers, registrar = actors
    ent = make_enterprise(legal_name=name, chinese_name=chinese, contact_email="c@example.org")
    body = {"enterprise_id": ent.id, "conflict": {"declared": False},
            "scores": {c: {"score": 2, "evidence": EV} for c in CRITERIA},
            "knockouts": [{"code": "FORCED_EVICTION", "status": "confirmed", "evidence": EV}]}
    assessments.file_and_submit(session, reviewers[0], body)
    return ent, _confirmed(session, clock, registrar, ent)


def _confirmed(session, clock, registrar, ent):
    """The enterprise's open proposal, served today, confirmed once its objection window passed."""
    proposal = listings.open_proposal(session, ent.id)
    serve_notice(session, registrar, proposal)
    clock.advance(days=16)
    return listings.confirm(session, registrar, proposal.id)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_consecutive_releases_give_the_right_delta(app, session, clock, config, actors, make_enterprise):
    database = app.extensions["vetting"].database
    a, listing_a = _black(session, clock, actors, make_enterprise, "Delta Alpha Works Co., Ltd.")
    b, listing_b = _black(session, clock, actors, make_enterprise, "Delta Beta Works Co., Ltd.")
    first = publish(database, config, actors[1], session=session)
    assert first.number == 1 and first.manifest["counts"] == {"red": 0, "black": 2, "total": 2}
    delta = _csv(first.path / "delta.csv")
    assert [(r["change"], r["listing_id"]) for r in delta] == [("ADD", str(listing_a.id)), ("ADD", str(listing_b.id))]

    assert publish(database, config, actors[1], session=session).skipped  # nothing changed
    listings.revoke(session, actors[1], listing_a.id, "evidence withdrawn by the court")
    b.legal_name = "Delta Beta Marine Works Co., Ltd."
    session.commit()
    c, listing_c = _black(session, clock, actors, make_enterprise, "Delta Gamma Works Co., Ltd.")
    second = publish(database, config, actors[1], session=session)
    assert second.number == 2 and second.manifest["previous"] == 1
    changes = {(r["change"], r["listing_id"]) for r in _csv(second.path / "delta.csv")}
    assert changes == {("DEL", str(listing_a.id)), ("MOD", str(listing_b.id)), ("ADD", str(listing_c.id))}
    mod = next(r for r in _csv(second.path / "delta.csv") if r["change"] == "MOD")
    assert mod["legal_name"] == "Delta Beta Marine Works Co., Ltd."
    assert {r["listing_id"] for r in _csv(second.path / "listings.csv")} == {str(listing_b.id), str(listing_c.id)}
    forced = publish(database, config, actors[1], force=True, session=session)
    assert forced.number == 3 and _csv(forced.path / "delta.csv") == []
    assert (forced.path / "delta.csv").read_text(encoding="utf-8").startswith('"change","listing_id"')


def test_awkward_values_read_back_identically_and_the_package_validates(app, session, clock, config, actors, make_enterprise):
    database = app.extensions["vetting"].database
    ent, listing = _black(session, clock, actors, make_enterprise, 'Harbour "Quote", Comma Works Co., Ltd.', "港湾，“引号”工程有限公司")
    ent.aliases = [EnterpriseAlias(name="HQC; Harbour"), EnterpriseAlias(name="港湾工程")]
    listing.grounds = HOSTILE_GROUNDS
    session.commit()
    published = publish(database, config, actors[1], session=session)
    raw = (published.path / "listings.csv").read_bytes()
    assert b"\r" not in raw and raw.count(b"\n") == 2  # header and one row: no line breaks inside values
    row = _csv(published.path / "listings.csv")[0]
    assert list(row) == list(COLUMNS)
    assert row["legal_name"] == 'Harbour "Quote", Comma Works Co., Ltd.' and row["chinese_name"] == "港湾，“引号”工程有限公司"
    assert row["grounds"] == " ".join(HOSTILE_GROUNDS.split())
    assert row["aliases"] == "HQC, Harbour;港湾工程"
    assert row["identifiers"].startswith("uscc:") and row["effective_from"] == "2027-03-17"
    for line in raw.decode("utf-8").splitlines():
        assert line.startswith('"') and line.endswith('"')  # every field quoted

    from frictionless import Package

    report = Package(str(published.path / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    entities = [json.loads(line) for line in (published.path / "entities.ftm.json").read_text(encoding="utf-8").splitlines()]
    company = next(e for e in entities if e["schema"] == "Company")
    assert "港湾，“引号”工程有限公司" in company["properties"]["name"] and company["properties"]["topics"] == ["debarment"]
    assert any(e["schema"] == "Sanction" and e["properties"]["entity"] == [company["id"]] for e in entities)


def test_verify_names_a_flipped_byte_in_any_file(app, session, clock, config, actors, make_enterprise, tmp_path):
    _black(session, clock, actors, make_enterprise, "Verify Works Co., Ltd.")
    published = publish(app.extensions["vetting"].database, config, actors[1], session=session)
    key = signing.public_pem(config)
    assert release.verify(str(published.path), key).ok
    names = sorted(p.name for p in published.path.iterdir())
    assert {"index.json", "index.json.sig", "listings.csv", "red.csv", "black.csv", "delta.csv", "datapackage.json",
            "entities.ftm.json", "SHA256SUMS", "SHA256SUMS.sig"} == set(names)
    for name in names:
        copy = tmp_path / f"copy-{name}"
        copy.mkdir()
        for p in published.path.iterdir():
            (copy / p.name).write_bytes(p.read_bytes())
        data = bytearray((copy / name).read_bytes())
        data[len(data) // 2] ^= 0x01
        (copy / name).write_bytes(bytes(data))
        report = release.verify(str(copy), key)
        assert not report.ok, name
        assert any(name.removesuffix(".sig") in problem for problem in report.problems), report.problems
    other = signing.Ed25519PrivateKey.generate().public_key().public_bytes(
        signing.serialization.Encoding.PEM, signing.serialization.PublicFormat.SubjectPublicKeyInfo)
    assert not release.verify(str(published.path), other).ok


@pytest.mark.parametrize("step", ["listings", "delta", "signed"])
def test_a_build_that_dies_leaves_no_release_and_the_next_run_succeeds(app, session, clock, config, actors, make_enterprise, step):
    database = app.extensions["vetting"].database
    _black(session, clock, actors, make_enterprise, "Crash Works Co., Ltd.")
    with pytest.raises(release.SimulatedCrash):
        release.publish(database, config, fail_after=step, clock=clock)
    folder = release.storage(config)
    assert release.numbers(folder) == []
    leftovers = list(folder.glob(".tmp-*"))
    assert len(leftovers) == 1  # what a killed process leaves: invisible, removed once stale
    os.utime(leftovers[0], (0, 0))
    done = publish(database, config, actors[1], session=session)
    assert done.number == 1 and release.verify(str(done.path), signing.public_pem(config)).ok
    assert list(folder.glob(".tmp-*")) == []


def test_a_published_release_is_read_only_and_served(app, client, session, clock, config, actors, make_enterprise):
    _black(session, clock, actors, make_enterprise, "Served Works Co., Ltd.")
    published = publish(app.extensions["vetting"].database, config, actors[1], session=session)
    assert all(p.stat().st_mode & 0o777 == 0o444 for p in published.path.iterdir())  # read-only for everyone
    def get(url, **kw):
        resp = client.get(url, **kw)
        resp.get_data()
        resp.close()  # a served file holds its handle until the response is closed
        return resp

    listing_csv = get("/releases/1/listings.csv")
    assert listing_csv.status_code == 200 and listing_csv.mimetype == "text/csv"
    assert listing_csv.headers["Content-Length"] == str((published.path / "listings.csv").stat().st_size)
    etag = listing_csv.headers["ETag"].strip('"')
    assert etag == next(f["sha256"] for f in published.manifest["files"] if f["name"] == "listings.csv")
    assert get("/releases/1/listings.csv", headers={"If-None-Match": f'"{etag}"'}).status_code == 304
    part = get("/releases/latest/listings.csv", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == (published.path / "listings.csv").read_bytes()[:10]
    assert get("/releases/latest/index.json").get_json()["release"] == 1
    assert get("/releases/1/nothing.txt").status_code == 404 and get("/releases/9/listings.csv").status_code == 404
    key = get("/releases/signing-key.pem")
    assert key.data.startswith(b"-----BEGIN PUBLIC KEY-----")
    sig = get("/releases/1/index.json.sig").data
    assert signing.verify(key.data, get("/releases/1/index.json").data, sig)
    api = client.get("/api/v1/releases").get_json()
    assert api[0]["release"] == 1 and api[0]["files"][0]["url"].startswith("/releases/1/")
    assert "listings.csv" in client.get("/releases").get_data(as_text=True)


def test_release_files_are_served_with_one_charset(app, client, session, clock, config, actors, make_enterprise):
    """A text file's Content-Type names its charset once (it was ``text/csv; charset=utf-8;
    charset=utf-8``); other files carry none."""
    _black(session, clock, actors, make_enterprise, "Charset Works Co., Ltd.")
    publish(app.extensions["vetting"].database, config, actors[1], session=session)
    expected = {"listings.csv": "text/csv; charset=utf-8", "delta.csv": "text/csv; charset=utf-8",
                "SHA256SUMS": "text/plain; charset=utf-8", "index.json": "application/json",
                "datapackage.json": "application/json", "index.json.sig": "application/octet-stream"}
    for name, content_type in expected.items():
        for url in (f"/releases/1/{name}", f"/releases/latest/{name}"):
            with client.get(url) as resp:
                assert resp.status_code == 200, url
                assert resp.headers.getlist("Content-Type") == [content_type], url
    with client.get("/releases/signing-key.pem") as resp:
        assert resp.headers["Content-Type"] == "application/x-pem-file"


def test_two_publishers_at_once_make_one_release(tmp_path):
    """Two `vetting releases publish` processes against one instance at the same moment."""
    from tests.conftest import TEST_URL_ENV, scratch_database

    def run(env):
        base = {k: v for k, v in os.environ.items() if not k.startswith("VETTING_")}
        base.update(env, VETTING_INSTANCE_PATH=str(tmp_path / "instance"))
        cli = [sys.executable, "-m", "vetting.cli"]
        subprocess.run([*cli, "init", "--demo"], env=base, check=True, capture_output=True, timeout=300)
        procs = [subprocess.Popen([*cli, "releases", "publish"], env=base, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                 for _ in range(2)]
        outputs = []
        for p in procs:
            out, _err = p.communicate(timeout=300)
            outputs.append((p.returncode, out.decode()))
        folder = tmp_path / "instance" / "releases"
        assert release.numbers(folder) == [1], outputs
        assert sorted(code for code, _ in outputs) in ([0, 0], [0, 3]), outputs
        assert sum("published at" in out for _, out in outputs) == 1, outputs
        assert list(folder.glob(".tmp-*")) == []
        ok = subprocess.run([*cli, "releases", "verify", str(folder / "1")], env=base, capture_output=True, text=True, timeout=120)
        assert ok.returncode == 0 and "verified" in ok.stdout, ok.stdout + ok.stderr
        import shutil

        broken = tmp_path / "broken"
        shutil.copytree(folder / "1", broken)
        (broken / "black.csv").chmod(0o644)
        data = bytearray((broken / "black.csv").read_bytes())
        data[-2] ^= 0x20
        (broken / "black.csv").write_bytes(bytes(data))
        bad = subprocess.run([*cli, "releases", "verify", str(broken)], env=base, capture_output=True, text=True, timeout=120)
        assert bad.returncode == 1 and "PROBLEM  black.csv has SHA-256" in bad.stdout, bad.stdout + bad.stderr

    if os.environ.get(TEST_URL_ENV):
        with scratch_database(tmp_path, "releases") as url:
            run({"VETTING_DATABASE_URL": url, "VETTING_DEMO": "true"})
    else:
        run({})


def test_a_consumer_verifies_with_openssl_and_sha256sum_alone(app, session, clock, config, actors, make_enterprise, tmp_path):
    import shutil

    if not (shutil.which("openssl") and shutil.which("sha256sum")):
        pytest.skip("openssl or sha256sum is not installed")
    _black(session, clock, actors, make_enterprise, "Openssl Works Co., Ltd.")
    published = publish(app.extensions["vetting"].database, config, actors[1], session=session)
    key = tmp_path / "signing-key.pem"
    key.write_bytes(signing.public_pem(config))
    steps = [f"openssl pkeyutl -verify -pubin -inkey {key} -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig",
             "sha256sum -c SHA256SUMS"]
    for step in steps:
        done = subprocess.run(step, shell=True, cwd=published.path, capture_output=True, text=True)
        assert done.returncode == 0, (step, done.stdout, done.stderr)
    copy = tmp_path / "copy"
    shutil.copytree(published.path, copy)
    (copy / "red.csv").chmod(0o644)
    (copy / "red.csv").write_bytes((copy / "red.csv").read_bytes() + b" ")
    assert subprocess.run(steps[1], shell=True, cwd=copy, capture_output=True).returncode != 0


def test_the_worker_runs_the_jobs_on_the_schedule(app, session, clock, config, actors, make_enterprise):
    from vetting import jobs

    assert jobs.next_run("0 2 * * *", datetime(2026, 11, 25, 16, 0, tzinfo=timezone.utc)) == \
        datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="not a cron expression"):
        jobs.next_run("every day", datetime(2026, 11, 25, tzinfo=timezone.utc))
    _black(session, clock, actors, make_enterprise, "Worker Works Co., Ltd.")
    lines, runs = [], []

    def stop():
        return len(runs) >= 1 or len(lines) > 20

    def log(line):
        lines.append(line)
        if line.startswith(("release:", "skipped:", "the jobs failed")):
            runs.append(line)

    moment = [datetime(2027, 3, 20, 1, 59, 30, tzinfo=timezone.utc)]

    def sleep(seconds):  # time passes only when the worker sleeps
        moment[0] += timedelta(seconds=seconds)

    jobs.worker(app.extensions["vetting"].database, {**config, "VETTING_RELEASE_SCHEDULE": "0 2 * * *"}, log=log, stop=stop,
                sleep=sleep, now=lambda: moment[0])
    assert moment[0] >= datetime(2027, 3, 20, 2, 0, tzinfo=timezone.utc)
    assert runs and "release 1 published" in runs[0], lines
    assert release.numbers(release.storage(config)) == [1]


def test_a_second_jobs_runner_finds_the_lock_taken(app, config):
    from vetting import jobs

    database = app.extensions["vetting"].database
    with jobs.job_lock(database, config) as first:
        assert first
        with jobs.job_lock(database, config) as second:
            assert not second
        assert jobs.run_due(database, config).ran == {"skipped": "another instance is running the jobs"}
    with jobs.job_lock(database, config) as again:
        assert again


def test_the_database_formats_each_line_as_the_reference_does(app, session, clock, config, actors, make_enterprise):
    """listings.csv's lines come from SQL; the Python rows are the reference. Every awkward
    value (each kind of line break, spaces around, ';' inside, duplicates after cleaning, halves
    in scores, a missing pillar, reason codes out of order, no score at all) must come out the
    same on this database."""
    from vetting.models import Decision, Identifier
    from vetting.publication.files import format_line
    from vetting.publication.snapshot import csv_lines, rows

    ent, listing = _black(session, clock, actors, make_enterprise, " Lamu\u2028Port\x85Works\x0bCo. ", "港湾\r\n工程\u3000有限公司")
    ent.aliases = [EnterpriseAlias(name="A;B"), EnterpriseAlias(name="A,B"), EnterpriseAlias(name="  "),
                   EnterpriseAlias(name="Zeta\nWorks"), EnterpriseAlias(name="Ärger"), EnterpriseAlias(name="港湾")]
    ent.identifiers.append(Identifier(scheme="lei", value="5493001KJTIIGC8Y1R12"))
    listing.grounds = " " + HOSTILE_GROUNDS + "\x1c\x1d\x1e\x0c\u2029 "
    listing.reason_codes = ["Z_LAST", "A_FIRST", "M_MIDDLE"]
    decision = session.get(Decision, listing.decision_id)
    decision.total_score, decision.pillar_scores = 84.25, {"S": None, "E": 84.35, "G": 0.05, "P": 99.95, "Q": 12.3449}
    other, second = _black(session, clock, actors, make_enterprise, "Plain Name Co., Ltd.")
    session.get(Decision, second.decision_id).total_score = None
    session.flush()

    expected = [(row["list"], row["ruleset_version"], format_line(row)) for row in rows(session)]
    got = [tuple(line) for line in csv_lines(session)]
    assert len(expected) == 2 and got == expected
    first = next(csv.DictReader(io.StringIO(got[0][2]), fieldnames=COLUMNS))
    assert first["legal_name"] == "Lamu Port Works Co." and first["chinese_name"] == "港湾 工程\u3000有限公司"
    assert first["aliases"] == "A,B;Zeta Works;Ärger;港湾" and first["reason_codes"] == "A_FIRST;M_MIDDLE;Z_LAST"
    assert first["total_score"] == "84.3" and first["pillar_scores"] == "E:84.4;G:0.1;P:100.0;Q:12.3"
    assert ";lei:5493001KJTIIGC8Y1R12" in first["identifiers"] or first["identifiers"].startswith("lei:")
    assert next(csv.DictReader(io.StringIO(got[1][2]), fieldnames=COLUMNS))["total_score"] == ""


def test_the_written_blocks_are_the_reference_lines(session, clock, actors, make_enterprise, tmp_path):
    """The files as the database writes them (blocks of finished bytes) hold the same bytes as the
    reference rows written line by line: each shortcut the SQL takes for the common case (values
    without line breaks, one alias, plain reason codes) and its general form."""
    def listed(name, chinese=None):
        return _black(session, clock, actors, make_enterprise, name, chinese)

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

    names = ("listings.csv", "red.csv", "black.csv")
    assert [(written / n).read_bytes() for n in names] == [(reference / n).read_bytes() for n in names]
    assert got.counts == expected.counts == {"red": 0, "black": 3}
    assert got.rulesets == expected.rulesets and got.rulesets
    assert {n: (w.rows, w.bytes, w.sha256) for n, w in got.files.items()} == \
        {n: (w.rows, w.bytes, w.sha256) for n, w in expected.files.items()}
    body = (written / "listings.csv").read_text(encoding="utf-8")
    assert '"Lamu Port Works Co., ""Ltd""","港湾 工程\u3000有限公司","""q"";A,B;Zeta Works;港湾"' in body
    assert '"Same Name"' in body and '"A_FIRST;B_SECOND"' in body and '"A_FIRST;Q""UOTE;Z_LAST;back\\slash"' in body
