"""Public pages: the enterprise page's pillar chart and proposal notice, the statistics page
(charts beside tables of the same numbers), and English/Chinese."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest

from tests.conftest import serve_notice

from vetting.models import Project
from vetting.services import assessments, listings
from vetting.services.statistics import active_intervals, statistics

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()
EV = [{"kind": "document", "reference": "inspection report"}]


@pytest.fixture()
def listed(session, clock, make_association, make_account, make_enterprise):
    """One enterprise on the black list since 2027-03-17 (a project in Kenya), one proposed
    for the red list."""
    reviewers = [make_account("reviewer", association=make_association()) for _ in range(3)]
    registrar = make_account("registrar")
    black = make_enterprise(legal_name="Chart Harbour Works Co., Ltd.", sector="transport", contact_email="c@harbour.example")
    black.projects.append(Project(name="Lamu Berth", host_country="KE", sector="transport"))
    red = make_enterprise(legal_name="Chart Solar Co., Ltd.", sector="renewables", contact_email="c@solar.example")
    session.flush()
    body = {"enterprise_id": black.id, "conflict": {"declared": False},
            "scores": {c: {"score": 2, "evidence": EV} for c in CRITERIA},
            "knockouts": [{"code": "FORCED_EVICTION", "status": "confirmed", "evidence": EV}]}
    assessments.file_and_submit(session, reviewers[0], body)
    serve_notice(session, registrar, listings.open_proposal(session, black.id))
    clock.advance(days=16)
    listings.confirm(session, registrar, listings.open_proposal(session, black.id).id)
    for reviewer in reviewers:
        assessments.file_and_submit(session, reviewer, {"enterprise_id": red.id, "conflict": {"declared": False},
                                                        "scores": {c: {"score": 4, "evidence": EV} for c in CRITERIA}})
    serve_notice(session, registrar, listings.open_proposal(session, red.id))
    return black, red


def test_enterprise_page_draws_the_pillar_scores_beside_a_table(client, listed):
    black, red = listed
    page = client.get(f"/enterprises/{red.id}").get_data(as_text=True)
    assert '<svg' in page and 'role="img"' in page and "Pillar scores (0–100)" in page
    # four pillars, each a bar and a table row with the same number
    assert page.count('class="bar"') == 4
    assert re.search(r"<th scope=\"row\">Environment \(E\)</th><td>100\.0</td>", page)
    assert "Proposed for the red list" in page and "may object until" in page
    banner = client.get(f"/enterprises/{black.id}").get_data(as_text=True)
    assert "on the black list" in banner and "Since 2027-03-17" in banner and "Lamu Berth" in banner


def test_statistics_page_counts_from_the_history(client, session, listed):
    s = statistics(session)
    assert s.months[-1] == "2027-03" and len(s.months) == 24
    assert s.black_over_time[-1] == 1 and s.black_over_time[-2] == 0 and s.red_over_time[-1] == 0
    assert [(b.key, b.red, b.black) for b in s.by_host_country] == [("KE", 0, 1)]
    assert [(b.key, b.black) for b in s.by_sector] == [("transport", 1)]
    assert {a.code for a in s.agreement} == set(CRITERIA)
    resp = client.get("/statistics")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers.get("ETag")
    assert page.count("<svg") >= 5 and page.count("<table") >= 4
    assert "<th scope=\"row\">2027-03</th><td>0</td><td>1</td>" in page
    assert "<th scope=\"row\">KE</th><td>0</td><td>1</td>" in page


def test_active_intervals_follow_the_events():
    from vetting.models import ListingStatus as S

    day = lambda d: datetime(2027, 1, d, tzinfo=timezone.utc)  # noqa: E731
    spans = active_intervals([(1, day(1), None, S.PROPOSED), (1, day(16), S.PROPOSED, S.ACTIVE), (2, day(2), None, S.PROPOSED),
                              (2, day(17), S.PROPOSED, S.ACTIVE), (2, day(20), S.ACTIVE, S.REVOKED)])
    assert spans == {1: [(date(2027, 1, 16), None)], 2: [(date(2027, 1, 17), date(2027, 1, 20))]}


def test_language_from_query_cookie_and_browser(client):
    english = client.get("/")
    assert '<html lang="en">' in english.get_data(as_text=True) and "Accept-Language" in english.headers["Vary"]
    chosen = client.get("/?lang=zh")
    body = chosen.get_data(as_text=True)
    assert '<html lang="zh">' in body and "企业" in body
    assert "lang=zh" in chosen.headers["Set-Cookie"] and "no-store" in chosen.headers["Cache-Control"]
    remembered = client.get("/lists/black").get_data(as_text=True)
    assert '<html lang="zh">' in remembered and "黑名单" in remembered
    client.get("/?lang=en")
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    client.delete_cookie("lang")
    browser = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh">' in browser.get_data(as_text=True)
    assert browser.headers["ETag"] != english.headers["ETag"]


def test_the_switch_keeps_the_page_and_its_query(client):
    page = client.get("/lists/black?country=KE&sort=since").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)" lang="zh" hreflang="zh">中文</a>', page).group(1)
    assert link.startswith("/lists/black?") and "country=KE" in link and "sort=since" in link and "lang=zh" in link


@pytest.mark.parametrize("path", ["/", "/lists/red", "/method", "/statistics", "/objections/new", "/signin", "/search?q=Harbour"])
def test_every_public_page_reads_in_chinese(client, path):
    english = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    chinese = client.get(path, headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert '<html lang="zh">' in chinese and english != chinese
    # the visible chrome is translated: no English navigation or headings are left
    for english_only in ("Sign in", "Search", "Red and black lists for enterprises abroad"):
        assert english_only not in _visible(chinese), english_only


def _visible(html: str) -> str:
    """Text a reader sees: tags, attribute values and the English switch label removed."""
    text = re.sub(r"<[^>]+>", " ", html)
    return text.replace("English", "")


def test_a_service_message_with_values_reads_in_chinese(app):
    from vetting.errors import M_, Conflict
    from vetting.pages.labels import message

    error = Conflict(M_("the objection window of %(reference)s closed on %(day)s", reference="L2027-AB12", day="2027-03-16"))
    assert error.message == "the objection window of L2027-AB12 closed on 2027-03-16"  # the API's English
    assert error.to_dict()["message"] == error.message
    with app.test_request_context("/?lang=zh"):
        assert message(error.message) == "L2027-AB12 的异议期已于 2027-03-16 结束"
    with app.test_request_context("/?lang=en"):
        assert message(error.message) == error.message
