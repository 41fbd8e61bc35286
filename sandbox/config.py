"""Configuration: defaults, overridden by SANDBOX_* environment variables, overridden by an explicit mapping.

The explicit mapping is what `create_app(config)` receives: the CLI's flags and the tests' settings,
so both always win over the environment (the flaskr rule).
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, object] = {
    "SEED": 42,
    "PATIENTS": 200,
    "DATA_DIR": ".sandbox-data",
    "IN_MEMORY": False,
    "FIXTURES_DIR": None,  # resolved by fixtures_dir(): the checkout's fixtures/, else the installed copy
    "HOST": "127.0.0.1",
    "PORT": 8080,
    "SERVER": "granian",
    "THREADS": 8,
    "RATE_LIMIT": 200,
    "RATE_LIMIT_ENABLED": True,
    "ADMIN_TOKEN": None,
    "TENANT_TTL": 0,
    "JOURNAL_SIZE": 1000,
    "MAX_DELAY_MS": 10_000,
    "FSYNC": False,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "WEBHOOK_DELIVERY": True,
    "WEBHOOK_TIMEOUT": 10.0,
    "WEBHOOK_WORKERS": 4,
    "WEBHOOK_QUEUE_SIZE": 256,
    "WEBHOOK_INTERVAL": 0.5,
    "CORS_ORIGINS": "*",
    "WORKER": None,  # this worker's index in a cluster (set by `opescare-sandbox cluster`); None alone
}

# Environment variable -> how to read it. Every key of DEFAULTS can be set as SANDBOX_<KEY>.
_BOOL_TRUE = {"1", "true", "yes", "on"}


def _coerce(key: str, raw: str) -> object:
    default = DEFAULTS[key]
    if isinstance(default, bool):
        return raw.strip().lower() in _BOOL_TRUE
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw or None


def from_environment(environ: dict[str, str] | None = None) -> dict[str, object]:
    """The SANDBOX_* variables that are set, coerced to the type of their default."""
    environ = os.environ if environ is None else environ
    found = {}
    for key in DEFAULTS:
        raw = environ.get(f"SANDBOX_{key}")
        if raw is not None:
            found[key] = _coerce(key, raw)
    return found


def load_config(overrides: dict | None = None, environ: dict[str, str] | None = None) -> dict:
    """Defaults < environment < overrides. Unknown override keys pass through (Flask settings)."""
    config = dict(DEFAULTS)
    config.update(from_environment(environ))
    config.update({k: v for k, v in (overrides or {}).items() if v is not None or k not in DEFAULTS})
    config["FIXTURES_DIR"] = config["FIXTURES_DIR"] or fixtures_dir()
    return config


def fixtures_dir() -> str:
    """`fixtures/` of a checkout (editable install), else the copy a wheel installs as data files (pip install)."""
    checkout = REPO_ROOT / "fixtures"
    if checkout.is_dir():
        return str(checkout)
    try:
        files = metadata.distribution("opescare-sandbox").files or []
    except metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.name == "sandbox_signing_key.pem":
            return str(Path(file.locate()).resolve().parent)
    return str(checkout)  # not found: create_app's error names the path it looked in


# What each SANDBOX_<KEY> does: `serve --help` and docs/durability.md list every key of DEFAULTS (a test
# checks both), with these words where there are some.
DESCRIPTIONS: dict[str, str] = {
    "SEED": "seed of every generated world",
    "PATIENTS": "synthetic patients per population",
    "DATA_DIR": "where worlds are stored (one server per directory)",
    "IN_MEMORY": "keep worlds in memory only (nothing on disk)",
    "FIXTURES_DIR": "the fixtures folder (none: the checkout's, else the installed copy)",
    "HOST": "interface to bind",
    "PORT": "port to listen on",
    "SERVER": "HTTP server: granian or waitress",
    "THREADS": "worker threads",
    "RATE_LIMIT": "requests per minute per client",
    "RATE_LIMIT_ENABLED": "false switches rate limiting off",
    "ADMIN_TOKEN": "bearer token required on /sandbox/* controls",
    "TENANT_TTL": "seconds before an idle tenant is dropped (0: never)",
    "JOURNAL_SIZE": "requests kept in each tenant's request journal",
    "MAX_DELAY_MS": "longest `Prefer: delay=` honoured",
    "FSYNC": "fsync every write-journal line (survives power loss, slower)",
    "MAX_CONTENT_LENGTH": "largest request body, in bytes",
    "WEBHOOK_DELIVERY": "false: record webhook deliveries but never send them",
    "WEBHOOK_TIMEOUT": "seconds a receiver gets to answer a delivery",
    "WEBHOOK_WORKERS": "deliveries sent at once",
    "WEBHOOK_QUEUE_SIZE": "deliveries queued for the senders",
    "WEBHOOK_INTERVAL": "seconds between looks for due deliveries",
    "CORS_ORIGINS": "origins allowed to call from a browser (comma-separated, or *)",
}
