"""The docs' plugin example, CI job and Dockerfile stay true: compared with the files and the CLI, and run."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from opescare_sandbox.cli import CONTEXT, serve

ROOT = Path(__file__).resolve().parent.parent
CI_DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
PLUGIN_DOC = (ROOT / "docs" / "pytest-plugin.md").read_text(encoding="utf-8")


def serve_flags(argv: list[str]) -> dict:
    """`opescare-sandbox serve ...` parsed by the real command: an unknown flag or bad value raises."""
    assert argv[:2] == ["opescare-sandbox", "serve"], argv
    # With the CLI's own context settings: click caches a command's help option the first time it is asked.
    return serve.make_context("serve", argv[2:], **CONTEXT).params


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_plugin_docs_example_is_the_example_file_verbatim():
    blocks = re.findall(r"```python\n(.*?)```", PLUGIN_DOC, flags=re.DOTALL)
    assert (ROOT / "examples" / "test_quickstart.py").read_text(encoding="utf-8") in blocks


def test_setup_cfg_registers_the_plugin_and_runs_the_examples():
    setup = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    assert "pytest11 =\n    opescare_sandbox = opescare_sandbox.pytest_plugin\n" in setup
    assert re.search(r"^testpaths = .*\bexamples\b", setup, flags=re.MULTILINE)


def ci_start_step() -> dict:
    [block] = re.findall(r"```yaml\n(.*?)```", CI_DOC, flags=re.DOTALL)
    steps = yaml.safe_load(block)["jobs"]["integration"]["steps"]
    return next(step for step in steps if "opescare-sandbox serve" in step.get("run", ""))


def test_ci_job_serve_command_uses_real_flags_and_polls_its_own_port():
    serve_line, wait_line = ci_start_step()["run"].strip().splitlines()
    flags = serve_flags(shlex.split(serve_line.split(">", 1)[0]))
    assert (flags["in_memory"], flags["no_rate_limit"]) == (True, True)
    assert serve_line.rstrip().endswith("&")
    assert f"http://127.0.0.1:{flags['port']}/sandbox/health" in wait_line and "timeout" in wait_line


def test_ci_job_start_step_brings_a_server_up(tmp_path):
    """Runs the documented step itself (on a free port instead of 8080), then stops the server it started."""
    port = free_port()
    script = ci_start_step()["run"].replace("8080", str(port))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    step = subprocess.Popen(["bash", "-e", "-c", script], cwd=tmp_path, env=env, start_new_session=True)
    try:
        assert step.wait(timeout=90) == 0, (tmp_path / "sandbox.log").read_text()
        health = requests.get(f"http://127.0.0.1:{port}/sandbox/health", timeout=5).json()
        assert health["status"] == "ok"
    finally:
        os.killpg(step.pid, signal.SIGTERM)  # the step's process group: bash and the server it put in the background


def dockerfile() -> dict[str, list[str]]:
    """Instruction -> arguments, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, rest = line.strip().partition(" ")
            found.setdefault(instruction.upper(), []).append(rest.strip())
    return found


def test_dockerfile_serves_on_all_interfaces_on_its_exposed_port_and_checks_that_port():
    docker = dockerfile()
    assert docker["FROM"] == ["python:3.11-slim"]
    assert any("pip install" in run for run in docker["RUN"])
    flags = serve_flags(json.loads(docker["CMD"][0]))
    assert flags["host"] == "0.0.0.0"
    assert docker["EXPOSE"] == [str(flags["port"])]
    assert f"http://127.0.0.1:{flags['port']}/sandbox/health" in docker["HEALTHCHECK"][0]


@pytest.mark.parametrize("ignored", [".venv", ".git", ".sandbox-data"])
def test_docker_context_leaves_out_local_state(ignored):
    assert ignored in (ROOT / ".dockerignore").read_text(encoding="utf-8").split()


def test_the_ci_docs_say_the_dockerfile_is_untested_here():
    assert "The Dockerfile is **untested here**" in CI_DOC


def test_the_ci_docs_quote_the_dockerfile_as_it_is():
    docker = dockerfile()
    assert docker["FROM"] == ["python:3.11-slim"] and "`python:3.11-slim`" in CI_DOC
    assert f"`{' '.join(json.loads(docker['CMD'][0]))}`" in CI_DOC
    assert "HEALTHCHECK" in CI_DOC and "/sandbox/health" in docker["HEALTHCHECK"][0]


def test_a_wheel_ships_every_fixture_file():
    """fixtures/ lives outside the package; setup.cfg's data_files must cover each file, or pip installs break."""
    import configparser
    import fnmatch

    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    patterns = [p.strip() for p in config["options.data_files"]["share/opescare-sandbox/fixtures"].split(",")]
    files = [f"fixtures/{path.name}" for path in (ROOT / "fixtures").iterdir() if path.is_file()]
    assert files and [f for f in files if not any(fnmatch.fnmatch(f, p) for p in patterns)] == []


def test_an_installed_copy_of_the_fixtures_is_found_when_there_is_no_checkout(tmp_path, monkeypatch):
    from opescare_sandbox import config

    installed = tmp_path / "share" / "opescare-sandbox" / "fixtures"
    installed.mkdir(parents=True)
    (installed / "sandbox_signing_key.pem").touch()

    class Record:  # an entry of the distribution's RECORD, as importlib.metadata gives it
        def __init__(self, path):
            self.name, self.path = path.name, path

        def locate(self):
            return self.path

    class Distribution:
        files = [Record(tmp_path / "sandbox" / "app.py"), Record(installed / "sandbox_signing_key.pem")]

    monkeypatch.setattr(config, "REPO_ROOT", tmp_path / "site-packages")
    monkeypatch.setattr(config.metadata, "distribution", lambda name: Distribution())
    assert config.load_config({}, environ={})["FIXTURES_DIR"] == str(installed)
    assert config.load_config({"FIXTURES_DIR": "/elsewhere"}, environ={})["FIXTURES_DIR"] == "/elsewhere"


def test_a_checkout_uses_its_own_fixtures():
    from opescare_sandbox import config

    assert config.load_config({}, environ={})["FIXTURES_DIR"] == str(ROOT / "fixtures")
