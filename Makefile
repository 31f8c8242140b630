# Development and operating tasks. POSIX make; every target is phony and rebuilds dist/ first when
# src/ changed. `make` (or `make help`) lists every target with one line; each only calls the CLI
# (node dist/main.js …) or npm: the work is in src/commands/.

NODE = node
CLI = $(NODE) dist/main.js
# make logs: history length, and SERVICE=kafka-1 (2, 3) for a broker's server log, member-1 … for an ETL member's.
LINES = 50
SERVICE = platform
# make scale N=3: how many local ETL members should run (N=0 stops them).
N =
# FORCE=1 skips the y/N question of the clean-* targets.
FORCE =
YES = $(if $(filter 1 yes true,$(FORCE)),--yes,)
# make bench BENCH=produce|etl|parquet|platform runs one; all four by default.
BENCH = produce etl parquet platform

# `run`'s memory: 4 MB V8 semi-spaces on the main thread and two glibc malloc arenas, as
# `services up` starts it (src/services/platformRuntime.ts says why, with the measurements).
RUN_NODE = MALLOC_ARENA_MAX=$${MALLOC_ARENA_MAX:-2} $(NODE) --max-semi-space-size=4

.DEFAULT_GOAL := help

help: ## list every target with one line (this)
	@echo "usage: make <target> [N=3] [LINES=N] [SERVICE=kafka-N|member-N] [FORCE=1]"
	@grep -E '^[a-z][a-z0-9-]*:.*## ' Makefile | sed -e 's/:.*## /\t/' | awk -F '\t' '{ printf "  %-18s %s\n", $$1, $$2 }'

# npm ci when node_modules is missing or older than the lock file.
install: ## npm ci when node_modules is missing or older than package-lock.json
	@if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		echo "installing npm packages (npm ci) …"; \
		npm ci; \
	fi

build: install ## compile src/ to dist/ when src/ changed
	@if [ ! -f dist/main.js ] || [ -n "$$(find src tsconfig.json package.json -newer dist/main.js -print | head -n 1)" ]; then \
		echo "building dist/ (tsc) …"; \
		npm run build; \
	fi

setup: ## check Node, npm, Java, Maven, kcat, Python; install npm packages and the Kafka jars; print commands for the rest
	@bash scripts/setup.sh

config: build ## validate config.yml and write .env (ports, cluster id) for Docker Compose
	$(CLI) config env

show-config: build ## print every effective config value (file + SDP_* environment)
	$(CLI) config show

init-volumes: build ## create the data roots (lake, checkpoints, Kafka, run dir) and mark each as the platform's
	$(CLI) services init-volumes

run: build ## start Kafka (or use one that answers), create the topics, run the platform in the foreground (Ctrl-C stops)
	$(CLI) services up --kafka-only
	$(RUN_NODE) dist/main.js run

up: build ## start Kafka (a secured config: prove the TLS trust and SASL login first) and the whole platform in the background; wait until ready, print the URLs
	$(CLI) services up

scale: build ## N local ETL members in one group on one lake (N=3; N=0 stops them): own run dir, log, checkpoints, status port each
	$(CLI) services scale $(N)

down: build ## stop the ETL members, the platform (graceful, SIGKILL after etl.shutdown_timeout) and the Kafka `up` started
	$(CLI) services down

ps: build ## brokers, platform and ETL members (events/s, lag, last checkpoint), then the consumer group's members and partitions from Kafka; exit 0 only when all up
	$(CLI) services ps

logs: build ## follow the platform log pretty-printed (SERVICE=member-N for an ETL member, kafka-N for a broker, LINES=N history)
	$(CLI) services logs --service $(SERVICE) --lines $(LINES)

clean: build ## stop everything and delete the brokers' data (topics, messages); lake and checkpoints stay
	$(CLI) services clean

# After `clean` the topics are gone, and the lake's and checkpoints' offsets name the old ones: the
# platform would refuse to start on them (SDP_ERR_KAFKA_OFFSET_OUT_OF_RANGE), so reset empties them too.
reset: ## start over: clean, then clean-data (asks y/N; FORCE=1 does not ask), then up
	$(MAKE) clean
	$(MAKE) clean-data FORCE=$(FORCE)
	$(MAKE) up

data-stats: build ## per table: partitions, files, rows, bytes, event-time range; checkpoints; lag per partition
	$(CLI) data stats

verify: build ## prove the lake against Kafka and the checkpoint store: offsets tiled, counts per file, windows (read-only; TABLE=, SINCE=YYYY-MM-DD)
	$(CLI) verify $(if $(TABLE),--table $(TABLE)) $(if $(SINCE),--since $(SINCE))

