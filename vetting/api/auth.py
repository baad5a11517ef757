"""Bearer-token authentication for the API views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from vetting.errors import PermissionDenied, Unauthorized
from vetting.models import Account, Role
from vetting.services import lockout
from vetting.services.accounts import authenticate_token
from vetting.web import request_session

F = TypeVar("F", bound=Callable[..., Any])


def current_account() -> Account:
    """The authenticated account of this request, or 401."""
    if "account" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a bearer token is required: send 'Authorization: Bearer vt_...'")
        # The client address (after ProxyFix, when proxies are trusted) counts invalid tokens.
        g.account = authenticate_token(request_session(), token.strip(), client=request.remote_addr or "unknown",
                                       policy=lockout.Policy.from_config(current_app.config, lockout.TOKEN))
    return g.account


def require_roles(*roles: Role) -> Callable[[F], F]:
    """Allow only accounts with one of ``roles`` (401 without a token, 403 with the wrong role)."""

    def decorator(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            account = current_account()
            if account.role not in roles:
                allowed = ", ".join(r.value for r in roles)
                raise PermissionDenied(f"this action needs one of these roles: {allowed}")
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


BEARER = [{"bearerAuth": []}]
