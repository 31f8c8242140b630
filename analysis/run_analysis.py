"""Execute datalake_analysis.ipynb headless and write a self-contained HTML report.

    .venv/bin/python analysis/run_analysis.py [--output-dir data/reports] [--strict] [--with-code]

The notebook runs with nbclient in the repository root, against the lake that config.yml and the
SDP_ environment name (the same rule as the CLI). Any cell error stops the run (exit 1) and names the
cell. Written next to each other, with one UTC timestamp in their names:

    datalake_analysis-<stamp>.html          the report: charts embedded as PNG data, no external file
    datalake_analysis-<stamp>.summary.json  the figures of the notebook's "summary" cell
    datalake_analysis-<stamp>.ipynb         the executed notebook

The last line printed is the report's path. Exit 0; 1 when a cell fails (or, with ``--strict``,
writes anything to stderr, warnings included: the tests run it so); 2 when config.yml or an SDP_
variable is invalid (the report says which). ``--figures-dir`` writes the chart of every cell
tagged ``chart-*`` as ``<tag>.png``.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError
from jupyter_client.manager import KernelManager
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "datalake_analysis.ipynb"
SUMMARY_TAG = "summary"


def cell_tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def stderr_outputs(nb) -> list[tuple[int, str]]:
    """(cell index, text) of every stderr stream output: warnings, progress bars, stray prints."""
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                found.append((index, output.get("text", "")))
    return found


def summary_of(nb) -> dict | None:
    for cell in nb.cells:
        if SUMMARY_TAG in cell_tags(cell):
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "application/json" in data:
                    return data["application/json"]
    return None


def write_figures(nb, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for cell in nb.cells:
        tags = [t for t in cell_tags(cell) if t.startswith("chart-")]
        if not tags:
            continue
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                path = directory / f"{tags[0]}.png"
                path.write_bytes(base64.b64decode(png))
                written.append(path)
                break
    return written


def to_html(nb, with_code: bool) -> str:
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = not with_code
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    body, _ = exporter.from_notebook_node(nb)
    # Self-contained: the lab template loads require.js and MathJax from a CDN for interactive
    # outputs and formulas; the report has neither, and must open offline.
    body = re.sub(r'<script[^>]+src="https?://[^"]+"[^>]*>\s*</script>', "", body)
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", type=Path, default=NOTEBOOK)
    parser.add_argument("--output-dir", type=Path, default=ROOT / "data" / "reports")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--strict", action="store_true", help="fail when a cell writes to stderr (warnings included)")
    parser.add_argument("--with-code", action="store_true", help="show the code cells in the report")
    parser.add_argument("--figures-dir", type=Path, help="also write each chart-* cell's chart as a PNG here")
    args = parser.parse_args(argv)

    nb = nbformat.read(args.notebook, as_version=4)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sdp-kernel-") as sockets:
        # Unix sockets, not TCP: nothing listens on a port, and the kernel has no reason to warn.
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
        client = NotebookClient(nb, km=km, timeout=args.timeout, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}})
        client.owns_km = True  # so that execute() shuts the kernel down, as with a manager of its own
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError) as err:
            print(f"error: the notebook failed in a cell:\n{err}", file=sys.stderr)
            return 1
    seconds = time.monotonic() - started

    noisy = stderr_outputs(nb)
    for index, text in noisy:
        print(f"cell {index} wrote to stderr:\n{text}", file=sys.stderr)
    if noisy and args.strict:
        print(f"error: {len(noisy)} cell output(s) on stderr (--strict)", file=sys.stderr)
        return 1

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    base = args.output_dir.resolve() / f"{args.notebook.stem}-{stamp}"
    html_path = base.with_suffix(".html")
    html_path.write_text(to_html(nb, args.with_code), encoding="utf-8")
    nbformat.write(nb, base.with_suffix(".ipynb"))
    summary = summary_of(nb)
    if summary is None:
        print("error: no summary cell output (a cell tagged 'summary' with application/json)", file=sys.stderr)
        return 1
    summary_path = base.parent / f"{base.name}.summary.json"
    summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if args.figures_dir:
        for path in write_figures(nb, args.figures_dir):
            print(f"figure: {path}")
    print(f"executed {len(nb.cells)} cells in {seconds:.1f} s; summary: {summary_path}")
    print(f"report: {html_path} ({html_path.stat().st_size:,} bytes)")
    print(html_path)
    # As the CLI: a configuration problem exits 2 (the report, which says what it is, is written).
    return 2 if summary.get("config_problem") else 0


if __name__ == "__main__":
    sys.exit(main())
