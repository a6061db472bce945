"""Writes stay fast on a big store: SQLite answers every statement of the logging path from an
index, never by reading a whole table (the cost of a scan grows with every run ever logged)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from cairn.entities import Metric, Param, RunTag
from cairn.store.sql.store import SqlTrackingStore

#: Tables that grow with the number of runs, keys and points.
BIG_TABLES = ("runs", "params", "tags", "metric_summaries", "metric_blocks")


def _scans(store: SqlTrackingStore, statements: list[tuple[str, Any]]) -> list[str]:
    """The plan lines of ``statements`` that read a big table from end to end."""
    found = []
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for sql, params in statements:
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params):
                detail = row[-1]
                if any(detail == f"SCAN {table}" for table in BIG_TABLES):
                    found.append(f"{detail}: {sql}")
    return found


def test_logging_batches_of_many_series_reads_no_whole_table(tmp_path: Path) -> None:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'cairn.db'}", str(tmp_path / "artifacts"))
    exp = store.create_experiment("plans")
    run_ids = [store.create_run(exp, "u", 1000 + i).info.run_id for i in range(20)]
    for run_id in run_ids:  # something in every table
        store.log_batch(
            run_id,
            metrics=[Metric(f"m{k}", float(k), 1, 0) for k in range(30)],
            params=[Param("lr", "0.1")],
            tags=[RunTag("team", "a")],
        )

    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if not many:
            statements.append((sql, params))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        store.log_batch(
            run_ids[0],
            metrics=[Metric(f"m{k}", 2.0, 2, s) for k in range(40) for s in (1, 2)],
            params=[Param("seed", "1")],
            tags=[RunTag("team", "b")],
        )
        store.update_run_info(run_ids[1], status="FINISHED", end_time=5000)
    finally:
        event.remove(store.engine, "before_cursor_execute", record)

    assert any("metric_summaries" in sql for sql, _ in statements)
    assert _scans(store, statements) == []
    store.close()
