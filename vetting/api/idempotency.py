"""Idempotency-Key on POST: a retry with the same key and body replays the first successful
response; the same key with another body is a 409; a refused request (4xx, 5xx) keeps nothing,
so a corrected retry with the same key runs. A placeholder row is committed before the request runs, so
two requests racing with one key cannot both run: the second gets a 409 while the first is in
progress, and the stored response once it is done. The request's first commit marks the
placeholder carried out in the same transaction: a request whose work was stored is never run
again under its key, even when the database went away before its answer was recorded."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta

from flask import Flask, Response, g, request
from sqlalchemy import delete, event, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from vetting.errors import Conflict, ValidationError
from vetting.models import IdempotencyKey
from vetting.models.types import utcnow
from vetting.web import begin_for_write, close_request_session, request_session, state

log = logging.getLogger("vetting")

HEADER = "Idempotency-Key"
#: A placeholder older than this, whose request stored nothing, belongs to a request that died;
#: the key may be taken over.
ABANDONED = timedelta(seconds=120)
#: ``Session.info`` key naming the placeholder the session's first commit marks carried out.
_PENDING = "idempotency_key_id"


def _body_hash() -> str:
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + request.get_data()).hexdigest()


def _before() -> Response | None:
    key = request.headers.get(HEADER)
    if request.method != "POST" or not key or not request.path.startswith("/api/v1/"):
        return None
    if len(key) > 200:
        raise ValidationError("Idempotency-Key is at most 200 characters", {HEADER: ["too long"]})
    from vetting.api.auth import current_account

    try:
        account = current_account()
    except Exception:  # noqa: BLE001 - unauthenticated calls are refused by the view itself
        return None
    digest = _body_hash()
    # End the read transaction the authentication opened: the placeholder is written on another
    # connection, and on SQLite a transaction whose snapshot predates that write could not write.
    session = request_session()
    session.commit()
    with state().database.session() as s:
        begin_for_write(s)
        row = s.scalar(select(IdempotencyKey).where(IdempotencyKey.account_id == account.id, IdempotencyKey.key == key))
        abandoned = row is not None and row.status_code is None and row.created_at < utcnow() - ABANDONED
        if abandoned and not row.carried_out:
            # the request that took this key died having stored nothing: take the key over
            s.delete(row)
            s.flush()
            row = None
        if row is None:
            row = IdempotencyKey(account_id=account.id, key=key, method=request.method, path=request.path, request_sha256=digest)
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                raise Conflict("a request with this Idempotency-Key is in progress; retry shortly") from None
            g.idempotency = (account.id, key)
            session.info[_PENDING] = row.id
            begin_for_write(session)
            return None
        if row.request_sha256 != digest:
            raise Conflict("this Idempotency-Key was used with a different request; use a new key", conflicting_id=row.id)
        if abandoned:  # and carried out: its work was stored, only its answer was lost
            raise Conflict("the request with this Idempotency-Key was carried out, but its answer could not be recorded; "
                           "look up what it created instead of sending it again", conflicting_id=row.id)
        if row.status_code is None:
            raise Conflict("a request with this Idempotency-Key is in progress; retry shortly", conflicting_id=row.id)
        headers = json.loads(row.response_headers or "{}")
        resp = Response(row.response_body, status=row.status_code, mimetype="application/json", headers=headers)
        resp.headers["Idempotent-Replayed"] = "true"
        return resp


def _after(response: Response) -> Response:
    marker = g.pop("idempotency", None)
    if marker is None:
        return response
    account_id, key = marker
    # The response is rendered: end the request's own session first, so this bookkeeping is not
    # nested inside a transaction that is still open.
    close_request_session()
    try:
        with state().database.session() as s:
            begin_for_write(s)
            row = s.scalar(select(IdempotencyKey).where(IdempotencyKey.account_id == account_id, IdempotencyKey.key == key))
            if row is None:
                return response
            if not 200 <= response.status_code < 300:
                # Nothing was done: free the key, so a corrected retry with it runs.
                s.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
            else:
                row.status_code = response.status_code
                row.response_body = response.get_data(as_text=True)
                keep = {k: v for k, v in response.headers.items() if k in ("ETag", "Location")}
                row.response_headers = json.dumps(keep)
            s.commit()
    except OperationalError as exc:
        # The database went away after the request itself was answered (a 2xx is committed, an
        # error changed nothing): that answer stands. The key stays taken (a retry with it gets
        # 409): for good if the request's work was stored (marked carried out when it was
        # committed), else until ABANDONED, when a retry runs afresh.
        log.warning("Idempotency-Key %r of account %s not recorded, the database is unavailable: %s", key, account_id,
                    type(exc.orig).__name__ if exc.orig is not None else exc)
    return response


def _mark_carried_out(session: Session) -> None:
    """Before a request session's commit: its placeholder is carried out, in the same
    transaction as the work, so the two are stored together or not at all."""
    key_id = session.info.get(_PENDING)
    if key_id is not None:
        session.execute(update(IdempotencyKey).where(IdempotencyKey.id == key_id).values(carried_out=True))


def _marked(session: Session) -> None:
    """After a commit went through, later commits of the request need not mark again."""
    session.info.pop(_PENDING, None)


def init_idempotency(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_after)
    for name, listener in (("before_commit", _mark_carried_out), ("after_commit", _marked)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
