"""Search by name and by identifier over the API, with the stored candidate index."""

from __future__ import annotations

import pytest

from tests.conftest import valid_uscc
from vetting.models import EnterpriseAlias
from vetting.matching import tokens
from vetting.services.search import index_enterprises, reindex


@pytest.fixture()
def register(session, make_enterprise):
    def _make(legal, chinese=None, aliases=(), **kw):
        ent = make_enterprise(legal_name=legal, chinese_name=chinese, **kw)
        ent.aliases = [EnterpriseAlias(name=a) for a in aliases]
        session.flush()
        index_enterprises(session, [ent.id])
        return ent

    return _make


def _ids(client, query):
    resp = client.get("/api/v1/enterprises", query_string=query)
    assert resp.status_code == 200, resp.get_json()
    return [r["enterprise"]["id"] for r in resp.get_json()["results"]], resp.get_json()


@pytest.mark.parametrize("q", ["Zhongtie Wuju", "中铁五局", "China Railway No.5 Engineering Group Co., Ltd", "中鐵五局", "中铁"])
def test_every_way_of_writing_the_name_lands_on_the_same_enterprise(client, register, q):
    crec = register("China Railway No.5 Engineering Group Co., Ltd.", "中铁五局集团有限公司")
    register("Lanting Harbour Works Co., Ltd.", "兰亭港务工程有限公司")
    ids, body = _ids(client, {"q": q})
    assert ids[0] == crec.id
    top = body["results"][0]
    assert 0 < top["score"] <= 1 and "through its" in top["explanation"]


def test_bare_legal_forms_and_single_letters_find_nothing(client, register):
    register("Bare Test Engineering Co., Ltd.", "测试工程有限公司")
    for q in ("Co., Ltd.", "CORP", "集团", "a"):
        assert _ids(client, {"q": q})[0] == []


def test_filters_min_score_and_pagination(client, register):
    a = register("Harbour Works Alpha Co., Ltd.", country="KE")
    b = register("Harbour Works Beta Co., Ltd.", country="TZ")
    assert set(_ids(client, {"q": "Harbour Works"})[0]) >= {a.id, b.id}
    assert _ids(client, {"q": "Harbour Works", "country": "tz"})[0] == [b.id]
    assert _ids(client, {"q": "Harbour Works", "min_score": 1})[0] == []
    first, body = _ids(client, {"q": "Harbour Works", "limit": 1})
    assert len(first) == 1 and body["total"] >= 2
    assert client.get("/api/v1/enterprises", query_string={"q": "x", "limit": 0}).status_code == 422


def test_identifier_lookup(client, register):
    uscc = valid_uscc(777)
    ent = register("Identifier Test Works Co., Ltd.", uscc=uscc)
    ids, body = _ids(client, {"identifier": f"uscc:{uscc.lower()}"})
    assert ids == [ent.id] and body["results"][0]["score"] == 1.0
    wrong = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    bad = client.get("/api/v1/enterprises", query_string={"identifier": f"uscc:{wrong}"})
    assert bad.status_code == 422 and "check digit" in bad.get_json()["errors"]["identifier"][0]
    unknown = client.get("/api/v1/enterprises", query_string={"identifier": f"uscc:{valid_uscc(778)}"})
    assert unknown.status_code == 404
    both = client.get("/api/v1/enterprises", query_string={"identifier": f"uscc:{uscc}", "q": "x"})
    assert both.status_code == 422 and "q" in str(both.get_json()["errors"])


def test_merged_enterprises_leave_the_index_and_reindex_rebuilds_it(client, session, register, make_account):
    from vetting.services.enterprises import merge

    survivor = register("Merge Survivor Bridge Co., Ltd.")
    absorbed = register("Merge Absorbed Tunnel Co., Ltd.")
    merge(session, make_account("registrar"), absorbed.id, survivor.id, "registered twice")
    ids, body = _ids(client, {"q": "Merge Absorbed Tunnel"})
    assert absorbed.id not in ids and ids[0] == survivor.id  # found through the name it brought as an alias
    assert reindex(session) >= 2
    assert _ids(client, {"q": "Merge Absorbed Tunnel"})[0][0] == survivor.id


