"""The world lock's lock-free keyed reads: never half a transaction, always re-read under the lock when a writer was in."""

from __future__ import annotations

import threading

import pytest

from opescare_sandbox.storage.store import World, WorldLock
from opescare_sandbox.storage.tables import TABLES


@pytest.fixture
def world():
    return World("t", TABLES)


def run_in_thread(target) -> threading.Thread:
    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_the_version_is_odd_exactly_while_the_lock_is_held_at_any_depth():
    lock = WorldLock()
    seen = [lock.version]
    with lock:
        seen.append(lock.version)
        with lock:
            seen.append(lock.version)
        seen.append(lock.version)
    seen.append(lock.version)
    assert [v & 1 for v in seen] == [0, 1, 1, 1, 0]
    assert seen[-1] == seen[0] + 2


def test_a_read_while_another_thread_is_inside_a_transaction_waits_and_sees_it_committed(world):
    inside, proceed, results = threading.Event(), threading.Event(), []

    def writer():
        with world.transaction():
            world["patients"].insert({"health_id": "CM-HID-AAAA-BBBB-CCCC"})
            inside.set()
            proceed.wait()
            world["patients"].insert({"health_id": "CM-HID-AAAA-BBBB-CCCC", "second": True})

    def reader():
        results.append([dict(d) for d in world["patients"].find("health_id", "CM-HID-AAAA-BBBB-CCCC")])

    writing = run_in_thread(writer)
    inside.wait()
    reading = run_in_thread(reader)  # the version is odd: it queues on the lock instead of reading half
    proceed.set()
    writing.join()
    reading.join()
    assert results == [[{"health_id": "CM-HID-AAAA-BBBB-CCCC"}, {"health_id": "CM-HID-AAAA-BBBB-CCCC", "second": True}]]


def test_a_write_landing_during_a_lock_free_read_makes_it_read_again_under_the_lock(world):
    table, calls = world["patients"], []

    def compute():
        calls.append(world.lock._lock._is_owned())
        if len(calls) == 1:  # another thread commits while we read
            run_in_thread(lambda: table.insert({"health_id": "X"})).join()
        return [dict(d) for d in table.find("health_id", "X")]

    assert world.lock.read(compute) == [{"health_id": "X"}]
    assert calls == [False, True]


def test_an_error_from_a_concurrent_change_is_retried_under_the_lock_and_a_real_one_raised(world):
    attempts = []

    def flaky():
        attempts.append(world.lock._lock._is_owned())
        if len(attempts) == 1:
            run_in_thread(lambda: world["audit"].insert({"n": 1})).join()
            raise RuntimeError("dictionary changed size during iteration")
        return "read"

    assert world.lock.read(flaky) == "read"
    assert attempts == [False, True]
    with pytest.raises(KeyError):
        world.lock.read(lambda: {}["missing"])


def test_a_read_inside_ones_own_transaction_sees_its_own_writes(world):
    with world.transaction():
        world["patients"].insert({"health_id": "MINE"})
        assert [d["health_id"] for d in world["patients"].find("health_id", "MINE")] == ["MINE"]
