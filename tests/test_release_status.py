"""What a release shows follows the dates and the status: a listing is on its list from its
``effective_from`` through its ``expires_on`` as of the release's day, whether or not the expiry
job has run, and a suspended listing is on no list. Each release is held to the Python reference
rows, on the stored-line path too."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

from tests.test_release_lines import NAMES, _red, _reference
from tests.test_releases import _black, actors, config  # noqa: F401  (shared fixtures)
from vetting.models import ListingEvent, ListingStatus
from vetting.publication import files
from vetting.publication.snapshot import csv_lines, refresh
from vetting.services.releases import publish


def _ids(path: Path) -> list[int]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [int(row["listing_id"]) for row in csv.DictReader(fh)]


def _changes(path: Path) -> list[tuple[str, int]]:
    with (path / "delta.csv").open(encoding="utf-8", newline="") as fh:
        return [(row["change"], int(row["listing_id"])) for row in csv.DictReader(fh)]


def _release(app, session, config, actor, tmp_path: Path, label: str) -> Path:
    """Publish (forced) as of the session's clock; every listing file equals the reference rows
    of that day. Returns the release folder."""
    published = publish(app.extensions["vetting"].database, config, actor, force=True, session=session)
    reference = tmp_path / f"reference-{label}"
    _reference(session, reference)
    for name in NAMES:
        assert (published.path / name).read_bytes() == (reference / name).read_bytes(), (label, name)
    return published.path


def test_a_listing_counts_through_its_expires_on_and_never_after(app, session, clock, config, actors, make_enterprise,
                                                                  tmp_path):
    _, lapsing = _black(session, clock, actors, make_enterprise, "Lapsing Harbour Works Co., Ltd.")
    _, last_day = _black(session, clock, actors, make_enterprise, "Last Day Tunnel Works Co., Ltd.")
    _, later = _black(session, clock, actors, make_enterprise, "Later Grid Power Co., Ltd.")
    _, red = _red(session, clock, actors, make_enterprise, "Steady Rail Co., Ltd.")
    today = clock.now().date()
    lapsing.expires_on = today + timedelta(days=1)
    last_day.expires_on = today + timedelta(days=2)
    later.effective_from = today + timedelta(days=3)  # confirmed, in force only from then
    session.commit()

    first = _release(app, session, config, actors[1], tmp_path, "first")
    assert _ids(first / "listings.csv") == sorted([lapsing.id, last_day.id, red.id])
    assert _ids(first / "black.csv") == sorted([lapsing.id, last_day.id]) and _ids(first / "red.csv") == [red.id]

    # Two days on, the expiry job has not run: the lapsed listing is still 'active' in the
    # database, and a write after its last day leaves its stored line stale. It is shown by no
    # release, so its line is neither counted as stale nor served.
    clock.advance(days=2)
    lapsing.grounds = "Amended after the term ended."
    session.commit()
    session.refresh(lapsing)
    assert lapsing.status is ListingStatus.ACTIVE and lapsing.expires_on < clock.now().date()
    lines = csv_lines(session)
    assert lines.stale() == 0
    streamed = b"".join(block[0] for block in lines.blocks())
    assert lines.stored is True and f'"{lapsing.id}",'.encode() not in streamed
    session.rollback()
    second = _release(app, session, config, actors[1], tmp_path, "second")
    assert _ids(second / "listings.csv") == sorted([last_day.id, red.id])  # last_day: its expires_on is today
    assert _changes(second) == [("DEL", lapsing.id)]

    clock.advance(days=1)  # last_day's term is over; later's has begun
    third = _release(app, session, config, actors[1], tmp_path, "third")
    assert _ids(third / "listings.csv") == sorted([later.id, red.id])
    assert sorted(_changes(third)) == sorted([("DEL", last_day.id), ("ADD", later.id)])


def test_a_suspended_red_listing_is_on_no_list_until_it_is_restored(app, session, clock, config, actors, make_enterprise,
                                                                     tmp_path):
    _, red = _red(session, clock, actors, make_enterprise, "Suspended Port Works Co., Ltd.")
    _, black = _black(session, clock, actors, make_enterprise, "Other Black Works Co., Ltd.")
    first = _release(app, session, config, actors[1], tmp_path, "first")
    assert _ids(first / "red.csv") == [red.id]

    def move(to: ListingStatus, reason: str) -> None:
        session.add(ListingEvent(listing_id=red.id, at=clock.now(), from_status=red.status, to_status=to, reason=reason))
        red.status = to
        session.commit()

    clock.advance(days=1)
    move(ListingStatus.SUSPENDED, "a knock-out black outcome was proposed")
    assert refresh(session) == 0  # nothing shown is stale; the suspended listing's line is dropped
    second = _release(app, session, config, actors[1], tmp_path, "second")
    for name in NAMES:
        assert red.id not in _ids(second / name), name
    assert _ids(second / "listings.csv") == [black.id]
    assert _changes(second) == [("DEL", red.id)]

    clock.advance(days=1)
    move(ListingStatus.ACTIVE, "the black proposal was withdrawn")
    third = _release(app, session, config, actors[1], tmp_path, "third")
    assert _ids(third / "red.csv") == [red.id] and _ids(third / "listings.csv") == sorted([red.id, black.id])
    assert _changes(third) == [("ADD", red.id)]
    expected = tmp_path / "delta"
    expected.mkdir()
    files.write_delta(expected, second / "listings.csv", third / "listings.csv")
    assert (third / "delta.csv").read_bytes() == (expected / "delta.csv").read_bytes()
