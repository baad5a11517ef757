"""Who is acting: an account, or the system itself (init, jobs, command-line maintenance)."""

from __future__ import annotations

from dataclasses import dataclass

from vetting.models import Account


@dataclass(frozen=True)
class SystemActor:
    """An actor that is not a person: recorded in the audit log by label only."""

    label: str
    id: None = None


SYSTEM = SystemActor("system")

Actor = Account | SystemActor


def actor_id(actor: Actor) -> int | None:
    return actor.id if isinstance(actor, Account) else None


def actor_label(actor: Actor) -> str:
    return actor.email if isinstance(actor, Account) else f"system:{actor.label}"
