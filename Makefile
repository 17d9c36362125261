# One entry point for people and CI. Only python3 (3.11) and pip are needed: uv is
# installed into .uv/ and every dependency comes from uv.lock.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .uv/bin/uv
BIN := .venv/bin
# dbt's own scratch files go to a throwaway DuckDB file and target folder when linting and
# parsing, so target/ (what `mf query` reads) stays that of the last command run by hand
LINT_ENV := AUDIENCE_DUCKDB_PATH=$(CURDIR)/warehouse/lint.duckdb DBT_TARGET_PATH=$(CURDIR)/target/lint

.PHONY: install install-spark run test test-spark lint format parse clean dagster bench

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.installed: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --compile-bytecode
	touch $@

install: .venv/.installed

# the optional Spark target: dbt-spark and pyspark (Spark runs on the machine's Java 17)
.venv/.installed-spark: .venv/.installed
	$(UV) sync --frozen --compile-bytecode --group spark
	touch $@

install-spark: .venv/.installed-spark

## run: the main job on the embedded DuckDB warehouse (demo data, as of now)
run: install
	$(BIN)/audience run $(ARGS)

## test: linters, then the whole test suite (but the Spark lane)
test: lint
	@started=$$(date +%s); status=0; \
	$(BIN)/pytest -n auto --dist loadfile --no-loadscope-reorder --durations=15 $(PYTEST_ARGS) \
		|| status=$$?; \
	echo "make test: the test suite took $$(( $$(date +%s) - started )) s (exit $$status)"; \
	exit $$status

## test-spark: the Spark lane: the project built on Spark in-process, equal to DuckDB
test-spark: install-spark
	$(BIN)/pytest -m spark -s --durations=5 $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests orchestration
	$(BIN)/ruff format --check src tests orchestration
	$(BIN)/audience segments sync --check
	$(BIN)/audience exposures sync --check
	mkdir -p warehouse
	$(LINT_ENV) $(BIN)/dbt parse --profiles-dir . --show-all-deprecations --warn-error-options '{"error": ["Deprecations"]}'
	$(LINT_ENV) $(BIN)/sqlfluff lint models expectations/batches
	$(LINT_ENV) $(BIN)/dagster definitions validate -f orchestration/definitions.py

format: install
	$(BIN)/ruff check --fix src tests orchestration
	$(BIN)/ruff format src tests orchestration
	$(BIN)/audience segments sync
	$(BIN)/audience exposures sync
	$(LINT_ENV) $(BIN)/sqlfluff fix models expectations/batches

## bench: full and incremental build times and memory at 1M, 10M and 50M events
## (SIZES="1M 10M" for fewer), then the realtime path's event-to-webhook latency over
## REALTIME_EVENTS events (0 skips it); results in benchmarks/results.{txt,json}
SIZES ?= 1M 10M 50M
REALTIME_EVENTS ?= 20
bench: install
	$(BIN)/audience bench $(SIZES) --realtime-events $(REALTIME_EVENTS)

## dagster: the Dagster UI on the demo warehouse (run `make run` first for demo data)
dagster: install
	DAGSTER_HOME=$(CURDIR)/orchestration/dagster_home $(BIN)/dagster dev -f orchestration/definitions.py

clean:
	rm -rf target logs warehouse output .pytest_cache
