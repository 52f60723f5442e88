# Benchmarks. `make bench` reproduces docs/performance.md's table; `make bench-smoke` checks the
# harness in seconds (CI runs it through tests/bench/test_bench_smoke.py). Extra arguments: BENCH_ARGS=...
PYTHON ?= $(if $(wildcard .venv-test/bin/python),.venv-test/bin/python,python)
BENCH_ARGS ?=

.PHONY: bench bench-smoke

bench:
	$(PYTHON) -m bench.run $(BENCH_ARGS)

bench-smoke:
	$(PYTHON) -m bench.run --smoke --out bench/out/results-smoke.json $(BENCH_ARGS)
