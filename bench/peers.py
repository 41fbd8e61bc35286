"""Part 5: the peers side by side: one GET of the verify path, the same JSON body, wrk -t2 -c16 (the median of
3 runs of 5 s after a 1 s warm-up), loopback only.

Peers (installed on first use under bench/.peers, never committed): WireMock standalone (npm `wiremock`
carries the jar; Debian's Java runs it), json-server 0.17 (stateful, one record), Prism (mocking this
repository's openapi.yaml), and the bare Flask app on granian (bench/hello.py). "First answer" is the time
from spawning the process to its first HTTP answer of any status on the verify path.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from common import BENCH, DEMO, HOST, ROOT, free_port, hello_args, median, process, sandbox_args, sandbox_env

PEERS_DIR = BENCH / ".peers"
PACKAGES = ("wiremock@3.13.2", "json-server@0.17.4", "@stoplight/prism-cli@5.16.0")
HEALTH_ID = "CM-HID-7KQ9-MP42-X8D1"
VERIFY = f"/api/v1/connect/patients/verify/{HEALTH_ID}"


def install() -> None:
    """npm packages into bench/.peers (once); the JRE and Node.js come from Debian (make bench installs them)."""
    for tool in ("java", "node", "npm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: `make bench` installs it from Debian")
    if not (PEERS_DIR / "node_modules" / ".bin" / "prism").exists():
        subprocess.run(["npm", "install", "--prefix", str(PEERS_DIR), "--no-audit", "--no-fund", "--loglevel=error",
                        *PACKAGES], check=True, timeout=600)


def verify_body() -> bytes:
    """What the sandbox answers for the verify path (every peer serves these bytes)."""
    from opescare_sandbox import create_app

    client = create_app({"IN_MEMORY": True, "RATE_LIMIT_ENABLED": False, "WEBHOOK_DELIVERY": False}).test_client()
    token = client.post("/api/v1/connect/auth/token", json={"grant_type": "client_credentials", "client_id": DEMO[0],
                                                            "client_secret": DEMO[1]}).json["access_token"]
    return client.get(VERIFY, headers={"Authorization": f"Bearer {token}"}).data


def first_answer(url: str, started: float, timeout: float = 120.0) -> float:
    """Seconds from `started` to the first HTTP answer (any status) at `url`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return time.perf_counter() - started
        except urllib.error.HTTPError:
            return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.002)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def wrk(url: str, seconds: float, token: str) -> dict:
    args = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout", "5s", "-s", "verify.lua", url]
    out = subprocess.run(args, cwd=BENCH, env=sandbox_env(BENCH_TOKEN=token), capture_output=True, text=True,
                         timeout=seconds + 60, check=True)
    result = json.loads(next(x for x in out.stdout.splitlines() if x.startswith("WRK_JSON ")).removeprefix("WRK_JSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def commands(work: Path, body: bytes) -> dict:
    """Each peer's command line, given its port."""
    bin_dir = PEERS_DIR / "node_modules" / ".bin"
    jar = next((PEERS_DIR / "node_modules" / "wiremock").rglob("wiremock-standalone-*.jar"))
    (work / "wiremock" / "mappings").mkdir(parents=True)
    (work / "wiremock" / "mappings" / "verify.json").write_text(json.dumps({
        "request": {"method": "GET", "url": VERIFY},
        "response": {"status": 200, "body": body.decode(), "headers": {"Content-Type": "application/json"}}}))
    (work / "db.json").write_text(json.dumps({"verify": [{**json.loads(body), "id": HEALTH_ID}]}))
    (work / "routes.json").write_text(json.dumps({"/api/v1/connect/patients/verify/:id": "/verify/:id"}))
    return {
        "sandbox, default settings": lambda p: sandbox_args(p, "--in-memory", "--no-rate-limit"),
        "sandbox, --threads 1": lambda p: sandbox_args(p, "--in-memory", "--no-rate-limit", "--threads", "1"),
        "WireMock 3.13.2 (one stub)": lambda p: ["java", "-jar", str(jar), "--port", str(p), "--bind-address", HOST,
                                                 "--root-dir", str(work / "wiremock"), "--disable-banner"],
        "json-server 0.17.4 (one record)": lambda p: [str(bin_dir / "json-server"), "--port", str(p), "--host", HOST,
                                                      "--routes", str(work / "routes.json"), "--quiet",
                                                      str(work / "db.json")],
        "Prism 5 (mocking openapi.yaml)": lambda p: [str(bin_dir / "prism"), "mock", "-h", HOST, "-p", str(p),
                                                     str(ROOT / "openapi.yaml")],
        "Flask hello-world on granian, 8 threads": lambda p: hello_args(p),
        "Flask hello-world on granian, 1 thread": lambda p: hello_args(p, "1"),
    }


def run(runs: int = 1, seconds: float = 5) -> dict:
    install()
    body = verify_body()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "verify.json").write_bytes(body)
        for name, command in commands(work, body).items():
            port = free_port()
            base = f"http://{HOST}:{port}"
            started = time.perf_counter()
            with process(command(port), cwd=work, env=sandbox_env(VERIFY_BODY_FILE=str(work / "verify.json"))):
                first = first_answer(base + VERIFY, started)
                token = _token(base) if name.startswith("sandbox") else "peer"
                wrk(base, 1, token)  # warm-up (the JVM's JIT above all)
                samples = [wrk(base, seconds, token) for _ in range(runs)]
            results[name] = {"first_answer_s": first, "rps": median([s["rps"] for s in samples]),
                             "p50_ms": median([s["p50_us"] for s in samples]) / 1000,
                             "p99_ms": median([s["p99_us"] for s in samples]) / 1000,
                             "errors": sum(sum(s["errors"].values()) for s in samples)}
    return results


def _token(base: str) -> str:
    request = urllib.request.Request(base + "/api/v1/connect/auth/token", method="POST", data=json.dumps(
        {"grant_type": "client_credentials", "client_id": DEMO[0], "client_secret": DEMO[1]}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["access_token"]


def rows(results: dict) -> list[str]:
    ours = results["sandbox, default settings"]["rps"]
    lines = ["", "| server (verify path, wrk -t2 -c16) | first answer | req/s | p50 | p99 | req/s vs the sandbox |",
             "|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['first_answer_s']:.2f} s | {r['rps']:,.0f} | {r['p50_ms']:.1f} ms | "
                     f"{r['p99_ms']:.1f} ms | {r['rps'] / ours:.2f}× |")
    return lines + goals(results)


def goals(results: dict) -> list[str]:
    """The performance issue's goals against the peers, as met or not in this run."""
    ours = results["sandbox, default settings"]
    wiremock = next((r for name, r in results.items() if name.startswith("WireMock")), None)
    json_server = next((r for name, r in results.items() if name.startswith("json-server")), None)
    found = [("verify req/s ≥ WireMock's", wiremock and ours["rps"] >= wiremock["rps"]),
             ("verify req/s ≥ 2× json-server's", json_server and ours["rps"] >= 2 * json_server["rps"]),
             ("first answer ≤ json-server's", json_server and ours["first_answer_s"] <= json_server["first_answer_s"])]
    return ["", *(f"- {goal}: {'met' if met else '**not met**'}" for goal, met in found)]


if __name__ == "__main__":
    print("\n".join(rows(run())))
