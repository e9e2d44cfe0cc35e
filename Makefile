# Two commands for readers:  `make book`  (build the executed HTML book)  and  `make test`.
# Both create .venv if needed, install the CPU build of torch first, then ce_lib with its extras.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
# Extra pip arguments for torch, e.g. TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
# on a machine whose package index would otherwise pick a CUDA build.
TORCH_PIP_ARGS ?=
MATHJAX_VERSION := 3.2.2
# Experiment results cached by ce_lib live inside _build, so `make clean` really starts from empty.
export CE_LIB_CACHE ?= $(CURDIR)/_build/ce_cache

.PHONY: book test unit scoreboard bench mathjax notebooks venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	@touch $@

mathjax: _mathjax/mathjax/tex-chtml-full.js

# MathJax 3 from the npm registry, unpacked into _mathjax so that math typesets offline. Not in
# _static: the book engine adds every .js file under _static to every page (70 scripts, 20 MB);
# _ext/offline_mathjax.py copies this folder into the output and loads its one combined file.
_mathjax/mathjax/tex-chtml-full.js:
	@if command -v npm >/dev/null 2>&1; then \
	  tmp=$$(mktemp -d) && \
	  (cd $$tmp && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null 2>&1 && tar xzf mathjax-$(MATHJAX_VERSION).tgz) && \
	  rm -rf _mathjax/mathjax.part && mkdir -p _mathjax/mathjax.part && \
	  cp -r $$tmp/package/es5/. _mathjax/mathjax.part/ && cp $$tmp/package/LICENSE _mathjax/mathjax.part/ && \
	  rm -rf _mathjax/mathjax && mv _mathjax/mathjax.part _mathjax/mathjax && rm -rf $$tmp && \
	  echo "MathJax $(MATHJAX_VERSION) unpacked into _mathjax/mathjax"; \
	else \
	  echo "npm not found: the book will load MathJax from a CDN (math then needs internet)"; \
	fi

# The execution cache keys a chapter on its code cells only: tools/stale_chapters.py first makes the
# chapters whose ce_lib code changed (the modules they import, transitively) execute again, and only
# those. Their experiments' results are cached on the same dependencies (ce_lib.experiments.cached).
book: venv mathjax
	$(BIN)/python tools/stale_chapters.py
	$(BIN)/jupyter-book build .
	@echo "The book is at $(CURDIR)/_build/html/index.html"

# Unit tests, then every chapter executed in a strict build, then the reader's check in Chromium.
test: venv mathjax
	$(BIN)/python tools/stale_chapters.py
	$(BIN)/python -m pytest

unit: venv
	$(BIN)/python -m pytest -m "not slow"

# .ipynb twins of the chapters for Colab and Binder, in plain Jupyter Markdown with the numbers of the
# last `make book` written in (tests/test_packaging.py and tests/test_book.py check they are current).
notebooks: venv
	$(BIN)/python tools/make_notebooks.py

scoreboard: venv
	$(BIN)/python -m ce_lib scoreboard

bench: venv
	$(BIN)/python benchmarks/bench_experiments.py
	$(BIN)/python benchmarks/bench_dfo.py
	$(BIN)/python benchmarks/bench_cma.py
	$(BIN)/python benchmarks/bench_lqr.py
	$(BIN)/python benchmarks/bench_bandits.py
	$(BIN)/python benchmarks/bench_robust.py
	$(BIN)/python benchmarks/bench_reasoning.py
	$(BIN)/python benchmarks/bench_numerics.py
	$(BIN)/python benchmarks/bench_seed_batching.py
	$(BIN)/python benchmarks/bench_batched_ppo.py
	$(BIN)/pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/bench_ppo.py
	$(BIN)/python benchmarks/bench_checkers_ppo.py

clean:
	rm -rf _build
