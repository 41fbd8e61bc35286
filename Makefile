# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
# Every target installs what it needs into .venv first.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# `make run PORT=9000` or PORT=9000 wins over SANDBOX_PORT, which wins over the default (the same for HOST).
HOST   ?= $(or $(SANDBOX_HOST),127.0.0.1)
PORT   ?= $(or $(SANDBOX_PORT),8080)

.PHONY: run test bench spec lint fmt clean install install-test
.PHONY: cluster

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when the package metadata changes.
$(VENV)/.installed: $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(VENV)/bin/opescare-sandbox serve --host $(HOST) --port $(PORT)

# The playground's browser test drives Debian's Chromium (never a browser Playwright downloads).
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "The browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi

# The cluster's load balancer is Debian's HAProxy (tests/test_cluster.py runs the real one).
HAPROXY ?= /usr/sbin/haproxy
$(HAPROXY):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; \
	else echo "The cluster needs Debian's haproxy: sudo apt-get install haproxy"; exit 1; fi

# Two pytest-xdist workers run the suite, a whole file per worker (--dist loadfile): the playground story's and
# the cluster's tests build on what the test before left. (xdist's xdist_group marks did that until pytest 9:
# xdist 3.8 groups by rewriting item._nodeid, which pytest 9 no longer reads, so the groups silently split.)
# Schemathesis reports its generated cases as subtests, which xdist collapses (it then runs a fraction of
# them), so that one file runs in a single-process pass of its own.
test: install-test $(CHROMIUM) $(HAPROXY)
	$(PY) -m pytest -n auto --dist loadfile --ignore=tests/test_schemathesis.py
	$(PY) -m pytest tests/test_schemathesis.py

# N workers behind HAProxy on $(PORT), each tenant on one worker (docs/cluster.md).
WORKERS ?= 2
cluster: install $(HAPROXY)
	$(VENV)/bin/opescare-sandbox cluster --workers $(WORKERS) --host $(HOST) --port $(PORT)

spec: install
	$(VENV)/bin/opescare-sandbox spec --output openapi.yaml

# The load generator comes from Debian (wrk); installed here when missing and running as root.
WRK ?= /usr/bin/wrk
$(WRK):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	else echo "The benchmarks need wrk: sudo apt-get install wrk"; exit 1; fi

# The peers (bench/peers.py): WireMock's jar runs on Debian's JRE; json-server and Prism come from npm.
JAVA ?= /usr/bin/java
NPM  ?= /usr/bin/npm
$(JAVA) $(NPM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless nodejs npm >/dev/null; \
	else echo "The benchmark's peers need Java and npm: sudo apt-get install default-jre-headless nodejs npm"; exit 1; fi

bench: install $(WRK) $(JAVA) $(NPM) $(HAPROXY)
	$(PY) -m pip install --quiet "pyinstrument>=5,<6"  # bench/hot_path.py's profile of one request
	$(PY) bench/run.py

lint: install-test
	$(PY) -m pip install --quiet ruff
	$(VENV)/bin/ruff check sandbox tests examples bench
	$(VENV)/bin/lint-imports

fmt: install-test
	$(PY) -m pip install --quiet ruff
	$(VENV)/bin/ruff format sandbox tests examples bench

clean:
	rm -rf $(VENV) .sandbox-data .pytest_cache .hypothesis .ruff_cache test-artifacts bench/results build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
