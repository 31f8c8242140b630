"""Find and open the platform's data lake for analysis, the way the CLI does.

The notebook (``datalake_analysis.ipynb``) never types a path: it reads ``config.yml`` (or the file
named by ``SDP_CONFIG``), applies the same ``SDP_`` environment overrides as the TypeScript CLI
(``SDP_STORAGE__DATALAKE_ROOT=/tmp/lake`` -> ``storage.datalake_root``; see ``src/config/envOverrides.ts``)
and opens every lake table with DuckDB as a view over its committed Parquet files. The windows'
committed state comes from the checkpoint store (``etl.windows: process``, read directly) or from the
project's CLI (``members``: ``node dist/main.js data windows --json`` reads it from Kafka), see
``window_state_of``.

The environment rule, as in the CLI: ``SDP_`` + the dotted path in capitals, ``__`` between levels;
``SDP_CONFIG`` names the file and is not a key; an override for a key that the file does not have is
an error naming the dotted key. The CLI types a value by the key's schema; this module types it by
the type of the value in ``config.yml`` (number, boolean, list, mapping, else text), which gives the
same result for every key whose value in the file is not null. Relative paths are resolved against
the current directory, as the CLI resolves them (the notebook runs in the repository root).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

ENV_PREFIX = "SDP_"
NOT_CONFIG = {"SDP_CONFIG"}
DEFAULT_CONFIG_FILE = "config.yml"
TABLES = ("clickstream", "iot", "clickstream_agg", "_rejected")
CHECKPOINT_FILE = "checkpoints.sqlite"


class ConfigError(Exception):
    """config.yml cannot be read, or an SDP_ variable names no key; ``problems`` has one line each."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = problems or []
        super().__init__(message + "".join(f"\n  - {p}" for p in self.problems))


# --- configuration -----------------------------------------------------------------------------


def config_file_path(explicit: str | os.PathLike | None = None, env: Mapping[str, str] | None = None) -> Path:
    """An explicit path, else $SDP_CONFIG, else ./config.yml (as ``configFilePath`` in load.ts)."""
    env = os.environ if env is None else env
    return Path(explicit or env.get("SDP_CONFIG") or DEFAULT_CONFIG_FILE).resolve()


def _parse_scalar(raw: str, like: Any) -> Any:
    text = raw.strip()
    if text == "null":
        return None
    if isinstance(like, bool):
        if re.fullmatch(r"(?i)true|1|yes", text):
            return True
        if re.fullmatch(r"(?i)false|0|no", text):
            return False
        return raw
    if isinstance(like, (int, float)):
        try:
            number = float(text)
        except ValueError:
            return raw  # left for the CLI's validation to report
        if not math.isfinite(number):
            return raw
        return int(number) if number.is_integer() and re.fullmatch(r"[+-]?\d+", text) else number
    return raw


def _parse_value(raw: str, like: Any) -> Any:
    if isinstance(like, list):
        text = raw.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError:
                return raw
        element = like[0] if like else ""
        return [] if text == "" else [_parse_scalar(part.strip(), element) for part in text.split(",")]
    if isinstance(like, dict):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return _parse_scalar(raw, like)


_MISSING = object()


def _lookup(doc: Any, path: list[str]) -> Any:
    node = doc
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


def apply_env_overrides(doc: dict, env: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Sets every SDP_ override in ``doc``; returns {dotted key: variable} and the problems."""
    overridden_by: dict[str, str] = {}
    problems: list[str] = []
    for variable in sorted(env):
        if not variable.startswith(ENV_PREFIX) or variable in NOT_CONFIG:
            continue
        path = variable[len(ENV_PREFIX):].lower().split("__")
        dotted = ".".join(path)
        current = _lookup(doc, path)
        if current is _MISSING or "" in path:
            problems.append(f"{dotted}: unknown key (from environment variable {variable})")
            continue
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = _parse_value(env[variable], current)
        overridden_by[dotted] = variable
    return overridden_by, problems


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_DURATION_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, None: 1}


def duration_ms(value: Any) -> float:
    """``10s`` -> 10000; a bare number is milliseconds (as in config.yml)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r}")
    return float(match.group(1)) * _DURATION_MS[match.group(2)]


