#!/usr/bin/env bash
# .venv-test: Python with confluent-kafka (librdkafka inside the wheel), the independent
# transactional producer of the aborted-transaction test (test/python/). Separate from the
# notebook's .venv so the two requirement sets never clash.
set -euo pipefail
VENV=.venv-test
REQ=test/python/requirements.txt
STAMP="$VENV/.requirements.sha256"
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
  "$VENV/bin/python" -c 'import confluent_kafka; print("confluent-kafka", confluent_kafka.__version__, "librdkafka", confluent_kafka.libversion()[0])'
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
echo "$want" > "$STAMP"
"$VENV/bin/python" -c 'import confluent_kafka; print("confluent-kafka", confluent_kafka.__version__, "librdkafka", confluent_kafka.libversion()[0])'
