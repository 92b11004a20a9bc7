# The two commands of the README:
#   make train   set up, prepare CIFAR-10, pretrain the CPU default, k-NN it
#   make test    set up and run the test suite
# and for contributors:
#   make lint    flake8, isort and yapf, as .pre-commit-config.yaml (CI runs it)
# Everything is installed into .venv/ at the repository root.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.hjepa-installed
CONFIG ?= configs/hjepa/hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py
WORK_DIR ?= work_dirs/main_job
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: install data train test lint clean

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, then mmcv's compiled ops against it (about 8-12 minutes on two
# cores the first time; pip caches the wheel), then the rest, all through
# the pinned constraints.
$(STAMP): $(PY) setup.py requirements/build.txt requirements/runtime.txt \
		requirements/tests.txt requirements/constraints.txt
	$(PIP) install -q -r requirements/build.txt -c requirements/constraints.txt
	MMCV_WITH_OPS=1 MAX_JOBS=2 $(PIP) install -q --no-build-isolation \
		-c requirements/constraints.txt mmcv==2.1.0
	$(PIP) install -q -r requirements/runtime.txt -r requirements/tests.txt \
		-c requirements/constraints.txt
	$(PIP) install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

data: $(STAMP)
	$(PY) tools/dataset_converters/prepare_cifar10.py data/cifar10

train: data
	$(PY) tools/run_main_job.py $(CONFIG) --work-dir $(WORK_DIR)

test: data
	$(PY) -m pytest tests -q

LINT_PATHS := hjepa tools tests projects configs docs setup.py
LINT_STAMP := $(VENV)/.hjepa-lint-installed

$(LINT_STAMP): $(PY) requirements/lint.txt
	$(PIP) install -q -r requirements/lint.txt
	touch $(LINT_STAMP)

lint: $(LINT_STAMP)
	$(VENV)/bin/flake8 $(LINT_PATHS)
	$(VENV)/bin/isort --check-only --diff $(LINT_PATHS)
	$(VENV)/bin/yapf --diff --recursive $(LINT_PATHS)

clean:
	rm -rf $(VENV) work_dirs