def test_cli_reindex(tmp_path):
    from click.testing import CliRunner

    from tests.conftest import scratch_database
    from vetting.cli import main

    with scratch_database(tmp_path, "reindex") as url:
        env = {"VETTING_DATABASE_URL": url, "VETTING_INSTANCE_PATH": str(tmp_path / "i"), "VETTING_DEMO": "true"}
        assert CliRunner().invoke(main, ["init"], env=env).exit_code == 0
        result = CliRunner().invoke(main, ["search", "reindex"], env=env)
        assert result.exit_code == 0, result.output
        assert "indexed 60 enterprises" in result.output


def test_the_search_page(client, register):
    crec = register("China Railway No.5 Engineering Group Co., Ltd.", "中铁五局集团有限公司", uscc=valid_uscc(901))
    page = client.get("/search", query_string={"q": "Zhongtie Wuju"}).get_data(as_text=True)
    assert f"/enterprises/{crec.id}" in page and "<mark>中铁五局集团有限公司</mark>" in page and "pinyin" in page
    nothing = client.get("/search", query_string={"q": "Co., Ltd."}).get_data(as_text=True)
    assert "Nothing matched" in nothing
    jump = client.get("/search", query_string={"q": f"uscc:{valid_uscc(901)}"})
    assert jump.status_code == 302 and jump.headers["Location"].endswith(f"/enterprises/{crec.id}")
    wrong = client.get("/search", query_string={"q": "uscc:911"})
    assert wrong.status_code == 422 and "length" in wrong.get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert 'role="search"' in home and 'href="/lists/black"' in home


def test_the_method_page_is_rendered_from_the_active_ruleset(client, session):
    import json

    from markupsafe import escape
    from sqlalchemy import select

    from vetting.models import Ruleset, RulesetStatus

    doc = json.loads(session.scalar(select(Ruleset.document).where(Ruleset.status == RulesetStatus.ACTIVE)))
    page = client.get("/method").get_data(as_text=True)
    assert f"Ruleset <b>{doc['version']}</b>" in page
    for criterion in doc["criteria"]:
        assert f"<b>{criterion['code']}</b>" in page
        for text in criterion["rubric"].values():
            assert str(escape(text)) in page
    for row in doc["outcomes"]:
        assert str(escape(row["when"])) in page
    assert f"objection window of {doc['durations']['objection_days']} days opens on the day the notice reaches it" in page
    assert "One association, one voice" in page and "through its last day inclusive" in page


def test_common_tokens_are_read_last_and_the_statistics_follow_a_reindex(session, register):
    from sqlalchemy import select

    from vetting.models import TokenStat
    from vetting.services import search as service

    target = register("Qilian Harbour Engineering Co., Ltd.", "祁连港湾工程有限公司")
    for n in range(12):
        register(f"Harbour Engineering Works {n} Co., Ltd.")
    assert service.reindex(session) >= 13
    stats = dict(session.execute(select(TokenStat.token, TokenStat.enterprises)).all())
    assert stats[""] >= 13 and stats["harbour"] >= 13 and stats["qilian"] == 1
    query_tokens = sorted(tokens("Qilian Harbour Engineering"))
    weights = service.token_weights(query_tokens, stats, budget=5)
    assert weights and all(stats.get(t, 0) <= 1 for t in weights)  # only the enterprise's own tokens are read
    assert "harbour" not in weights and "engineering" not in weights
    everything = service.token_weights(query_tokens, stats, budget=10**9)
    assert set(everything) == set(query_tokens) and everything["qilian"] > everything["harbour"]
    assert set(service.token_weights(query_tokens, {})) == set(query_tokens)  # no statistics: read all
    assert service.search(session, "Qilian Harbour Engineering").hits[0].enterprise.id == target.id


def test_the_jobs_recount_the_statistics(session, register, app):
    from vetting.jobs import run_due

    register("Statistics Test Works Co., Ltd.")
    report = run_due(app.extensions["vetting"].database, dict(app.config))
    assert report.ran["search_statistics"]["tokens"] > 0


