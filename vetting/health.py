"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from vetting import migrate
from vetting.web import state

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # noqa: ANN201
    """The process is up and answering."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():  # noqa: ANN201
    """Ready only when the database answers and is migrated to the head revision."""
    st = state()
    try:
        with st.database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = migrate.current_revision(st.database.engine)
    except SQLAlchemyError as exc:
        reason = type(exc.orig if getattr(exc, "orig", None) is not None else exc).__name__
        resp = jsonify(status="unavailable", reason=f"database unreachable ({reason})")
        resp.status_code = 503
        resp.headers["Retry-After"] = "5"
        return resp
    head = st.head_revision
    if current != head:
        resp = jsonify(status="unavailable", reason=f"database at revision {current or 'none'}, expected {head}; run `vetting db upgrade`",
                       revision=current, head=head)
        resp.status_code = 503
        resp.headers["Retry-After"] = "5"
        return resp
    return jsonify(status="ready", revision=current)