@dataclass
class LakeConfig:
    file: Path
    effective: dict
    overridden_by: dict[str, str]

    def get(self, dotted: str) -> Any:
        value = _lookup(self.effective, dotted.split("."))
        if value is _MISSING:
            raise KeyError(dotted)
        return value

    @property
    def datalake_root(self) -> Path:
        return Path(self.get("storage.datalake_root")).resolve()

    @property
    def checkpoint_root(self) -> Path:
        return Path(self.get("storage.checkpoint_root")).resolve()

    @property
    def topics(self) -> dict[str, str]:
        return {"clickstream": self.get("topics.clickstream"), "iot": self.get("topics.iot")}

    def describe(self) -> str:
        lines = [f"config: {self.file}"]
        for key in ("storage.datalake_root", "storage.checkpoint_root", "topics.clickstream", "topics.iot", "etl.watermark_delay"):
            source = f"   (from {self.overridden_by[key]})" if key in self.overridden_by else ""
            lines.append(f"  {key} = {self.get(key)}{source}")
        return "\n".join(lines)


def load_config(explicit: str | os.PathLike | None = None, env: Mapping[str, str] | None = None) -> LakeConfig:
    env = os.environ if env is None else env
    file = config_file_path(explicit, env)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"config file {file} cannot be read ({err.strerror})", ["(file): expected a readable YAML file; set SDP_CONFIG"]) from err
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {file} is not valid YAML", [str(err).splitlines()[0]]) from err
    if not isinstance(doc, dict):
        raise ConfigError(f"config file {file} is invalid", ["(root): expected a mapping of sections"])
    overridden_by, problems = apply_env_overrides(doc, env)
    if problems:
        raise ConfigError(f"config file {file} is invalid ({len(problems)} problem{'s' if len(problems) != 1 else ''})", problems)
    return LakeConfig(file=file, effective=doc, overridden_by=overridden_by)


# --- the lake ----------------------------------------------------------------------------------


