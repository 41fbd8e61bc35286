"""The command line: `opescare-sandbox serve | reset | repair | export | spec`. Flags win over SANDBOX_* variables."""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path

import click

from . import cli_report, serving
from .config import DEFAULTS, DESCRIPTIONS, load_config

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}  # -h too, on every command

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
        click.option("--data-dir", type=click.Path(file_okay=False),
                     help=f"Where worlds are stored (default {DEFAULTS['DATA_DIR']})."),
        click.option("--in-memory", is_flag=True, default=None, help="Keep worlds in memory only."),
    ]):
        command = option(command)
    return command


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="opescare-sandbox")
def main():
    """OpesCare Sandbox: a local, stateful OpesCare Connect + OpenEyes API."""


def environment_help() -> str:
    """Every SANDBOX_* variable, from config.DEFAULTS (so the list never drifts), with its default."""
    lines = ["\b", "Environment variables (a flag wins over its variable, a variable over the default):"]
    for key, default in DEFAULTS.items():
        shown = "none" if default is None else str(default).lower() if isinstance(default, bool) else default
        lines.append(f"  SANDBOX_{key:<19} {DESCRIPTIONS.get(key, '')} [default: {shown}]")
    return "\n".join(lines)


@main.command(epilog=environment_help())
@click.option("--host", help=f"Interface to bind (default {DEFAULTS['HOST']}).")
@click.option("--port", type=click.IntRange(1, 65535), help=f"Port (default {DEFAULTS['PORT']}).")
@world_options
@click.option("--server", type=click.Choice(["granian", "waitress"]), help="HTTP server (default granian).")
@click.option("--threads", type=click.IntRange(1, 256),
              help="Threads (default 8): under granian for the sandbox controls (Connect and OpenEyes requests run in "
                   "its event loop); under waitress for every request.")
@click.option("--admin-token", help="Require this bearer token on /sandbox/* controls.")
@click.option("--tenant-ttl", type=click.IntRange(0), help="Seconds before an idle tenant is dropped (0: never).")
@click.option("--rate-limit", type=click.IntRange(1), help="Requests per minute per client (default 200).")
@click.option("--no-rate-limit", is_flag=True, help="Switch rate limiting off (load tests).")
@click.option("--public", is_flag=True, help="The public profile for a hosted playground (docs/hosted.md).")
def serve(**flags):
    """Serve the sandbox over HTTP (Ctrl-C or SIGTERM stops it cleanly; one server per data directory)."""
    config = load_config(_overrides(**flags))
    if config["PUBLIC"] and not config["BEHIND_PROXY"]:
        click.echo("WARNING: --public without SANDBOX_BEHIND_PROXY=1: nothing bounds slow clients or per-source "
                   "traffic; run it behind `opescare-sandbox cluster` (HAProxy), see docs/hosted.md.", err=True)
    try:
        serving.prepare(config)  # the data directory's lock stays held until this process (and its worker) exits
    except serving.StartRefused as refused:
        click.echo(f"opescare-sandbox: {refused}", err=True)
        sys.exit(1)
    # The server process builds its app from the environment: hand it the resolved settings.
    for key, value in config.items():
        if key in DEFAULTS and value is not None:
            os.environ[f"SANDBOX_{key}"] = str(value)
    click.echo(f"OpesCare Sandbox on http://{config['HOST']}:{config['PORT']} "
               f"(seed {config['SEED']}, {config['PATIENTS']} patients, server {config['SERVER']})", err=True)
    try:
        if config["SERVER"] == "waitress":
            _serve_waitress(config)
        else:
            _serve_granian(config)
    except KeyboardInterrupt:  # Ctrl-C before the server had its own handlers: nothing had started yet
        sys.exit(0)


_serve_granian = serving.serve_granian  # the benchmarks serve their hello-world reference with it
_serve_waitress = serving.serve_waitress


@contextmanager
def _locked(data_dir: str):
    """Commands that change stored files hold the data directory, so they never run beside a server."""
    from .storage.datalock import DataDirBusy, lock_data_dir

    try:
        fd = lock_data_dir(data_dir)
    except DataDirBusy as busy:
        click.echo(f"opescare-sandbox: {busy}", err=True)
        sys.exit(1)
    try:
        yield
    finally:
        os.close(fd)


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False),
              help=f"Where worlds are stored (default {DEFAULTS['DATA_DIR']}).")
