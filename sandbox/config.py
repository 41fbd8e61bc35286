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
    "WEBHOOK_ROTATION_GRACE_SECONDS": 24 * 3600,
    "CORS_ORIGINS": "*",
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
