# Two commands: `make demo` runs the main job on built-in synthetic data,
# `make test` runs the tests.  Both create .venv on first use from a Python
# 3.8-3.10 interpreter (see find_python.sh; override with PYTHON=...).
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DATA := datasets/synthetic

.PHONY: demo test venv clean-demo

venv: $(STAMP)

$(STAMP): requirements.txt
	@if [ ! -x $(VENV_PYTHON) ]; then \
		interpreter=$$(./find_python.sh) || exit 1; \
		echo "creating $(VENV) with $$interpreter"; \
		"$$interpreter" -m venv $(VENV) || exit 1; \
	fi
	$(VENV_PYTHON) -m pip install --quiet --upgrade pip
	$(VENV_PYTHON) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

test: $(STAMP)
	$(VENV_PYTHON) -m pytest -q tests

demo: $(STAMP)
	$(VENV_PYTHON) -m utils.synthetic_faces --out-dir $(DEMO_DATA)
	./split_celebv.sh $(DEMO_DATA)/CelebV 250
	$(VENV_PYTHON) preprocess.py --dataset WFLW --mode train --src-dir $(DEMO_DATA)/WFLW \
		--out-dir $(DEMO_DATA)/WFLW_heatmaps --workers 2
	$(VENV_PYTHON) preprocess.py --dataset WFLW --mode test --src-dir $(DEMO_DATA)/WFLW \
		--out-dir $(DEMO_DATA)/WFLW_heatmaps --workers 2
	$(VENV_PYTHON) preprocess.py --dataset CelebV --src-dir $(DEMO_DATA) \
		--out-dir $(DEMO_DATA)/celebv_heatmaps_GT --workers 2

clean-demo:
	rm -rf $(DEMO_DATA) demo_output
