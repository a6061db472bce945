"""Turn the medians into rows, print them as a table, and write them into ``bench/README.md``.

A row compares one figure of cairn with the same figure of MLflow. ``ratio`` is always "how
many times faster cairn is": MLflow's time over cairn's for durations, cairn's rate over
MLflow's for rates. Standard library only (``rich`` is used for the console when present).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

README_START = "<!-- results:start -->"
README_END = "<!-- results:end -->"

#: Medians by case ("log_metric/cairn/default") and then by measured key ("us_per_call").
Summary = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    workload: str
    cairn: float | None
    mlflow: float | None
    #: "s" (a duration in seconds, lower is better), "rate" (per second, higher is better) or
    #: "count" (a number of events, e.g. errors; no ratio).
    unit: str
    target: str = ""
    #: Whether the target is met; None when the row has no target or a value is missing.
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        """How many times faster cairn is than MLflow on this row."""
        if not self.cairn or not self.mlflow or self.unit == "count":
            return None
        if self.unit == "rate":
            return self.cairn / self.mlflow
        return self.mlflow / self.cairn

    def cells(self) -> list[str]:
        """The row as table cells: workload, cairn, mlflow, ratio, target, met?."""
        ratio = "—" if self.ratio is None else f"{self.ratio:,.{0 if self.ratio >= 100 else 1}f}x"
        met = {True: "yes", False: "NO", None: ""}[self.met]
        return [
            self.workload,
            format_value(self.cairn, self.unit),
            format_value(self.mlflow, self.unit),
            ratio,
            self.target or "—",
            met,
        ]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


HEADERS = ("workload", "cairn", "MLflow", "ratio (x faster)", "target", "met?")


def format_value(value: float | None, unit: str) -> str:
    """``0.0123`` s as ``12.3 ms``, a rate as ``123,456/s``; ``error`` when missing."""
    if value is None:
        return "error"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "rate":
        return f"{value:,.0f}/s" if value >= 100 else f"{value:,.2f}/s"
    if value >= 10:
        return f"{value:,.1f} s"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} µs"


def _get(summary: Summary, case: str, key: str) -> float | None:
    value = summary.get(case, {}).get(key)
    return None if value is None else float(value)


def _at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def _at_least(value: float | None, limit: float) -> bool | None:
    return None if value is None else value >= limit


def build_rows(summary: Summary, sizes: Mapping[str, int]) -> list[Row]:
    """The table rows for the cases present in ``summary`` (see ``bench/run.py``)."""
    rows: list[Row] = []
    if "import/cairn" in summary or "import/mlflow" in summary:
        cairn = _get(summary, "import/cairn", "s")
        rows.append(
            Row(
                "import time",
                cairn,
                _get(summary, "import/mlflow", "s"),
                "s",
                "cairn ≤ 0.1 s",
                _at_most(cairn, 0.1),
            )
        )
    if any(case.startswith("log_metric/") for case in summary):
        rows.extend(_log_metric_rows(summary, sizes))
    if "runs/cairn" in summary or "runs/mlflow" in summary:
        full = sizes["runs_full"]
        cairn_total = _get(summary, "runs/cairn", "s_per_run")
        mlflow_total = _get(summary, "runs/mlflow", "s_per_run")
        total = Row(
            f"runs: {full:,} runs, total",
            None if cairn_total is None else cairn_total * full,
            None if mlflow_total is None else mlflow_total * full,
            "s",
            "≥ 20x",
        )
        rows.append(_ratio_target(total, 20))
        rows.append(
            Row(
                "runs: runs/s",
                _get(summary, "runs/cairn", "runs_per_s"),
                _get(summary, "runs/mlflow", "runs_per_s"),
                "rate",
            )
        )
    n = sizes["search_runs"]
    for name, label in (
        ("search", f"search: filtered + ordered, 100 of {n:,} runs"),
        ("dataframe", f"dataframe: all {n:,} runs"),
    ):
        if f"{name}/cairn" in summary or f"{name}/mlflow" in summary:
            row = Row(
                label,
                _get(summary, f"{name}/cairn", "median_s"),
                _get(summary, f"{name}/mlflow", "median_s"),
                "s",
                "≥ 10x",
            )
            rows.append(_ratio_target(row, 10))
    return rows


def _ratio_target(row: Row, times: float) -> Row:
    ratio = row.ratio
    met = None if ratio is None else ratio >= times
    return Row(row.workload, row.cairn, row.mlflow, row.unit, row.target, met)


def _log_metric_rows(summary: Summary, sizes: Mapping[str, int]) -> list[Row]:
    cairn_us = _get(summary, "log_metric/cairn/default", "us_per_call")
    cairn_rate = _get(summary, "log_metric/cairn/default", "points_per_s_durable")
    cairn_s = None if cairn_us is None else cairn_us / 1e6
    rows = []
    for mode, versus in (("default", ""), ("async", ", MLflow synchronous=False")):
        case = f"log_metric/mlflow/{mode}"
        if case not in summary and mode != "default":
            continue
        mlflow_us = _get(summary, case, "us_per_call")
        primary = mode == "default"
        rows.append(
            Row(
                f"log_metric: time per call{versus}",
                cairn_s,
                None if mlflow_us is None else mlflow_us / 1e6,
                "s",
                "cairn ≤ 5 µs" if primary else "",
                _at_most(cairn_us, 5.0) if primary else None,
            )
        )
        rows.append(
            Row(
                f"log_metric: points/s made durable{versus}",
                cairn_rate,
                _get(summary, case, "points_per_s_durable"),
                "rate",
                "cairn ≥ 500,000/s" if primary else "",
                _at_least(cairn_rate, 500_000) if primary else None,
            )
        )
    if "log_metric/cairn/sync" in summary or "log_metric/mlflow/sync" in summary:
        cairn_sync = _get(summary, "log_metric/cairn/sync", "us_per_call")
        mlflow_sync = _get(summary, "log_metric/mlflow/sync", "us_per_call")
        rows.append(
            Row(
                "log_metric: time per call, both synchronous=True",
                None if cairn_sync is None else cairn_sync / 1e6,
                None if mlflow_sync is None else mlflow_sync / 1e6,
                "s",
            )
        )
    return rows


def notes(sizes: Mapping[str, int], repeat: int, workloads: Sequence[str]) -> list[str]:
    """The caveats printed under the table, for the workloads that ran."""
    lines = [
        f"Median of {repeat} repetitions; every repetition is a fresh process in a fresh "
        "temporary folder, per tool."
    ]
    if "import" in workloads:
        lines.append(
            "import: wall time of a whole `python -c 'import X'` process (interpreter start "
            "included, nothing subtracted), after one untimed warm-up."
        )
    if "log_metric" in workloads:
        lines.append(
            f"log_metric: cairn measured on {sizes['log_metric_cairn']:,} calls, MLflow "
            f"measured on {sizes['log_metric_mlflow']:,} calls (at its synchronous rate "
            f"{sizes['log_metric_cairn']:,} calls would take minutes); per-call time and "
            "points/s need no scaling. The rows against MLflow compare cairn's default "
            "(queued) logging; the synchronous=True row measures both on "
            f"{sizes['log_metric_mlflow']:,} calls. Points/s made durable = calls / (loop "
            "start until end_run() returned; MLflow synchronous=False also waits for "
            "flush_async_logging())."
        )
    if "runs" in workloads:
        runs_full, runs_mlflow = sizes["runs_full"], sizes["runs_mlflow"]
        lines.append(
            "runs: each run is start_run + log_params (10) + 100 x log_metrics (5 keys) + "
            f"end_run; cairn measured on {sizes['runs_cairn']:,} runs, MLflow measured on "
            f"{runs_mlflow:,} runs and its total scaled x{runs_full / runs_mlflow:g} to "
            f"{runs_full:,} runs."
        )
    if "search" in workloads or "dataframe" in workloads:
        lines.append(
            f"search/dataframe: {sizes['search_runs']:,} runs set up once per tool (untimed; "
            "client create_run + log_batch + set_terminated), copied to a fresh folder per "
            f"repetition; the filtered search is the median of {sizes['search_calls']} calls, "
            f"the DataFrame the median of {sizes['frame_calls']} calls, each after one untimed "
            "warm-up call in the same process."
        )
    return lines


def machine_lines(machine: Mapping[str, Any]) -> list[str]:
    """One line each: date, CPU, Python, versions (and the load, when recorded)."""
    lines = [
        f"Date: {machine.get('date', '?')}",
        f"Machine: {machine.get('cpu_model', '?')}, {machine.get('cpu_count', '?')} CPUs, "
        f"{machine.get('memory_gib', '?')} GiB, {machine.get('platform', '?')}",
        f"Python: {machine.get('python', '?')}; SQLite {machine.get('sqlite', '?')}",
        f"cairn {machine.get('cairn_version', '?')} vs MLflow {machine.get('mlflow_version', '?')}"
        " (default SQLite store)",
    ]
    if "load_start" in machine and "load_end" in machine:
        lines.append(
            f"Load average (1 min) at start / end: {machine['load_start']} / "
            f"{machine['load_end']} (the machine is shared)"
        )
    return lines


def markdown_table(rows: Sequence[Row]) -> str:
    """The rows as a GitHub Markdown table."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines.extend("| " + " | ".join(row.cells()) + " |" for row in rows)
    return "\n".join(lines)


