"""The per-process cache of API clients on its own: nothing trusted until a listener
confirms, and a row read before an invalidation never kept. With the client table and
the listener: tests/integration/test_token_cache.py."""

from __future__ import annotations

from casestore.adapters.token_cache import TokenCache


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_nothing_is_trusted_until_a_listener_confirms() -> None:
    ticks = Ticks()
    cache = TokenCache[str](bound=0.25, monotonic=ticks)
    cache.put("c1", "client c1", cache.generation)
    assert cache.get("c1") is None
    cache.confirm(ticks())
    assert cache.get("c1") is not None
    ticks.now += 0.25
    assert cache.get("c1") is not None
    ticks.now += 0.125  # older than the bound: the listener may have fallen behind
    assert cache.get("c1") is None
    cache.confirm(ticks.now - 0.125)
    assert cache.get("c1") is not None


def test_a_reset_forgets_everything_and_withdraws_trust() -> None:
    ticks = Ticks()
    cache = TokenCache[str](bound=0.1, monotonic=ticks)
    cache.confirm(ticks())
    cache.put("c1", "client c1", cache.generation)
    cache.reset()
    assert cache.get("c1") is None
    cache.confirm(ticks())
    assert cache.get("c1") is None  # gone, not merely hidden


def test_a_row_read_before_an_invalidation_is_not_kept() -> None:
    """A lookup that started before a revocation arrived would cache the row from before
    it; the generation taken before the read tells it to drop the row."""
    cache = TokenCache[str](bound=0.1, monotonic=Ticks())
    cache.confirm(cache.now())
    before_read = cache.generation
    cache.invalidate("c1")  # the revocation arrives while the row is on its way
    cache.put("c1", "client c1", before_read)
    assert cache.get("c1") is None
    cache.put("c1", "client c1", cache.generation)
    assert cache.get("c1") is not None


def test_pings_are_wanted_only_while_requests_use_the_cache() -> None:
    ticks = Ticks()
    cache = TokenCache[str](bound=0.1, monotonic=ticks)
    assert not cache.wants_confirmation()  # idle: no pinging
    cache.get("c1")
    assert cache.wants_confirmation()
    cache.confirm(ticks())
    assert not cache.wants_confirmation()
    ticks.now += 0.03  # past a quarter of the bound: refresh before requests miss
    assert cache.wants_confirmation()
    ticks.now += TokenCache.IDLE_SECONDS
    assert not cache.wants_confirmation()
