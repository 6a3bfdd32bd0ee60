# Distillation Lab. Two commands do everything (each installs what it needs first):
#   make lab    open the course in JupyterLab
#   make test   run every test: unit tests, every notebook under nbval, the browser test
# Conda users: `conda env create -f environment.yml && conda activate distillation-lab`,
# then add PY=python to use the active environment instead of .venv (e.g. `make lab PY=python`).

VENV    ?= .venv
PY      ?= $(VENV)/bin/python
PORT    ?= 8888
ARCHIVE ?= ../shared/data/cifar10-jpeg.tar.gz
# every install takes the versions CI tested (constraints.txt: `make constraints` rewrites it from a tested venv)
CONSTRAINTS ?= constraints.txt
LAB     := $(dir $(PY)).installed-lab
STAMP   := $(dir $(PY)).installed-test
DOCS    := $(dir $(PY)).installed-docs
# JupyterLab fetches no news and checks for no update (as root, e.g. in a container, it needs --allow-root)
LAB_FLAGS := --port=$(PORT) --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
             $(if $(filter 0,$(shell id -u)),--allow-root)
# and, in the environment it is installed in, does not ask about news on the first page (JupyterLab's default
# settings there, written once; a learner may still change them in Settings)
define LAB_DEFAULTS
import json, pathlib, sys
path = pathlib.Path(sys.prefix, "share", "jupyter", "lab", "settings", "overrides.json")
path.parent.mkdir(parents=True, exist_ok=True)
path.exists() or path.write_text(json.dumps({"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}))
endef
export LAB_DEFAULTS

.PHONY: lab test unit notebooks browser data bench bench-quick execute record-demo tidy student site pdf slides \
        constraints clean help

help:
	@echo "make lab | make test | make unit | make notebooks | make data | make bench | make execute | make tidy | make student | make site | make pdf | make slides | make constraints | make clean"

$(VENV)/bin/python:
	python3 -m venv $(VENV)

# reinstall only when pyproject.toml or the constraints change: `make lab` installs the library and JupyterLab,
# `make test` adds the test tools (pytest, nbval, playwright) and the site's (Jupyter Book); then torch and
# torchvision are checked to belong together
$(LAB): pyproject.toml $(CONSTRAINTS) | $(if $(filter $(VENV)/bin/python,$(PY)),$(VENV)/bin/python)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[lab]' -c $(CONSTRAINTS)
	$(PY) tools/check_install.py
	$(PY) -c "$$LAB_DEFAULTS"
	touch $@

$(STAMP): $(LAB)
	$(PY) -m pip install -e '.[lab,test,docs]' -c $(CONSTRAINTS)
	touch $@

$(DOCS): $(LAB)
	$(PY) -m pip install -e '.[lab,docs]' -c $(CONSTRAINTS)
	touch $@

install: $(STAMP)

# served from the repository's root (the notebooks' links reach the glossary in notebooks/reference/); the URL it
# prints, and the browser it opens, show notebook 00
lab: $(LAB)
	$(PY) -m jupyter lab $(LAB_FLAGS) --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/00_welcome.ipynb $(LAB_ARGS)

# the notebooks run in the quick profile under test, unless COURSE_PROFILE says otherwise
test: $(STAMP)
	COURSE_PROFILE=$${COURSE_PROFILE:-quick} $(PY) -m pytest tests notebooks --nbval-lax --nbval-sanitize-with tests/sanitize.cfg -p no:cacheprovider $(PYTEST_ARGS)

unit: $(STAMP)
	$(PY) -m pytest tests -m "not browser" $(PYTEST_ARGS)

notebooks: $(STAMP)
	COURSE_PROFILE=$${COURSE_PROFILE:-quick} $(PY) -m pytest notebooks --nbval-lax --nbval-sanitize-with tests/sanitize.cfg -p no:cacheprovider $(PYTEST_ARGS)

browser: $(STAMP)
	$(PY) -m pytest tests -m browser $(PYTEST_ARGS)

# a local image-folder copy of CIFAR-10 (only where the canonical download is not possible)
data:
	@if [ -d data/cifar10-jpeg ] || [ -d data/cifar-10-batches-py ]; then echo "data/ already holds a copy"; \
	elif [ -f "$(ARCHIVE)" ]; then mkdir -p data && tar -xzf "$(ARCHIVE)" -C data && echo "extracted $(ARCHIVE)"; \
	else echo "no copy in data/ and no archive at $(ARCHIVE): the notebooks will download the canonical set"; fi

# re-run the notebooks in place (stores fresh outputs, then tidies them), quick profile unless COURSE_PROFILE says otherwise
execute: $(STAMP)
	COURSE_PROFILE=$${COURSE_PROFILE:-quick} $(PY) -m jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=1200 notebooks/*.ipynb
	$(MAKE) tidy

# record what the demo profile replays (data/replay/*.pt): notebooks 03, 04, 04b, 05, 06 and 07 run in place in the quick profile,
# so that their stored outputs and the replayed values come from the same run
record-demo: $(STAMP)
	COURSE_PROFILE=quick COURSE_RECORD_REPLAY=1 $(PY) -m jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=1800 notebooks/03_*.ipynb notebooks/04*.ipynb notebooks/05_*.ipynb notebooks/06_*.ipynb notebooks/07_*.ipynb
	$(MAKE) tidy

# strip volatile noise (timings, widget state, progress bars; execution counts renumbered 1, 2, ...) but keep the outputs
tidy: $(LAB)
	$(PY) tools/clean_notebooks.py

# student copies in student/: solution cells (tagged `solution`) removed, outputs cleared, exercises left to fill
student: $(LAB)
	$(PY) tools/student.py --out student

# the course site (Jupyter Book: the committed, executed notebooks, the glossary and the instructor guide, with
# search), built offline into site/; open site/index.html. MathJax comes from npm at a pinned version (needs npm)
site: $(DOCS)
	$(PY) tools/site.py --out site

# the whole course as one PDF, site/distillation-lab.pdf (the site's pages printed by Chromium through Playwright)
pdf: $(DOCS)
	$(PY) tools/site.py --out site --pdf

# the ten-minute presenter sequence (cells tagged `presenter`) as reveal.js slides: slides/presenter.slides.html,
# with reveal.js and MathJax copied beside it from npm at pinned versions (the deck then needs no internet)
slides: $(LAB)
	$(PY) tools/slides.py --out slides

# rewrite constraints.txt from this environment once the tests pass with it (after upgrading a package on purpose)
constraints: $(STAMP)
	$(PY) tools/constraints.py --out $(CONSTRAINTS)

bench: $(STAMP)
	$(PY) bench/train_bench.py

clean:
	rm -rf data/cache tests/output bench/results/local .pytest_cache student site slides .vendor
