"""Web sign-in: a signed session cookie naming the account, checked on every request.

The cookie holds the account id and a fingerprint of its password hash, so changing a password
ends every session; a disabled account or a suspended association is refused at once, as
bearer tokens are. Pages that need an account answer 401 with the sign-in form.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, make_response, render_template, request, session
from flask_babel import gettext

from vetting.errors import PermissionDenied
from vetting.models import Account, Role
from vetting.pages.forms import SignInForm
from vetting.pages.labels import ROLES
from vetting.services.accounts import account_for_session, session_fingerprint
from vetting.web import request_session

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> Account | None:
    if "web_account" not in g:
        g.web_account = account_for_session(request_session(), session.get("account_id"), session.get("fingerprint"))
    return g.web_account


def sign_in(account: Account) -> None:
    session.clear()
    session.permanent = True
    session["account_id"] = account.id
    session["fingerprint"] = session_fingerprint(account)
    g.web_account = account


def sign_out() -> None:
    session.clear()
    g.web_account = None


def safe_next(target: str | None) -> str | None:
    """Only a path on this site (never another host) is followed after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def sign_in_page(status: int = 401, form: SignInForm | None = None, message: str | None = None):  # noqa: ANN201
    form = form or SignInForm(next=request.full_path.rstrip("?") if request.method == "GET" else None)
    return make_response(render_template("work/sign_in.html", form=form, error=message), status)


def signed_in(*roles: Role) -> Callable[[F], F]:
    """Pages for signed-in accounts (401 with the sign-in form otherwise); with ``roles``,
    only those roles (403)."""

    def decorator(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return sign_in_page()
            if roles and user.role not in roles:
                raise PermissionDenied(gettext("this page needs one of these roles: %(roles)s",
                                               roles=", ".join(str(ROLES.get(r.value, r.value)) for r in roles)))
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
