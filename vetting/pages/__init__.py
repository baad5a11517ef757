"""Server-rendered pages (Jinja templates, own CSS, no CDN, no inline script)."""

from __future__ import annotations

from flask import Blueprint, render_template
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
