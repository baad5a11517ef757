"""Words the pages show for stored codes (roles, lists, statuses, sectors, match forms), in the
page's language. The codes themselves never change; only what a reader sees of them does."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext, lazy_gettext as _l

from vetting.errors import Message

ROLES = {"reviewer": _l("reviewer"), "association_admin": _l("association admin"), "registrar": _l("registrar")}
LISTS = {"red": _l("red list"), "black": _l("black list")}
OUTCOMES = {"RED": _l("RED"), "BLACK": _l("BLACK"), "NONE": _l("NONE")}
STATUSES = {
    "proposed": _l("proposed"), "active": _l("active"), "withdrawn": _l("withdrawn"), "expired": _l("expired"),
    "removed": _l("removed"), "revoked": _l("revoked"), "open": _l("open"), "upheld": _l("upheld"),
    "rejected": _l("rejected"), "granted": _l("granted"), "refused": _l("refused"), "draft": _l("draft"),
    "submitted": _l("submitted"), "superseded": _l("superseded"), "accredited": _l("accredited"),
    "suspended": _l("suspended"), "enabled": _l("enabled"), "disabled": _l("disabled"),
}
SECTORS = {
    "agriculture": _l("agriculture"), "chemicals": _l("chemicals"), "infrastructure": _l("infrastructure"),
    "manufacturing": _l("manufacturing"), "mining": _l("mining"), "oil_gas": _l("oil and gas"), "power": _l("power"),
    "real_estate": _l("real estate"), "renewables": _l("renewables"), "telecom": _l("telecommunications"),
    "transport": _l("transport"), "water": _l("water"),
}
FORMS = {"full": _l("full name"), "core": _l("name without its legal form"), "trade": _l("name without its place and legal form"), "pinyin": _l("pinyin"),
         "pinyin_joined": _l("pinyin"), "tokens": _l("words in any order"), "joined": _l("words run together")}
SORTS = {"name": _l("name"), "since": _l("listed since"), "expires": _l("expiry"), "score": _l("score")}
STATUS_TITLES = {400: _l("Bad request"), 401: _l("Sign-in needed"), 403: _l("Not allowed"), 404: _l("No such page or record"),
                 405: _l("Method not allowed"), 409: _l("Conflict"), 412: _l("Changed since you read it"),
                 413: _l("Too large"), 415: _l("Unsupported format"), 422: _l("Invalid input"), 429: _l("Too many requests"),
                 500: _l("Something went wrong"), 503: _l("Temporarily unavailable")}
#: Names in the published ruleset that readers meet on public pages (pillars). Other ruleset
#: text (rubrics, titles) is shown as the registrar published it.
TERMS = {"Environment": _l("Environment"), "Social": _l("Social"), "Governance": _l("Governance"),
         "Project quality": _l("Project quality")}


def _label(table: dict, value: str | None) -> str:
    if value is None:
        return ""
    found = table.get(value)
    return str(found) if found is not None else value


def term(text: str) -> str:
    return _label(TERMS, text)


def message(text: object) -> str:
    """A message from a service or a form, in the reader's language when the catalog has it
    (fixed messages are marked with ``N_``, templated ones built with ``M_``); returned as plain
    text, so it is escaped."""
    if not text:
        return ""
    if isinstance(text, Message):
        return gettext(text.template, **text.params)
    return gettext(str(text))


def init_labels(app: Flask) -> None:
    app.add_template_filter(message, "translated")

    @app.context_processor
    def _labels() -> dict:
        return {
            "role_label": lambda v: _label(ROLES, v), "list_label": lambda v: _label(LISTS, v),
            "outcome_label": lambda v: _label(OUTCOMES, v), "status_label": lambda v: _label(STATUSES, v),
            "sector_label": lambda v: _label(SECTORS, v), "form_label": lambda v: _label(FORMS, v),
            "sort_label": lambda v: _label(SORTS, v), "term": term, "message": message,
            "status_title": lambda code: str(STATUS_TITLES.get(code, "")),
        }
