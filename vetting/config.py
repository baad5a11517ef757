"""Configuration: every setting, its environment variable and its default.

Settings are read from the environment only inside :func:`load_config`, which the application
factory calls; importing this module reads nothing. ``create_app(config)`` lets tests and
embedding code pass values directly; those win over the environment.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from vetting.clock import INSTANT_FORM, as_utc, parse_instant


class ConfigError(ValueError):
    """A setting holds a value the service cannot use; the message names the setting."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


#: Every setting the service reads. The README's configuration table mirrors this list.
SETTINGS: tuple[Setting, ...] = (
    Setting("VETTING_INSTANCE_PATH", "./instance", "Folder for the SQLite file, the secret key, signing keys and releases."),
    Setting("VETTING_DATABASE_URL", "sqlite:///<instance>/vetting.sqlite3", "SQLAlchemy URL; use postgresql+psycopg://user@host/db in production."),
    Setting("VETTING_SECRET_KEY", "generated into <instance>/secret_key (mode 0600)", "Key that signs login sessions and CSRF tokens."),
    Setting("VETTING_SEEDS_PATH", "the seeds/ folder shipped with the package", "Where `vetting init` reads the ruleset and demo data."),
    Setting("VETTING_DEMO", "auto", "Load the demo data on init: true, false, or auto (only on the embedded SQLite database)."),
    Setting("VETTING_DB_POOL_SIZE", "5", "Connections per process in the PostgreSQL pool."),
    Setting("VETTING_DB_TIMEOUT", "5", "Seconds to wait for a database connection or lock before failing fast."),
    Setting("VETTING_LOG_LEVEL", "INFO", "Python logging level."),
    Setting("VETTING_SECURE_COOKIES", "false", "Send the sign-in cookie over HTTPS only; set true behind TLS."),
    Setting("VETTING_RATELIMIT_STORAGE_URL", "lazy-memory://", "Where rate-limit counters live: this process's memory by default; a shared store (redis://host:6379) for several instances."),
    Setting("VETTING_RATELIMIT_PUBLIC", "300 per minute", "Limit per client address on public reads (search, lists, enterprise pages)."),
    Setting("VETTING_RATELIMIT_SENSITIVE", "10 per minute", "Limit per client address on sign-in and on public filings (objections, repair requests)."),
    Setting("VETTING_SIGNIN_MAX_FAILURES", "5", "Failed sign-ins for one email, within VETTING_SIGNIN_FAILURE_WINDOW, after which that email is locked."),
    Setting("VETTING_SIGNIN_FAILURE_WINDOW", "15", "Minutes over which failed sign-ins for one email are counted."),
    Setting("VETTING_SIGNIN_LOCKOUT", "15", "Minutes a locked email is refused, even with the right password."),
    Setting("VETTING_TOKEN_MAX_FAILURES", "20", "Invalid bearer tokens from one client address, within VETTING_TOKEN_FAILURE_WINDOW, after which the address is refused (429)."),
    Setting("VETTING_TOKEN_FAILURE_WINDOW", "10", "Minutes over which invalid bearer tokens from one client address are counted."),
    Setting("VETTING_TOKEN_LOCKOUT", "10", "Minutes a client address is refused after too many invalid bearer tokens."),
    Setting("VETTING_MAX_CONTENT_LENGTH", "2097152", "Largest request body in bytes (2 MiB); a larger one gets 413."),
    Setting("VETTING_MAX_IMPORT_LENGTH", "67108864", "Largest body in bytes (64 MiB) for the bulk import, POST /api/v1/assessments/batch."),
    Setting("VETTING_TRUSTED_PROXIES", "0", "How many reverse proxies in front set X-Forwarded-For/-Proto (their client address is then used for rate limits)."),
    Setting("VETTING_SMTP_URL", "unset (notices wait in the outbox)",
            "Where `vetting jobs run` delivers notices: smtp://[user:password@]host[:port][?starttls=true&from=address]."),
    Setting("VETTING_RELEASES_PATH", "<instance>/releases", "Folder the releases are published into (shared by every instance that publishes)."),
    Setting("VETTING_SIGNING_KEY", "<instance>/signing-key.pem, made on first use", "PEM file of the Ed25519 key that signs each release's index.json."),
    Setting("VETTING_RELEASE_SCHEDULE", "0 2 * * *", "When `vetting jobs worker` publishes a release (cron syntax, UTC)."),
    Setting("VETTING_TODAY", "unset (the system clock)",
            "Rehearse a date: the service clock stands still at this ISO date (taken as 12:00 UTC) or date and time, "
            "e.g. 2027-03-20 or 2027-03-20T09:00:00Z. For drills on a copy of the data; `vetting --as-of` overrides it."),
)


