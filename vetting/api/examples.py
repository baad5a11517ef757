"""An example request and response for every API operation, shown in the OpenAPI document.

The examples are attached by an apispec plugin as each path is registered. The test suite
checks that every operation has them, that each fits its schema (no unknown or missing
required fields, the right types) and that each request example loads through the very schema
the view parses with.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin

_HASH = "9f2c4e61a0b7d3c58e1f2a4b6c8d0e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d"
_AT = "2026-11-24T09:30:00+00:00"
_EV = [{"kind": "audit_report", "reference": "Third-party ESIA audit, March 2026, p. 14"}]
_SCORES = {"E1": {"score": 3, "evidence": _EV}, "E2": {"score": 2}, "S1": {"score": "n/a", "justification": "no resettlement on this project"}}
_ASSESSMENT_IN = {
    "enterprise_id": 17,
    "conflict": {"declared": False},
    "summary": "Desk review and site visit to the Mombasa terminal.",
    "scores": _SCORES,
    "knockouts": [],
}
_ASSESSMENT = {
    "id": 412, "enterprise_id": 17, "project_id": None, "association": "SILK", "reviewer_id": 8, "ruleset_version": "2026.1",
    "status": "draft", "version": 1, "supersedes_id": None, "summary": _ASSESSMENT_IN["summary"],
    "conflict": {"declared": False, "note": None}, "scores": _SCORES, "knockouts": [],
    "created_at": _AT, "updated_at": _AT, "submitted_at": None, "withdrawn_at": None, "withdraw_reason": None,
}
_DECISION = {
    "id": 2051, "enterprise_id": 17, "ruleset_id": 1, "outcome": "NONE", "reason_codes": ["QUORUM_NOT_MET"],
    "total_score": 58.4, "pillar_scores": {"E": 61.2, "S": 55.0, "G": 57.5, "P": 60.0}, "input_hash": _HASH,
    "engine_version": "1.1", "trigger": "assessment.submit:412", "created_at": _AT,
}
_RULESET = {
    "id": 2, "version": "2026.2", "title": "ESG and project-quality vetting of enterprises abroad", "content_hash": _HASH,
    "status": "draft", "effective_date": "2026-12-01", "activated_at": None,
}
_ENTERPRISE = {
    "id": 17, "legal_name": "Example Bridge Engineering Group Co., Ltd.", "chinese_name": "示例桥梁工程集团有限公司",
    "aliases": ["Shili Qiaoliang"], "identifiers": [{"scheme": "uscc", "value": "91330100MA2B3C4D5N"}],
    "country": "CN", "sector": "infrastructure",
    "projects": [{"id": 33, "name": "Mombasa bulk terminal", "host_country": "KE", "sector": "transport",
                  "equator_category": "B", "brigc_class": "yellow", "start_year": 2024}],
}
_ASSOCIATION = {"id": 3, "code": "SILK", "name": "Silk Road Contractors Association", "name_zh": "丝路承包商协会", "country": "CN",
                "status": "accredited", "accredited_at": _AT, "suspended_at": None}
_ACCOUNT = {"id": 8, "email": "rev.li@silk.example", "display_name": "Li Wei", "role": "reviewer", "association": "SILK",
            "status": "active", "created_at": _AT}
_TOKEN = {"prefix": "3fa9c2d1", "name": "import job", "created_at": _AT, "last_used_at": None, "revoked_at": None}
_NEW_TOKEN = {"token": "vt_3fa9c2d1_Qm9vayBvZiBleGFtcGxlcyBvbmx5LCBub3QgYSByZWFsIHRva2Vu", "prefix": "3fa9c2d1", "name": "import job"}
_REASON = {"reason": "accreditation review found no independent reviewers"}
_MEMBERSHIP = {"association": "SILK", "enterprise_id": 17, "since": "2025-03-01", "ended_on": None, "end_requested_on": None,
               "end_reason": None}

_LISTING = {
    "id": 88, "reference": "L2026-7F3A91C2", "kind": "listing", "enterprise_id": 17, "list": "black", "status": "proposed", "decision_id": 2051,
    "reason_codes": ["KNOCKOUT", "FORCED_EVICTION"], "grounds": "A knock-out was confirmed with evidence. Confirmed: Forced eviction without compensation.",
    "proposed_at": _AT, "notice": "delivered", "notified_on": "2026-11-24", "objection_days": 15, "objection_deadline": "2026-12-09",
    "confirmed_at": None, "effective_from": None, "expires_on": None,
    "ended_at": None, "end_reason": None,
}
_OBJECTION = {"id": 5, "reference": "O2026-2B81D0AA", "listing_id": 88, "status": "open", "filed_at": _AT, "decided_at": None,
              "decision_reason": None}
_STATUS = {"on": "2026-11-24", "list": None, "listing_id": None, "since": None, "until": None, "suspended": None}

#: (method, OpenAPI path) -> {"request": body, "response": body of the success response}
_RELEASE = {
    "release": 12, "previous": 11, "generated_at": "2026-12-10T02:00:03Z", "as_of": "2026-12-10T02:00:01Z",
    "counts": {"red": 13, "black": 8, "total": 21}, "delta_rows": 2, "rulesets": ["2026.1"],
    "files": [{"name": "listings.csv", "rows": 21, "bytes": 9221, "sha256": "a37ef682c3b440b010b2084ae9209db782a1b4d4bc06266da36bdc19fd2c9f2a",
               "url": "/releases/12/listings.csv"}],
    "signature": {"algorithm": "Ed25519", "file": "index.json.sig", "public_key": "/releases/signing-key.pem"},
}

EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/api/v1/rulesets/active"): {"response": dict(_RULESET, version="2026.1", status="active", activated_at=_AT,
                                                          document={"version": "2026.1", "...": "the whole ruleset"})},
    ("post", "/api/v1/rulesets"): {
        "request": {"document": {"version": "2026.2", "...": "every section of a ruleset; see docs/method.md"}},
        "response": dict(_RULESET, document={"version": "2026.2", "...": "the stored canonical document"}),
    },
    ("post", "/api/v1/rulesets/{ruleset_id}/simulate"): {"response": {
        "current_version": "2026.1", "candidate_version": "2026.2", "candidate_hash": _HASH, "enterprises": 60,
        "matrix": {"RED": {"RED": 9, "NONE": 3}, "NONE": {"NONE": 30}, "BLACK": {"BLACK": 18}},
        "changed": [{"enterprise_id": 17, "from": "RED", "to": "NONE", "reasons": ["NOT_LISTED"]}],
    }},
    ("post", "/api/v1/rulesets/{ruleset_id}/activate"): {"response": dict(_RULESET, status="active", activated_at=_AT)},
    ("get", "/api/v1/decisions/{decision_id}"): {"response": dict(_DECISION, document={
        "outcome": "NONE", "reason_codes": ["QUORUM_NOT_MET"], "grounds": "Too few independent counted assessments to decide.",
        "...": "criteria, counted and excluded assessments, the trace of every outcome row, what it would take"})},
    ("get", "/api/v1/decisions/{decision_id}/replay"): {"response": {
        "decision_id": 2051, "identical": True, "stored_sha256": _HASH, "replayed_sha256": _HASH, "outcome": "NONE",
        "replayed_outcome": "NONE", "differences": []}},
    ("post", "/api/v1/enterprises"): {
        "request": {"legal_name": _ENTERPRISE["legal_name"], "chinese_name": _ENTERPRISE["chinese_name"], "aliases": ["Shili Qiaoliang"],
                    "identifiers": [{"scheme": "uscc", "value": "91330100MA2B3C4D5N"}], "country": "CN", "sector": "infrastructure",
                    "contact_email": "compliance@bridge.example",
                    "projects": [{"name": "Mombasa bulk terminal", "host_country": "KE", "sector": "transport", "equator_category": "B",
                                  "brigc_class": "yellow", "start_year": 2024}]},
        "response": {"enterprise": _ENTERPRISE, "possible_duplicates": [
            {"id": 21, "legal_name": "Example Bridge Engineering Group Co Ltd", "chinese_name": None, "similarity": 0.97}]},
    },
    ("get", "/api/v1/enterprises"): {"response": {"total": 1, "limit": 20, "offset": 0, "results": [{
        "enterprise": _ENTERPRISE, "score": 1.0, "matched_name": "示例桥梁工程集团有限公司", "list": None,
        "explanation": "matched \u201c示例桥梁工程集团有限公司\u201d through its pinyin \u201cshiliqiaoliang\u201d"}]}},
    ("get", "/api/v1/enterprises/{enterprise_id}"): {"response": dict(
        _ENTERPRISE, decision=_DECISION, grounds="Too few independent counted assessments to decide.", status=_STATUS)},
    ("get", "/api/v1/listings"): {"response": [_LISTING]},
    ("get", "/api/v1/lists/{list_type}"): {"response": {"list": "black", "total": 1, "limit": 50, "offset": 0, "entries": [{
        "enterprise_id": 17, "legal_name": _ENTERPRISE["legal_name"], "chinese_name": _ENTERPRISE["chinese_name"], "country": "CN",
        "sector": "infrastructure", "listing_reference": "L2026-7F3A91C2", "effective_from": "2026-12-10", "expires_on": "2029-12-10",
        "reason_codes": ["KNOCKOUT", "FORCED_EVICTION"], "grounds": _LISTING["grounds"], "total_score": 41.3}]}},
    ("get", "/api/v1/releases"): {"response": [_RELEASE]},
    ("post", "/api/v1/releases"): {"request": {"force": False},
                                   "response": {"published": True, "message": "release 12 published: 13 red, 8 black, 2 changes",
                                                "release": _RELEASE}},
    ("post", "/api/v1/listings/{listing_id}/confirm"): {"response": dict(
        _LISTING, status="active", confirmed_at="2026-12-10T08:00:00+00:00", effective_from="2026-12-10", expires_on="2029-12-10")},
    ("post", "/api/v1/listings/{listing_id}/service"): {
        "request": {"method": "courier", "served_on": "2026-11-24", "note": "EMS tracking EE123456789CN, signed by the legal department",
                    "contact_email": "compliance@bridge.example"},
        "response": _LISTING,
    },
    ("post", "/api/v1/listings/{listing_id}/revoke"): {
        "request": {"reason": "the knock-out evidence was found to be falsified"},
        "response": dict(_LISTING, status="revoked", ended_at=_AT, end_reason="the knock-out evidence was found to be falsified"),
    },
    ("post", "/api/v1/objections"): {
        "request": {"reference": "L2026-7F3A91C2", "contact_email": "compliance@bridge.example", "contact_name": "Wang Fang",
                    "grounds": "The eviction was carried out by the municipality before we took over the site.",
                    "evidence": [{"kind": "document", "reference": "Handover protocol of 2024-05-02, signed by the municipality"}]},
        "response": _OBJECTION,
    },
    ("post", "/api/v1/repair-requests"): {
        "request": {"reference": "L2026-7F3A91C2", "contact_email": "compliance@bridge.example",
                    "remediation": "Every displaced household compensated under a plan agreed with the county; grievance office open.",
                    "evidence": [{"kind": "audit_report", "reference": "Independent monitor's report, 2027-11"}]},
        "response": {"id": 3, "reference": "R2027-5C0E11B9", "listing_id": 88, "status": "open", "filed_at": _AT,
                     "decided_at": None, "decision_reason": None},
    },
    ("post", "/api/v1/repair-requests/{request_id}/decide"): {
        "request": {"granted": True, "reason": "The independent monitor confirms full compensation."},
        "response": {"id": 3, "reference": "R2027-5C0E11B9", "listing_id": 88, "status": "granted", "filed_at": _AT,
                     "decided_at": _AT, "decision_reason": "The independent monitor confirms full compensation."},
    },
    ("post", "/api/v1/objections/{objection_id}/decide"): {
        "request": {"upheld": False, "reason": "The court record of 2025 names the enterprise as the evicting party."},
        "response": dict(_OBJECTION, status="rejected", decided_at=_AT,
                         decision_reason="The court record of 2025 names the enterprise as the evicting party."),
    },
    ("post", "/api/v1/enterprises/{enterprise_id}/merge"): {
        "request": {"into": 17, "reason": "registered twice under the English and the pinyin name"},
        "response": _ENTERPRISE,
    },
    ("get", "/api/v1/assessments"): {"response": [dict(_ASSESSMENT, status="submitted", submitted_at=_AT)]},
    ("post", "/api/v1/assessments"): {"request": _ASSESSMENT_IN, "response": dict(_ASSESSMENT, decision=None)},
    ("post", "/api/v1/assessments/validate"): {"request": _ASSESSMENT_IN,
                                               "response": {"valid": True, "ruleset_version": "2026.1", "complete": True}},
    ("post", "/api/v1/assessments/batch"): {
        "request": {"records": [dict(_ASSESSMENT_IN, idempotency_key="silk-2026-0412")], "atomic": False},
        "response": {"accepted": 1, "skipped": 0, "rejected": 0, "decisions": 1, "committed": True,
                     "accepted_records": [{"line": 1, "assessment_id": 412, "idempotency_key": "silk-2026-0412"}],
                     "skipped_records": [], "rejected_records": []},
    },
    ("get", "/api/v1/assessments/{assessment_id}"): {"response": _ASSESSMENT},
    ("patch", "/api/v1/assessments/{assessment_id}"): {
        "request": {"scores": dict(_SCORES, E3={"score": 2})},
        "response": dict(_ASSESSMENT, version=2, scores=dict(_SCORES, E3={"score": 2})),
    },
    ("post", "/api/v1/assessments/{assessment_id}/submit"): {"response": {
        "assessment": dict(_ASSESSMENT, status="submitted", submitted_at=_AT), "decision": _DECISION}},
    ("post", "/api/v1/assessments/{assessment_id}/withdraw"): {
        "request": {"reason": "the site visit covered another project"},
        "response": {"assessment": dict(_ASSESSMENT, status="withdrawn", submitted_at=_AT, withdrawn_at=_AT,
                                        withdraw_reason="the site visit covered another project"),
                     "decision": dict(_DECISION, trigger="assessment.withdraw:412")},
    },
    ("post", "/api/v1/assessments/{assessment_id}/amend"): {
        "request": dict(_ASSESSMENT_IN, scores=dict(_SCORES, E2={"score": 3, "evidence": _EV})),
        "response": {"assessment": dict(_ASSESSMENT, id=413, status="submitted", supersedes_id=412, submitted_at=_AT),
                     "decision": dict(_DECISION, trigger="assessment.amend:413")},
    },
    ("get", "/api/v1/associations"): {"response": [_ASSOCIATION]},
    ("post", "/api/v1/associations"): {
        "request": {"code": "SILK", "name": _ASSOCIATION["name"], "name_zh": _ASSOCIATION["name_zh"], "country": "CN"},
        "response": _ASSOCIATION,
    },
    ("post", "/api/v1/associations/{code}/suspend"): {"request": _REASON,
                                                      "response": dict(_ASSOCIATION, status="suspended", suspended_at=_AT)},
    ("post", "/api/v1/associations/{code}/reinstate"): {"request": {"reason": "independent reviewers appointed"},
                                                        "response": _ASSOCIATION},
    ("get", "/api/v1/accounts"): {"response": [_ACCOUNT]},
    ("post", "/api/v1/accounts"): {
        "request": {"email": "rev.li@silk.example", "role": "reviewer", "association": "SILK", "display_name": "Li Wei"},
        "response": {"account": _ACCOUNT, "token": _NEW_TOKEN["token"]},
    },
    ("post", "/api/v1/accounts/{account_id}/disable"): {"request": {"reason": "left the association"},
                                                        "response": dict(_ACCOUNT, status="disabled")},
    ("post", "/api/v1/accounts/{account_id}/enable"): {"request": {"reason": "rejoined"}, "response": _ACCOUNT},
    ("get", "/api/v1/accounts/{account_id}/tokens"): {"response": [_TOKEN]},
    ("post", "/api/v1/accounts/{account_id}/tokens"): {"request": {"name": "import job"}, "response": _NEW_TOKEN},
    ("delete", "/api/v1/accounts/{account_id}/tokens/{prefix}"): {"response": dict(_TOKEN, revoked_at=_AT)},
    ("post", "/api/v1/accounts/{account_id}/tokens/{prefix}/rotate"): {"response": dict(_NEW_TOKEN, prefix="7be01a44",
                                                                                        token="vt_7be01a44_" + "x" * 43)},
    ("get", "/api/v1/audit-events"): {"response": [{
        "id": 9120, "at": _AT, "actor_id": 8, "actor_label": "rev.li@silk.example", "action": "assessment.submit",
        "subject_type": "assessment", "subject_id": "412", "summary": {"enterprise_id": 17}, "prev_hash": _HASH, "hash": _HASH}]},
    ("put", "/api/v1/associations/{code}/members/{enterprise_id}"): {"request": {"since": "2025-03-01"}, "response": _MEMBERSHIP},
    ("delete", "/api/v1/associations/{code}/members/{enterprise_id}"): {
        "response": dict(_MEMBERSHIP, end_requested_on="2026-11-24", end_reason="resigned from the association")},
    ("post", "/api/v1/associations/{code}/members/{enterprise_id}/end"): {
        "response": dict(_MEMBERSHIP, ended_on="2026-11-25", end_requested_on="2026-11-24", end_reason="resigned from the association")},
}


class ExamplesPlugin(BasePlugin):
    """Puts the example of each operation into its request body and success response."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            example = EXAMPLES.get((method, path))
            if example is None:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and "request" in example:
                body["example"] = example["request"]
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {}).get("application/json") if isinstance(response, dict) else None
                if str(code).startswith("2") and content is not None and "response" in example:
                    content["example"] = example["response"]
