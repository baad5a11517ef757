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

from vetting.errors import M_, Conflict, NotFound, PermissionDenied, TooManyAttempts, ValidationError
from vetting.models import Account, ApiToken, Association, Role
from vetting.services import audit, lockout
from vetting.services.actors import Actor, SystemActor

MIN_PASSWORD_LENGTH = 12
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
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"a password needs at least {MIN_PASSWORD_LENGTH} characters"]
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


def authenticate_token(session: Session, token: str, client: str | None = None,
                       policy: lockout.Policy | None = None) -> Account:
    """The account a bearer token belongs to; refuses unknown, revoked or expired tokens,
    disabled accounts and accounts of a suspended association.

    With ``client`` (the caller's address), invalid tokens are counted per address (commits
    the count even though it raises); an address locked by ``policy`` is refused with
    :class:`TooManyAttempts` before its token is looked at, and the lock is an audit event."""
    from vetting.errors import Unauthorized
    from vetting.models import AccountStatus, AssociationStatus
    from vetting.models.types import utcnow

    if client is not None:
        until = lockout.locked_until(session, lockout.TOKEN, client)
        if until is not None:
            raise TooManyAttempts(M_("too many invalid bearer tokens from this address; retry after %(time)s UTC",
                                     time=f"{until:%H:%M}"), retry_after=lockout.seconds_left(session, until))
    row = None
    if token and token.startswith("vt_"):
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        if client is not None:
            policy = policy or lockout.DEFAULTS[lockout.TOKEN]
            until = lockout.record_failure(session, lockout.TOKEN, client, policy)
            if until is not None:
                audit.record(session, SystemActor("api"), "client.lock", "client", client,
                             {"minutes": int(policy.lockout.total_seconds() // 60), "after_failures": policy.max_failures})
            session.commit()
        if not token or not token.startswith("vt_"):
            raise Unauthorized("a bearer token is required: send 'Authorization: Bearer vt_...'")
        raise Unauthorized("the bearer token is not valid (unknown, revoked or expired)")
    account = row.account
    if account.status is not AccountStatus.ACTIVE:
        raise Unauthorized("the account of this token is disabled")
    if account.association is not None and account.association.status is not AssociationStatus.ACCREDITED:
        raise Unauthorized("the association of this account is suspended")
    return account


def _usable(account: Account) -> str | None:
    """Why ``account`` cannot act now, or None."""
    from vetting.models import AccountStatus, AssociationStatus

    if account.status is not AccountStatus.ACTIVE:
        return "this account is disabled"
    if account.association is not None and account.association.status is not AssociationStatus.ACCREDITED:
        return "the association of this account is suspended"
    return None


def authenticate_password(session: Session, email: str, password: str, policy: lockout.Policy | None = None) -> Account:
    """Sign in with email and password (commits: a failure is counted even though it raises).

    Every failure says the same thing, so the answer does not tell whether an email is
    registered. After ``policy.max_failures`` failures for one email within ``policy.window``
    (registered or not) that email is refused with :class:`TooManyAttempts` for
    ``policy.lockout``, even with the right password; each lock is an audit event. A
    successful sign-in clears the count."""
    from vetting.errors import Unauthorized

    policy = policy or lockout.DEFAULTS[lockout.SIGN_IN]
    email_n = (email or "").strip().lower()
    until = lockout.locked_until(session, lockout.SIGN_IN, email_n)
    if until is not None:
        raise TooManyAttempts(M_("too many failed sign-ins for this email; retry after %(time)s UTC", time=f"{until:%H:%M}"),
                              retry_after=lockout.seconds_left(session, until))
    account = session.scalar(select(Account).where(Account.email == email_n))
    if account is None or not check_password(account.password_hash, password or ""):
        locked = lockout.record_failure(session, lockout.SIGN_IN, email_n, policy)
        if locked is not None:
            summary = {"minutes": int(policy.lockout.total_seconds() // 60), "after_failures": policy.max_failures}
            if account is not None:
                audit.record(session, SystemActor("sign-in"), "account.lock", "account", account.id, summary)
            else:
                audit.record(session, SystemActor("sign-in"), "account.lock", "email", email_n[:64], dict(summary, email=email_n))
        session.commit()
        raise Unauthorized("the email or password is not right")
    reason = _usable(account)
    if reason:
        raise Unauthorized(reason)
    lockout.clear(session, lockout.SIGN_IN, email_n)
    session.commit()
    return account


def session_fingerprint(account: Account) -> str:
    """A value kept in the signed session cookie: changing the password ends every session."""
    return hashlib.sha256(f"{account.id}:{account.password_hash or ''}".encode()).hexdigest()[:32]


def account_for_session(session: Session, account_id: object, fingerprint: object) -> Account | None:
    """The account a web session belongs to, if it may still act."""
    if not isinstance(account_id, int) or not isinstance(fingerprint, str):
        return None
    account = session.get(Account, account_id)
    if account is None or session_fingerprint(account) != fingerprint or _usable(account):
        return None
    return account


# -- registrar administration -----------------------------------------------------------------

def _now():  # noqa: ANN202
    from vetting.models.types import utcnow

    return utcnow()


def accredit_association(session: Session, actor: Actor, *, code: str, name: str, country: str,
                         name_zh: str | None = None) -> Association:
    from vetting.countries import InvalidCountry, normalize_country

    _require_registrar(actor)
    errors: dict[str, list[str]] = {}
    code_n = (code or "").strip().upper()
    if not re.match(r"^[A-Z0-9]{2,16}$", code_n):
        errors["code"] = ["2–16 upper-case letters or digits"]
    if not (name or "").strip():
        errors["name"] = ["a name is required"]
    try:
        country_n = normalize_country(country)
    except InvalidCountry as exc:
        errors["country"] = [str(exc)]
    if errors:
        raise ValidationError("the association cannot be accredited", errors)
    existing = session.scalar(select(Association).where(Association.code == code_n))
    if existing is not None:
        raise Conflict(f"association {code_n} already exists", conflicting_id=existing.id)
    assoc = Association(code=code_n, name=name.strip(), name_zh=name_zh, country=country_n)
    session.add(assoc)
    session.flush()
    audit.record(session, actor, "association.accredit", "association", assoc.id, {"code": code_n})
    session.commit()
    return assoc


def set_association_status(session: Session, actor: Actor, code: str, *, suspended: bool, reason: str) -> Association:
    """Suspend (its accounts' tokens stop working) or reinstate an association."""
    from vetting.models import AssociationStatus

    _require_registrar(actor)
    if not (reason or "").strip():
        raise ValidationError("give a reason", {"reason": ["a reason is required"]})
    assoc = session.scalar(select(Association).where(Association.code == (code or "").upper()))
    if assoc is None:
        raise NotFound(f"no association with code '{code}'")
    target = AssociationStatus.SUSPENDED if suspended else AssociationStatus.ACCREDITED
    if assoc.status is target:
        raise Conflict(f"association {assoc.code} is already {target.value}", conflicting_id=assoc.id)
    assoc.status = target
    assoc.suspended_at = _now() if suspended else None
    session.flush()
    audit.record(session, actor, "association.suspend" if suspended else "association.reinstate", "association", assoc.id,
                 {"code": assoc.code, "reason": reason.strip()})
    session.commit()
    return assoc


def set_account_status(session: Session, actor: Actor, account_id: int, *, disabled: bool, reason: str) -> Account:
    from vetting.models import AccountStatus

    _require_registrar(actor)
    if not (reason or "").strip():
        raise ValidationError("give a reason", {"reason": ["a reason is required"]})
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    if isinstance(actor, Account) and actor.id == account.id and disabled:
        raise Conflict("a registrar cannot disable their own account", conflicting_id=account.id)
    account.status = AccountStatus.DISABLED if disabled else AccountStatus.ACTIVE
    session.flush()
    audit.record(session, actor, "account.disable" if disabled else "account.enable", "account", account.id,
                 {"email": account.email, "reason": reason.strip()})
    session.commit()
    return account


def _token_owner_check(actor: Actor, account: Account) -> None:
    if isinstance(actor, Account) and actor.role is not Role.REGISTRAR and actor.id != account.id:
        raise NotFound(f"no account {account.id}")


def list_tokens(session: Session, actor: Actor, account_id: int) -> list[ApiToken]:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    _token_owner_check(actor, account)
    return list(session.scalars(select(ApiToken).where(ApiToken.account_id == account_id).order_by(ApiToken.id)))


def create_token(session: Session, actor: Actor, account_id: int, name: str = "default") -> tuple[ApiToken, str]:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    _token_owner_check(actor, account)
    token = issue_token(session, actor, account, name=(name or "default")[:100])
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    session.commit()
    return row, token


def revoke_token(session: Session, actor: Actor, account_id: int, prefix: str) -> ApiToken:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    _token_owner_check(actor, account)
    row = session.scalar(select(ApiToken).where(ApiToken.account_id == account_id, ApiToken.prefix == prefix))
    if row is None:
        raise NotFound(f"account {account_id} has no token {prefix}")
    if row.revoked_at is not None:
        raise Conflict(f"token {prefix} is already revoked", conflicting_id=row.id)
    row.revoked_at = _now()
    session.flush()
    audit.record(session, actor, "token.revoke", "account", account_id, {"prefix": prefix})
    session.commit()
    return row


def rotate_token(session: Session, actor: Actor, account_id: int, prefix: str) -> tuple[ApiToken, str]:
    """Revoke a token and issue its replacement in one transaction."""
    old = session.scalar(select(ApiToken).where(ApiToken.account_id == account_id, ApiToken.prefix == prefix))
    if old is None:
        raise NotFound(f"account {account_id} has no token {prefix}")
    account = session.get(Account, account_id)
    _token_owner_check(actor, account)
    if old.revoked_at is not None:
        raise Conflict(f"token {prefix} is revoked; create a new one instead", conflicting_id=old.id)
    old.revoked_at = _now()
    session.flush()
    audit.record(session, actor, "token.rotate", "account", account_id, {"prefix": prefix})
    token = issue_token(session, actor, account, name=old.name)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    session.commit()
    return row, token


def list_associations(session: Session, actor: Actor) -> list[Association]:
    _require_registrar(actor)
    return list(session.scalars(select(Association).order_by(Association.code)))


def list_accounts(session: Session, actor: Actor) -> list[Account]:
    _require_registrar(actor)
    return list(session.scalars(select(Account).order_by(Account.id)))