def markdown_section(
    rows: Sequence[Row], machine: Mapping[str, Any], note_lines: Sequence[str], label: str
) -> str:
    """What goes between the README markers."""
    parts = [
        f"Measured by `python bench/run.py{label}`.",
        "",
        *(f"- {line}" for line in machine_lines(machine)),
        "",
        markdown_table(rows),
        "",
        "Notes:",
        "",
        *(f"- {line}" for line in note_lines),
    ]
    return "\n".join(parts)


def update_readme(
    readme: Path, section: str, start: str = README_START, end: str = README_END
) -> None:
    """Replace the text between the markers ``start`` and ``end`` of ``readme`` with
    ``section`` (by default the local results section).

    Raises ValueError when the markers are missing.
    """
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{readme} has no {start} ... {end} section")
    replacement = f"{start}\n{section}\n{end}"
    readme.write_text(pattern.sub(lambda _: replacement, text, count=1), encoding="utf-8")


def print_table(rows: Sequence[Row], machine: Mapping[str, Any], note_lines: Sequence[str]) -> None:
    """Print the table to the console, with rich when it is installed."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        _print_plain(rows, machine, note_lines)
        return
    table = Table(title="cairn vs MLflow", title_justify="left")
    for i, header in enumerate(HEADERS):
        table.add_column(header, justify="left" if i == 0 else "right", overflow="fold")
    for row in rows:
        cells = row.cells()
        style = {True: "green", False: "bold red", None: ""}[row.met]
        table.add_row(*cells[:-1], f"[{style}]{cells[-1]}[/]" if style else cells[-1])
    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    for line in machine_lines(machine):
        console.print(line, highlight=False)
    console.print(table)
    for line in note_lines:
        console.print(f"- {line}", highlight=False)


def _print_plain(
    rows: Sequence[Row], machine: Mapping[str, Any], note_lines: Sequence[str]
) -> None:
    print("\n".join(machine_lines(machine)))
    table = [list(HEADERS), *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    for cells in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)))
    for note in note_lines:
        print(f"- {note}")
