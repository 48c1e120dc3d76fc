PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE := $(VENV)/.installed-base
TEST := $(VENV)/.installed-test
BENCH := $(VENV)/.installed-bench
DEMO := $(VENV)/.installed-demo

.PHONY: demo test test-all lint bench kernels clean chromium

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The package needs only numpy and flatbuffers; the demo adds onnx (to read the bundled ONNX model),
# tests add LiteRT (the oracle), pytest, ruff and the importers' oracles.
# An editable install writes no bytecode (a wheel's install does), and where PYTHONDONTWRITEBYTECODE
# is set no import ever writes it: every process would compile eightbit's modules from source
# (tens of ms at startup, some of it in a model's first allocate_tensors()). compileall writes it.
$(BASE): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	$(BIN)/python -m compileall -q eightbit
	touch $@

$(TEST): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/python -m compileall -q eightbit
	touch $(BASE) $@

$(BENCH): pyproject.toml $(TEST)
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@

$(DEMO): pyproject.toml $(BASE)
	$(BIN)/pip install -q -e '.[onnx]'
	touch $@

demo: $(DEMO)
	$(BIN)/python -m eightbit.demo

# The HTML report's test renders it in Debian's chromium; install it when we can (root, apt),
# otherwise that one test is skipped and says why.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
	    || echo "chromium could not be installed: the HTML report rendering test will be skipped"; }

test: $(TEST) chromium
	$(BIN)/ruff check eightbit tests benchmarks tools
	$(BIN)/python -m pytest

# Everything, the slow broad checks included.
test-all: $(TEST) chromium
	$(BIN)/ruff check eightbit tests benchmarks tools
	$(BIN)/python -m pytest -m 'slow or not slow'

lint: $(TEST)
	$(BIN)/ruff check eightbit tests benchmarks tools

# The compiled kernels' library for this machine (eightbit build-kernels: later processes run the
# fast kernels without importing numba), from the bundled and the benchmark models. Built before
# the benchmark so that no background build (after a process that needed the JIT) runs during it.
kernels: $(BENCH)
	$(BIN)/python -m compileall -q eightbit
	$(BIN)/python -m eightbit.cli build-kernels eightbit/data/digits_cnn_float32.tflite $(wildcard ../shared/bench/*.tflite)

# Benchmark models live outside the repo (default ../shared/bench); BENCH_ARGS adds options or models.
bench: $(BENCH) kernels
	$(BIN)/python benchmarks/interpreter.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
