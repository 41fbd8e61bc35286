"""The documentation is tested: every example of README.md and docs/*.md runs, in document order, on a fresh server.

Each document gets its own `opescare-sandbox serve --in-memory --port <free port>` (default settings otherwise,
rate limit included, as `make run` gives), started for its first block that mentions `http://127.0.0.1:8080`;
that address is rewritten to the server's in the block, and back in what the block prints.

How a document's code fences are read:
- ```sh      runs in bash (`set -euo pipefail`). The sh blocks of one document share their variables (each
             block's variables are exported and handed to the next), so `TOKEN=$(...)` carries over.
- ```python  runs in this process; the python blocks of one document share one namespace. A python block that
             holds `def test_` is a pytest file instead: a document's test files are written to a temporary
             directory and run in one `python -m pytest -p opescare_sandbox` (the plugin provides the fixtures;
             other plugins are not autoloaded, for speed); they must pass.
- ```json / ```text right after a sh or python block (nothing but blank lines between) is that block's
             expected standard output:
  - json: one or more JSON values, in order (a body and then the status `curl -w '%{http_code}\\n'` prints is two
    values). Compared as JSON: the string "..." matches any value; any other string containing "..." matches a
    string in which each "..." stands for any text; an object holding the key "..." (with the value "...") may
    have more keys in the answer; a list whose last item is "..." may have more items. Everything else is exact.
  - text: compared line by line (trailing spaces ignored); "..." inside a line matches any text, and a line that
    is only "..." matches any number of lines.
  Mask only what really varies between runs: tokens, times, durations. Ids are deterministic on a fresh server.
- ```console is for commands that cannot run here (`make run`, a second server, ...). Each one is listed in
  CONSOLE_BLOCKS by its first line, so a runnable example cannot hide there: an unlisted console block fails.
- Other languages (yaml, text, json on their own, javascript, ...) are shown, never run. A fence must name
  its language, and `bash`, `shell`, `py` are refused (write sh or python, which run).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BASE_URL = "http://127.0.0.1:8080"
BIN = Path(sys.executable).parent
ELLIPSIS = "..."
RUNNABLE = {"sh", "python"}
OUTPUT = {"json", "text"}
REFUSED = {"", "bash", "shell", "zsh", "py", "python3", "sh-session", "pycon"}

# Every ```console block of the documentation, by its first line: what cannot run in this suite, and why.
CONSOLE_BLOCKS = {
    "make run": "starts a server on port 8080 and blocks (the suite starts its own)",
    "make test": "the whole suite",
    "make bench": "minutes of load, and installs wrk",
    "opescare-sandbox serve --admin-token \"$SANDBOX_ADMIN_TOKEN\"": "a second server that blocks",
    "docker build -t opescare-sandbox .": "no Docker engine here",
    "pip install opescare-sandbox": "installs into the caller's environment",
    "opescare-sandbox serve --seed 7 --patients 1000 --port 9000 --data-dir /tmp/sandbox-7": "a server that blocks",
    "$ opescare-sandbox repair --data-dir .sandbox-data --tenant acme": "needs a damaged data directory (tests/test_corruption.py)",
    "$ opescare-sandbox serve --port 8766": "a second server refused by the first's lock (tests/test_process_lifecycle.py)",
    "$ opescare-sandbox serve --data-dir /tmp/other --port 8080": "a busy port (tests/test_process_lifecycle.py)",
    "$ opescare-sandbox serve -h": "help texts, checked by tests/test_process_lifecycle.py",
    "$ SANDBOX_ADMIN_TOKEN=$(openssl rand -hex 24) opescare-sandbox serve --public --host 0.0.0.0":
        "a public server that blocks (tests/test_hosted_*.py start public servers)",
    "$ make cluster WORKERS=2":
        "HAProxy and two workers that block (tests/test_cluster.py starts the same cluster)",
    "$ curl -s -H 'X-Sandbox-Tenant: ci-job-1' http://127.0.0.1:8080/sandbox/health":
        "needs the cluster above (tests/test_cluster.py checks the worker field)",
    "host-a$ SANDBOX_WORKER=0 opescare-sandbox serve --host 0.0.0.0 --port 8080 --data-dir /srv/sandbox":
        "three machines",
    "$ opescare-sandbox cluster --workers 3 ...":
        "a cluster that blocks (tests/test_cluster.py changes N)",
    "opescare-sandbox certify --url http://127.0.0.1:8080 [--tenant T] [--client-id C] [--admin-token A]":
        "a synopsis; tests/test_certification.py runs the same certification run",
    "opescare-sandbox report --url http://127.0.0.1:8080 [--tenant T] [--client-id C] [--admin-token A]":
        "a synopsis; tests/test_report_checks.py runs the command",
}


@dataclass
class Block:
    document: Path
    line: int
    lang: str
    text: str
    expected: Block | None = None  # the output block that follows a runnable one

    @property
    def where(self) -> str:
        name = self.document.relative_to(ROOT) if self.document.is_relative_to(ROOT) else self.document.name
        return f"{name}:{self.line}"


def blocks_of(document: Path) -> list[Block]:
    """Every fenced block, in order; output blocks are attached to the runnable block just before them."""
    lines = document.read_text(encoding="utf-8").splitlines()
    found, index, since_last = [], 0, ""
    while index < len(lines):
        opening = re.match(r"^(\s*)```(.*)$", lines[index])
        if not opening:
            since_last += lines[index] + "\n"
            index += 1
            continue
        indent, lang, start = opening.group(1), opening.group(2).strip(), index
        index += 1
        body = []
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index][len(indent):] if lines[index].startswith(indent) else lines[index])
            index += 1
        index += 1
        block = Block(document, start + 1, lang, "\n".join(body) + "\n")
        previous = found[-1] if found else None
        if (lang in OUTPUT and previous is not None and previous.lang in RUNNABLE and previous.expected is None
                and not since_last.strip()):
            previous.expected = block
        else:
            found.append(block)
        since_last = ""
    return found


def is_pytest_file(block: Block) -> bool:
    return block.lang == "python" and re.search(r"^def test_", block.text, flags=re.MULTILINE) is not None


def all_blocks() -> list[Block]:
    return [block for document in DOCUMENTS for block in blocks_of(document)]


# -- comparison ----------------------------------------------------------------------------------------------
def wildcard(pattern: str, text: str) -> bool:
    """`...` in `pattern` stands for any text (possibly empty); the rest is literal."""
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split(ELLIPSIS)), text, flags=re.DOTALL) is not None


def json_matches(expected, actual) -> bool:
    if expected == ELLIPSIS:
        return True
    if isinstance(expected, str):
        return isinstance(actual, str) and (wildcard(expected, actual) if ELLIPSIS in expected else expected == actual)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        is_open = expected.get(ELLIPSIS) == ELLIPSIS
        keys = set(expected) - {ELLIPSIS} if is_open else set(expected)
        if not keys <= set(actual) or (not is_open and set(actual) != keys):
            return False
        return all(json_matches(expected[key], actual[key]) for key in keys)
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return False
        if expected and expected[-1] == ELLIPSIS:
            head = expected[:-1]
            return len(actual) >= len(head) and all(map(json_matches, head, actual[:len(head)]))
        return len(actual) == len(expected) and all(map(json_matches, expected, actual))
    if isinstance(expected, bool) or isinstance(actual, bool) or expected is None or actual is None:
        return expected is actual
    return isinstance(actual, int | float) and expected == actual


def json_values(text: str) -> list:
    """Every JSON value in `text`, one after another (raises ValueError on anything else)."""
    decoder, values, position = json.JSONDecoder(), [], 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return values
        value, position = decoder.raw_decode(text, position)
        values.append(value)


def text_matches(expected: str, actual: str) -> bool:
    want = [line.rstrip() for line in expected.strip("\n").splitlines()]
    got = [line.rstrip() for line in actual.rstrip().splitlines()]

    def match(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(got)
        if want[i] == ELLIPSIS:
            return any(match(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and wildcard(want[i], got[j]) and match(i + 1, j + 1)

    return match(0, 0)


def output_matches(expected: Block, actual: str) -> bool:
    if expected.lang == "text":
        return text_matches(expected.text, actual)
    try:
        got = json_values(actual)
    except ValueError:
        return False
    want = json_values(expected.text)
    return len(want) == len(got) and all(map(json_matches, want, got))


# -- running a document --------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A fresh `opescare-sandbox serve --in-memory` on a free port, as a reader's `make run` would answer."""

    def __init__(self, log: Path):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
        with open(log, "wb") as output:
            self.process = subprocess.Popen([str(BIN / "opescare-sandbox"), "serve", "--in-memory", "--port", str(port)],
                                            env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                requests.get(self.url + "/sandbox/health", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        self.close()
        raise RuntimeError(f"the server did not start: {log.read_text()}")

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Session:
    """One document's server (started for its first block that needs one), shell variables and python namespace."""

    def __init__(self, workdir: Path, url: str | None = None):
        self.workdir, self.url, self.server = workdir, url, None
        self.state = workdir / ".shell-state"
        self.namespace: dict = {"__name__": "__docs__"}
        self.pytest_output: str | None = None
        # The reader's defaults, whatever the developer running the suite has set.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")} | {
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    def base_url(self) -> str:
        if self.url is None:
            self.server = Server(self.workdir / "server.log")
            self.url = self.server.url
        return self.url

    def run(self, block: Block) -> str:
        """The block's standard output (the server's address written back as 8080); a failing block fails the test."""
        if is_pytest_file(block):
            return self.run_pytest(block.document)  # the plugin's own in-process sandbox: no server
        if BASE_URL in block.text:  # a document whose blocks call no server starts none
            self.base_url()
        url = self.url or BASE_URL
        code = block.text.replace(BASE_URL, url)
        if block.lang == "sh":
            return self.run_sh(block, code).replace(url, BASE_URL)
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            exec(compile(code, block.where, "exec"), self.namespace)  # noqa: S102 - the documentation's own example
        return stdout.getvalue().replace(url, BASE_URL)

    def run_sh(self, block: Block, code: str) -> str:
        script = (f"set -euo pipefail\nset -a\nif [ -f '{self.state}' ]; then source '{self.state}'; fi\n"
                  f"{code}\nexport -p > '{self.state}'\n")
        done = subprocess.run(["bash", "-c", script], cwd=self.workdir, env=self.env, capture_output=True,
                              text=True, timeout=60)
        if done.returncode != 0:
            pytest.fail(f"{block.where}: exit {done.returncode}\n{done.stdout}\n{done.stderr}", pytrace=False)
        return done.stdout

    def run_pytest(self, document: Path) -> str:
        """Every pytest-file block of the document, in one pytest run (once per document; they share no state).

        Only the sandbox plugin is loaded, by its entry-point name (`-p opescare_sandbox`): autoloading every
        installed plugin (hypothesis, schemathesis, playwright) would triple the run's time.
        """
        if self.pytest_output is None:
            files = []
            for block in blocks_of(document):
                if is_pytest_file(block):
                    files.append(f"test_{document.stem.replace('-', '_')}_line_{block.line}.py")
                    (self.workdir / files[-1]).write_text(block.text, encoding="utf-8")
            env = self.env | {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "opescare_sandbox",
                                   *files], cwd=self.workdir, env=env, capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                pytest.fail(f"{document.name}: its test files failed (named after their line)\n{done.stdout}\n{done.stderr}",
                            pytrace=False)
            self.pytest_output = done.stdout
        return self.pytest_output


def describe_mismatch(block: Block, actual: str) -> str:
    return (f"{block.where}: the output differs from {block.expected.where}\n--- expected ({block.expected.lang})\n"
            f"{block.expected.text}--- actual\n{actual}")


def runnable_blocks(document: Path) -> list:
    return [block for block in blocks_of(document) if block.lang in RUNNABLE]


# Documents without a runnable block (benchmarks, reliability, ...) have nothing to run: not parametrized, not skipped.
@pytest.mark.parametrize("document", [d for d in DOCUMENTS if runnable_blocks(d)],
                         ids=lambda path: str(path.relative_to(ROOT)))
def test_document_examples_run_and_print_what_they_show(document, tmp_path):
    runnable = runnable_blocks(document)
    session = Session(tmp_path)
    try:
        for block in runnable:
            actual = session.run(block)
            if block.expected is not None and not output_matches(block.expected, actual):
                pytest.fail(describe_mismatch(block, actual), pytrace=False)
    finally:
        session.close()


# -- what keeps the convention honest -----------------------------------------------------------------------
def test_every_fence_names_a_language_that_is_not_a_runnable_one_in_disguise():
    bad = [f"{block.where}: ```{block.lang}" for block in all_blocks() if block.lang in REFUSED]
    assert bad == []


def console_key(block: Block) -> str:
    """A console block's first line without its trailing comment."""
    return re.sub(r"\s+#.*$", "", block.text.splitlines()[0]).strip()


def test_console_blocks_are_exactly_the_listed_ones():
    found = {console_key(block): block.where for block in all_blocks() if block.lang == "console"}
    assert sorted(set(found) - set(CONSOLE_BLOCKS)) == [], "a console block nobody listed: make it sh, or list it"
    assert sorted(set(CONSOLE_BLOCKS) - set(found)) == [], "a listed console block no document has any more"


def test_output_blocks_follow_a_runnable_block_or_are_valid_json():
    """A json block on its own is an illustration (a delivery body, the error envelope): at least it parses."""
    for block in all_blocks():
        if block.lang == "json":
            json_values(block.text)


def test_the_configuration_page_names_every_setting_and_every_serve_flag():
    from opescare_sandbox.cli import serve
    from opescare_sandbox.config import DEFAULTS

    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    flags = [option for param in serve.params for option in param.opts if option.startswith("--")]
    assert [f"SANDBOX_{key}" for key in DEFAULTS if f"`SANDBOX_{key}" not in text] == []
    assert [flag for flag in flags if f"`{flag}`" not in text] == []


def test_the_readme_table_has_every_route_of_the_app():
    """Method and path of every route of the real app, asset folders aside, are a row of the README's table."""
    from opescare_sandbox import create_app

    app = create_app({"IN_MEMORY": True, "WEBHOOK_DELIVERY": False})
    routes = {(method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
              for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}
              if "<path:" not in rule.rule and rule.rule != "/docs/"}
    table = set()
    for methods, paths in re.findall(r"^\| ([A-Z, ]+) \| (`[^|]*`) \|", (ROOT / "README.md").read_text(encoding="utf-8"), re.M):
        for path in re.findall(r"`([^`?]+)[^`]*`", paths):
            table |= {(method.strip(), path) for method in methods.split(",")}
    assert sorted(routes - table) == [] and sorted(table - routes) == []


def test_readme_stays_short():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 300


# -- the comparison can fail -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("expected", "actual", "matches"), [
    ('{"a": 1}', '{"a": 1}', True),
    ('{"a": 1}', '{"a": 2}', False),
    ('{"a": 1}', '{"a": 1, "b": 2}', False),
    ('{"a": 1, "...": "..."}', '{"a": 1, "b": 2}', True),
    ('{"a": 1, "...": "..."}', '{"b": 2}', False),
    ('{"a": "..."}', '{"a": {"deep": [1, 2]}}', True),
    ('{"a": "..."}', '{}', False),
    ('{"t": "eyJ..."}', '{"t": "eyJhbGciOi"}', True),
    ('{"t": "eyJ..."}', '{"t": "xyz"}', False),
    ('{"t": "t=...,v1=..."}', '{"t": "t=1,v1=ab"}', True),
    ('[1, "..."]', '[1, 2, 3]', True),
    ('[1, "..."]', '[2, 2, 3]', False),
    ('[1, 2]', '[1, 2, 3]', False),
    ('["...", 2]', '[5, 2]', True),
    ('null', 'false', False),
    ('0', 'false', False),
    ('1', '1.0', True),
    ('"1"', '1', False),
    ('{"a": 1}\n201', '{"a": 1}\n201\n', True),
    ('{"a": 1}\n201', '{"a": 1}\n200\n', False),
    ('{"a": 1}\n201', '{"a": 1}\n', False),
    ('{"a": 1}', 'not json', False),
])
def test_json_comparison(expected, actual, matches):
    assert output_matches(Block(ROOT, 0, "json", expected), actual) is matches


