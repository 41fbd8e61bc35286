"""The webhook dispatcher: real signed HTTP POSTs from background threads, so no API call waits for a receiver.

How a delivery travels:
1. `record_event` calls `listener` inside the event's transaction: it stores one pending delivery per
   matching subscription (so rows commit with the event) and wakes the scheduler thread.
2. The scheduler reads the tenant's due deliveries. Reading takes the world's lock, so it only sees
   rows once the event's transaction has committed (and never sees rows of one that rolled back).
3. It claims each due row (an in-memory set keeps one attempt per row at a time) and puts it on its
   tenant's bounded queue; a small pool of worker threads POSTs it, outside the world lock, and records
   the attempt. Workers take tenants in turn and run at most half their number of attempts of one tenant at
   once, so a tenant whose receivers never answer holds only its share of the workers: another
   tenant's delivery waits at most one delivery timeout. When a tenant's queue is full the row simply
   stays pending; the next tick (every `interval` seconds) tries again. Retries are pending rows that
   fall due on the sandbox clock.
4. Pending rows live in the store, so a new dispatcher on the same data dir resumes them (`resume`).

Threads start only when there is something to deliver and exit after `idle_exit` seconds of nothing;
`close()` stops them. Delivery is at-least-once: a crash between a POST and its record repeats it.
In the public profile the egress policy picks (and checks) the address connected to, the receiver's
answer is not kept and every failure reads the same: no port scanner, no readable internal reply.
No Flask here.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http.client import HTTPException

from ..domain import deliveries, inbox, webhooks
from ..errors import WorldDamaged
from ..storage.journal import redact_url
from ..version import __version__
from . import outbound
from .egress import EgressPolicy
from .fairqueue import FairQueue

log = logging.getLogger(__name__)

RESPONSE_EXCERPT = 500  # characters of the receiver's answer kept per attempt, for debugging
PUBLIC_FAILURE = "delivery failed"  # the public profile's one failure text: no oracle for port states


class WebhookDispatcher:
    def __init__(self, store, timeout: float = 10.0, workers: int = 4, queue_size: int = 256,
                 interval: float = 0.5, idle_exit: float = 5.0, enabled: bool = True,
                 egress: EgressPolicy | None = None):
        self.store = store
        self.timeout, self.workers, self.interval, self.idle_exit = timeout, workers, interval, idle_exit
        self.enabled = enabled
        self.egress = egress or EgressPolicy()
        # Claimed rows waiting for a worker; half the workers at most for one tenant, the rest stay free for others.
        self._queue = FairQueue(per_tenant=workers // 2, size=queue_size)
        self.per_tenant = self._queue.per_tenant  # workers one tenant may hold at once (the rest serve the others)
        self._lock = threading.Condition()  # guards the queue and the sets below; notified on every change
        self._in_flight: set[tuple[str, int]] = set()
        self._watched: dict[str, int] = {}  # tenant -> generation (bumped by every notify)
        self._worker_threads: set[threading.Thread] = set()
        self._scheduler: threading.Thread | None = None
        self._wake = threading.Event()
        self._closed = False

    @classmethod
    def from_settings(cls, store, settings: dict) -> WebhookDispatcher:
        return cls(store, timeout=float(settings["WEBHOOK_TIMEOUT"]), workers=int(settings["WEBHOOK_WORKERS"]),
                   queue_size=int(settings["WEBHOOK_QUEUE_SIZE"]), interval=float(settings["WEBHOOK_INTERVAL"]),
                   enabled=bool(settings["WEBHOOK_DELIVERY"]), egress=EgressPolicy.from_settings(settings))

    # -- entry points ------------------------------------------------------------------------------
    def listener(self, world, event: dict) -> None:
        """`world.listeners` callback: runs inside the event's transaction, so it must not wait for anything."""
        if webhooks.schedule_deliveries(world, event):
            self.notify(world.name)

    def notify(self, tenant: str) -> None:
        """The tenant has (or may have) pending deliveries: make sure the scheduler looks at it."""
        with self._lock:
            if self._closed or not self.enabled:
                return
            self._watched[tenant] = self._watched.get(tenant, 0) + 1
            if self._scheduler is None:
                self._scheduler = self._start(self._schedule_loop, "webhook-scheduler")
        self._wake.set()

    def resume(self) -> None:
        """After a restart: watch every stored tenant that still has pending deliveries."""
        for tenant in self.store.tenants():
            try:
                world = self.store.world(tenant)
            except WorldDamaged:  # logged by the store; the tenant answers 503 until repaired
                continue
            if deliveries.has_pending(world):
                self.notify(tenant)

    def run_due(self, tenant: str) -> dict:
        """Every due delivery of the tenant now, in this thread's care; waits for attempts already under way."""
        world = self.store.world(tenant)
        claimed = self._take_queued(tenant)  # rows waiting for a worker: deliver them here, now
        awaited = self._await_tenant(tenant, mine=claimed)
        claimed += [doc_id for doc_id in deliveries.due(world) if self._claim((tenant, doc_id))]
        results = []
        if claimed:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(claimed)),
                                    thread_name_prefix="webhook-retry") as pool:
                results = [r for r in pool.map(partial(self._deliver_claimed, tenant), claimed) if r]
        awaited += self._await_tenant(tenant)  # rows the scheduler claimed while we were busy
        if deliveries.has_pending(world):
            self.notify(tenant)
        return {"attempted": results, "awaited": awaited,
                "pending": len(world["deliveries"].find("status", "pending"))}

    def cancel_all(self, timeout: float = 2.0) -> dict:
        """Cancel every delivery of every tenant and free the workers: pending rows become `cancelled`, queued
        rows are dropped, POSTs on the wire are cut. For the pytest plugin's end of a test (all tenants of its
        app belong to that test), so the next test never waits on a slow receiver. Waits (bounded) for the cut
        attempts to be recorded; `busy` counts those still under way after `timeout`."""
        with self._lock:
            dropped = 0
            if not self._closed:
                for tenant, rows in self._queue.drain().items():  # queued rows: cancelled just below
                    self._in_flight.difference_update((tenant, doc_id) for doc_id in rows)
                    dropped += len(rows)
            self._watched.clear()
            self._lock.notify_all()
        cancelled = [delivery_id for tenant in self.store.tenants() if tenant not in self.store.damaged
                     for delivery_id in deliveries.cancel_pending(self.store.world(tenant))]
        cut, deadline = 0, time.monotonic() + timeout
        with self._lock:
            while self._in_flight and time.monotonic() < deadline:
                ours = {t.ident for t in self._worker_threads}  # only this dispatcher's POSTs
                self._lock.release()
                try:  # a row prepared just before it was cancelled may connect after a cut: cut again
                    cut += outbound.cut_open(ours)
                finally:
                    self._lock.acquire()
                self._lock.wait_for(lambda: not self._in_flight, timeout=0.05)
            busy = len(self._in_flight)
        return {"cancelled": cancelled, "dropped": dropped, "cut": cut, "busy": busy}

    def close(self, timeout: float = 2.0) -> None:
        """Stop the threads (idempotent). Attempts already on the wire finish on their own daemon thread."""
        with self._lock:
            self._closed = True
            threads = [t for t in (self._scheduler, *self._worker_threads) if t is not None]
            for tenant, rows in self._queue.drain().items():  # queued rows stay pending in the store
                self._in_flight.difference_update((tenant, doc_id) for doc_id in rows)
            self._lock.notify_all()
        self._wake.set()
        for thread in threads:
            thread.join(timeout)

    def close_at_exit(self) -> None:
        atexit.register(_close_ref, weakref.ref(self))

    def threads(self) -> list[threading.Thread]:
        with self._lock:
            return [t for t in (self._scheduler, *self._worker_threads) if t is not None and t.is_alive()]

    # -- scheduler -------------------------------------------------------------------------------
    def _schedule_loop(self) -> None:
        idle_since = time.monotonic()
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._closed:
                return
            if self._enqueue_due():
                idle_since = time.monotonic()
            with self._lock:
                if self._watched or self._in_flight:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since >= self.idle_exit or self._closed:
                    self._scheduler = None
                    return

    def _enqueue_due(self) -> bool:
        """Queue every due row of every watched tenant; forget tenants with nothing pending. True if any queued."""
        with self._lock:
            watched = dict(self._watched)
        queued = False
        for tenant, generation in watched.items():
            world = self.store.world(tenant)
            for doc_id in deliveries.due(world):
                if not self._claim((tenant, doc_id)):
                    continue
                if not self._enqueue((tenant, doc_id)):
                    self._release((tenant, doc_id))
                    break  # queue full: the row stays pending for the next tick
                queued = True
            if not deliveries.has_pending(world):
                with self._lock:
                    if self._watched.get(tenant) == generation:  # no notify since we read it
                        del self._watched[tenant]
        return queued

    def _enqueue(self, key: tuple[str, int]) -> bool:
        tenant, doc_id = key
        with self._lock:
            if self._closed or not self._queue.put(tenant, doc_id):
                return False
            while len(self._worker_threads) < self.workers:
                self._worker_threads.add(self._start(self._worker_loop, "webhook-worker"))
            self._lock.notify_all()
            return True

    def _take_queued(self, tenant: str) -> list[int]:
        """Remove (still claimed) the tenant's rows that wait for a worker."""
        with self._lock:
            return self._queue.take(tenant)

    # -- workers ---------------------------------------------------------------------------------
    def _worker_loop(self) -> None:
        me = threading.current_thread()
        while True:
            with self._lock:
                key = None if self._closed else self._queue.next()
                if key is None and not self._closed:
                    self._lock.wait(self.idle_exit)
                    key = None if self._closed else self._queue.next()
                if key is None:
                    if self._closed or not self._queue:
                        self._worker_threads.discard(me)
                        return
                    continue
            try:
                self._deliver_claimed(*key)
            finally:
                with self._lock:
                    self._queue.done(key[0])
                    self._lock.notify_all()

    def _deliver_claimed(self, tenant: str, doc_id: int) -> dict | None:
        try:
            return self._deliver(tenant, doc_id)
        except Exception:  # a broken row must not kill the worker
            log.exception("webhook delivery %s/%s failed unexpectedly", tenant, doc_id)
            return None
        finally:
            self._release((tenant, doc_id))

    def _deliver(self, tenant: str, doc_id: int) -> dict | None:
        world = self.store.world(tenant)
        attempt = deliveries.prepare_attempt(world, doc_id)
        if attempt is None:
            return None
        # Real wall-clock time, not the sandbox clock: receivers compare `t` with their own clock.
        signature = deliveries.signature_header(attempt.secret, attempt.body, int(time.time()))
        status_code, error, excerpt, latency_ms = self._post(attempt, signature, world)
        doc = deliveries.record_attempt(world, attempt, status_code, latency_ms, error, signature, excerpt)
        outcome = doc["status"] if doc else "discarded"
        log.info("webhook %s attempt %d -> %s: %s %s", attempt.delivery_id, attempt.number, redact_url(attempt.url),
                 status_code or error, outcome)
        return {"delivery_id": attempt.delivery_id, "event_id": attempt.event_id, "url": attempt.url,
                "attempt": attempt.number, "status_code": status_code, "error": error, "status": outcome}

    def _post(self, attempt: deliveries.Attempt, signature: str, world=None):
        headers = {"Content-Type": "application/json", "User-Agent": f"OpesCare-Sandbox-Webhooks/{__version__}",
                   deliveries.SIGNATURE_HEADER: signature, "X-OpesCare-Event-Id": attempt.event_id,
                   "X-OpesCare-Delivery-Attempt": str(attempt.number)}
        started = time.perf_counter()
        if (inbox_id := inbox.inbox_id_of(attempt.url)) is not None:  # the sandbox's own inbox: no network hop
            status_code = inbox.receive(world, inbox_id, attempt.doc_id, headers, attempt.body, int(time.time()))
            return status_code, None, None, round((time.perf_counter() - started) * 1000, 1)
        status_code = error = excerpt = None
        connect = self.egress.create_connection if self.egress.public else None
        try:
            status_code, raw = outbound.post(attempt.url, attempt.body, headers, self.timeout, RESPONSE_EXCERPT * 4,
                                             connect=connect)
            excerpt = raw.decode("utf-8", "replace")[:RESPONSE_EXCERPT]
        except outbound.DeadlineExceeded:
            error = f"timed out after {self.timeout:g} s"
        except (OSError, HTTPException, ValueError) as exc:
            kind = "ConnectionError" if isinstance(exc, OSError) else type(exc).__name__
            error = f"{kind}: {exc}"[:300]
        latency = time.perf_counter() - started
        if error is None and latency > self.timeout:  # a receiver that dribbles its answer past the limit
            error = f"answered after {latency:.1f} s (limit {self.timeout:g} s)"
        if self.egress.public:
            return self._public_outcome(status_code, error, latency)
        return status_code, error, excerpt, round(latency * 1000, 1)

    @staticmethod
    def _public_outcome(status_code, error, latency: float):
        """No body, and one text, status and latency for every failure (refused, timed out, 500, ...)."""
        if error is None and status_code is not None and 200 <= status_code < 300:
            return status_code, None, None, round(latency * 1000, 1)
        log.info("webhook failure hidden from the subscriber: %s", error or status_code)
        return None, PUBLIC_FAILURE, None, 0.0

    # -- claims ----------------------------------------------------------------------------------
    def _claim(self, key: tuple[str, int]) -> bool:
        with self._lock:
            if key in self._in_flight:
                return False
            self._in_flight.add(key)
            return True

    def _release(self, key: tuple[str, int]) -> None:
        with self._lock:
            self._in_flight.discard(key)
            self._lock.notify_all()

    def _await_tenant(self, tenant: str, mine=()) -> int:
        """Wait (bounded) until no attempt of this tenant is under way elsewhere; how many there were.
        Rows of other tenants never count: one tenant's `retry-pending` never waits on another's receivers."""
        mine = {(tenant, doc_id) for doc_id in mine}

        def others() -> int:
            return sum(1 for key in self._in_flight if key[0] == tenant and key not in mine)

        with self._lock:
            busy = others()
            self._lock.wait_for(lambda: not others(), timeout=self.timeout * 2 + 5)
            return busy

    @staticmethod
    def _start(target, name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread


def _close_ref(ref) -> None:
    dispatcher = ref()
    if dispatcher is not None:
        dispatcher.close(timeout=0.5)
