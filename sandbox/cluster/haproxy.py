"""The HAProxy side of a cluster: find deploy/, render haproxy.cfg for N workers, write its JSON error files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

from ..config import REPO_ROOT
from ..errors import (
    BadGateway,
    GatewayTimeout,
    InternalError,
    InvalidRequest,
    RateLimitExceeded,
    RequestTimeout,
    ServiceUnavailable,
    tenant_header_repeated,
    tenant_header_underscored,
)

# What HAProxy answers by itself, as the sandbox's envelope (deploy/errors/<name>; a test keeps them equal).
PROXY_ERRORS = {
    "400.json": InvalidRequest("The proxy could not parse this request."),
    "400-tenant-underscore.json": tenant_header_underscored(),
    "400-tenant-duplicate.json": tenant_header_repeated(),
    "408.json": RequestTimeout(),
    "429.json": RateLimitExceeded("Too many requests from this address; slow down.", retry_after=10),
    "500.json": InternalError("The proxy failed to handle this request."),
    "502.json": BadGateway("The worker stopped before answering: a write may or may not have happened; "
                           "retry it with the same Idempotency-Key."),
    "503.json": ServiceUnavailable("This tenant's worker is not answering (it is restarting); retry shortly.",
                                   retry_after=1),
    "504.json": GatewayTimeout(),
}
WORKER_MAXCONN = 16  # requests at once in one worker (its 8 threads, and as many waiting in its socket)


class ClusterError(RuntimeError):
    """The cluster cannot start (HAProxy missing, a bad configuration, a worker that never answers)."""


def deploy_dir() -> Path:
    """`deploy/` of a checkout, else the copy a wheel installs as data files (like config.fixtures_dir)."""
    checkout = REPO_ROOT / "deploy"
    if (checkout / "haproxy.cfg").is_file():
        return checkout
    try:
        files = metadata.distribution("opescare-sandbox").files or []
    except metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.name == "haproxy.cfg":
            return Path(file.locate()).resolve().parent
    return checkout


def error_body(error) -> str:
    return json.dumps(error.to_dict(), indent=1) + "\n"


def render_haproxy(template: str, bind: str, ports: list[int], host: str = "127.0.0.1") -> str:
    """The template with its `bind` line and its `server` lines replaced; nothing else changes."""
    lines, servers_written = [], False
    for line in template.splitlines():
        word = line.split(maxsplit=1)[0] if line.strip() else ""
        if word == "bind":
            lines.append(f"    bind {bind}")
        elif word == "server" and not servers_written:
            lines += [f"    server worker-{index} {host}:{port} id {index + 1} maxconn {WORKER_MAXCONN}"
                      for index, port in enumerate(ports)]
            servers_written = True
        elif word != "server":
            lines.append(line)
    return "\n".join(lines) + "\n"


def write_haproxy(target: Path, bind: str, ports: list[int], source: Path | None = None) -> Path:
    """Render the configuration and its error files into `target` (so that folder is what runs)."""
    source = source or deploy_dir()
    (target / "errors").mkdir(parents=True, exist_ok=True)
    for name, error in PROXY_ERRORS.items():
        (target / "errors" / name).write_text(error_body(error), encoding="utf-8")
    config = target / "haproxy.cfg"
    config.write_text(render_haproxy((source / "haproxy.cfg").read_text(encoding="utf-8"), bind, ports),
                      encoding="utf-8")
    return config


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if os.access(p, os.X_OK)), None)
    if found is None:
        raise ClusterError("HAProxy is missing: `make cluster` installs it (apt-get install haproxy).")
    return found


def check_config(config: Path, env: dict | None = None) -> None:
    """`haproxy -c`: refuse to start with a configuration HAProxy would not load."""
    done = subprocess.run([haproxy_binary(), "-c", "-q", "-f", str(config)], capture_output=True, text=True,
                          env=env, timeout=30)
    if done.returncode != 0:
        raise ClusterError(f"HAProxy refuses {config}:\n{done.stdout}{done.stderr}")
