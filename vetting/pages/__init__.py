"""Server-rendered pages (Jinja templates, own CSS, no CDN, no inline script)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import func, select

from vetting.models import Enterprise, Listing, ListingStatus, ListType, Ruleset, RulesetStatus
from vetting.pages.labels import term
from vetting.web import request_session

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static")


@bp.get("/")
def home():  # noqa: ANN201
    session = request_session()
    counts = dict(
        session.execute(
            select(Listing.list_type, func.count()).where(Listing.status == ListingStatus.ACTIVE).group_by(Listing.list_type)
        ).all()
    )
    ruleset = session.scalar(select(Ruleset).where(Ruleset.status == RulesetStatus.ACTIVE))
    return render_template(
        "home.html",
        enterprises=session.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.merged_into_id.is_(None))),
        red=counts.get(ListType.RED, 0),
        black=counts.get(ListType.BLACK, 0),
        ruleset=ruleset,
    )


@bp.get("/enterprises/<int:enterprise_id>")
def enterprise(enterprise_id: int):  # noqa: ANN201
    """An enterprise's status, today or on the ``as_of`` date, with the grounds and the history."""
    from vetting.services.enterprises import resolve
    from vetting.services.listings import public_status

    session = request_session()
    found, merged = resolve(session, enterprise_id)
    if merged:
        return redirect(url_for("pages.enterprise", enterprise_id=found.id, **request.args), code=308)
    raw = request.args.get("as_of", "").strip()
    as_of, error = None, None
    if raw:
        try:
            as_of = date.fromisoformat(raw)
        except ValueError:
            error = gettext("‘%(raw)s’ is not a date: write it as YYYY-MM-DD", raw=raw)
    view = public_status(session, found.id, as_of)
    return render_template("enterprise.html", v=view, as_of=as_of, raw_as_of=raw, error=error,
                           pillars=_pillar_rows(session, view.decision),
                           proposals=list({l.id: l for _e, l in view.history if l.status.value == "proposed"}.values())), \
        400 if error else 200


def _pillar_rows(session, decision) -> list[tuple[str, float | None]]:  # noqa: ANN001
    """(label, score) per pillar of the decision's ruleset, in the ruleset's order."""
    import json

    from vetting.models import Ruleset

    if decision is None:
        return []
    document = json.loads(session.get(Ruleset, decision.ruleset_id).document)
    scores = decision.pillar_scores or {}
    return [(f"{term(p['name'])} ({p['code']})", scores.get(p["code"])) for p in document["pillars"]]


@bp.get("/search")
def search():  # noqa: ANN201
    """Results for the home page's search box: names in any script or form, or scheme:value."""
    from vetting.errors import DomainError
    from vetting.services import search as service

    q = request.args.get("q", "").strip()
    session = request_session()
    if ":" in q and " " not in q:
        try:
            found = service.by_identifier(session, q)
        except DomainError as exc:
            return render_template("search.html", q=q, hits=[], total=0, message=exc.details.get("errors", {}).get(
                "identifier", [exc.message])[0]), exc.status
        return redirect(url_for("pages.enterprise", enterprise_id=found.enterprise.id))
    results = service.search(session, q) if q else service.Results(0, [])
    message = None if not q or results.total else gettext(
        "Nothing matched. A legal form alone (“Co., Ltd.”) or a single letter finds nothing.")
    return render_template("search.html", q=q, hits=results.hits, total=results.total, message=message)


PER_PAGE = (10, 25, 50, 100)


@bp.get("/lists/<any(red, black):list_type>")
def list_page(list_type: str):  # noqa: ANN201
    """The red or the black list now, with filters and pages."""
    from vetting.models import SECTORS
    from vetting.services.listings import SORTS, active_list

    per_page = request.args.get("per_page", 50, type=int) or 50
    per_page = per_page if per_page in PER_PAGE else 50
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    sort = request.args.get("sort", "name") if request.args.get("sort") in SORTS else "name"
    country = (request.args.get("country") or "").strip().upper()[:2] or None
    sector = request.args.get("sector") if request.args.get("sector") in SECTORS else None
    page = active_list(request_session(), list_type, country=country, sector=sector, sort=sort, limit=per_page,
                       offset=(page_no - 1) * per_page)
    pages = max(1, (page.total + per_page - 1) // per_page)
    return render_template("list.html", list_type=list_type, page=page, page_no=page_no, pages=pages, sort=sort,
                           country=country or "", sector=sector or "", sectors=SECTORS, sorts=sorted(SORTS), per_page=per_page,
                           per_page_choices=PER_PAGE)


@bp.get("/method")
def method():  # noqa: ANN201
    """How decisions are made: the active ruleset's criteria, rubrics, weights, thresholds,
    outcome table and durations, rendered from the ruleset itself."""
    import json

    from vetting.services.rulesets import active_ruleset

    ruleset = active_ruleset(request_session())
    return render_template("method.html", ruleset=ruleset, doc=json.loads(ruleset.document))


CHART_ROWS = 12  # bars drawn per breakdown; the table beside the chart has every row


@bp.get("/statistics")
def statistics():  # noqa: ANN201
    """Listings per list over time, by host country and by sector, and rater agreement per
    criterion: each chart drawn as inline SVG beside a table of its numbers."""
    from vetting.pages.labels import SECTORS
    from vetting.services.statistics import statistics as figures

    s = figures(request_session())
    breakdowns = []
    for key, rows, label in (("by-country", s.by_host_country, None), ("by-sector", s.by_sector, SECTORS)):
        named = [(str(label.get(r.key, r.key)) if label else r.key, r) for r in rows]
        breakdowns.append({"id": key, "rows": named, "peak": max([r.red for r in rows] + [r.black for r in rows] + [1]),
                           "red": [(name, r.red) for name, r in named[:CHART_ROWS]],
                           "black": [(name, r.black) for name, r in named[:CHART_ROWS]], "cut": len(named) > CHART_ROWS})
    alphas = [(a.code, max(0.0, a.alpha) if a.alpha is not None else None) for a in s.agreement]
    return render_template("statistics.html", s=s, breakdowns=breakdowns, alphas=alphas)
