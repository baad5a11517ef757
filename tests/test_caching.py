"""ETags and Cache-Control on public reads; private answers are never stored."""


def test_public_reads_carry_an_etag_and_answer_304(client):
    first = client.get("/api/v1/rulesets/active")
    assert first.status_code == 200 and first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    again = client.get("/api/v1/rulesets/active", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    page = client.get("/")
    assert page.headers["ETag"] and client.get("/", headers={"If-None-Match": page.headers["ETag"]}).status_code == 304


def test_answers_for_a_person_are_private(client, session, make_account):
    from vetting.services.accounts import issue_token
    from vetting.services.actors import SystemActor

    token = issue_token(session, SystemActor("test"), make_account("registrar"))
    resp = client.get("/api/v1/rulesets/active", headers={"Authorization": f"Bearer {token}"})
    assert "ETag" not in resp.headers and resp.headers["Cache-Control"] == "private, no-store"
    assert client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}).headers["Cache-Control"] == "private, no-store"


def test_errors_are_not_cached(client):
    resp = client.get("/api/v1/enterprises")  # neither q nor identifier: 422
    assert resp.status_code == 422 and "ETag" not in resp.headers


def test_if_none_match_compares_weakly_and_accepts_a_list_or_a_star(client):
    first = client.get("/api/v1/rulesets/active")
    etag = first.headers["ETag"]
    for header in (etag, f"W/{etag}", f'"stale", {etag}', "*"):
        again = client.get("/api/v1/rulesets/active", headers={"If-None-Match": header})
        assert again.status_code == 304 and again.get_data() == b"", header
        assert again.headers["ETag"] == etag and "Content-Type" not in again.headers
    stale = client.get("/api/v1/rulesets/active", headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200 and stale.get_json() == first.get_json()
    head = client.head("/api/v1/rulesets/active", headers={"If-None-Match": etag})
    assert head.status_code == 304
