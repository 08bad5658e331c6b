# Tier-0 developer entry points. `make test` is the one command CI runs: it installs what the
# tests need (idempotently, caches outside the repo) and runs the whole pytest suite.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tier0-installed

.PHONY: test setup venv lint typecheck check stack bench clean

# pytest gets a base temp dir of its own: the shared /tmp/pytest-of-$USER is reset to 0700 by
# every pytest start, which would lock the postgres account out of data dirs of a running test.
test: setup
	@start=$$SECONDS; tmp=$$(mktemp -d /tmp/tier0-test.XXXXXX); rc=0; \
	$(BIN)/pytest --basetemp="$$tmp" tests || rc=$$?; \
	echo "==> pytest finished in $$((SECONDS - start)) s"; \
	if [ $$rc -eq 0 ]; then rm -rf "$$tmp"; else echo "==> test files and logs kept in $$tmp"; fi; \
	exit $$rc

# `make test` N times in a row (N=5 by default; TESTS narrows the suite): a line per run with
# its outcome, pytest's counts and the seconds it took, and a non-zero exit if any run failed.
# A failed run keeps its pytest output and temp files, and its FAILED/ERROR lines are printed.
N ?= 5
TESTS ?= tests
.PHONY: test-repeat
test-repeat: setup
	@failed=0; \
	for i in $$(seq 1 $(N)); do \
	  start=$$SECONDS; tmp=$$(mktemp -d /tmp/tier0-test.XXXXXX); rc=0; \
	  $(BIN)/pytest --basetemp="$$tmp" $(TESTS) >"$$tmp.log" 2>&1 || rc=$$?; \
	  counts=$$(grep -E '^=+ .* in [0-9.]+s' "$$tmp.log" | tail -n 1 | sed -E 's/=+ //; s/ in [0-9.]+s.*//'); \
	  if [ $$rc -eq 0 ]; then \
	    echo "run $$i: passed ($$counts) in $$((SECONDS - start)) s"; \
	    rm -rf "$$tmp" "$$tmp.log"; \
	  else \
	    failed=$$((failed + 1)); \
	    echo "run $$i: FAILED ($$counts) in $$((SECONDS - start)) s; output $$tmp.log"; \
	    grep -E '^(FAILED|ERROR)[ :]' "$$tmp.log" | sed 's/^/    /' || true; \
	  fi; \
	done; \
	echo "==> $$(( $(N) - failed )) of $(N) runs passed"; \
	[ $$failed -eq 0 ]

setup: venv
	@$(BIN)/tier0 setup

venv: $(STAMP)

# Step "venv": a virtualenv with the project (editable) and its test tools. Re-runs when
# pyproject.toml changes; pip's own cache (outside the repo) makes a re-run cheap.
$(STAMP): pyproject.toml
	@echo "==> [venv] checking $(PYTHON) (3.11+ required)"
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "setup step 'venv' failed: $(PYTHON) is older than 3.11" >&2; exit 1; }
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	  echo "==> [venv] installing python3-venv (Debian)"; \
	  [ "$$(id -u)" = 0 ] || { echo "setup step 'venv' failed: python3-venv is missing; run 'sudo apt-get install python3-venv'" >&2; exit 1; }; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null || \
	  { echo "setup step 'venv' failed: apt-get install python3-venv" >&2; exit 1; }; }
	@echo "==> [venv] creating $(VENV) and installing the project with its dev extras"
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]' || \
	  { echo "setup step 'venv' failed: pip install -e '.[dev]' (see the pip output above)" >&2; exit 1; }
	@touch $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

check: lint typecheck

# Start every data store as a local process and print how to reach them (Ctrl-C stops them).
stack: setup
	$(BIN)/tier0 stack

# Every benchmarks/<name> package, each printing its figures and ratios against a baseline
# measured in the same run. BENCH=<name> runs one; BENCH_ARGS are passed through.
BENCH ?= $(subst _,-,$(notdir $(patsubst %/,%,$(dir $(wildcard benchmarks/*/__main__.py)))))
bench: setup
	@for name in $(BENCH); do \
	  echo "==> benchmark $$name"; \
	  $(BIN)/python -m benchmarks.$${name//-/_} $(BENCH_ARGS) || exit 1; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Start etcd + kube-apiserver + kube-controller-manager (built from source) and print KUBECONFIG
# (Ctrl-C stops them).
.PHONY: controlplane
controlplane: setup
	$(BIN)/tier0 controlplane

# The single-node Kubernetes cluster (kubelet, containerd, CNI, CoreDNS, local-path storage),
# built from source and Debian packages; `make cluster` prints the KUBECONFIG to export and
# leaves it running, `make cluster-down` removes it. See docs/cluster.md.
.PHONY: cluster cluster-down
cluster: setup
	$(BIN)/tier0 cluster up

cluster-down: venv
	$(BIN)/tier0 cluster down

# The single-node cluster's offline images (pause, CoreDNS, local-path-provisioner, tier0) as
# OCI archives under ~/.cache/tier0/images, built without a registry or Docker; cached by content.
.PHONY: images
images: setup
	$(BIN)/tier0 cluster images build

# The whole system in one command: the node, the chart installed with every pod Ready, the API
# port-forwarded to 127.0.0.1; prints the URLs and the KUBECONFIG. `make down` removes it all.
# TIER0_TARGET=kind uses kind + skaffold instead (a machine with Docker; see docs/deploy.md).
TIER0_TARGET ?= local
.PHONY: up down
up: setup
ifeq ($(TIER0_TARGET),kind)
	kind get clusters | grep -qx tier0 || kind create cluster --config kind-config.yaml
	skaffold run --port-forward=user
else
	$(BIN)/tier0 system up
endif

down: venv
ifeq ($(TIER0_TARGET),kind)
	kind delete cluster --name tier0
else
	$(BIN)/tier0 system down
endif

# The chart's values reference in docs/deploy.md, regenerated from values.yaml's @param comments.
.PHONY: docs-values
docs-values: venv
	$(BIN)/python tests/charts/valuesdoc.py charts/tier0 docs/deploy.md
