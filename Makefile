# Two commands: `make demo` runs the main job on built-in synthetic data,
# `make test` runs the tests.  Both create .venv on first use from a Python
# 3.8-3.10 interpreter (see find_python.sh; override with PYTHON=...).
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
PIP := $(VENV_PYTHON) -m pip install --quiet
STAMP := $(VENV)/.installed
# The optional packages (ONNX export and runtime, face landmarks) are tested too.
STAMP_OPTIONAL := $(VENV)/.installed-optional

.PHONY: demo test venv optional clean-demo

venv: $(STAMP)

# The project itself goes in editable (pyproject.toml): the scripts import
# utils/, config/ and the model packages from this folder.
$(STAMP): requirements.txt pyproject.toml
	@if [ ! -x $(VENV_PYTHON) ]; then \
		interpreter=$$(./find_python.sh) || exit 1; \
		echo "creating $(VENV) with $$interpreter"; \
		"$$interpreter" -m venv $(VENV) || exit 1; \
	fi
	$(PIP) --upgrade pip
	$(PIP) -r requirements.txt
	$(PIP) --no-deps -e .
	@touch $(STAMP)

optional: $(STAMP_OPTIONAL)

# nnabla-converter goes in with --no-deps (its dependencies would pull TensorFlow
# and numpy 2); see requirements-deploy.txt.
$(STAMP_OPTIONAL): $(STAMP) requirements-deploy.txt requirements-faces.txt
	$(PIP) -r requirements-deploy.txt
	$(PIP) --no-deps nnabla-converter==1.39.0
	$(PIP) -r requirements-faces.txt
	@touch $(STAMP_OPTIONAL)

test: $(STAMP_OPTIONAL)
	$(VENV_PYTHON) -m pytest -q tests

demo: $(STAMP)
	$(VENV_PYTHON) demo.py

clean-demo:
	rm -rf demo_output
