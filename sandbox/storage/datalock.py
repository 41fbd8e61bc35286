"""One server per data directory: an exclusive OS file lock, released by the kernel when its holder dies. No Flask."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = ".lock"


class DataDirBusy(Exception):
    """Another process holds the data directory."""

    def __init__(self, path: Path, pid: int | None):
        holder = f"process {pid}" if pid else "another process"
        super().__init__(f"data directory {path} is in use by {holder} (another sandbox server, or a repair); "
                         "stop it or choose another --data-dir")
        self.path, self.pid = path, pid


def lock_data_dir(path: str | Path) -> int:
    """Lock `path` for this process and the processes it forks (granian's worker inherits the descriptor);
    returns the descriptor, to keep open while serving. `flock`, not a PID file: a `kill -9` leaves nothing
    stale, and a PID that was reused by another program can never block a start."""
    path = Path(path).resolve()
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = holder_pid(fd)
        os.close(fd)
        raise DataDirBusy(path, pid) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def holder_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (OSError, ValueError):
        return None