@click.option("--tenant", default=None, help="Only this tenant (default: every tenant).")
def reset(data_dir, tenant):
    """Delete stored worlds so they start seeded again (for a running server use POST /sandbox/reset)."""
    from .storage.worlds import WorldStore

    config = load_config({"DATA_DIR": data_dir})
    store = WorldStore(lambda seed, size: None, config["SEED"], config["PATIENTS"], config["DATA_DIR"])
    with _locked(config["DATA_DIR"]):
        names = [tenant] if tenant else store.tenants()
        for name in names:
            store.drop(name)
    click.echo(f"reset {len(names)} tenant(s) in {config['DATA_DIR']}", err=True)


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False),
              help=f"Where worlds are stored (default {DEFAULTS['DATA_DIR']}).")
@click.option("--tenant", default=None, help="Only this tenant (default: every tenant).")
def repair(data_dir, tenant):
    """Make damaged tenants load again: keep a copy of their files (in DATA_DIR/damaged/), then cut each file
    back to its last good record. Stop the server first. Intact tenants are left as they are."""
    from .storage.repair import repair_tenant
    from .storage.worlds import WorldStore

    config = load_config({"DATA_DIR": data_dir})
    logging.getLogger("opescare_sandbox.storage").setLevel(logging.CRITICAL)  # each tenant's line says it all
    with _locked(config["DATA_DIR"]):
        names = [tenant] if tenant else WorldStore(None, 0, 0, config["DATA_DIR"]).tenants()
        for name in names:
            click.echo(repair_tenant(Path(config["DATA_DIR"]), name), err=True)


@main.command()
@world_options
@click.option("--tenant", default="default", help="Which tenant's world (default 'default').")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here instead of standard output.")
def export(tenant, output, **flags):
    """Print a world as JSON (stable order: the same seed gives the same bytes)."""
    from .app import create_app
    from .errors import WorldDamaged

    # An export only reads: it must not resume anyone's pending webhook deliveries. It holds the data
    # directory while it reads, so it never cuts off a journal line that a running server is still writing.
    config = load_config(_overrides(**flags))
    with nullcontext() if config["IN_MEMORY"] else _locked(config["DATA_DIR"]):
        app = create_app({**_overrides(**flags), "WEBHOOK_DELIVERY": False})
        try:
            text = app.extensions["opescare_sandbox"].store.world(tenant).export_json()
        except WorldDamaged as damage:
            click.echo(f"opescare-sandbox: {damage.message}", err=True)
            sys.exit(1)
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


@main.command()
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="How many `serve` workers.")
@click.option("--host", help=f"Interface HAProxy binds (default {DEFAULTS['HOST']}).")
@click.option("--port", type=click.IntRange(1, 65535), help=f"HAProxy's port (default {DEFAULTS['PORT']}).")
@click.option("--worker-port", type=click.IntRange(0, 65535),
              help="Worker i listens on 127.0.0.1:<this + i> (default: --port + 1; 0: any free ports).")
@world_options
@click.option("--public", is_flag=True, help="Public mode: HAProxy's per-source rate limits, workers in public mode.")
@click.option("--threads", type=click.IntRange(1, 256), help="Threads per worker (default 8).")
@click.option("--admin-token", help="Require this bearer token on /sandbox/* controls.")
@click.option("--tenant-ttl", type=click.IntRange(0), help="Seconds before an idle tenant is dropped (0: never).")
@click.option("--rate-limit", type=click.IntRange(1), help="Requests per minute per client (default 200).")
@click.option("--no-rate-limit", is_flag=True, help="Switch rate limiting off (load tests).")
def cluster(host, port, data_dir, **flags):
    """Serve N workers behind HAProxy, each tenant on one worker (see docs/cluster.md)."""
    from .cluster import ClusterError, run_cluster

    config = load_config({"HOST": host, "PORT": port, "DATA_DIR": data_dir})
    try:
        run_cluster(host=config["HOST"], port=int(config["PORT"]), data_dir=config["DATA_DIR"], **flags)
    except ClusterError as error:
        raise click.ClickException(str(error)) from error


main.add_command(cli_report.report)
main.add_command(cli_report.certify)

# -h on every command however it is invoked: click builds (and caches) a command's help option from the
# context it is first given, and a command used on its own (tests, other tools) gets no parent's settings.
for _command in main.commands.values():
    _command.context_settings = {**CONTEXT, **_command.context_settings}
