"""Accounts and their credentials.

Bearer tokens look like ``vt_<prefix>_<secret>``. Only the prefix (to list and revoke tokens)
and the SHA-256 of the whole token are stored: a token has 256 bits of entropy, so a fast
hash is enough and lookups stay a single indexed query. Passwords, chosen by people, are
hashed with Argon2id.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from vetting.errors import Conflict, NotFound, PermissionDenied, ValidationError
from vetting.models import Account, ApiToken, Association, Role
from vetting.services import audit
from vetting.services.actors import Actor, SystemActor

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """Return (token, prefix) for a fresh bearer token."""
    prefix = secrets.token_hex(4)
    return f"vt_{prefix}_{secrets.token_urlsafe(32)}", prefix


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _require_registrar(actor: Actor) -> None:
    if isinstance(actor, SystemActor):
        return
    if actor.role is not Role.REGISTRAR:
        raise PermissionDenied("only a registrar can manage accounts")


@dataclass(frozen=True)
class NewAccount:
    account: Account
    token: str | None
    password: str | None


def issue_token(session: Session, actor: Actor, account: Account, name: str = "default") -> str:
    """Create a bearer token for ``account`` (flushes; the caller commits). Returns it once."""
    token, prefix = new_token()
    record = ApiToken(account=account, name=name, prefix=prefix, token_hash=hash_token(token))
    session.add(record)
    session.flush()
    audit.record(session, actor, "token.create", "account", account.id, {"prefix": prefix, "name": name})
    return token


def create_account(
    session: Session,
    actor: Actor,
    *,
    email: str,
    role: str,
    association_code: str | None = None,
    display_name: str | None = None,
    password: str | None = None,
    with_token: bool = True,
    commit: bool = True,
) -> NewAccount:
    """Create an account; returns the new bearer token (shown once) when ``with_token``."""
    _require_registrar(actor)
    errors: dict[str, list[str]] = {}
    email_n = (email or "").strip().lower()
    if not _EMAIL.match(email_n):
        errors["email"] = ["a valid e-mail address is required, e.g. name@association.example"]
    try:
        role_v = Role(role)
    except ValueError:
        errors["role"] = [f"role must be one of {', '.join(r.value for r in Role)}"]
        role_v = None
    association = None
    if role_v is not None and role_v is not Role.REGISTRAR:
        if not association_code:
            errors["association"] = [f"a {role_v.value} must belong to an association: give its code"]
        else:
            association = session.scalar(select(Association).where(Association.code == association_code.upper()))
            if association is None:
                raise NotFound(f"no association with code '{association_code}'", field="association")
    elif role_v is Role.REGISTRAR and association_code:
        errors["association"] = ["a registrar does not belong to an association"]
    if errors:
        raise ValidationError("the account cannot be created", errors)
    existing = session.scalar(select(Account).where(Account.email == email_n))
    if existing is not None:
        raise Conflict(f"an account with e-mail {email_n} already exists", conflicting_id=existing.id)
    account = Account(
        email=email_n,
        display_name=(display_name or email_n.split("@")[0]).strip(),
        role=role_v,
        association=association,
        password_hash=hash_password(password) if password else None,
    )
    session.add(account)
    session.flush()
    audit.record(
        session, actor, "account.create", "account", account.id,
        {"email": email_n, "role": role_v.value, "association": association.code if association else None},
    )
    token = issue_token(session, actor, account) if with_token else None
    if commit:
        session.commit()
    return NewAccount(account=account, token=token, password=password)


def authenticate_token(session: Session, token: str) -> Account:
    """The account a bearer token belongs to; refuses unknown, revoked or expired tokens,
    disabled accounts and accounts of a suspended association."""
    from vetting.errors import Unauthorized
    from vetting.models import AccountStatus, AssociationStatus
    from vetting.models.types import utcnow

    if not token or not token.startswith("vt_"):
        raise Unauthorized("a bearer token is required: send 'Authorization: Bearer vt_...'")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise Unauthorized("the bearer token is not valid (unknown, revoked or expired)")
    account = row.account
    if account.status is not AccountStatus.ACTIVE:
        raise Unauthorized("the account of this token is disabled")
    if account.association is not None and account.association.status is not AssociationStatus.ACCREDITED:
        raise Unauthorized("the association of this account is suspended")
    return account