def sql_string(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


@dataclass
class TableFiles:
    table: str
    files: list[Path] = field(default_factory=list)
    bytes: int = 0
    view: bool = False
    #: DuckDB's message when the view could not be created (a file that is not Parquet).
    error: str | None = None


def scan_table(root: Path, table: str) -> TableFiles:
    """The committed files ``tables/<table>/dt=*/<unit>/*.parquet`` (``dt=*/*.parquet`` in a lake from before
    units); a hidden ``.*.parquet.<id>.tmp`` is never read."""
    found = TableFiles(table)
    table_dir = root / "tables" / table
    if not table_dir.is_dir():
        return found
    for dt_dir in sorted(p for p in table_dir.iterdir() if p.is_dir() and p.name.startswith("dt=")):
        for file in sorted([*dt_dir.glob("*.parquet"), *dt_dir.glob("*/*.parquet")]):
            try:
                found.bytes += file.stat().st_size
                found.files.append(file)
            except FileNotFoundError:
                pass
    return found


class Lake:
    """The lake as DuckDB views (one per table with files, as ``node dist/main.js query`` makes them)."""

    def __init__(self, root: Path, connection=None):
        import duckdb

        self.root = Path(root)
        self.con = connection or duckdb.connect(":memory:")
        self.tables: dict[str, TableFiles] = {}
        for table in TABLES:
            info = scan_table(self.root, table)
            if info.files:
                # ``**`` also matches no directory: a lake from before units reads the same.
                source = sql_string(str(self.root / "tables" / table / "dt=*" / "**" / "*.parquet"))
                if re.search(r"[*?\[\]{}]", str(self.root)):
                    source = "[" + ", ".join(sql_string(str(f)) for f in info.files) + "]"
                try:
                    self.con.execute(
                        f'CREATE VIEW "{table}" AS SELECT * FROM read_parquet({source}, hive_partitioning = true, hive_types = {{\'dt\': DATE}})'
                    )
                    info.view = True
                except Exception as err:  # a broken file: the other tables stay readable
                    info.error = str(err).splitlines()[0]
            self.tables[table] = info

    def has(self, *tables: str) -> bool:
        return all(self.tables[t].view for t in tables)

    def missing(self, *tables: str) -> list[str]:
        return [t for t in tables if not self.tables[t].view]

    def why_missing(self, table: str) -> str:
        info = self.tables[table]
        if info.error:
            return f"table {table} cannot be read: {info.error}"
        return f"table {table} has no data yet (no Parquet files under {self.root / 'tables' / table})"

    def sql(self, query: str, params: list | None = None):
        """The rows of ``query`` as a pandas DataFrame."""
        return self.con.execute(query, params or []).df()

    def scalar(self, query: str, params: list | None = None):
        row = self.con.execute(query, params or []).fetchone()
        return None if row is None else row[0]

    def file_inventory(self):
        """One row per committed file: table, dt, file name, bytes, rows (from the Parquet footer)."""
        import pandas as pd

        rows = []
        for info in self.tables.values():
            if not info.files:
                continue
            counts: dict[str, int] = {}
            try:
                meta = self.con.execute(
                    "SELECT file_name, num_rows FROM parquet_file_metadata(?)", [[str(f) for f in info.files]]
                ).fetchall()
                counts = {name: int(n) for name, n in meta}
            except Exception:
                pass  # a broken file: rows stay unknown, bytes are still listed
            for f in info.files:
                rows.append(
                    {
                        "table": info.table,
                        "dt": f.parent.name.removeprefix("dt="),
                        "file": f.name,
                        "bytes": f.stat().st_size if f.exists() else 0,
                        "rows": counts.get(str(f)),
                    }
                )
        return pd.DataFrame(rows, columns=["table", "dt", "file", "bytes", "rows"])

    def describe(self) -> str:
        lines = [f"lake: {self.root}"]
        for info in self.tables.values():
            state = "view" if info.view else ("UNREADABLE: " + info.error if info.error else "no data")
            lines.append(f"  {info.table:<16} {len(info.files):>6} files {info.bytes:>14,} bytes   {state}")
        return "\n".join(lines)


def open_lake(config: LakeConfig | None = None) -> Lake:
    return Lake((config or load_config()).datalake_root)


# --- the checkpoint store (SQLite) --------------------------------------------------------------


def window_state(checkpoint_root: Path, clickstream_topic: str) -> dict | None:
    """The window aggregator's last committed state for ``clickstream_topic`` (late events total,
    emitted frontier, watermark), read-only from the checkpoint store; None when there is none.
    With ``etl.windows: process`` only: in members mode the store holds none (see :func:`window_state_of`).

    The state travels in each ``agg`` journal event (architecture.md, "The checkpoint protocol");
    the latest snapshot holds it too, for journals compacted up to it.
    """
    path = Path(checkpoint_root) / CHECKPOINT_FILE
    if not path.is_file():
        return None
    sink = f"agg:{clickstream_topic}"
    best: tuple[int, dict] | None = None
    try:
        con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as err:
        return {"error": f"cannot open {path}: {err}"}
    try:
        con.execute("PRAGMA query_only = 1")
        for seq, data in con.execute("SELECT sequence_nr, data FROM snapshots ORDER BY sequence_nr DESC LIMIT 1"):
            state = (json.loads(data or "null") or {}).get("aggregators", {}).get(sink)
            if state and state.get("state"):
                best = (seq, state["state"])
        for seq, data in con.execute(
            "SELECT sequence_nr, data FROM journal WHERE json_extract(data, '$.type') = 'agg' AND json_extract(data, '$.sink') = ? "
            "ORDER BY sequence_nr DESC LIMIT 1",
            [sink],
        ):
            if best is None or seq > best[0]:
                best = (seq, json.loads(data)["state"])
    except sqlite3.Error as err:
        return {"error": f"cannot read {path}: {err}"}
    finally:
        con.close()
    if best is None:
        return None
    state = best[1]
    return {
        "sequence_nr": best[0],
        "late_events_total": state.get("lateEventsTotal", 0),
        "emitted_frontier_ms": state.get("emittedFrontierMs"),
        "global_watermark_ms": (state.get("watermarks") or {}).get("globalWatermarkMs"),
        "open_windows": len(state.get("openWindows") or []),
    }


# --- the windows' state: the checkpoint store (process) or the pv-state topic (members) --------

#: ``source`` of :func:`window_state_of`, per ``etl.windows``.
WINDOW_STATE_SOURCES = {"process": "checkpoint store", "members": "pv-state topic"}
#: How long ``data windows`` may take: kafka.unreachable_timeout, then one read per stage-2 task.
CLI_TIMEOUT_S = 120


def windows_mode(config: LakeConfig) -> str:
    """``etl.windows`` (``auto`` when config.yml leaves it out, as the CLI's default)."""
    try:
        return str(config.get("etl.windows"))
    except KeyError:
        return "auto"


def _store_window_state(config: LakeConfig) -> dict:
    """``process``: the one-process aggregator's state in the checkpoint store, read directly."""
    where = str(config.checkpoint_root / CHECKPOINT_FILE)
    base = {"source": WINDOW_STATE_SOURCES["process"], "where": where}
    state = window_state(config.checkpoint_root, config.topics["clickstream"])
    if state is None:
        return {**base, "found": False, "note": "the ETL has not checkpointed windows there yet"}
    if "error" in state:
        return {**base, **state}
    return {**base, "found": True, "detail": f"checkpoint {state['sequence_nr']}", **state}


def _cli_error(stderr: str) -> str:
    """The CLI's ``error SDP_ERR_…`` line and its ``  - `` details, else its last stderr line."""
    lines = stderr.strip().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("error "):
            return "\n".join([line, *[more for more in lines[i + 1:] if more.startswith("  - ")]])
    return lines[-1] if lines else "no message"


def window_state_of(config: LakeConfig, project_root: Path | None = None) -> dict:
    """The windows' committed state where ``etl.windows`` keeps it (architecture.md, "Windows across members").

    Always a dict with ``source`` (``checkpoint store`` or ``pv-state topic``) and ``where``; then either ``error``,
    or ``found`` False with ``note``, or the figures of :func:`window_state` plus ``detail``:

    - ``process``: the checkpoint store, read directly (:func:`window_state`), so a machine with only the lake and
      the store mounted works;
    - ``members``: the latest snapshot of every stage-2 task in ``<group>-pv-state``, read by the project's own CLI
      (``node dist/main.js data windows --json``, the code ``verify`` uses): this module has no Kafka client. An
      unbuilt project, no ``node``, or an unreachable Kafka is an ``error`` saying so;
    - ``auto`` (the default): the CLI asks the group which of the two it is, and answers from there.
    """
    mode = windows_mode(config)
    if mode == "process":
        return _store_window_state(config)

    group = config.get("etl.consumer_group")
    base = {"source": WINDOW_STATE_SOURCES["members"], "where": f"{group}-pv-state"}
    root = Path(project_root) if project_root is not None else Path(__file__).resolve().parent.parent
    main_js = root / "dist" / "main.js"
    node = shutil.which("node")
    if not main_js.is_file():
        return {**base, "error": f"the project's CLI is not built ({main_js} is missing: `npm run build`), and only it reads Kafka"}
    if node is None:
        return {**base, "error": "no `node` on PATH to run the project's CLI, which reads Kafka"}
    try:
        done = subprocess.run(
            [node, str(main_js), "--config", str(config.file), "data", "windows", "--json"],
            capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False,
        )
    except subprocess.TimeoutExpired:
        return {**base, "error": f"`data windows` did not answer within {CLI_TIMEOUT_S} s"}
    if done.returncode != 0:
        return {**base, "error": f"`data windows` exited {done.returncode}: {_cli_error(done.stderr)}"}
    report = json.loads(done.stdout)
    if report.get("mode") == "process":
        # `auto` chose the one-process aggregator: its state is in the store, read here as for ``process``.
        return _store_window_state(config)
    if not report.get("found"):
        return {**base, "where": report.get("location", base["where"]), "found": False, "note": report.get("note")}
    return {
        **base,
        "where": report["location"],
        "found": True,
        "detail": f"{report['task_snapshots']} of {report['tasks']} stage-2 task snapshots",
        "late_events_total": report["late_events_total"],
        "emitted_frontier_ms": report["emitted_frontier_ms"],
        "global_watermark_ms": report["global_watermark_ms"],
        "open_windows": report["open_windows"],
    }


# --- user agents --------------------------------------------------------------------------------

_BOTS = (("Googlebot", "Googlebot"), ("bingbot", "Bingbot"), ("DuckDuckBot", "DuckDuckBot"), ("AhrefsBot", "AhrefsBot"), ("Applebot", "Applebot"))
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("CriOS/", "Chrome"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)


def ua_family(ua: str | None) -> str:
    """Browser family of a user-agent string (``bot: Googlebot`` for crawlers), else ``other``."""
    ua = ua or ""
    for token, name in _BOTS:
        if token in ua:
            return f"bot: {name}"
    if re.search(r"(?i)bot|crawler|spider", ua):
        return "bot: other"
    for token, name in _BROWSERS:
        if token in ua:
            return name
    return "other"


def ua_device(ua: str | None) -> str:
    """``bot``, ``tablet``, ``mobile`` or ``desktop`` from a user-agent string."""
    ua = ua or ""
    if ua_family(ua).startswith("bot"):
        return "bot"
    if "iPad" in ua or ("Android" in ua and "Mobile" not in ua):
        return "tablet"
    if "iPhone" in ua or "Mobile" in ua:
        return "mobile"
    return "desktop"
