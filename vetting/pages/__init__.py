"""Server-rendered pages (Jinja templates, own CSS, no CDN, no inline script)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import func, select

from vetting.models import Enterprise, Listing, ListingStatus, ListType, Ruleset, RulesetStatus
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
            error = f"'{raw}' is not a date: write it as YYYY-MM-DD"
    view = public_status(session, found.id, as_of)
    return render_template("enterprise.html", v=view, as_of=as_of, raw_as_of=raw, error=error), 400 if error else 200
