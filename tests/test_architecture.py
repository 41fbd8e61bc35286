"""The layering is a contract (setup.cfg, import-linter): it holds, and it fails on a wrong-way import."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(cwd: Path, config: Path | None = None, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)} if pythonpath else None
    command = [LINT_IMPORTS, "--no-cache"] + ([str(config)] if config else [])
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_import_contract_holds():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_package_folder_is_listed_in_setup_cfg():
    """setup.cfg lists the packages (find: would name them after the folder): a new one must be added there."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    folders = {".".join(("opescare_sandbox", *p.parent.relative_to(ROOT / "sandbox").parts))
               for p in (ROOT / "sandbox").rglob("__init__.py")}
    assert folders == listed


WRONG_WAY = {
    # file to change, the line added, the contract that must break
    "storage-imports-http": ("storage/store.py", "from ..api import context", "Entry points -> HTTP"),
    "domain-imports-runtime": ("domain/events.py", "from ..runtime import simulation", "Entry points -> HTTP"),
    "domain-imports-flask": ("domain/audit.py", "import flask", "never import a web framework"),
    "a-circle-in-the-domain": ("domain/anchor.py", "from . import seed", "No import circles"),
    "the-folder-as-sandbox": ("domain/audit.py", "import sandbox", "nothing imports the repository folder"),
}


@pytest.mark.parametrize("case", sorted(WRONG_WAY))
def test_the_contract_breaks_on_a_wrong_way_import(case, tmp_path):
    """A copy of the package with one bad import added fails lint-imports, naming the contract it breaks."""
    relative, line, contract = WRONG_WAY[case]
    copy = tmp_path / "src" / "opescare_sandbox"
    shutil.copytree(ROOT / "sandbox", copy, ignore=shutil.ignore_patterns("__pycache__", "playground"))
    module = copy / relative
    module.write_text(module.read_text(encoding="utf-8") + f"\n{line}  # added by the test\n", encoding="utf-8")
    if case == "the-folder-as-sandbox":
        (tmp_path / "src" / "sandbox").mkdir()
        (tmp_path / "src" / "sandbox" / "__init__.py").write_text("")
    config = tmp_path / ".importlinter"
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    with config.open("w") as out:
        for section in parser.sections():
            if section.startswith("importlinter"):
                out.write(f"[{section}]\n")
                for key, value in parser[section].items():
                    lines = value.strip().splitlines()
                    listed = "".join(f"\n    {line}" for line in lines) if "\n" in value else f" {value}"
                    out.write(f"{key} ={listed}\n")
    result = lint_imports(tmp_path, config=config, pythonpath=tmp_path / "src")
    assert result.returncode != 0, result.stdout
    assert str(copy) in result.stdout or "opescare_sandbox" in result.stdout
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken, result.stdout


def test_importing_the_folder_as_sandbox_is_refused():
    """From a checkout, `python -m sandbox` would load a second copy of every module: it stops with a clear line."""
    result = subprocess.run([sys.executable, "-c", "import sandbox"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "imported as `opescare_sandbox`, not `sandbox`" in result.stderr


VENDOR_TEST = '''
import requests

from sandbox.billing import invoice_total  # the vendor's own package called `sandbox`


def test_vendor_code_and_the_sandbox_fixtures_side_by_side(sandbox, sandbox_server):
    assert invoice_total([1200, 800]) == 2000
    marie = {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22"}
    assert sandbox.post("/api/v1/connect/patients/resolve", json=marie).status_code == 201
    assert requests.get(sandbox_server.url + "/sandbox/health", timeout=10).json()["status"] == "ok"
'''


def test_a_vendor_project_with_its_own_sandbox_package_runs_the_plugin(tmp_path):
    """`python -m pytest` puts the vendor's root first on sys.path; their `sandbox/` must not hide the plugin."""
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "sandbox" / "__init__.py").write_text('"""The vendor\'s own package."""\n')
    (tmp_path / "sandbox" / "billing.py").write_text("def invoice_total(lines):\n    return sum(lines)\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_vendor.py").write_text(VENDOR_TEST)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "tests"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
