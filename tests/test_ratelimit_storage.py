"""The in-memory rate-limit store expires counters lazily, without a thread, and keeps budgets
exact under concurrent requests."""

from __future__ import annotations

import threading

import pytest
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

from vetting import ratelimit_storage
from vetting.ratelimit_storage import LazyMemoryStorage


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture()
def clock():
    return Clock()


@pytest.fixture()
def store(clock):
    return LazyMemoryStorage(clock=clock)


def test_the_scheme_is_registered_and_starts_no_thread():
    before = threading.active_count()
    store = storage_from_string("lazy-memory://")
    assert isinstance(store, LazyMemoryStorage)
    limiter = SlidingWindowCounterRateLimiter(store)
    for _ in range(50):
        assert limiter.hit(RateLimitItemPerMinute(100), "client")
        store.incr("fixed", 1)
    assert threading.active_count() == before
    assert not hasattr(store, "timer")


def test_increments_count_until_the_key_expires(store, clock):
    assert store.incr("k", 10) == 1
    assert store.incr("k", 10, amount=3) == 4
    assert store.get("k") == 4 and store.get_expiry("k") == clock.now + 10
    clock.advance(9.9)
    assert store.incr("k", 10) == 5  # an increment does not move the expiry of a live key
    clock.advance(0.1)
    assert store.get("k") == 0 and store.get_expiry("k") == clock.now
    assert store.incr("k", 10) == 1 and store.get_expiry("k") == clock.now + 10


def test_decrement_never_goes_below_zero_nor_revives_an_expired_key(store, clock):
    store.incr("k", 5, amount=2)
    assert store.decr("k") == 1 and store.decr("k", 5) == 0
    store.incr("gone", 5)
    clock.advance(5)
    assert store.decr("gone") == 0 and "gone" not in store.storage


def test_expired_keys_are_swept_by_a_later_write(store, clock):
    for i in range(100):
        store.incr(f"client-{i}", 1)
    clock.advance(1)
    store.incr("fresh", 60)
    assert len(store.storage) == 101  # not yet time for a sweep: the dead keys are still held
    clock.advance(ratelimit_storage.SWEEP_EVERY)
    store.incr("fresh", 60)
    assert set(store.storage) == set(store.expirations) == {"fresh"}


def test_clear_and_reset(store):
    store.incr("a", 10)
    store.incr("b", 10)
    store.acquire_entry("m", 5, 10)
    store.clear("a")
    assert store.get("a") == 0 and store.get("b") == 1
    assert store.reset() == 1
    assert store.get("b") == 0 and store.get_moving_window("m", 5, 10)[1] == 0


def test_fixed_window_strategy(store, clock):
    limiter, item = FixedWindowRateLimiter(store), RateLimitItemPerSecond(2)
    assert [limiter.hit(item, "x") for _ in range(3)] == [True, True, False]
    assert limiter.get_window_stats(item, "x").remaining == 0
    clock.advance(1)
    assert limiter.hit(item, "x")


def test_moving_window_strategy(store, clock):
    limiter, item = MovingWindowRateLimiter(store), RateLimitItemPerMinute(3)
    assert limiter.hit(item, "x")
    clock.advance(30)
    assert limiter.hit(item, "x", cost=2)
    assert not limiter.hit(item, "x")
    start, count = store.get_moving_window(item.key_for("x"), 3, 60)
    assert count == 3 and start == clock.now - 30
    clock.advance(30)  # the first entry leaves the window
    assert limiter.hit(item, "x")
    assert not limiter.hit(item, "x")
    assert not store.acquire_entry("y", 1, 60, amount=2)


def test_sliding_window_weighs_the_previous_window(store, clock):
    clock.now = 60 * 1000.0  # the start of a window
    limiter, item = SlidingWindowCounterRateLimiter(store), RateLimitItemPerMinute(10)
    assert all(limiter.hit(item, "x") for _ in range(10))
    assert not limiter.hit(item, "x")
    assert limiter.get_window_stats(item, "x").remaining == 0
    clock.advance(60 + 30)  # halfway through the next window: half of the previous one counts
    previous, previous_ttl, current, _ = store.get_sliding_window(item.key_for("x"), 60)
    assert (previous, previous_ttl, current) == (10, 30.0, 0)
    assert [limiter.hit(item, "x") for _ in range(6)] == [True] * 5 + [False]
    clock.advance(60)  # the full window later the old counts have expired
    assert store.get_sliding_window(item.key_for("x"), 60)[0] == 5
    clock.advance(60)
    assert store.get_sliding_window(item.key_for("x"), 60)[:3:2] == (0, 0)
    assert limiter.test(item, "x")


def test_sliding_window_clear(store):
    limiter, item = SlidingWindowCounterRateLimiter(store), RateLimitItemPerMinute(1)
    assert limiter.hit(item, "x") and not limiter.hit(item, "x")
    limiter.clear(item, "x")
    assert limiter.hit(item, "x")


def test_concurrent_hits_never_exceed_the_budget(store):
    limiter, item = SlidingWindowCounterRateLimiter(store), RateLimitItemPerMinute(1000)
    granted = [0] * 8
    start = threading.Barrier(8)

    def client(i: int) -> None:
        start.wait()
        for _ in range(400):
            if limiter.hit(item, "shared"):
                granted[i] += 1
            store.incr(f"fixed-{i % 2}", 60)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(granted) == 1000  # 3200 attempts for 1000 units: exactly the budget is granted
    assert store.get("fixed-0") + store.get("fixed-1") == 3200


def test_a_pickled_store_keeps_its_counts(store):
    import pickle

    store.incr("k", 60, amount=4)
    copy = pickle.loads(pickle.dumps(store))
    assert copy.incr("k", 60) == 5 and store.get("k") == 4
