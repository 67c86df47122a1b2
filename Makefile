# Two commands for a fresh machine: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR := var/demo
DEMO_DB := $(DEMO_DIR)/sgss-demo.db
# the embedded server keeps materials and documents beside the database (client/embedded.py)
# 内外网数据同步 through a folder pair (docs/sync.md): the portal stand-in plays the portal and the
# ferry, with its state in var/demo/portal
DEMO_SYNC := $(abspath $(DEMO_DIR))/sync
DEMO_PORTAL := $(abspath $(DEMO_DIR))/portal
SYNC_ENV = SGSS_SYNC_TRANSPORT=files SGSS_SYNC_DIR=$(DEMO_SYNC)
DEMO_ENV = SGSS_DATABASE_URL=sqlite:///$(abspath $(DEMO_DB)) SGSS_DATA_DIR=$(abspath $(DEMO_DIR))/data \
	$(SYNC_ENV)
PORTAL = $(BIN)/python -m tools.sync_portal
DEMO_PORT ?= 8700
PYTEST_WORKERS ?= 2

.PHONY: demo demo-server demo-sync test lint venv bench bench-inbox bench-desks bench-engine bench-startup \
	bench-scores bench-cards screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# loadscope: each module runs on one worker, so a module-scoped fixture (the client tests' real
# server process) is built once, not once per worker; modules are small beside the whole suite
test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope -q

demo: $(STAMP)
	rm -rf $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_DIR)/data
	mkdir -p $(DEMO_DIR)
	$(DEMO_ENV) $(BIN)/sgss-server init-db --province 330000
	$(DEMO_ENV) $(BIN)/sgss-server demo-data --size standard
	$(MAKE) --no-print-directory demo-sync
	@echo "正在打开客户端（内置服务器随客户端关闭而停止）；无图形界面时改用：make demo-server"
	$(SYNC_ENV) $(BIN)/sgss-desk --embedded-db $(DEMO_DB)

# the two nodes' keys exchanged, and one application filed on the portal waiting in sync/in:
# 系统管理 → 内外网数据同步 → 立即同步 brings it to 西湖区's inbox
demo-sync: $(STAMP)
	rm -rf $(DEMO_SYNC) $(DEMO_PORTAL)
	mkdir -p $(DEMO_SYNC)/in $(DEMO_SYNC)/out
	$(DEMO_ENV) $(BIN)/sgss-server sync keys init
	$(DEMO_ENV) $(BIN)/sgss-server sync peer add --public-key \
		"$$($(PORTAL) init --state $(DEMO_PORTAL) | tail -n 1)"
	$(PORTAL) peer --state $(DEMO_PORTAL) --public-key "$$($(DEMO_ENV) $(BIN)/sgss-server sync keys show | tail -n 1)"
	$(PORTAL) make-application --state $(DEMO_PORTAL) --out $(DEMO_SYNC)/in

demo-server: $(STAMP)
	@test -f $(DEMO_DB) || { echo "先运行 make demo 生成演示数据库"; exit 1; }
	$(DEMO_ENV) $(BIN)/sgss-server serve --port $(DEMO_PORT)

bench: $(STAMP)
	$(BIN)/python -m bench.run

# inbox on province-scale history (340,000 applications, >1.5 M log entries) on PostgreSQL and SQLite
bench-inbox: $(STAMP)
	$(BIN)/python -m bench.inbox

# 50 desks at one request a second each (inbox, lists, details), open loop, on both engines
bench-desks: $(STAMP)
	$(BIN)/python -m bench.desks

# applications/s from intake to licence on both engines, beside SpiffWorkflow (installed here only)
bench-engine: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.engine

# time to the sign-in window vs a bare PySide6 window, median of 7 fresh processes each (offscreen)
bench-startup: $(STAMP)
	$(BIN)/python -m bench.startup

# score import: 20,000 rows read + validated with calamine beside openpyxl, rows/s (median)
bench-scores: $(STAMP)
	$(BIN)/python -m bench.scores

# 1,000 保安员证 PDFs (cards/s) and card face → Evolis K panels (ms/card), docs/card.md
bench-cards: $(STAMP)
	$(BIN)/python -m bench.cards

# docs/screenshots/ from the demo database (run `make demo` once first); needs a virtual screen;
# the sync page runs 立即同步 on the demo's sync folders and quarantines a corrupted bundle
screenshots: $(STAMP)
	$(SYNC_ENV) xvfb-run -a -s "-screen 0 1366x768x24" $(BIN)/python -m tools.screenshots $(DEMO_DB)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# 内外网数据同步: records/s through a full file-ferry cycle (10,000 applications, 1 MiB of
# materials every 100th) and the lag from a commit to its bundle with the worker running
.PHONY: bench-sync
bench-sync: $(STAMP)
	$(BIN)/python -m bench.sync
