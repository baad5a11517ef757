"""Periodic work, run by `vetting jobs run` (once) from cron or a systemd timer: listings past
their term expire, due notices are delivered, and the search index's token statistics are
recounted. Each job calls the same services the API and
the pages use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vetting.db import Database
from vetting.services.actors import SystemActor


@dataclass
class JobsReport:
    ran: dict[str, Any] = field(default_factory=dict)


def run_due(database: Database, config: dict[str, Any]) -> JobsReport:
    """Run every job once: expiry first (its notices go out in the same run), then delivery."""
    from vetting.services import listings, notices

    actor = SystemActor("jobs")
    report = JobsReport()
    with database.session() as session:
        expired = listings.expire_due(session, actor)
        report.ran["expiry"] = {"expired": [x.id for x in expired]}
    url = config.get("VETTING_SMTP_URL")
    if url:
        with database.session() as session:
            delivered = notices.deliver(session, url)
        report.ran["notices"] = {"sent": delivered.sent, "failed": delivered.failed, "no_address": delivered.no_address}
    else:
        report.ran["notices"] = {"skipped": "VETTING_SMTP_URL is not set; notices wait in the outbox"}
    from vetting.services.search import refresh_token_stats

    with database.session() as session:
        report.ran["search_statistics"] = {"tokens": refresh_token_stats(session)}
        session.commit()
    return report
