# The course's commands. `make lab` and `make test` are the two a learner needs;
# both run `make setup` first, which is fast when nothing changed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Written after a successful install; requirements.txt or pyproject.toml changing makes it stale.
INSTALLED := $(VENV)/.installed
FIRST_NOTEBOOK := notebooks/00_start_here.ipynb
# Extra arguments for `jupyter lab`, e.g. make lab LAB_ARGS="--no-browser --port 8899"
LAB_ARGS ?=
# JupyterLab refuses to run as root (a container, a cloud VM) unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

.PHONY: setup lab test unit-test notebooks bench clean

setup: $(INSTALLED)

$(INSTALLED): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "The course needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)." \
		       "Run: make PYTHON=python3.12 ..."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	@touch $@

lab: setup
	$(BIN)/jupyter lab $(ALLOW_ROOT) $(wildcard $(FIRST_NOTEBOOK)) $(LAB_ARGS)

# The whole suite: unit tests, notebooks under nbval, JupyterLab in a browser (pyproject.toml says how).
test: setup
	$(BIN)/python -m pytest

# Unit tests only: no notebook run in a kernel, no JupyterLab, no browser. CI runs these on newer Pythons too,
# there without the slow ones (SKIP="or slow"): the main run has them, and CI has half an hour.
SKIP ?=
unit-test: setup
	$(BIN)/python -m pytest tests -m "not (lab or browser or notebook $(SKIP))"

# Re-execute every notebook top to bottom in learner mode, writing the outputs we commit.
notebooks: setup
	LLM_COURSE_MODE=learner $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.timeout=600 \
		notebooks/*.ipynb

# Benchmarks of the simulated server, of the batch runner, of a workshop room and of lesson 08's service (bench/README.md): about thirteen minutes, both CPUs busy.
# The server's load generator, wrk, is a C program from the system's packages, not from pip;
# `$(BIN)/python -m bench batch` and `$(BIN)/python -m bench room` run the batch runner's and the room's parts alone, without it.
bench: setup
	@command -v wrk >/dev/null || { echo "make bench needs wrk, a load generator written in C: apt-get install wrk (Debian/Ubuntu); without it, $(BIN)/python -m bench batch runs the batch runner's part alone"; exit 1; }
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .venv-* .pytest_cache