def _truthy(value: str | bool | None) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    return None


def _positive_int(name: str, value: object) -> int:
    """A whole number of at least 1, or a ValueError that names the setting."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < 1:
        raise ConfigError(f"{name} must be at least 1, not {number}")
    return number


def _instant(name: str, value: object) -> datetime | None:
    """An instant in UTC (see :func:`vetting.clock.parse_instant`), None when unset, or a
    ConfigError that names the setting and the expected form."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    try:
        return parse_instant(str(value))
    except ValueError:
        raise ConfigError(f"{name} must be {INSTANT_FORM}, not {value!r}") from None


def ensure_secret_key(instance_path: Path) -> str:
    """Return the secret key stored in the instance folder, creating it (mode 0600) if absent."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def load_config(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the configuration mapping from ``environ`` (default ``os.environ``) and ``overrides``."""
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in env and env[setting.name] != "":
            values[setting.name] = env[setting.name]
    values.update(overrides or {})

    instance = Path(values.get("VETTING_INSTANCE_PATH") or "./instance").expanduser().resolve()
    values["VETTING_INSTANCE_PATH"] = str(instance)
    instance.mkdir(parents=True, exist_ok=True)

    embedded = not values.get("VETTING_DATABASE_URL")
    if embedded:
        values["VETTING_DATABASE_URL"] = f"sqlite:///{instance / 'vetting.sqlite3'}"

    if not values.get("VETTING_SECRET_KEY"):
        values["VETTING_SECRET_KEY"] = ensure_secret_key(instance)

    if not values.get("VETTING_SEEDS_PATH"):
        from vetting.resources import bundled_path

        values["VETTING_SEEDS_PATH"] = str(bundled_path("seeds"))

    demo = _truthy(values.get("VETTING_DEMO"))
    if demo is None:
        demo = str(values["VETTING_DATABASE_URL"]).startswith("sqlite")
    values["VETTING_DEMO"] = demo

    values["VETTING_DB_POOL_SIZE"] = int(values.get("VETTING_DB_POOL_SIZE", 5))
    values["VETTING_DB_TIMEOUT"] = float(values.get("VETTING_DB_TIMEOUT", 5))
    values["VETTING_LOG_LEVEL"] = str(values.get("VETTING_LOG_LEVEL", "INFO")).upper()
    values["VETTING_TRUSTED_PROXIES"] = int(values.get("VETTING_TRUSTED_PROXIES") or 0)
    values.setdefault("VETTING_RELEASE_SCHEDULE", "0 2 * * *")
    values.setdefault("VETTING_RATELIMIT_STORAGE_URL", "lazy-memory://")
    values.setdefault("VETTING_RATELIMIT_PUBLIC", "300 per minute")
    values.setdefault("VETTING_RATELIMIT_SENSITIVE", "10 per minute")
    for name, default in (("VETTING_SIGNIN_MAX_FAILURES", 5), ("VETTING_SIGNIN_FAILURE_WINDOW", 15), ("VETTING_SIGNIN_LOCKOUT", 15),
                          ("VETTING_TOKEN_MAX_FAILURES", 20), ("VETTING_TOKEN_FAILURE_WINDOW", 10), ("VETTING_TOKEN_LOCKOUT", 10),
                          ("VETTING_MAX_CONTENT_LENGTH", 2 * 1024 * 1024), ("VETTING_MAX_IMPORT_LENGTH", 64 * 1024 * 1024)):
        values[name] = _positive_int(name, values.get(name, default))
    values["VETTING_TODAY"] = _instant("VETTING_TODAY", values.get("VETTING_TODAY"))
    values["VETTING_SECURE_COOKIES"] = bool(_truthy(values.get("VETTING_SECURE_COOKIES")))
    values["SECRET_KEY"] = values["VETTING_SECRET_KEY"]
    values.setdefault("JSON_SORT_KEYS", False)
    return values
