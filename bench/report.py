"""bench/RESULTS.md from the runs in bench/out/: the latest run per database and dataset, as
tables next to DESIGN.md's targets with PASS / MISS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
RESULTS_MD = BENCH_DIR / "RESULTS.md"
DATASET_ORDER = {"toy": 0, "S": 1, "M": 2, "L": 3}
REQUEST_SCENARIOS = (
    "list", "search", "detail", "calendar", "activities", "leads",
    "opportunities", "board", "funnel", "forecast", "sales_analysis",
)  # fmt: skip

HEADER = """# Benchmark results

Written by `python -m bench run` (from the newest run per database and dataset in
`bench/out/`; regenerate with `python -m bench report`). Targets are DESIGN.md's
"Performance targets", which are stated for dataset **L** (1,000,000 accounts) on the 2-core
dev machine; on smaller datasets a PASS is necessary, not sufficient. Latencies are measured
in process through Django's test client (middleware, views, templates, serialisers: no
network); "floor" is the page's main SQL statement run bare on a cursor, and "x floor" how
many times slower the whole request is. The mixed workload runs against a real gunicorn.
"""


def _verdict(ok: bool | None) -> str:
    if ok is None:
        return "n/a"
    return "PASS" if ok else "**MISS**"


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def load_runs(out_dir: Path | str | None = None) -> list[dict[str, Any]]:
    folder = Path(out_dir) if out_dir else OUT_DIR
    runs = []
    for path in sorted(folder.glob("*.json")):
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(document, dict) and "meta" in document and "results" in document:
            document["_file"] = path.name
            runs.append(document)
    return runs


def latest_per_dataset(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest run per (database, dataset), merging runs of separate scenarios: a later
    run replaces only the rows of the scenarios and users it ran."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for run in sorted(runs, key=lambda r: r["meta"].get("started_at", "")):
        meta = run["meta"]
        key = (meta["database"]["vendor"], str(meta["dataset"]["size"]))
        entry = merged.setdefault(key, {"meta": meta, "rows": {}, "files": []})
        entry["meta"] = meta
        entry["files"].append(run["_file"])
        replaced = {(row["scenario"], row.get("user", "")) for row in run["results"]}
        entry["rows"] = {
            k: v
            for k, v in entry["rows"].items()
            if (v["scenario"], v.get("user", "")) not in replaced
        }
        for row in run["results"]:
            entry["rows"][(row["scenario"], row["case"], row.get("user", ""))] = row
    return sorted(
        merged.values(),
        key=lambda e: (
            e["meta"]["database"]["vendor"],
            DATASET_ORDER.get(str(e["meta"]["dataset"]["size"]), 9),
        ),
    )


def _request_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| scenario | case | user | p50 ms | p95 ms | p99 ms | max ms | cpu p50 | cpu p95 "
        "| req/s | queries | db ms | floor ms | x floor | target | result |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        errors = f" ({row['errors']} errors)" if row.get("errors") else ""
        if row.get("events") is not None:
            errors += f" ({row['events']:,} events, {row.get('calendars', '?')} calendars)"
        lines.append(
            f"| {row['scenario']} | {row['case']}{errors} | {row.get('user', '')} "
            f"| {_fmt(row.get('p50_ms'))} | {_fmt(row.get('p95_ms'))} | {_fmt(row.get('p99_ms'))} "
            f"| {_fmt(row.get('max_ms'))} | {_fmt(row.get('cpu_p50_ms'))} "
            f"| {_fmt(row.get('cpu_p95_ms'))} | {_fmt(row.get('requests_per_second'))} "
            f"| {_fmt(row.get('queries_per_request'))} | {_fmt(row.get('db_ms_per_request'))} "
            f"| {_fmt(row.get('floor_p50_ms'), 2)} | {_fmt(row.get('floor_ratio'))} "
            f"| {row.get('target', '')} | {_verdict(row.get('pass'))} |"
        )
    return lines


def _other_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| scenario | measured | target | result |", "|---|---|---|---|"]
    for row in rows:
        if row["scenario"] == "mixed":
            measured = (
                f"{_fmt(row.get('requests_per_second'))} req/s ({row.get('requests')} requests "
                f"in {row.get('seconds')} s, {row.get('clients')} clients, {row.get('errors')} "
                f"errors; p50 {_fmt(row.get('p50_ms'))} ms, p95 {_fmt(row.get('p95_ms'))} ms), "
                f"{row.get('server', '')}"
            )
            lines.append(
                f"| mixed read workload | {measured} | {row.get('target', '')} "
                f"| {_verdict(row.get('pass'))} |"
            )
            lines.append(
                f"| web worker memory under load | peak RSS {_fmt(row.get('peak_worker_rss_mb'))} "
                f"MB per worker | {row.get('rss_target', '')} | {_verdict(row.get('rss_pass'))} |"
            )
        elif row["scenario"] == "import":
            measured = (
                f"{_fmt(row.get('rows_per_second'))} rows/s ({row.get('rows')} rows in "
                f"{row.get('seconds')} s: {row.get('created')} created, {row.get('skipped')} "
                f"skipped as duplicates, {row.get('failed')} failed)"
            )
            lines.append(
                f"| import accounts from CSV | {measured} | {row.get('target', '')} "
                f"| {_verdict(row.get('pass'))} |"
            )
        elif row["scenario"] == "dupscan":
            measured = (
                f"{row.get('seconds')} s for {_fmt(row.get('accounts'))} accounts "
                f"({_fmt(row.get('accounts_per_second'))} accounts/s, {row.get('blocks')} blocks, "
                f"{row.get('pairs_found')} pairs); linear extrapolation to 1M: "
                f"{_fmt(row.get('extrapolated_1m_seconds'))} s"
            )
            lines.append(
                f"| duplicate scan | {measured} | {row.get('target', '')} "
                f"| {_verdict(row.get('pass'))} |"
            )
    return lines


def render(entries: list[dict[str, Any]], notes: str = "") -> str:
    parts = [HEADER]
    if notes:
        parts.append(notes.strip() + "\n")
    if not entries:
        parts.append(
            "No runs yet: `python -m bench generate --size S` then `python -m bench run`.\n"
        )
    for entry in entries:
        meta = entry["meta"]
        dataset, database, machine = meta["dataset"], meta["database"], meta["machine"]
        parts.append(
            f"## Dataset {dataset['size']} on {database['vendor']} {database.get('version', '')}\n"
        )
        parts.append(
            f"- dataset: {_fmt(dataset.get('accounts'))} accounts, "
            f"{_fmt(dataset.get('contacts'))} contacts, "
            + (
                f"{_fmt(dataset.get('activities'))} activities, "
                f"{_fmt(dataset.get('follow_ups'))} follow-ups, "
                if dataset.get("activities") is not None
                else ""
            )
            + (f"{_fmt(dataset.get('leads'))} leads, " if dataset.get("leads") else "")
            + (
                f"{_fmt(dataset.get('opportunities'))} opportunities, "
                if dataset.get("opportunities")
                else ""
            )
            + f"{_fmt(dataset.get('users'))} users "
            f"(seed {dataset.get('seed')}; generator "
            f"{_fmt(dataset.get('generated_rows_per_second'))} rows/s"
            + (
                f", {_fmt(round(dataset['generated_seconds'] / 60, 1))} min with "
                f"--jobs {dataset.get('generated_jobs') or 1}"
                if dataset.get("generated_seconds")
                else ""
            )
            + ")\n"
            + (
                "- database settings: "
                + ", ".join(f"{k} = {v}" for k, v in database["settings"].items())
                + "\n"
                if database.get("settings")
                else ""
            )
            + f"- machine: {machine.get('cpu')} x {machine.get('cores')} cores, load average at "
            f"start {machine.get('load_average_at_start')}; Python {machine.get('python')}, "
            f"Django {machine.get('django')}\n"
            f"- commit {meta.get('commit')}, run {meta.get('started_at')} "
            f"(files: {', '.join(entry['files'][-3:])})\n"
            + (f"- partial run: {meta['partial']}\n" if meta.get("partial") else "")
        )
        rows = list(entry["rows"].values())
        request_rows = [r for r in rows if r["scenario"] in REQUEST_SCENARIOS]
        other_rows = [r for r in rows if r["scenario"] in ("mixed", "import", "dupscan")]
        if request_rows:
            parts.append("\n".join(_request_table(request_rows)) + "\n")
        if other_rows:
            parts.append("\n".join(_other_lines(other_rows)) + "\n")
    return "\n".join(parts)


NOTES_MARKER = "<!-- notes: kept by the report writer -->"


def _kept_notes() -> str:
    """Hand-written findings below the marker survive regeneration."""
    try:
        text = RESULTS_MD.read_text()
    except OSError:
        return ""
    if NOTES_MARKER not in text:
        return ""
    return text.split(NOTES_MARKER, 1)[1].strip()


def write_results_md(out_dir: Path | str | None = None, path: Path | None = None) -> Path:
    target = path or RESULTS_MD
    notes = _kept_notes() if target == RESULTS_MD else ""
    text = render(latest_per_dataset(load_runs(out_dir)))
    text = (
        text.rstrip() + f"\n\n{NOTES_MARKER}\n\n{notes}\n"
        if notes
        else text.rstrip() + (f"\n\n{NOTES_MARKER}\n")
    )
    target.write_text(text)
    return target
