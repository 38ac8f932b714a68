# acterr — common tasks. Everything installs into .venv from PyPI, on a machine with Python 3.11.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ACTERR := $(VENV)/bin/acterr
SHARED ?= ../shared/data
DEMO_DIR ?= build/demo

.PHONY: install test demo apercu bench reference templates samples methode docs golden clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@# An editable install leaves the package uncompiled (a regular pip install compiles it): each
	@# command would compile it again at start-up where bytecode is not written (PYTHONDONTWRITEBYTECODE).
	$(PY) -m compileall -q acterr_cli
	touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest -q

demo: install
	rm -rf $(DEMO_DIR)
	$(ACTERR) --espace $(DEMO_DIR)/espace import samples/questionnaires/*.xlsx samples/liasse_*.csv
	@# Sample market rents (not the published map) for every commune of the samples: SOC-01 from market rents.
	$(ACTERR) --espace $(DEMO_DIR)/espace import --type loyers --exercice 2024 --logement appartement samples/loyers/exemple_carte_loyers_appartements_2024.csv
	$(ACTERR) --espace $(DEMO_DIR)/espace import --type loyers --exercice 2024 --logement maison samples/loyers/exemple_carte_loyers_maisons_2024.csv
	$(ACTERR) --espace $(DEMO_DIR)/espace compute --territoire EPCI
	$(ACTERR) --espace $(DEMO_DIR)/espace export --territoire EPCI --sortie $(DEMO_DIR)/rapport_acterr_demo.xlsx

# The demo report as printed: PDF (LibreOffice) and one PNG per page, in $(DEMO_DIR)/apercu.
apercu: demo
	@if command -v soffice >/dev/null 2>&1; then \
		$(PY) -m acterr_cli.outputs.reports.preview $(DEMO_DIR)/rapport_acterr_demo.xlsx $(DEMO_DIR)/apercu; \
	else echo "LibreOffice (soffice) absent : aperçu ignoré."; fi

# Rebuild the embedded territorial reference from the shared open data (maintainers only).
reference: install
	$(PY) -m acterr_cli.territory.build --source $(SHARED) --sortie acterr_cli/territory/data \
		--contours acterr_cli/territory/contours

# Regenerate the master copy of the questionnaire and the demo workbooks.
templates: install
	$(ACTERR) modele questionnaire --sortie templates_xlsx/questionnaire_acterr.xlsx --forcer

samples: install
	$(PY) samples/generate_samples.py

# Regenerate the method note from the shipped référentiel (a test fails when it is out of date).
methode: install
	$(PY) -m acterr_cli.referentiel.method_note docs/METHODE.md

# The README's parts written from the code: the validation rules and the command reference (tests/test_docs.py).
docs: install
	$(PY) -m acterr_cli.inputs.rules README.md
	$(PY) -m acterr_cli.cli.reference README.md

# The demo's consolidated figures that tests/test_golden.py compares each run with (after a change of method).
golden: install
	$(PY) scripts/golden.py

clean:
	rm -rf $(VENV) build .pytest_cache

# Performance targets, each measured beside its reference (builds its data under build/bench/).
bench: install
	$(PY) -m compileall -q acterr_cli  # after a code change too: commands are timed as installed
	$(PY) scripts/bench.py