def test_an_overlong_query_is_refused_with_the_field_named(client):
    resp = client.get("/api/v1/enterprises", query_string={"q": "x" * 201})
    assert resp.status_code == 422 and "q" in resp.get_json()["errors"]
    assert client.get("/search", query_string={"q": "港" * 5000}).status_code == 200  # the page reads the first 200


def test_identifier_answer_is_what_the_schema_dumps(client, session, register):
    """The identifier lookup builds its answer without the schema; it must stay the same."""
    from vetting.api.enterprises import SearchOut
    from vetting.models import BrigcClass, EquatorCategory, Identifier, Project
    from vetting.services.search import by_identifier

    full, bare = valid_uscc(781), valid_uscc(782)
    ent = register("Answer Shape Works Co., Ltd.", "答案形状工程有限公司", aliases=("Answer Shape", "ASW"), uscc=full)
    ent.identifiers.append(Identifier(scheme="lei", value="529900T8BM49AURSDO55"))
    ent.projects = [Project(name="Lusaka Ring Road", host_country="ZM", sector="transport", equator_category=EquatorCategory.A,
                            brigc_class=BrigcClass.YELLOW, start_year=2019),
                    Project(name="Harbour Crane", host_country="TZ", sector="water")]
    register("Bare Works Co., Ltd.", uscc=bare)
    session.flush()
    for uscc in (full, bare):
        resp = client.get("/api/v1/enterprises", query_string={"identifier": f"uscc:{uscc}", "limit": 7, "offset": 3})
        assert resp.status_code == 200 and resp.mimetype == "application/json"
        hit = by_identifier(session, f"uscc:{uscc}")
        expected = SearchOut().dump({"total": 1, "limit": 7, "offset": 0, "results": [
            {"enterprise": hit.enterprise, "score": hit.match.score, "matched_name": hit.match.name,
             "explanation": hit.match.explanation, "list": hit.list}]})
        assert resp.get_json() == expected
    shown = resp.get_json()["results"][0]["enterprise"]
    assert shown["chinese_name"] is None and shown["aliases"] == [] and shown["projects"] == []
    listed = client.get("/api/v1/enterprises", query_string={"identifier": f"uscc:{full}"}).get_json()["results"][0]
    assert listed["enterprise"]["aliases"] == ["Answer Shape", "ASW"] and len(listed["enterprise"]["identifiers"]) == 2
    assert listed["enterprise"]["projects"][0]["equator_category"] == "A" and listed["enterprise"]["projects"][1]["start_year"] is None


