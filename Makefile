# Development tasks. POSIX make; every target is phony and rebuilds dist/ first when src/ changed.
#   make run                                                install, start Kafka, create topics, run the platform
#   make test                                               install, then unit + integration tests (real cluster)
#   make kafka-up / kafka-down / kafka-status / kafka-clean   local 3-broker cluster from Kafka jars (Java + Maven)
#   make topics                                             create the clickstream and IoT topics
#   make up / down                                          Docker cluster when Docker runs, else the local one

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

.PHONY: install run test test-prereqs build kafka-up kafka-down kafka-status kafka-clean topics up down kafka-ui

build: install
	@if [ ! -f dist/main.js ] || [ -n "$$(find src tsconfig.json package.json -newer dist/main.js -print | head -n 1)" ]; then \
		npm run build; \
	fi

kafka-up: build
	$(CLI) kafka up

kafka-down: build
	$(CLI) kafka down

kafka-status: build
	$(CLI) kafka status

kafka-clean: build
	$(CLI) kafka clean

topics: build
	$(CLI) topics create

# The read-only Kafka browser alone on ui.kafka_ui_port (when only Kafka runs; `run` starts it too).
kafka-ui: build
	$(CLI) ui

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
