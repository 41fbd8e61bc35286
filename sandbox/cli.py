"""The command line: `opescare-sandbox serve | reset | export | spec`. Flags win over SANDBOX_* variables."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .config import DEFAULTS, load_config

SERVE_FLAGS = {
    "host": "HOST", "port": "PORT", "seed": "SEED", "patients": "PATIENTS", "data_dir": "DATA_DIR",
    "in_memory": "IN_MEMORY", "server": "SERVER", "threads": "THREADS", "admin_token": "ADMIN_TOKEN",
    "tenant_ttl": "TENANT_TTL", "rate_limit": "RATE_LIMIT",
}


def _overrides(**flags) -> dict:
    """CLI flags given on the command line, as config keys (absent flags leave env and defaults alone)."""
    found = {SERVE_FLAGS[name]: value for name, value in flags.items() if name in SERVE_FLAGS and value is not None}
    if flags.get("no_rate_limit"):
        found["RATE_LIMIT_ENABLED"] = False
    if flags.get("public"):
        found["PUBLIC"] = True
    return found


def world_options(command):
    for option in reversed([
        click.option("--seed", type=int, help=f"World seed (default {DEFAULTS['SEED']})."),
        click.option("--patients", type=click.IntRange(0, 1_000_000),
                     help=f"Synthetic patients per population (default {DEFAULTS['PATIENTS']})."),
        click.option("--data-dir", type=click.Path(file_okay=False), help="Where worlds are stored."),
        click.option("--in-memory", is_flag=True, default=None, help="Keep worlds in memory only."),
    ]):
        command = option(command)
    return command


@click.group()
@click.version_option(package_name="opescare-sandbox")
def main():
    """OpesCare Sandbox: a local, stateful OpesCare Connect + OpenEyes API."""


@main.command()
@click.option("--host", help=f"Interface to bind (default {DEFAULTS['HOST']}).")
@click.option("--port", type=click.IntRange(1, 65535), help=f"Port (default {DEFAULTS['PORT']}).")
@world_options
@click.option("--server", type=click.Choice(["granian", "waitress"]), help="HTTP server (default granian).")
@click.option("--threads", type=click.IntRange(1, 256), help="Worker threads (default 8).")
@click.option("--admin-token", help="Require this bearer token on /sandbox/* controls.")
@click.option("--tenant-ttl", type=click.IntRange(0), help="Seconds before an idle tenant is dropped (0: never).")
@click.option("--rate-limit", type=click.IntRange(1), help="Requests per minute per client (default 200).")
@click.option("--no-rate-limit", is_flag=True, help="Switch rate limiting off (load tests).")
@click.option("--public", is_flag=True, help="The public profile for a hosted playground (docs/hosted.md).")
def serve(**flags):
    """Serve the sandbox over HTTP."""
    config = load_config(_overrides(**flags))
    if config["PUBLIC"] and not config["BEHIND_PROXY"]:
        click.echo("WARNING: --public without SANDBOX_BEHIND_PROXY=1: nothing bounds slow clients or per-source "
                   "traffic; run it behind `opescare-sandbox cluster` (HAProxy), see docs/hosted.md.", err=True)
    # The server process builds its app from the environment: hand it the resolved settings.
    for key, value in config.items():
        if key in DEFAULTS and value is not None:
            os.environ[f"SANDBOX_{key}"] = str(value)
    click.echo(f"OpesCare Sandbox on http://{config['HOST']}:{config['PORT']} "
               f"(seed {config['SEED']}, {config['PATIENTS']} patients, server {config['SERVER']})", err=True)
    if config["SERVER"] == "waitress":
        _serve_waitress(config)
    else:
        _serve_granian(config)


def _serve_granian(config: dict, target: str = "opescare_sandbox.wsgi:app") -> None:
    """Also serves the benchmarks' hello-world reference (`target`), so both get exactly these settings."""
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        target,
        address=config["HOST"],
        port=int(config["PORT"]),
        interface=Interfaces.WSGI,
        workers=1,  # one process holds the worlds
        blocking_threads=int(config["THREADS"]),
        log_access=False,
    ).serve()


def _serve_waitress(config: dict) -> None:
    import waitress

    from .app import create_app

    waitress.serve(create_app(), host=config["HOST"], port=int(config["PORT"]), threads=int(config["THREADS"]),
                   ident="opescare-sandbox")


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False), help="Where worlds are stored.")
@click.option("--tenant", default=None, help="Only this tenant (default: every tenant).")
def reset(data_dir, tenant):
    """Delete stored worlds so they start seeded again (for a running server use POST /sandbox/reset)."""
    from .storage.worlds import WorldStore

    config = load_config({"DATA_DIR": data_dir})
    store = WorldStore(lambda seed, size: None, config["SEED"], config["PATIENTS"], config["DATA_DIR"])
    names = [tenant] if tenant else store.tenants()
    for name in names:
        store.drop(name)
    click.echo(f"reset {len(names)} tenant(s) in {config['DATA_DIR']}", err=True)


@main.command()
@world_options
@click.option("--tenant", default="default", help="Which tenant's world (default 'default').")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here instead of standard output.")
def export(tenant, output, **flags):
    """Print a world as JSON (stable order: the same seed gives the same bytes)."""
    from .app import create_app

    # An export only reads: it must not resume anyone's pending webhook deliveries.
    app = create_app({**_overrides(**flags), "WEBHOOK_DELIVERY": False})
    text = app.extensions["opescare_sandbox"].store.world(tenant).export_json()
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")


@main.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here instead of standard output.")
def spec(output):
    """Print the OpenAPI document generated from the code (what `make spec` commits as openapi.yaml)."""
    from .openapi import openapi_yaml

    text = openapi_yaml()
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
