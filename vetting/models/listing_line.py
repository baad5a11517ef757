"""The finished release line of each active listing, kept between releases.

Building a line reads the listing, its enterprise with every alias and identifier, its decision,
the ruleset, the enterprise's earlier listings and the listing's events. A release of many
listings spends most of its time there, yet between two releases few of them change. So each
line is stored with the *mark* it was built at, and a release reuses a stored line only while
its mark is still the listing's current one.

The marks are kept by the database itself (triggers made by the migration that adds these
tables): every insert, update or delete of a row a line is built from raises, in the same
transaction, the mark of each listing whose line reads that row. A mark never goes down, and a
line is built and stored together with the mark read in the same statement, so a stored line
whose mark equals the current one was built from exactly the rows the database holds now,
whatever wrote them (a service, a bulk import, a hand-made fix in SQL).

The two tables are apart so that the triggers (run by every writer) and the rebuild (run by the
publisher) never write the same rows: a long rebuild never holds up a service's write.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from vetting.db import Base


class ListingLineMark(Base):
    """How many times the rows a listing's line is built from have changed (written by triggers
    only; a listing without a row here is at mark 0)."""

    __tablename__ = "listing_line_marks"

    listing_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mark: Mapped[int] = mapped_column(BigInteger)


class ListingLine(Base):
    """A listing's finished CSV line (UTF-8, ``\\n`` included), the listing's mark when it was
    built and the form of the statement that built it (a changed statement makes every stored
    line stale). No foreign key: a line outlives nothing it could mislead, as a release joins
    each line to its active listing and its current mark."""

    __tablename__ = "listing_lines"

    listing_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mark: Mapped[int] = mapped_column(BigInteger)
    form: Mapped[str] = mapped_column(String(16))
    line: Mapped[bytes] = mapped_column(LargeBinary)
