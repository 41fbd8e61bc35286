"""The launcher: N `serve` workers on local ports and HAProxy in front, restarted when they die, stopped together."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .haproxy import ClusterError, check_config, haproxy_binary, write_haproxy

STOP_GRACE = 10.0  # seconds a child gets after SIGTERM before SIGKILL
PR_SET_PDEATHSIG = 1
# Flags of `cluster` handed on to every `serve` worker as they are.
SERVE_FLAGS = ("seed", "patients", "in_memory", "threads", "admin_token", "tenant_ttl", "rate_limit", "no_rate_limit")


def _die_with_parent() -> None:
    """In the child: SIGTERM when the launcher dies, even by SIGKILL, so no worker outlives it."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


@dataclass
class Child:
    """One supervised process (a worker, or HAProxy) in a process group of its own."""

    name: str
    args: list[str]
    env: dict
    log: Path
    process: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = 0

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.args, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True,
                                            preexec_fn=_die_with_parent)
        self.started = time.monotonic()

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def signal_group(self, signum: int) -> None:
        # The whole group: granian's own worker process must not outlive (and keep serving for) its parent.
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                pass

    def group_gone(self, timeout: float = 5.0) -> None:
        """Until nothing of the group is left: a new worker must not meet the old one's socket or data lock."""
        deadline = time.monotonic() + timeout
        while self.process is not None and time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.01)

    def wait(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.process.wait()
        self.signal_group(signal.SIGKILL)  # whatever of its group is left


def wait_until_ok(url: str, child: Child, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.exited() is not None:
            tail = child.log.read_text(errors="replace").strip().splitlines()[-3:]
            raise ClusterError(f"{child.name} exited with {child.exited()} while starting ({child.log}):\n"
                               + "\n".join(tail))
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    raise ClusterError(f"{child.name} did not answer {url} within {timeout:.0f} s; see {child.log}")


def serve_flags(flags: dict) -> list[str]:
    args = []
    for name in SERVE_FLAGS:
        value = flags.get(name)
        if value is None or value is False:
            continue
        args += [f"--{name.replace('_', '-')}"] + ([] if value is True else [str(value)])
    return args


@dataclass
class Cluster:
    """N workers on 127.0.0.1 (worker i on ports[i], data in data_dir/worker-i) behind HAProxy on host:port."""

    ports: list[int]
    host: str
    port: int
    data_dir: Path
    public: bool = False
    flags: dict = field(default_factory=dict)
    out: object = sys.stderr
    workers: list[Child] = field(default_factory=list)
    proxy: Child | None = None
    stopping: bool = False
    running: bool = False

    def run(self) -> None:
        """Start everything, supervise until SIGINT or SIGTERM, then stop everything."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._request_stop)
        try:
            self.start()
            self.running = True
            self.report_moved_tenants()
            self.say(f"OpesCare Sandbox cluster on http://{self.host}:{self.port}: {len(self.ports)} worker(s), "
                     f"data in {self.data_dir}{', public' if self.public else ''}; Ctrl-C stops it")
            while not self.stopping:
                self.supervise_once()
                time.sleep(0.05)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    @property
    def local_host(self) -> str:
        """Where this machine reaches HAProxy (an IPv6 literal needs brackets in a URL)."""
        if self.host in ("0.0.0.0", "::", ""):
            return "127.0.0.1"
        return f"[{self.host}]" if ":" in self.host else self.host

    def _request_stop(self, *_args) -> None:
        self.stopping = True
        if not self.running:  # still starting: leave start() at once (run() stops what it started)
            raise KeyboardInterrupt

    def say(self, text: str) -> None:
        print(f"cluster: {text}", file=self.out, flush=True)

    def start(self) -> None:
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_WORKER")}
        if self.public:
            base_env["SANDBOX_PUBLIC"] = "1"
        # The workers are behind this proxy: it bounds slow clients and sources, and they may believe the
        # X-Forwarded-For it adds (the public profile; docs/hosted.md).
        base_env["SANDBOX_BEHIND_PROXY"] = "1"
        base_env["SANDBOX_TRUSTED_PROXIES"] = "127.0.0.1/32"
        config = write_haproxy(self.data_dir / "haproxy", f"{self.host}:{self.port}", self.ports)
        check_config(config, base_env)
        for index, port in enumerate(self.ports):
            data = self.data_dir / f"worker-{index}"
            args = [sys.executable, "-m", "opescare_sandbox", "serve", "--host", "127.0.0.1", "--port", str(port),
                    "--data-dir", str(data), *serve_flags(self.flags)]
            self.workers.append(Child(f"worker-{index}", args, {**base_env, "SANDBOX_WORKER": str(index)},
                                      logs / f"worker-{index}.log"))
        for worker in self.workers:
            worker.start()
        for worker, port in zip(self.workers, self.ports, strict=True):
            wait_until_ok(f"http://127.0.0.1:{port}/sandbox/health", worker)
        self.proxy = Child("haproxy", [haproxy_binary(), "-db", "-f", str(config)], base_env, logs / "haproxy.log")
        self.proxy.start()
        wait_until_ok(f"http://{self.local_host}:{self.port}/sandbox/health", self.proxy, timeout=30)
        self.write_state()

    def report_moved_tenants(self, limit: int = 10_000) -> list[tuple[str, int, int | None]]:
        """Tenants stored on a worker that no longer owns them (N changed): they start fresh on their new owner."""
        moved = []
        for folder in sorted(self.data_dir.glob("worker-*/tenants/*"))[:limit]:
            stored_on = int(folder.parent.parent.name.removeprefix("worker-"))
            owner = self.owner(folder.name)
            if owner != stored_on:
                moved.append((folder.name, stored_on, owner))
        if moved:
            names = ", ".join(f"{name} (worker-{old} -> worker-{new})" for name, old, new in moved[:10])
            self.say(f"{len(moved)} tenant(s) are stored on a worker that no longer owns them and start fresh: "
                     f"{names}{' ...' if len(moved) > 10 else ''}; to keep a world, move its folder "
                     "(docs/cluster.md, Changing N)")
        return moved

    def owner(self, tenant: str) -> int | None:
        """The worker HAProxy sends `tenant` to (a health check: it creates nothing)."""
        request = urllib.request.Request(f"http://{self.local_host}:{self.port}/sandbox/health",
                                         headers={"X-Sandbox-Tenant": tenant})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read()).get("worker")
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def supervise_once(self) -> None:
        """Restart whatever died: a worker comes back on its port and data directory, with its index."""
        for child in [*self.workers, self.proxy]:
            code = child.exited()
            if code is None or self.stopping:
                continue
            child.signal_group(signal.SIGKILL)  # granian's worker process may outlive its parent
            child.group_gone()
            quick = time.monotonic() - child.started < 5
            delay = min(5.0, 0.25 * 2 ** child.restarts) if quick else 0.0
            self.say(f"{child.name} exited ({_how(code)}); restarting" + (f" in {delay:.2f} s" if delay else ""))
            time.sleep(delay)
            child.restarts = child.restarts + 1 if quick else 0
            child.start()
            self.write_state()

    def write_state(self) -> None:
        """data_dir/cluster.json: who runs where (the tests and an operator read it)."""
        state = {"pid": os.getpid(), "url": f"http://{self.host}:{self.port}",
                 "haproxy": {"pid": self.proxy.process.pid if self.proxy and self.proxy.process else None,
                             "config": str(self.data_dir / "haproxy" / "haproxy.cfg")},
                 "workers": [{"index": i, "port": port, "pid": w.process.pid if w.process else None,
                              "data_dir": str(self.data_dir / f"worker-{i}")}
                             for i, (w, port) in enumerate(zip(self.workers, self.ports, strict=True))]}
        temp = self.data_dir / "cluster.json.tmp"
        temp.write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
        temp.replace(self.data_dir / "cluster.json")

    def stop(self) -> None:
        """HAProxy first (no new requests), then the workers (they finish what they hold and compact)."""
        self.stopping = True
        deadline = time.monotonic() + STOP_GRACE
        if self.proxy is not None:
            self.proxy.signal_group(signal.SIGTERM)
            self.proxy.wait(deadline)
        for worker in self.workers:
            worker.signal_group(signal.SIGTERM)
        for worker in self.workers:
            worker.wait(deadline)
        (self.data_dir / "cluster.json").unlink(missing_ok=True)
        self.say("stopped")


def _how(code: int) -> str:
    return f"signal {signal.Signals(-code).name}" if code < 0 else f"status {code}"


def worker_ports(port: int, workers: int, first: int | None) -> list[int]:
    """Worker i listens on first + i (default: the port after the router's); first 0 picks free ports."""
    if first != 0:
        first = port + 1 if first is None else first
        return list(range(first, first + workers))
    sockets = [socket.socket() for _ in range(workers)]  # all open at once: N different ports
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def run_cluster(workers: int, host: str, port: int, data_dir: str, public: bool = False,
                worker_port: int | None = None, **flags) -> None:
    Cluster(worker_ports(port, workers, worker_port), host, port, Path(data_dir).resolve(), public, flags).run()
