"""`serve` as a well-mannered process: one server per data directory, a busy port in one line, a clean stop every time.

Why Ctrl-C used to leave granian serving: granian runs the app in a worker process and waits, in both
processes, on a `threading.Event` in the main thread, relying on Python signal handlers to wake it. Python
runs those handlers only in the main thread, and only once it executes bytecode again; the kernel delivers a
process-directed SIGINT/SIGTERM to whichever thread does not block it: in the main process a worker-watcher
thread, in the worker a tokio or WSGI thread. Then the handler never ran: the main process logged
"Shutting down granian" and waited forever for a worker that kept serving. `SignalRelay` makes the signal
reach its handler whichever thread got it (the C handler writes it to a wakeup fd; a relay thread calls the
handler); the worker's handler acts once only (granian's stop event blocks forever, holding the GIL, on a
second `set()`: Ctrl-C, then the main process's SIGTERM); and `CleanStop` bounds the worker's stop:
in-flight requests get `GRACE` seconds, then the journals are compacted and the worker exits. Deliveries
on the wire are abandoned: they stay pending on disk.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing.util
import os
import signal
import socket
import sys
import threading

from .storage.datalock import DataDirBusy, lock_data_dir

APP_TARGET = "opescare_sandbox.asgi:app"
GRACE = 0.5  # seconds for requests in flight after a stop signal (the liveness bound on a whole stop is 2 s)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
PR_SET_PDEATHSIG = 1


class StartRefused(Exception):
    """The server cannot start; the message is the one line the CLI prints."""


def prepare(config: dict) -> int | None:
    """Before anything is printed or bound: take the data directory's lock, check the port. Returns the lock's
    descriptor (kept open while serving; the worker inherits it). Raises StartRefused."""
    fd = None
    if not config["IN_MEMORY"]:
        try:
            fd = lock_data_dir(config["DATA_DIR"])
        except DataDirBusy as busy:
            raise StartRefused(str(busy)) from None
    check_port(str(config["HOST"]), int(config["PORT"]))
    return fd


def check_port(host: str, port: int) -> None:
    """Bind the port as a plain listener first. granian binds with SO_REUSEPORT and has no option to turn it
    off, so a second sandbox on the port would silently share it (the kernel splitting requests between
    two data directories), and any other holder gave a 41-line traceback."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.create_server((host.strip("[]"), port), family=family):  # SO_REUSEADDR only: TIME_WAIT is fine
            pass
    except OSError as exc:
        if exc.errno == 98:  # EADDRINUSE
            raise StartRefused(f"port {port} on {host} is already in use (another program, or another "
                               "sandbox); choose another with --port or SANDBOX_PORT") from None
        raise StartRefused(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


# -- granian ---------------------------------------------------------------------------------------------
def serve_granian(config: dict, target: str = APP_TARGET) -> None:
    """Also serves the benchmarks' hello-world reference (`target`), so both get exactly these settings."""
    from granian import Granian
    from granian.constants import Interfaces

    ours = target == APP_TARGET
    server = Granian(
        target,
        address=config["HOST"],
        port=int(config["PORT"]),
        # The sandbox runs behind its ASGI front (opescare_sandbox.asgi: bodies and delays wait in the event
        # loop; the app runs on THREADS pool threads); the benchmarks' WSGI hello-world runs as plain WSGI.
        interface=Interfaces.ASGI if ours else Interfaces.WSGI,
        workers=1,  # one process holds the worlds
        blocking_threads=1 if ours else int(config["THREADS"]),
        log_access=False,
        workers_kill_timeout=5,  # a backstop only: CleanStop ends the worker well before
    )
    SignalRelay().start()  # granian installs its handlers in serve(); the relay calls whichever is current
    if target != APP_TARGET:
        server.serve()
        return
    # A signal that reaches the worker before it has its own relay would be lost (the main process then waits
    # for it, and kills it after workers_kill_timeout): the worker is forked with them blocked, and unblocks
    # them once it can act on them (load_worker_app).
    os.register_at_fork(before=_block_stop_signals, after_in_parent=_unblock_stop_signals)
    server.serve(target_loader=load_worker_app)


# gen0 as Python's default; a full collection after 1,000 middle ones instead of 10 (Python's default).
GC_THRESHOLDS = (700, 10, 1000)


def settle_garbage_collector() -> None:
    """Keep the cyclic garbage collector's pauses out of the answers' tail latency.

    A full collection walks every object the process holds, above all the template worlds (a dict per
    document): ~50-100 ms here at the default size, every few thousand requests under load: it was the whole
    p99 (docs/benchmarks.md). What exists once the app is built lives as long as the process, so it is moved
    out of the collector's sight (`gc.freeze`), and full collections of what requests leave behind are rarer.
    Young generations are collected as usual: request garbage with cycles is still freed promptly.
    No collection first: it took ~70 ms of every start to free the ~11,000 objects the imports left in cycles
    (a megabyte or two, once per process), which are frozen with the rest instead.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    gc.enable()  # off while the worker built the app (load_worker_app)


def _block_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def _unblock_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def load_worker_app(_target: str):
    """granian's target loader, run in the worker process: the app, with a relay and a clean stop of its own."""
    _die_with_parent()
    stop = CleanStop()  # before the app is built: a Ctrl-C while it loads stops the worker too
    _route_worker_signals(stop)
    SignalRelay(on_signal=stop.begin).start()
    _unblock_stop_signals()  # forked with them blocked: one sent meanwhile is delivered now, to the relay

    gc.disable()  # the start allocates the app and the worlds, which all live on: collecting them is wasted (~35 ms)
    from .asgi import build  # the slow part of a start (imports), so after the relay

    front = build()
    settle_garbage_collector()
    stop.services = front.wsgi_app.extensions["opescare_sandbox"]
    front.on_shutdown = stop.close  # granian's ASGI worker ends through the lifespan, not always via Finalize
    multiprocessing.util.Finalize(None, stop.close, exitpriority=100)  # granian's worker returned: normal exit
    return front


def _route_worker_signals(stop: CleanStop) -> None:
    """granian's worker handler must run once only: its stop event's `set()` blocks forever, holding the GIL,
    when called a second time (Ctrl-C reaches the worker, then granian's main process sends it SIGTERM).
    The worker installs its handlers after loading the app, through this function: route them to `stop`."""
    from granian import _signals

    def set_main_signals(interrupt_handler, reload_handler=None):
        stop.granian_handler = interrupt_handler
        for signum in STOP_SIGNALS:
            signal.signal(signum, lambda signum, _frame: stop.begin(signum))

    _signals.set_main_signals = set_main_signals

    # The ASGI worker (the sandbox's front) takes its signals in its event loop instead: same routing.
    granian_set_loop_signals = _signals.set_loop_signals

    def set_loop_signals(loop):
        event = granian_set_loop_signals(loop)
        stop.granian_handler = lambda _signum, _frame: event.set()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, stop.begin, signum)
        return event

    _signals.set_loop_signals = set_loop_signals