@pytest.mark.parametrize(("expected", "actual", "matches"), [
    ("HTTP/1.1 429 TOO MANY REQUESTS\n", "HTTP/1.1 429 TOO MANY REQUESTS\r\n", True),
    ("HTTP/1.1 429 ...\n", "HTTP/1.1 429 Too Many Requests\n", True),
    ("HTTP/1.1 429 ...\n", "HTTP/1.1 200 OK\n", False),
    ("a\n...\nz\n", "a\nb\nc\nz\n", True),
    ("a\n...\nz\n", "a\nz\n", True),
    ("a\n...\nz\n", "a\nb\n", False),
    ("a\nb\n", "a\nb\nc\n", False),
    ("a\nb\n", "a\n", False),
    ("id ...\n", "id 42\n", True),
])
def test_text_comparison(expected, actual, matches):
    assert output_matches(Block(ROOT, 0, "text", expected), actual) is matches


def test_a_failing_test_file_fails_the_document(tmp_path):
    document = tmp_path / "doc.md"
    document.write_text("```python\ndef test_health(sandbox):\n    assert sandbox.get('/sandbox/health').status_code == 500\n```\n")
    [block] = blocks_of(document)
    with pytest.raises(pytest.fail.Exception, match="1 failed"):
        Session(tmp_path, url=BASE_URL).run(block)


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_between_the_documents_lead_to_a_file_and_a_heading():
    broken = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for target, anchor in re.findall(r"\]\(((?!https?:|#)[^)#\s]*)(?:#([^)\s]*))?\)", text):
            path = (document.parent / target).resolve()
            if not path.exists():
                broken.append(f"{document.name}: {target}")
            elif anchor and anchor not in {github_anchor(h) for h in re.findall(r"^#+ (.*)$", path.read_text(), re.M)}:
                broken.append(f"{document.name}: {target}#{anchor}")
        for anchor in re.findall(r"\]\(#([^)\s]*)\)", text):
            if anchor not in {github_anchor(h) for h in re.findall(r"^#+ (.*)$", text, re.M)}:
                broken.append(f"{document.name}: #{anchor}")
    assert broken == []


def test_a_wrong_output_fails_the_document(tmp_path):
    """The whole path, not only the comparison: a shown output that is not what the block prints is reported."""
    document = tmp_path / "doc.md"
    document.write_text("```sh\necho '{\"status\": \"ok\"}'\n```\n\n```json\n{\"status\": \"down\"}\n```\n")
    [block] = blocks_of(document)
    actual = Session(tmp_path, url=BASE_URL).run(block)
    assert json.loads(actual) == {"status": "ok"} and not output_matches(block.expected, actual)