def test_identifier_answer_is_cached_by_etag_until_it_changes(client, session, register):
    uscc = valid_uscc(783)
    ent = register("Etag Works Co., Ltd.", uscc=uscc)
    first = client.get("/api/v1/enterprises", query_string={"identifier": f"uscc:{uscc}"})
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public")
    again = client.get("/api/v1/enterprises", query_string={"identifier": f"uscc:{uscc}"}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    ent.legal_name = "Etag Works Renamed Co., Ltd."
    session.flush()
    changed = client.get("/api/v1/enterprises", query_string={"identifier": f"uscc:{uscc}"}, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["results"][0]["enterprise"]["legal_name"] == "Etag Works Renamed Co., Ltd."


def test_an_engine_bound_session_reads_outside_the_session_with_the_same_answer(engine):
    """On PostgreSQL a request's session (bound to the engine, not in a transaction) reads an
    identifier through the driver alone; the card is the one the session reads, a lost
    connection is an OperationalError (503) and the pool recovers."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the driver-level read is PostgreSQL's")
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    from vetting.errors import NotFound
    from vetting.models import BrigcClass, Enterprise, Identifier, Project
    from vetting.services.search import by_identifier

    uscc = valid_uscc(785)
    with Session(engine) as s:
        ent = Enterprise(legal_name="Driver Read Works Co., Ltd.", chinese_name="驱动读取工程有限公司", country="CN", sector="power",
                         aliases=[EnterpriseAlias(name="Driver Read")],
                         identifiers=[Identifier(scheme="uscc", value=uscc)],
                         projects=[Project(name="Dam", host_country="LA", sector="power", brigc_class=BrigcClass.GREEN, start_year=2020)])
        s.add(ent)
        s.commit()
        ent_id = ent.id
    app_name = "vetting-driver-read-test"
    own = create_engine(engine.url, pool_size=1, connect_args={"application_name": app_name})
    try:
        with Session(own) as s:
            direct = by_identifier(s, f"uscc:{uscc}")
            assert not s.in_transaction()  # the session itself never connected
            with s.begin():
                through_session = by_identifier(s, f"uscc:{uscc}")
            assert direct == through_session and direct.enterprise.id == ent_id
            assert direct.enterprise.projects[0].brigc_class == "green" and direct.list is None
            with pytest.raises(NotFound):
                by_identifier(s, f"uscc:{valid_uscc(786)}")
            with engine.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                              {"name": app_name})
            with pytest.raises(OperationalError):
                by_identifier(s, f"uscc:{uscc}")
            assert by_identifier(s, f"uscc:{uscc}") == direct  # a fresh connection answers
    finally:
        own.dispose()
        with Session(engine) as s:
            s.delete(s.get(Enterprise, ent_id))
            s.commit()


@pytest.mark.parametrize("typed", ["Qlian", "Qiliann", "Qilain", "Qiluan", "Qilan"])
def test_a_trade_name_misspelt_by_one_letter_finds_the_enterprise_among_many_alike(session, register, typed):
    from vetting.services import search as service

    target = register("Qilian Harbour Engineering Co., Ltd.", "祁连港湾工程有限公司")
    for n in range(30):
        register(f"Harbour Engineering Works {n} Co., Ltd.")
    service.reindex(session)
    # the registered spelling is read, as the rarest token, at a share of its weight
    query_tokens = sorted(tokens(f"{typed} Harbour Engineering"))
    stats, shares = service.query_statistics(session.connection(), f"{typed} Harbour Engineering", query_tokens)
    assert shares["qilian"] == service.CORRECTION_WEIGHT and stats["qilian"] == 1
    assert set(shares.values()) == {service.CORRECTION_WEIGHT} and not set(shares) & set(query_tokens)
    weights = service.token_weights([*query_tokens, *shares], stats, budget=30, shares=shares)
    assert "qilian" in weights and "harbour" not in weights
    assert weights["qilian"] == pytest.approx(service.token_weights(["qilian"], stats)["qilian"] * service.CORRECTION_WEIGHT, abs=1e-3)
    hits = service.search(session, f"{typed} Harbour Engineering Co Ltd").hits
    assert hits[0].enterprise.id == target.id


def test_corrections_are_rebuilt_with_the_statistics_and_skip_chinese_queries(session, register):
    from sqlalchemy import select

    from vetting.models import TokenVariant
    from vetting.services import search as service

    register("Qilian Harbour Engineering Co., Ltd.", "祁连港湾工程有限公司")
    service.reindex(session)
    variants = {tuple(row) for row in session.execute(select(TokenVariant.variant, TokenVariant.token))}
    assert ("qlian", "qilian") in variants and ("qilan", "qilian") in variants
    assert not any(token == "qil" or len(token) < 4 for _v, token in variants)  # words only, no letter groups
    register("Qilain Trading Co., Ltd.")
    service.reindex(session)
    assert ("qilan", "qilain") in {tuple(row) for row in session.execute(select(TokenVariant.variant, TokenVariant.token))}
    assert service.query_statistics(session.connection(), "祁连港湾 Qlian", sorted(tokens("祁连港湾 Qlian")))[1] == {}


def test_a_shared_spelling_variant_two_edits_apart_is_not_a_correction(session, register):
    from vetting.services import search as service

    register("Zhuxin Trading Co., Ltd.")
    register("Huaxin Trading Co., Ltd.")
    service.reindex(session)
    # "huxain" shares the variant "huxin" with both; only Huaxin is one edit (two letters swapped) away
    shares = service.query_statistics(session.connection(), "Huxain", ["huxain"])[1]
    assert "huaxin" in shares and "zhuxin" not in shares