.PHONY: compact
compact: build ## merge each partition's small files of a day (platform stopped; DRY_RUN=1 only lists; TABLE=, DT=)
	$(CLI) lake compact $(if $(DRY_RUN),--dry-run) $(if $(TABLE),--table $(TABLE)) $(if $(DT),--dt $(DT))

.PHONY: seal
seal: build ## write the manifests of complete days (safe while the platform runs; DRY_RUN=1 only says; DT=)
	$(CLI) lake seal $(if $(DRY_RUN),--dry-run) $(if $(DT),--dt $(DT))

.PHONY: expire
expire: build ## delete dt partitions older than lake.retention_days (platform stopped; DRY_RUN=1 only lists)
	$(CLI) lake expire $(if $(DRY_RUN),--dry-run)

clean-data: build ## delete the lake and the checkpoints (asks y/N; FORCE=1 does not ask)
	$(CLI) data clean --all $(YES)

# The lake only, keeping the checkpoints' offsets (--force): the next run goes on after them, so the
# deleted events are not read again. The question says so; FORCE=1 answers it.
clean-datalake: build ## delete the lake's tables, keep the checkpoints' offsets (asks y/N; FORCE=1 does not ask)
	$(CLI) data clean --lake --force $(YES)

clean-checkpoints: build ## delete the checkpoint store (asks y/N; FORCE=1 does not ask)
	$(CLI) data clean --checkpoints $(YES)

test: install test-prereqs ## lint, then unit + integration tests against a real 3-broker cluster
	npm test

lint: install ## the formatter and linter (Biome) and the import rules (dependency-cruiser); part of make test
	npm run lint

format: install ## reformat the tree with Biome (line width 120)
	npm run format

# kcat, and whatever else the tests need beyond npm (scripts/test-prereqs.d/).
test-prereqs: ## install what the tests need beyond npm (kcat, …)
	bash scripts/test-prereqs.sh

bench: install ## the benchmarks (npm run bench:produce, bench:etl, bench:parquet, bench:platform; BENCH=one of them)
	@for b in $(BENCH); do echo "== npm run bench:$$b"; npm run "bench:$$b" || exit 1; done

kafka-up: build ## start the local 3-broker cluster from Kafka's jars (Java + Maven; SECURE=1: SASL_SSL+SCRAM, mutual-TLS and SASL/PLAIN listeners, private CA)
	$(CLI) kafka up$(if $(SECURE), --secure)

kafka-down: build ## stop the local cluster (one node at a time, the active controller with the last majority)
	$(CLI) kafka down

kafka-status: build ## each local broker's pid and ports; exit 1 unless all are up
	$(CLI) kafka status

kafka-clean: build ## stop the local cluster and delete its data
	$(CLI) kafka clean

topics: build ## create the clickstream and IoT topics (idempotent)
	$(CLI) topics create

# The read-only Kafka browser alone on ui.kafka_ui_port (when only Kafka runs; `run` starts it too).
kafka-ui: build ## the read-only Kafka browser alone on ui.kafka_ui_port (8080), when only Kafka runs
	$(CLI) ui

# The analysis notebook (Python): .venv from the pinned requirements.txt, rebuilt only when it changes.
NOTEBOOK_PORT ?= 8888

venv: ## create .venv for the notebook from the pinned requirements.txt (rebuilt only when it changes)
	bash scripts/python-venv.sh

# JupyterLab on 127.0.0.1 only, with token auth always on: a random token unless JUPYTER_TOKEN is set
# (passed in the environment, not on the command line that `ps` shows); the URL with it is printed.
notebook: venv ## JupyterLab on 127.0.0.1 (token auth) with datalake_analysis.ipynb
	@token="$${JUPYTER_TOKEN:-$$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')}"; \
	echo "JupyterLab: http://127.0.0.1:$(NOTEBOOK_PORT)/lab/tree/datalake_analysis.ipynb?token=$$token"; \
	JUPYTER_TOKEN="$$token" exec .venv/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(NOTEBOOK_PORT) \
		--no-browser $$([ "$$(id -u)" = 0 ] && echo --allow-root) datalake_analysis.ipynb

# Executes the notebook against the lake of config.yml (+ SDP_ overrides); prints the report's path last.
analysis: venv ## execute the notebook headless: a self-contained HTML report in data/reports/
	.venv/bin/python analysis/run_analysis.py


.PHONY: help install build setup config show-config init-volumes run up scale down ps logs clean reset data-stats verify clean-data clean-datalake clean-checkpoints test lint format test-prereqs bench kafka-up kafka-down kafka-status kafka-clean topics kafka-ui venv notebook analysis
