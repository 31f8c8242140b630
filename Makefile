# Development tasks. POSIX make; every target is phony and rebuilds dist/ first when src/ changed.
#   make run                                                install, start Kafka, create topics, run the platform
#   make test                                               install, then unit + integration tests (real cluster)
#   make kafka-up / kafka-down / kafka-status / kafka-clean   local 3-broker cluster from Kafka jars (Java + Maven)
#   make kafka-up SECURE=1                                  the same with a SASL_SSL client listener (private CA, SCRAM users)
#   make topics                                             create the clickstream and IoT topics
#   make up / down                                          Docker cluster when Docker runs, else the local one
#   make notebook                                           JupyterLab on 127.0.0.1 (token auth) with datalake_analysis.ipynb
#   make analysis                                           execute the notebook headless: HTML report in data/reports/

NODE = node
CLI = $(NODE) dist/main.js
COMPOSE = docker compose -f docker-compose.kafka.yml

# npm ci when node_modules is missing or older than the lock file.
install:
	@if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		npm ci; \
	fi

run: install build up topics
	$(CLI) run

test: install test-prereqs
	npm test

# kcat, and whatever else the tests need beyond npm (scripts/test-prereqs.d/).
test-prereqs:
	bash scripts/test-prereqs.sh

.PHONY: install run test test-prereqs build kafka-up kafka-down kafka-status kafka-clean topics up down

build: install
	@if [ ! -f dist/main.js ] || [ -n "$$(find src tsconfig.json package.json -newer dist/main.js -print | head -n 1)" ]; then \
		npm run build; \
	fi

kafka-up: build
	$(CLI) kafka up$(if $(SECURE), --secure)

kafka-down: build
	$(CLI) kafka down

kafka-status: build
	$(CLI) kafka status

kafka-clean: build
	$(CLI) kafka clean

topics: build
	$(CLI) topics create

up: build
	@if docker info >/dev/null 2>&1; then \
		$(CLI) config env && $(COMPOSE) up -d --wait; \
	else \
		echo "Docker is not running: starting the local cluster from Kafka jars"; \
		$(MAKE) kafka-up; \
	fi

# Stops whichever runs: the Docker cluster (when Docker runs) and the local one (a no-op when stopped).
down: build
	@if docker info >/dev/null 2>&1; then \
		$(COMPOSE) down; \
	fi
	$(CLI) kafka down

# The analysis notebook (Python): .venv from the pinned requirements.txt, rebuilt only when it changes.
NOTEBOOK_PORT ?= 8888

venv:
	bash scripts/python-venv.sh

# JupyterLab on 127.0.0.1 only, with token auth always on: a random token unless JUPYTER_TOKEN is set
# (passed in the environment, not on the command line that `ps` shows); the URL with it is printed.
notebook: venv
	@token="$${JUPYTER_TOKEN:-$$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')}"; \
	echo "JupyterLab: http://127.0.0.1:$(NOTEBOOK_PORT)/lab/tree/datalake_analysis.ipynb?token=$$token"; \
	JUPYTER_TOKEN="$$token" exec .venv/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(NOTEBOOK_PORT) \
		--no-browser $$([ "$$(id -u)" = 0 ] && echo --allow-root) datalake_analysis.ipynb

# Executes the notebook against the lake of config.yml (+ SDP_ overrides); prints the report's path last.
analysis: venv
	.venv/bin/python analysis/run_analysis.py

.PHONY: venv notebook analysis