def _die_with_parent() -> None:
    """A `kill -9` of granian's main process must not leave its worker serving (and holding the data dir)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class SignalRelay:
    """Runs the current Python handler of SIGINT/SIGTERM on a thread of its own as soon as either arrives,
    whichever thread the kernel delivered it to (the main thread may be blocked where it never runs it)."""

    def __init__(self, on_signal=None):
        self.on_signal = on_signal or call_handler

    def start(self) -> None:
        read, write = os.pipe()
        os.set_blocking(write, False)
        signal.set_wakeup_fd(write, warn_on_full_buffer=False)  # from the main thread, before serving
        threading.Thread(target=self._run, args=(read,), name="signal-relay", daemon=True).start()

    def _run(self, read: int) -> None:
        while True:
            for signum in os.read(read, 64):
                if signum in STOP_SIGNALS:
                    self.on_signal(signum)



def call_handler(signum: int) -> None:
    handler = signal.getsignal(signum)
    if callable(handler) and handler is not signal.default_int_handler:
        handler(signum, None)  # granian's: sets its stop event (idempotent, safe from any thread)


class CleanStop:
    """The worker's stop: no new deliveries, `GRACE` for requests in flight, journals compacted, exit."""

    def __init__(self, services=None):
        self.services = services  # the app's, once it is built
        self.granian_handler = None  # set when granian's worker installs its signal handlers
        self._begun = False
        self._lock, self._close_lock = threading.Lock(), threading.Lock()
        self._closed = False

    def begin(self, signum: int) -> None:
        """From the relay thread or a signal handler, for every SIGINT/SIGTERM: acts on the first only."""
        with self._lock:
            if self._begun:
                return
            self._begun = True
        if self.granian_handler is not None:
            self.granian_handler(signum, None)  # granian stops accepting and winds its worker down
        if self.services is not None:
            self.services.extras["webhooks"].close(timeout=0)  # a receiver that never answers is not waited for
        timer = threading.Timer(GRACE, self.finish)
        timer.daemon = True
        timer.start()

    def close(self) -> None:
        """Idempotent: from the normal exit (granian returned) or from `finish`."""
        with self._close_lock:
            if self._closed or self.services is None:
                return
            self._closed = True
            self.services.extras["webhooks"].close(timeout=0)
            self.services.store.close()  # fold every journal into its overlay: the next start replays nothing

    def finish(self) -> None:
        """Requests still running after the grace: whatever they committed is journaled already (as after a kill)."""
        self.close()
        os._exit(0)


# -- waitress --------------------------------------------------------------------------------------------
def serve_waitress(config: dict) -> None:
    import waitress

    from .app import create_app

    app = create_app()
    stop = CleanStop(app.extensions["opescare_sandbox"])
    server = waitress.create_server(app, host=config["HOST"], port=int(config["PORT"]),
                                    threads=int(config["THREADS"]), ident="opescare-sandbox")

    def interrupt(_signum, _frame):  # the main thread wakes from its loop at least every second
        raise KeyboardInterrupt

    for signum in STOP_SIGNALS:
        signal.signal(signum, interrupt)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        stop.close()
