"""Armed faults: the next N matching requests of a tenant get a status, a delay or a dropped connection. No Flask.

Unlike `Prefer:`, an armed fault needs no change to the client under test: a test (or the playground)
arms it through `/sandbox/faults`, and the client's own next requests meet it. Faults live in memory per
tenant, like the request journal: they are test set-up, not world state, and a tenant's drop forgets them.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass, field

from ..errors import ValidationFailed

KINDS = ("status", "delay_ms", "drop")
MAX_FAULTS = 100  # per tenant, armed or spent: a hosted playground's visitor cannot grow memory without end
FIRED_KEPT = 100  # per fault: enough to show what fired, bounded however many times it is armed for


@dataclass
class Fault:
    """One armed fault; `remaining` counts down as matching requests meet it."""

    id: str
    method: str
    path: str
    client_id: str | None
    times: int
    status: int | None = None
    error: str | None = None  # a specific documented error of that status (403: consent_required)
    delay_ms: int | None = None
    drop: bool = False
    armed_at: str | None = None
    remaining: int = 0
    fired: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self.remaining = self.times
        self._pattern = path_pattern(self.path)

    @property
    def kind(self) -> str:
        return "drop" if self.drop else "status" if self.status is not None else "delay_ms"

    def matches(self, method: str, path: str, client_id: str | None) -> bool:
        return (self.remaining > 0 and self.method in ("*", method.upper())
                and (self.client_id is None or self.client_id == client_id) and bool(self._pattern.fullmatch(path)))

    def to_dict(self) -> dict:
        return {"fault_id": self.id, "method": self.method, "path": self.path, "client_id": self.client_id,
                "times": self.times, "remaining": self.remaining, "kind": self.kind, "status": self.status,
                "error": self.error,
                "delay_ms": self.delay_ms, "drop": self.drop, "armed_at": self.armed_at, "fired": list(self.fired)}


def path_pattern(pattern: str) -> re.Pattern:
    """`*` stands for one path segment (or part of one), `**` for any number of segments; everything else is
    literal. A trailing `/` is optional."""
    deep = [[re.escape(piece) for piece in part.split("*")] for part in pattern.rstrip("/").split("**")]
    return re.compile(".+".join("[^/]+".join(parts) for parts in deep) + "/?")


class FaultBoard:
    """Every tenant's armed faults, oldest first: a request meets the first that matches it."""

    def __init__(self):
        self._faults: dict[str, list[Fault]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def arm(self, tenant: str, spec: dict, now: str) -> Fault:
        """Arm a fault; ValidationFailed when the tenant already holds MAX_FAULTS (clear them first)."""
        with self._lock:
            if len(self._faults.get(tenant, ())) >= MAX_FAULTS:
                raise ValidationFailed(f"This tenant already holds {MAX_FAULTS} faults; DELETE /sandbox/faults first.")
            fault = Fault(id=f"flt_{next(self._ids):06d}", method=spec.get("method", "*").upper(), path=spec["path"],
                          client_id=spec.get("client_id"), times=int(spec.get("times", 1)),
                          status=spec.get("status"), error=spec.get("error"), delay_ms=spec.get("delay_ms"),
                          drop=bool(spec.get("drop")),
                          armed_at=now)
            self._faults.setdefault(tenant, []).append(fault)
        return fault

    def holds(self, tenant: str) -> bool:
        """Whether the tenant has any fault at all: the hot path's only cost when none is armed (no lock)."""
        return bool(self._faults.get(tenant))

    def take(self, tenant: str, method: str, path: str, client_id: str | None, now: str) -> Fault | None:
        """The first armed fault this request meets, counted down and its firing recorded; None if none."""
        with self._lock:
            for fault in self._faults.get(tenant, ()):
                if fault.matches(method, path, client_id):
                    fault.remaining -= 1
                    if len(fault.fired) < FIRED_KEPT:
                        fault.fired.append({"at": now, "method": method.upper(), "path": path, "client_id": client_id})
                    return fault
        return None

    def list(self, tenant: str) -> list[dict]:
        with self._lock:
            return [fault.to_dict() for fault in self._faults.get(tenant, ())]

    def clear(self, tenant: str) -> None:
        with self._lock:
            self._faults.pop(tenant, None)

    drop = clear  # a store drop listener: a dropped tenant's faults go with it


def board_of(extras: dict, store) -> FaultBoard:
    """The app's board, made on first use (tests build many apps); a dropped tenant's faults go with it."""
    board = extras.get("faults")
    if board is None:
        board = extras.setdefault("faults", FaultBoard())
        if board.drop not in store.drop_listeners:
            store.drop_listeners.append(board.drop)
    return board
