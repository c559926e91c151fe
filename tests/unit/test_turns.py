"""Turn-taking: a phone whose attempt failed lets a waiting phone go first, and only then."""

from __future__ import annotations

from app.flow.turns import Turns


def _after_a_failure(*seen: str) -> Turns:
    turns = Turns(window=60.0)
    turns.seen("a")
    turns.submitted("a")
    for requester in seen:
        turns.seen(requester)
    turns.attempt_failed(now=100.0)
    return turns


def test_a_phone_alone_may_try_again_at_once() -> None:
    assert _after_a_failure("a", "a").wait("a", now=100.0) is None


def test_the_last_phone_waits_while_another_had_come() -> None:
    turns = _after_a_failure("b")
    assert turns.wait("a", now=100.0) == 60.0
    assert turns.wait("a", now=130.0) == 30.0
    assert turns.wait("a", now=160.0) is None, "the window has passed"


def test_the_waiting_phone_goes_at_once() -> None:
    turns = _after_a_failure("b")
    assert turns.wait("b", now=100.0) is None
    turns.submitted("b")
    # b's attempt is the last now; a, who had come before, is not held back by its own turn.
    turns.attempt_failed(now=200.0)
    assert turns.wait("a", now=200.0) is None


def test_a_phone_seen_after_the_failure_also_counts() -> None:
    turns = _after_a_failure()
    assert turns.wait("a", now=100.0) is None
    turns.seen("b")
    assert turns.wait("a", now=110.0) == 50.0


def test_no_wait_during_the_attempt_or_for_an_unnamed_requester() -> None:
    turns = Turns(window=60.0)
    turns.submitted("a")
    turns.seen("b")
    assert turns.wait("a", now=0.0) is None, "the attempt runs: the flow says busy instead"
    turns.attempt_failed(now=0.0)
    assert turns.wait(None, now=0.0) is None
