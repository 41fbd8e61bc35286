"""`opescare-sandbox report` (and `certify`): grade a client against a running sandbox, as a table; exit 1 on a fail."""

from __future__ import annotations

import sys

import click

URL_HELP = "Base URL of the running sandbox."
STATUS_MARK = {"pass": "pass", "fail": "FAIL", "not_exercised": "-"}


def connection_options(command):
    for option in reversed([
        click.option("--url", default="http://127.0.0.1:8080", show_default=True, help=URL_HELP),
        click.option("--tenant", default=None, help="The X-Sandbox-Tenant to grade (default: the default tenant)."),
        click.option("--client-id", default=None, help="The client to grade (default: the one with the most requests)."),
        click.option("--admin-token", envvar="SANDBOX_ADMIN_TOKEN", default=None,
                     help="The server's admin token, if it has one (or SANDBOX_ADMIN_TOKEN)."),
    ]):
        command = option(command)
    return command


def headers(tenant: str | None, admin_token: str | None) -> dict:
    found = {"X-Sandbox-Tenant": tenant} if tenant else {}
    if admin_token:
        found["Authorization"] = f"Bearer {admin_token}"
    return found


def fetch_report(url: str, tenant, client_id, admin_token) -> dict:
    import requests  # noqa: PLC0415 (only `report` and `certify` need it: ~50 ms off every `serve` start)

    try:
        answer = requests.get(url.rstrip("/") + "/sandbox/report", params={"client_id": client_id} if client_id else None,
                              headers=headers(tenant, admin_token), timeout=30)
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot reach the sandbox at {url}: {exc}") from None
    if answer.status_code != 200:
        raise click.ClickException(f"GET /sandbox/report answered {answer.status_code}: {answer.text[:300]}")
    return answer.json()


def render(body: dict) -> str:
    width = max(len(c["id"]) for c in body["checks"])
    window = body["window"]
    lines = [f"Integration report of {body['client_id'] or '(no client yet)'}, {window['from']} to {window['to']}", ""]
    for check in body["checks"]:
        mark = STATUS_MARK[check["status"]]
        lines.append(f"  {mark:<5} {check['id']:<{width}}  {check['why'] or check['title']}")
        if check["status"] == "fail" and check["evidence"]:
            lines.append(f"        {'':<{width}}  evidence: {', '.join(check['evidence'][:5])}")
    summary = body["summary"]
    lines += ["", f"{summary['pass']} passed, {summary['fail']} failed, {summary['not_exercised']} not exercised"]
    return "\n".join(lines)


@click.command("report")
@connection_options
def report(url, tenant, client_id, admin_token):
    """Print the integration report of a client of a running sandbox; exit 1 when a check fails (for CI)."""
    body = fetch_report(url, tenant, client_id, admin_token)
    click.echo(render(body))
    sys.exit(1 if body["summary"]["fail"] else 0)


@click.command("certify")
@connection_options
def certify(url, tenant, client_id, admin_token):
    """Start a certification run: arm a 429, a 503, a consent refusal, a token expiry and signature probes for
    a client's next activity. Run the client, then `opescare-sandbox report`."""
    import requests  # noqa: PLC0415 (see fetch_report)

    try:
        answer = requests.post(url.rstrip("/") + "/sandbox/certification",
                               json={"client_id": client_id} if client_id else {},
                               headers=headers(tenant, admin_token), timeout=30)
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot reach the sandbox at {url}: {exc}") from None
    if answer.status_code != 201:
        raise click.ClickException(f"POST /sandbox/certification answered {answer.status_code}: {answer.text[:300]}")
    body = answer.json()
    click.echo(f"Certification run armed for {body['client_id']}:")
    for fault in body["faults"]:
        click.echo(f"  {fault['method']} {fault['path']}: the next one answers {fault['status']}"
                   + (f" {fault['error']}" if fault.get("error") else ""))
    click.echo(f"  its current token is now expired: {body['expired_token'] or '(it has none yet)'}")
    for probe in body["probes"]:
        click.echo(f"  subscription {probe['subscription_id']}: {len(probe['delivery_ids'])} deliveries "
                   "(a real one, a wrong signature, a stale timestamp)")
    click.echo("Now run your client as usual, then: opescare-sandbox report")
