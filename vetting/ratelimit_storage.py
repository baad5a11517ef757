"""Rate-limit counters in this process's memory, expired lazily (``lazy-memory://``).

The ``limits`` package's own memory storage (``memory://``) expires keys from a
``threading.Timer`` that it starts anew, a fresh thread each time, whenever one is not already
running: on a busy server that is a thread started every few requests, a cost of the same order
as answering a simple read. Here no thread is ever started: a counter knows when it expires, a
read or an increment that finds it expired treats it as absent, and every ``SWEEP_EVERY``
seconds the next write drops whatever has expired, so keys of clients that went away do not
accumulate.

One lock guards the whole store. Each operation is a few dictionary lookups, so the lock is
held for microseconds; and because a sliding-window hit reads both windows and increments
under that one lock, two concurrent requests can never both take the last unit of a budget
(the library's storage increments first and takes the increment back when it overshot).

The counters are per process, as with ``memory://``: each worker (and each instance) counts on
its own. Several instances that must share one budget use a shared store (``redis://``).
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable
from math import floor
from typing import Any

from limits.storage import MemoryStorage, Storage

#: Seconds between sweeps of expired keys; a sweep is one pass over the keys held.
SWEEP_EVERY = 30.0


class LazyMemoryStorage(MemoryStorage):
    """In-memory counters for the fixed-window, moving-window and sliding-window-counter
    strategies without a background thread. ``clock`` (seconds, like ``time.time``) is
    injectable so that expiry can be tested without waiting."""

    STORAGE_SCHEME = ["lazy-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, clock: Callable[[], float] = time.time,
                 **options: Any) -> None:
        # MemoryStorage.__init__ would start its timer thread; only the base storage is set up.
        Storage.__init__(self, uri, wrap_exceptions=wrap_exceptions, **options)
        self._clock = clock
        self._lock = threading.Lock()
        self.storage: dict[str, int] = {}  # type: ignore[assignment]
        self.expirations: dict[str, float] = {}
        #: Moving window: per key, the times of the acquired entries, newest first.
        self.events: dict[str, list[float]] = {}  # type: ignore[assignment]
        self._events_expire: dict[str, float] = {}
        self._next_sweep = clock() + SWEEP_EVERY

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # Unlocked helpers: the caller holds the lock.

    def _count(self, key: str, now: float) -> int:
        if self.expirations.get(key, 0.0) <= now:
            if key in self.storage:
                del self.storage[key]
                del self.expirations[key]
            return 0
        return self.storage[key]

    def _add(self, key: str, expiry: float, amount: int, now: float) -> int:
        count = self._count(key, now) + amount
        self.storage[key] = count
        if count == amount:  # a new key (or one that had expired): its window starts now
            self.expirations[key] = now + expiry
        return count

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY
        for key in [k for k, at in self.expirations.items() if at <= now]:
            del self.storage[key], self.expirations[key]
        for key in [k for k, at in self._events_expire.items() if at <= now]:
            del self.events[key], self._events_expire[key]

    def _window_info(self, key: str, expiry: int, now: float) -> tuple[int, float, int, float]:
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous_count, current_count = self._count(previous_key, now), self._count(current_key, now)
        previous_ttl = 0.0 if previous_count == 0 else (1 - (((now - expiry) / expiry) % 1)) * expiry
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous_count, previous_ttl, current_count, current_ttl

    def _in_window(self, key: str, expiry: int, now: float) -> list[float]:
        """The key's entries younger than ``expiry`` seconds (older ones are dropped)."""
        events = self.events.get(key)
        if not events:
            return []
        # newest first: the entries still in the window form a prefix
        keep = bisect.bisect_left(events, -(now - expiry), key=lambda at: -at)
        if keep < len(events):
            del events[keep:]
        return events

    # Fixed window

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        with self._lock:
            now = self._clock()
            self._sweep(now)
            return self._add(key, expiry, amount, now)

    def decr(self, key: str, amount: int = 1) -> int:
        with self._lock:
            now = self._clock()
            count = self._count(key, now)
            if key in self.storage:
                count = self.storage[key] = max(count - amount, 0)
            return count

    def get(self, key: str) -> int:
        with self._lock:
            return self._count(key, self._clock())

    def get_expiry(self, key: str) -> float:
        with self._lock:
            now = self._clock()
            return self.expirations[key] if self._count(key, now) else now

    def clear(self, key: str) -> None:
        with self._lock:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
            self.events.pop(key, None)
            self._events_expire.pop(key, None)

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            held = max(len(self.storage), len(self.events))
            self.storage.clear()
            self.expirations.clear()
            self.events.clear()
            self._events_expire.clear()
            return held

    # Moving window

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        with self._lock:
            now = self._clock()
            self._sweep(now)
            events = self._in_window(key, expiry, now)
            if len(events) + amount > limit:
                return False
            events[:0] = [now] * amount
            self.events[key] = events
            self._events_expire[key] = now + expiry
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        with self._lock:
            now = self._clock()
            events = self._in_window(key, expiry, now)
            return (events[-1], len(events)) if events else (now, 0)

    # Sliding window counter

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        with self._lock:
            now = self._clock()
            self._sweep(now)
            previous_count, previous_ttl, current_count, _ = self._window_info(key, expiry, now)
            if floor(previous_count * previous_ttl / expiry + current_count) + amount > limit:
                return False
            # The current window's counter lives on through the next window, where it is the
            # previous one: twice the window, as the library's storages keep it.
            self._add(self.sliding_window_keys(key, expiry, now)[1], 2 * expiry, amount, now)
            return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        with self._lock:
            return self._window_info(key, expiry, self._clock())

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        with self._lock:
            for window_key in self.sliding_window_keys(key, expiry, self._clock()):
                self.storage.pop(window_key, None)
                self.expirations.pop(window_key, None)
