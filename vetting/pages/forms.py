"""Forms of the reviewer and registrar pages.

Every form is a Flask-WTF form, so each carries and checks a CSRF token. The assessment form's
criterion fields come from the active ruleset and are read here into the same payload the API
takes; the service validates it, and :func:`field_errors` puts each message the service returns
beside the field it is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from vetting.services.assessment_input import EVIDENCE_KINDS

SCORE_CHOICES = ("0", "1", "2", "3", "4", "n/a")


class SignInForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(message=_l("enter your email")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("enter your password")), Length(max=1000)])
    next = HiddenField()


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token (sign out, revoke, disable, and the assessment
    form, whose fields come from the ruleset)."""


class TokenForm(FlaskForm):
    name = StringField(_l("Name of the new token"), validators=[DataRequired(message=_l("name the token")), Length(max=100)])


class AccountForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(message=_l("enter an email")), Length(max=254)])
    display_name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=[SelectChoice("reviewer", _l("Reviewer")), SelectChoice("association_admin", _l("Association admin")),
                                        SelectChoice("registrar", _l("Registrar"))])
    association = StringField(_l("Association code (not for registrars)"), validators=[Length(max=32)])
    password = PasswordField(_l("Initial password (at least 12 characters)"), validators=[Length(max=1000)])


def _text(form: Mapping[str, str], key: str) -> str:
    return (form.get(key) or "").strip()


def payload_from_form(form: Mapping[str, str], ruleset: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The assessment payload the form describes, and the knock-out codes in payload order
    (to map ``knockouts.<i>`` error paths back to fields). A criterion is part of the
    assessment once it has a score (or n/a); values are passed on as typed, so the service's
    own validation names every problem."""
    payload: dict[str, Any] = {}
    enterprise = _text(form, "enterprise_id")
    if enterprise:
        payload["enterprise_id"] = int(enterprise) if enterprise.isdigit() else enterprise
    if _text(form, "summary"):
        payload["summary"] = _text(form, "summary")
    conflict = _text(form, "conflict")
    if conflict in ("yes", "no"):
        payload["conflict"] = {"declared": conflict == "yes", "note": _text(form, "conflict_note") or None}
    scores: dict[str, Any] = {}
    for criterion in ruleset["criteria"]:
        code = criterion["code"]
        raw = _text(form, f"{code}-score")
        justification = _text(form, f"{code}-justification")
        reference = _text(form, f"{code}-evidence_reference")
        if not raw:
            continue
        entry: dict[str, Any] = {"score": "n/a" if raw == "n/a" else int(raw) if raw.isdigit() else raw}
        if justification:
            entry["justification"] = justification
        if reference:
            entry["evidence"] = [{"kind": _text(form, f"{code}-evidence_kind") or "document", "reference": reference}]
        scores[code] = entry
    if scores:
        payload["scores"] = scores
    knockouts: list[dict[str, Any]] = []
    order: list[str] = []
    for ko in ruleset["knockouts"]:
        code = ko["code"]
        status = _text(form, f"ko-{code}-status")
        if status not in ("confirmed", "alleged"):
            continue
        finding: dict[str, Any] = {"code": code, "status": status, "description": _text(form, f"ko-{code}-description")}
        reference = _text(form, f"ko-{code}-evidence_reference")
        if reference:
            finding["evidence"] = [{"kind": _text(form, f"ko-{code}-evidence_kind") or "document", "reference": reference}]
        knockouts.append(finding)
        order.append(code)
    if knockouts:
        payload["knockouts"] = knockouts
    return payload, order


def form_from_payload(payload: dict[str, Any]) -> dict[str, str]:
    """The form values that show a stored assessment (to continue a draft)."""
    values: dict[str, str] = {"enterprise_id": str(payload.get("enterprise_id") or ""), "summary": payload.get("summary") or ""}
    conflict = payload.get("conflict")
    if conflict is not None:
        values["conflict"] = "yes" if conflict["declared"] else "no"
        values["conflict_note"] = conflict.get("note") or ""
    for code, entry in (payload.get("scores") or {}).items():
        values[f"{code}-score"] = str(entry["score"])
        values[f"{code}-justification"] = entry.get("justification") or ""
        if entry.get("evidence"):
            values[f"{code}-evidence_kind"] = entry["evidence"][0]["kind"]
            values[f"{code}-evidence_reference"] = entry["evidence"][0]["reference"]
    for finding in payload.get("knockouts") or []:
        code = finding["code"]
        values[f"ko-{code}-status"] = finding["status"]
        values[f"ko-{code}-description"] = finding.get("description") or ""
        if finding.get("evidence"):
            values[f"ko-{code}-evidence_kind"] = finding["evidence"][0]["kind"]
            values[f"ko-{code}-evidence_reference"] = finding["evidence"][0]["reference"]
    return values


def field_errors(errors: Mapping[str, list[str]], knockout_order: list[str]) -> dict[str, list[str]]:
    """Service error paths (``scores.E1.evidence``) as form field keys (``E1-evidence``);
    what belongs to no single field goes under ``_form``."""
    out: dict[str, list[str]] = {}
    for path, messages in errors.items():
        parts = path.split(".")
        key = "_form"
        if parts[0] == "scores" and len(parts) >= 2:
            field = parts[2] if len(parts) >= 3 else "score"
            key = f"{parts[1]}-{field if field in ('score', 'justification', 'evidence') else 'score'}"
        elif parts[0] == "knockouts" and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(knockout_order):
            code = knockout_order[int(parts[1])]
            field = parts[2] if len(parts) >= 3 else "status"
            key = f"ko-{code}-{field if field in ('description', 'evidence') else 'status'}"
        elif parts[0] in ("conflict", "enterprise_id", "summary"):
            key = parts[0]
        out.setdefault(key, []).extend(messages)
    return out


def rubric_levels(criterion: dict[str, Any]) -> list[tuple[str, str]]:
    """(level, text) for each score level of a criterion, 0 to 4."""
    rubric = criterion.get("rubric") or {}
    return [(str(level), str(rubric.get(str(level), rubric.get(level, "")))) for level in range(5)]


EVIDENCE_CHOICES = EVIDENCE_KINDS
