"""The command line: export is deterministic, reset clears stored worlds, spec prints the document."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from opescare_sandbox.cli import main


def test_export_of_two_fresh_worlds_is_byte_identical(tmp_path):
    runner = CliRunner()
    first = runner.invoke(main, ["export", "--in-memory", "--seed", "5", "--patients", "30"])
    second = runner.invoke(main, ["export", "--in-memory", "--seed", "5", "--patients", "30"])
    other = runner.invoke(main, ["export", "--in-memory", "--seed", "6", "--patients", "30"])
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout != other.stdout
    assert len(json.loads(first.stdout)["patients"]) == 30 + 3 + 4  # generated + documentation + scenario personas


def test_flags_win_over_environment(monkeypatch):
    monkeypatch.setenv("SANDBOX_SEED", "9")
    monkeypatch.setenv("SANDBOX_PATIENTS", "12")
    runner = CliRunner()
    from_env = json.loads(runner.invoke(main, ["export", "--in-memory"]).stdout)
    from_flag = json.loads(runner.invoke(main, ["export", "--in-memory", "--seed", "10"]).stdout)
    assert from_env["meta"]["1"]["seed"] == 9 and from_env["meta"]["1"]["patients"] == 12
    assert from_flag["meta"]["1"]["seed"] == 10


def test_reset_command_drops_stored_tenants(tmp_path):
    from opescare_sandbox import create_app

    app = create_app({"DATA_DIR": str(tmp_path), "PATIENTS": 10})
    app.extensions["opescare_sandbox"].store.world("acme")["audit"].insert({"n": 1})
    assert (tmp_path / "tenants" / "acme").exists()
    result = CliRunner().invoke(main, ["reset", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert not (tmp_path / "tenants" / "acme").exists()


def test_python_dash_m_opescare_sandbox_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "opescare_sandbox", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "serve" in result.stdout
