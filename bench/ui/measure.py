"""The web UI at scale: cairn's and MLflow's UIs on the same data, in headless Chromium.

    python bench/ui/measure.py                   # seed (or --reuse) the full data set, measure
    python bench/ui/measure.py --quick --reuse   # 10,000 runs, 1,000 keys, 5 x 100,000 points
    python bench/ui/measure.py --reuse --update-readme
    python bench/ui/measure.py --from-json bench/ui/results/latest.json --update-readme

The data set is :mod:`seed`'s (``/tmp/cairn-ui-bench/<full|quick>/``). One tool at a time:
its server is started on its store (``cairn server``, one worker, and ``mlflow server``, four
workers: each tool's default), then every case is measured in the system's Chromium
(``/usr/bin/chromium``, driven by Playwright), then the server is stopped.

Every case: one untimed warm-up visit (the server's caches and the browser's HTTP cache get
warm; its time is kept as "cold"), then ``--repeat`` timed visits, each in a **fresh page**
(its own JS heap, DOM and storage; the HTTP cache is shared). The median is reported.

How "visibly there" is decided: a predicate over the DOM (the expected run names in the
expected order, metric rows, a canvas with pixels on it, SVG lines with points) is checked
inside the page on every animation frame (``requestAnimationFrame`` polling), and the
time of the first frame where it holds is taken from the page's own clock: for a navigation,
milliseconds since the navigation started (``performance.now()``); for an interaction, since
the click or Enter key event (a capturing listener records ``performance.now()`` when the
event is dispatched). Long main-thread tasks are recorded with a ``PerformanceObserver`` for
``longtask`` and API requests with the Resource Timing API, for every visit.

Results: the console, ``bench/ui/results/latest.json`` (every sample, the requests, the long
tasks, page errors) and screenshots in ``bench/ui/results/screenshots/``; with
``--update-readme``, the table in ``bench/README.md`` between the ``ui-results`` markers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import seed as seeding

import mlflow_env
import servers

UI_DIR = Path(__file__).resolve().parent
BENCH_DIR = UI_DIR.parent
REPO = BENCH_DIR.parent
RESULTS = UI_DIR / "results" / "latest.json"
SCREENSHOTS = UI_DIR / "results" / "screenshots"
README = BENCH_DIR / "README.md"
WEBUI = REPO / "src" / "cairn" / "server" / "webui" / "index.html"
MARK_START = "<!-- ui-results:start -->"
MARK_END = "<!-- ui-results:end -->"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
VIEWPORT = {"width": 1400, "height": 900}
TOOLS = ("cairn", "mlflow")
#: Each tool's default number of server processes.
WORKERS = {"cairn": 1, "mlflow": 4}
PYTHONS = {"cairn": REPO / ".venv" / "bin" / "python", "mlflow": seeding.MLFLOW_PYTHON}
FILTER = "metrics.accuracy > 0.5"
#: Rows compared to decide that the table shows what it should.
FIRST_ROWS = 5
#: After a page shows what it should, keep watching this long for long tasks.
SETTLE_MS = 2000
#: Continuous scrolling: pixels per frame and for how long.
SCROLL_PX = 60
SCROLL_MS = 2500
#: A main-thread task at least this long counts as the tab freezing.
FREEZE_MS = 200

CASES = (
    "runs_load",
    "runs_sort",
    "runs_filter",
    "runs_next",
    "runs_jump",
    "runs_scroll",
    "run_metrics",
    "chart",
)

# -- in-page helpers ----------------------------------------------------------------------------

#: Installed in every document before the app's scripts: event times, long tasks, and a clean
#: localStorage once per page (MLflow keeps the sort and filter of an experiment there).
INIT_SCRIPT = """
(() => {
  window.__bench = { events: {}, longtasks: [] };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__bench.longtasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch (e) {}
  addEventListener("click", () => { window.__bench.events.click = performance.now(); }, true);
  addEventListener("keydown", (e) => {
    if (e.key === "Enter") window.__bench.events.enter = performance.now();
  }, true);
  try {
    if (!sessionStorage.getItem("__bench")) {
      localStorage.clear();
      for (const [k, v] of Object.entries(PREFS)) localStorage.setItem(k, v);
      sessionStorage.setItem("__bench", "1");
    }
  } catch (e) {}
})();
"""

#: MLflow 3.17 opens in its GenAI mode with an assistant panel; a user of the runs table
#: switches to "Model training" once (kept in localStorage) and closes the panel.
MLFLOW_PREFS = {
    "mlflow.workflowType_v1": '"machine_learning"',
    "mlflow.assistant.panelOpen_v1": "false",
    "mlflow.assistant.fab.autoOpenedOnFirstLoad_v1": "true",
}

#: Run names shown in the runs table, in row order.
NAMES_JS = {
    "cairn": """() => [...document.querySelectorAll(
        '[data-testid=runs-grid] [role=row][data-run-id]')]
      .map((r) => [parseFloat(r.style.top), r.querySelector('a')?.textContent ?? ''])
      .sort((a, b) => a[0] - b[0]).map((x) => x[1])""",
    "mlflow": """() => {
      const byIndex = new Map();
      for (const r of document.querySelectorAll('.ag-row[row-index]')) {
        const a = r.querySelector("a[href*='/runs/']");
        if (a) byIndex.set(Number(r.getAttribute('row-index')), a.textContent);
      }
      return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map((x) => x[1]);
    }""",
}

#: The scrolling element of the runs table and the height of a row.
SCROLLER = {"cairn": "[data-testid=runs-grid]", "mlflow": ".ag-body-viewport"}

#: The rows inside the visible part of the runs table: [loaded, placeholders, names by index].
VISIBLE_ROWS_JS = {
    "cairn": """() => {
      const grid = document.querySelector('[data-testid=runs-grid]');
      const box = grid.getBoundingClientRect();
      const head = grid.querySelector('.vhead')?.getBoundingClientRect().height ?? 0;
      let loaded = 0, blank = 0; const names = [];
      for (const r of grid.querySelectorAll('.vrow')) {
        const b = r.getBoundingClientRect();
        if (b.bottom <= box.top + head + 1 || b.top >= box.bottom - 1) continue;
        if (r.dataset.runId) {
          loaded++;
          names.push([Math.round(parseFloat(r.style.top) / 34), r.querySelector('a')?.textContent]);
        } else blank++;
      }
      return [loaded, blank, names];
    }""",
    "mlflow": """() => {
      const view = document.querySelector('.ag-body-viewport');
      const box = view.getBoundingClientRect();
      let loaded = 0; const names = [];
      const left = '.ag-pinned-left-cols-container .ag-row[row-index]';
      for (const r of document.querySelectorAll(left)) {
        const b = r.getBoundingClientRect();
        if (b.bottom <= box.top + 1 || b.top >= box.bottom - 1) continue;
        const a = r.querySelector("a[href*='/runs/']");
        if (a) { loaded++; names.push([Number(r.getAttribute('row-index')), a.textContent]); }
      }
      const expected = Math.floor(box.height / 32) - 1;
      return [loaded, Math.max(0, expected - loaded), names];
    }""",
}

#: Scroll ``el`` by ``px`` a frame for ``ms``, bouncing at the ends; frame intervals and the
#: frames that showed placeholder (not yet loaded) rows.
SCROLL_JS = """async ([selector, px, ms]) => {
  const el = document.querySelector(selector);
  const rows = VISIBLE;
  const frames = []; let blank = 0; let dir = 1;
  const start = performance.now(); let last = start;
  await new Promise((resolve) => {
    const step = (now) => {
      frames.push(now - last); last = now;
      if (rows()[1] > 0) blank++;
      if (now - start > ms) { resolve(); return; }
      const next = el.scrollTop + dir * px;
      if (next + el.clientHeight >= el.scrollHeight) dir = -1;
      else if (next <= 0) dir = 1;
      el.scrollTop = next;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  frames.shift();
  return { frames, blank, scrolled: el.scrollTop, start, end: performance.now() };
}"""

#: The metric rows of a run page.
METRIC_ROWS_JS = {
    "cairn": """() => document.querySelectorAll(
        '[role=grid][aria-label=Metrics] [role=row][data-metric]').length""",
    "mlflow": """() => {
      let n = 0;
      for (const c of document.querySelectorAll('[role=row] [role=cell]')) {
        if (/^group_\\d{3}\\/metric_\\d{2}$/.test(c.textContent.trim()) && ++n >= 10) break;
      }
      return n;
    }""",
}

#: Whether the chart of the 5 long series is drawn.
CHART_JS = {
    # uPlot draws on one canvas, created once the series arrived; it has pixels once drawn.
    "cairn": """() => {
      const c = document.querySelector("[data-metric='loss'] canvas");
      if (!c || !c.width || !c.height) return false;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0 && ++inked > 2000) return true;
      return false;
    }""",
    # Plotly draws one SVG path per run; a path of a handful of points is not the series yet.
    "mlflow": """() => [...document.querySelectorAll('.js-plotly-plot .scatterlayer path.js-line')]
        .filter((p) => (p.getAttribute('d') || '').length > 200).length >= 5""",
}


# -- the expected content -----------------------------------------------------------------------


@dataclass
class Expected:
    """What the runs table must show, computed from :func:`seed.run_values`."""

    n: int
    accuracy: list[float]

    @classmethod
    def compute(cls, n: int) -> Expected:
        return cls(n, [seeding.run_values(i)["metrics"]["accuracy"] for i in range(n)])  # type: ignore[index]

    @staticmethod
    def name(i: int) -> str:
        return f"run-{i:06d}"

    def default(self) -> list[str]:
        """Newest first (start time descending): both tools' default order."""
        return [self.name(i) for i in range(self.n - 1, self.n - 1 - FIRST_ROWS, -1)]

    def sorted_by_accuracy(self) -> list[list[str]]:
        """Highest accuracy first; runs of equal accuracy may come in either order."""
        order = sorted(range(self.n), key=lambda i: -self.accuracy[i])
        by_value: dict[float, list[str]] = {}
        for i in order:
            by_value.setdefault(self.accuracy[i], []).append(self.name(i))
        return [by_value[self.accuracy[i]] for i in order[:FIRST_ROWS]]

    def filtered(self) -> list[str]:
        found = [i for i in range(self.n - 1, -1, -1) if self.accuracy[i] > 0.5]
        return [self.name(i) for i in found[:FIRST_ROWS]]

    def at(self, index: int) -> str:
        """The run at row ``index`` in the default order."""
        return self.name(self.n - 1 - index)


# -- measuring ----------------------------------------------------------------------------------


class Timeout(Exception):
    """The page did not show what it should within the time limit."""


@dataclass
class Sample:
    """One timed visit or interaction."""

    ms: float | None
    extra: dict[str, Any] = field(default_factory=dict)
    longest_task_ms: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def wait_for(page: Any, predicate: str, arg: Any = None, timeout_s: float = 60.0) -> float:
    """The page's ``performance.now()`` at the first animation frame where ``predicate``
    holds. Raises :class:`Timeout`."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    script = f"(arg) => {{ const ok = ({predicate})(arg); return ok ? performance.now() : false; }}"
    try:
        handle = page.wait_for_function(script, arg=arg, polling="raf", timeout=timeout_s * 1000)
    except PlaywrightTimeout:
        raise Timeout(f"not shown within {timeout_s:.0f} s") from None
    return float(handle.json_value())


def names_equal(tool: str, first: int = 0) -> str:
    """A predicate: the runs table shows the runs ``want`` from row ``first`` on. An item of
    ``want`` is a name, or a list of names that may stand at that row (equal sort keys)."""
    names = f"({NAMES_JS[tool]})().slice({first}, {first} + want.length)"
    return f"""(want) => {{
      const got = {names};
      return got.length === want.length && new Set(got).size === got.length
        && want.every((w, i) => (Array.isArray(w) ? w.includes(got[i]) : w === got[i]));
    }}"""


def page_facts(page: Any, since: float, until: float) -> tuple[float, list[dict[str, Any]]]:
    """The longest long task running between ``since`` and ``until`` (page ms), and the API
    requests started in that window."""
    facts = page.evaluate(
        """([since, until]) => ({
          tasks: window.__bench.longtasks.filter(([s, d]) => s + d >= since && s <= until),
          requests: performance.getEntriesByType('resource')
            .filter((e) => /ajax-api|graphql/.test(e.name)
              && e.startTime >= since - 1 && e.startTime <= until)
            .map((e) => ({
              url: e.name.replace(location.origin, '').slice(0, 160),
              start: Math.round(e.startTime), end: Math.round(e.responseEnd),
              wait: Math.round(e.responseStart - e.requestStart),
              bytes: e.encodedBodySize,
            })),
        })""",
        [since, until],
    )
    longest = max((d for _s, d in facts["tasks"]), default=0.0)
    return float(longest), facts["requests"]


@dataclass
class Setup:
    tool: str
    url: str
    manifest: dict[str, Any]
    expected: Expected
    timeout_s: float
    ids: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.ids = self.manifest[self.tool]

    # URLs of the views, the closest equivalents in each UI.
    def runs_url(self) -> str:
        exp = self.ids["experiments"]["runs"]
        if self.tool == "cairn":
            return f"{self.url}/#/experiments/{exp}"
        return f"{self.url}/#/experiments/{exp}/runs"

    def run_url(self) -> str:
        run = self.ids["keys_run"]
        if self.tool == "cairn":
            return f"{self.url}/#/runs/{run}?tab=metrics"
        return f"{self.url}/#/experiments/{self.ids['experiments']['keys']}/runs/{run}"

    def chart_url(self) -> str:
        if self.tool == "cairn":
            return f"{self.url}/#/compare?runs={','.join(self.ids['series_runs'])}&tab=charts"
        exp = self.ids["experiments"]["points"]
        return f"{self.url}/#/experiments/{exp}/runs?compareRunsMode=CHART"


def _open(setup: Setup, context: Any, url: str, wanted: str, arg: Any = None) -> tuple[Any, float]:
    """A fresh page navigated to ``url``; returns it and the ms until ``wanted`` held."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)[:300]))
    page.__bench_errors = errors  # type: ignore[attr-defined]
    page.goto(url, wait_until="commit")
    shown = wait_for(page, wanted, arg, setup.timeout_s)
    return page, shown


def _finish(page: Any, since: float, shown: float, **extra: Any) -> Sample:
    """The sample of something that started at ``since`` and showed at ``shown`` (page ms):
    the time between, and the long tasks and requests from ``since`` until ``SETTLE_MS``
    after ``shown``."""
    page.wait_for_timeout(SETTLE_MS)
    longest, requests = page_facts(page, since, shown + SETTLE_MS)
    ms = extra.pop("ms", shown - since)
    extra.update(since=round(since), shown=round(shown))
    return Sample(ms, extra, longest, requests, list(page.__bench_errors))


def _event(page: Any, event: str) -> float:
    """When the last click or Enter key was dispatched (page ms)."""
    start = page.evaluate(f"window.__bench.events.{event}")
    if start is None:
        raise RuntimeError(f"no {event} event was recorded")
    return float(start)


#: cairn's first page comes before the metric and param columns are known (they follow
#: ``/runs/keys``): the first row once its accuracy, loss, lr, model and seed cells are there.
CAIRN_COLUMNS_JS = """() => {
  const row = [...document.querySelectorAll('[data-testid=runs-grid] [role=row][data-run-id]')]
    .find((r) => parseFloat(r.style.top) === 0);
  return !!row && row.querySelectorAll('[role=gridcell]').length >= 11;
}"""


def measure_runs_load(setup: Setup, context: Any) -> tuple[Sample, Any]:
    page, shown = _open(
        setup, context, setup.runs_url(), names_equal(setup.tool), setup.expected.default()
    )
    extra = {}
    if setup.tool == "cairn":
        extra["columns_ms"] = wait_for(page, CAIRN_COLUMNS_JS, None, setup.timeout_s)
    return _finish(page, 0.0, shown, **extra), page


def measure_runs_sort(setup: Setup, context: Any) -> tuple[Sample, Any]:
    page, _ = _open(
        setup, context, setup.runs_url(), names_equal(setup.tool), setup.expected.default()
    )
    if setup.tool == "cairn":
        header = page.get_by_role("columnheader").filter(has_text="accuracy")
        target = header.get_by_role("button", name=re.compile("^accuracy"))
    else:
        page.get_by_role("button", name=re.compile("^Sort:")).click()
        target = page.locator("[data-testid=sort-select-accuracy]")
        target.wait_for()
    page.evaluate("window.__bench.events = {}")
    target.click()
    shown = wait_for(
        page, names_equal(setup.tool), setup.expected.sorted_by_accuracy(), setup.timeout_s
    )
    return _finish(page, _event(page, "click"), shown), page


def measure_runs_filter(setup: Setup, context: Any) -> tuple[Sample, Any]:
    page, _ = _open(
        setup, context, setup.runs_url(), names_equal(setup.tool), setup.expected.default()
    )
    if setup.tool == "cairn":
        box = page.get_by_label("Filter runs")
    else:
        box = page.get_by_placeholder(re.compile("^metrics.rmse"))
    box.click()
    box.fill(FILTER)
    if setup.tool == "mlflow":
        # Its autocompletion list opens as one types, and Enter would pick a suggestion:
        # close it first, as a user does.
        page.wait_for_timeout(500)
        box.press("Escape")
        page.wait_for_timeout(200)
    page.evaluate("window.__bench.events = {}")
    box.press("Enter")
    shown = wait_for(page, names_equal(setup.tool), setup.expected.filtered(), setup.timeout_s)
    return _finish(page, _event(page, "enter"), shown), page


def _rows_at(tool: str) -> str:
    """A predicate: the visible rows are loaded and are the runs expected at their index."""
    return f"""(n) => {{
      const [loaded, blank, names] = ({VISIBLE_ROWS_JS[tool]})();
      return loaded > 5 && blank === 0 && names.every(([i, name]) =>
        name === 'run-' + String(n - 1 - i).padStart(6, '0'));
    }}"""


def _scroll_to_row(page: Any, tool: str, row: int) -> float:
    """Scroll the table so ``row`` is at the top; the page time when it was set."""
    return float(
        page.evaluate(
            """([selector, top]) => {
              const el = document.querySelector(selector);
              el.scrollTop = top;
              return performance.now();
            }""",
            [SCROLLER[tool], row * 34],
        )
    )


def measure_runs_next(setup: Setup, context: Any) -> tuple[Sample, Any]:
    """The 100 runs after the first 100: cairn scrolls to them (its next page is fetched as
    it comes into view), MLflow's table ends at 100 rows with a "Load more" button."""
    n = setup.expected.n
    page, _ = _open(
        setup, context, setup.runs_url(), names_equal(setup.tool), setup.expected.default()
    )
    if setup.tool == "cairn":
        started = _scroll_to_row(page, "cairn", 110)
        shown = wait_for(page, _rows_at("cairn"), n, setup.timeout_s)
        return _finish(page, started, shown, how="scroll to row 110"), page
    page.evaluate(
        "(s) => { const el = document.querySelector(s); el.scrollTop = el.scrollHeight; }",
        SCROLLER["mlflow"],
    )
    more = page.get_by_role("button", name="Load more")
    more.wait_for()
    page.evaluate("window.__bench.events = {}")
    more.click()
    want = [setup.expected.at(i) for i in range(100, 100 + FIRST_ROWS)]
    shown = wait_for(page, names_equal("mlflow", 100), want, setup.timeout_s)
    return _finish(page, _event(page, "click"), shown, how="Load more"), page


def measure_runs_jump(setup: Setup, context: Any) -> tuple[Sample, Any]:
    """Drag the scrollbar to the middle of the table: the rows there must show."""
    n = setup.expected.n
    if setup.tool == "mlflow":
        raise NotApplicable(
            f"MLflow's table holds the runs loaded so far (100 per Load more): row {n // 2:,} "
            f"takes {n // 200:,} clicks"
        )
    page, _ = _open(
        setup, context, setup.runs_url(), names_equal(setup.tool), setup.expected.default()
    )
    started = _scroll_to_row(page, "cairn", n // 2)
    shown = wait_for(page, _rows_at("cairn"), n, setup.timeout_s)
    return _finish(page, started, shown, row=n // 2), page


def measure_runs_scroll(setup: Setup, context: Any) -> tuple[Sample, Any]:
    """Scroll continuously (SCROLL_PX a frame) and sample the frame intervals."""
    page, _ = _open(
        setup, context, setup.runs_url(), names_equal(setup.tool), setup.expected.default()
    )
    page.wait_for_timeout(500)
    script = SCROLL_JS.replace("VISIBLE", VISIBLE_ROWS_JS[setup.tool])
    result = page.evaluate(script, [SCROLLER[setup.tool], SCROLL_PX, SCROLL_MS])
    frames = sorted(result["frames"])
    sample = _finish(
        page,
        result["start"],
        result["end"],
        ms=frames[int(0.95 * (len(frames) - 1))],
        frames=len(frames),
        median_frame_ms=statistics.median(frames),
        max_frame_ms=frames[-1],
        janky_frames=sum(1 for f in frames if f > 50),
        blank_frames=result["blank"],
        scrolled_px=result["scrolled"],
    )
    return sample, page


def measure_run_metrics(setup: Setup, context: Any) -> tuple[Sample, Any]:
    page, shown = _open(
        setup, context, setup.run_url(), f"() => ({METRIC_ROWS_JS[setup.tool]})() >= 10"
    )
    return _finish(page, 0.0, shown), page


def measure_chart(setup: Setup, context: Any) -> tuple[Sample, Any]:
    page, shown = _open(setup, context, setup.chart_url(), CHART_JS[setup.tool])
    return _finish(page, 0.0, shown), page


class NotApplicable(Exception):
    """The view has no equivalent in this UI."""


MEASURES: dict[str, Callable[[Setup, Any], tuple[Sample, Any]]] = {
    "runs_load": measure_runs_load,
    "runs_sort": measure_runs_sort,
    "runs_filter": measure_runs_filter,
    "runs_next": measure_runs_next,
    "runs_jump": measure_runs_jump,
    "runs_scroll": measure_runs_scroll,
    "run_metrics": measure_run_metrics,
    "chart": measure_chart,
}


# -- driver -------------------------------------------------------------------------------------


def _server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "CAIRN_"))}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return env


@contextlib.contextmanager
def serving(tool: str, base: Path) -> Iterator[servers.Server]:
    spec = servers.spec_for(tool, PYTHONS[tool], WORKERS[tool], _server_env())
    store = base / tool
    with servers.running_server(spec, store, base / f"{tool}-server.log") as server:
        yield server


def _summary(samples: list[Sample], timeout_s: float) -> dict[str, Any]:
    values = [s.ms for s in samples if s.ms is not None]
    out: dict[str, Any] = {
        "samples": [
            {
                "ms": s.ms,
                "longest_task_ms": s.longest_task_ms,
                **s.extra,
                "requests": s.requests,
                "errors": s.errors,
            }
            for s in samples
        ],
        "timeouts": sum(1 for s in samples if s.ms is None),
        "timeout_s": timeout_s,
        "longest_task_ms": max((s.longest_task_ms for s in samples), default=0.0),
    }
    if values and len(values) == len(samples):
        out["median_ms"] = statistics.median(values)
    for key in (
        "median_frame_ms",
        "max_frame_ms",
        "janky_frames",
        "blank_frames",
        "frames",
        "columns_ms",
    ):
        found = [s.extra[key] for s in samples if key in s.extra]
        if found:
            out[key] = statistics.median(found)
    return out


def measure_tool(
    tool: str,
    manifest: dict[str, Any],
    base: Path,
    expected: Expected,
    cases: list[str],
    repeat: int,
    timeout_s: float,
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    prefs = MLFLOW_PREFS if tool == "mlflow" else {}
    init = INIT_SCRIPT.replace("PREFS", json.dumps(prefs))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        server_cm = serving(tool, base)
        server = server_cm.__enter__()
        try:
            for case in cases:
                setup = Setup(tool, server.url, manifest, expected, timeout_s)
                context = browser.new_context(viewport=VIEWPORT)
                context.add_init_script(init)
                context.set_default_timeout(timeout_s * 1000)
                samples: list[Sample] = []
                cold: Sample | None = None
                note = ""
                try:
                    for attempt in range(repeat + 1):
                        label = "cold" if attempt == 0 else f"#{attempt}"
                        shot = SCREENSHOTS / f"{tool}-{case}.png"
                        try:
                            sample, page = MEASURES[case](setup, context)
                            if attempt == repeat:
                                page.screenshot(path=str(shot))
                        except NotApplicable as err:
                            note = str(err)
                            break
                        except Timeout as err:
                            sample = Sample(None, {"timeout": str(err)})
                            if context.pages:
                                with contextlib.suppress(Exception):
                                    context.pages[-1].screenshot(path=str(shot))
                        finally:
                            for open_page in context.pages:
                                open_page.close()
                        shown = "—" if sample.ms is None else f"{sample.ms:,.0f} ms"
                        print(
                            f"[{tool}] {case} {label}: {shown}"
                            f" (longest task {sample.longest_task_ms:,.0f} ms)"
                            + (f" {sample.extra['timeout']}" if sample.ms is None else ""),
                            flush=True,
                        )
                        if attempt == 0:
                            cold = sample
                        else:
                            samples.append(sample)
                        if sample.ms is None and tool == "mlflow":
                            # The server keeps computing the abandoned request: start afresh so
                            # the next visit does not queue behind it.
                            server_cm.__exit__(None, None, None)
                            server_cm = serving(tool, base)
                            server = server_cm.__enter__()
                            setup = Setup(tool, server.url, manifest, expected, timeout_s)
                finally:
                    context.close()
                if note:
                    results[case] = {"not_applicable": note}
                    print(f"[{tool}] {case}: n/a ({note})", flush=True)
                    continue
                results[case] = _summary(samples, timeout_s)
                if cold is not None:
                    results[case]["cold_ms"] = cold.ms
        finally:
            server_cm.__exit__(None, None, None)
            browser.close()
    return results


def machine_info() -> dict[str, Any]:
    def version(python: Path, dist: str) -> str:
        code = f"import importlib.metadata as m; print(m.version({dist!r}))"
        try:
            out = subprocess.run(
                [str(python), "-c", code], capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return "?"
        return out.stdout.strip()

    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    chromium = subprocess.run(
        [str(CHROMIUM), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "chromium": chromium,
        "playwright": version(PYTHONS["cairn"], "playwright"),
        "cairn": version(PYTHONS["cairn"], "cairn"),
        "mlflow": version(PYTHONS["mlflow"], "mlflow"),
    }


# -- the report ---------------------------------------------------------------------------------

SECOND = ("≤ 1 s", 1000.0)
FRAME = ("≤ 50 ms", 50.0)
TASK = (f"< {FREEZE_MS} ms", float(FREEZE_MS))
NO_TARGET = ("—", None)
#: The rows of the table: case, field of its summary, target, label.
ROWS = (
    ("runs_load", "median_ms", SECOND, "{runs} runs: first rows shown after navigation"),
    ("runs_sort", "median_ms", SECOND, "{runs} runs: sort by a metric (click until rows)"),
    ("runs_filter", "median_ms", SECOND, f"{{runs}} runs: filter `{FILTER}` (Enter until rows)"),
    (
        "runs_next",
        "median_ms",
        SECOND,
        "{runs} runs: rows 101-200 (cairn: scroll, MLflow: Load more)",
    ),
    ("runs_jump", "median_ms", SECOND, "{runs} runs: jump to the middle row (until rows shown)"),
    ("runs_scroll", "median_ms", FRAME, "{runs} runs: continuous scroll, p95 frame time"),
    ("runs_scroll", "blank_frames", NO_TARGET, "{runs} runs: scroll frames with placeholder rows"),
    ("runs_load", "longest_task_ms", TASK, "{runs} runs: longest main-thread task, load"),
    ("runs_sort", "longest_task_ms", TASK, "{runs} runs: longest main-thread task, sort"),
    ("runs_filter", "longest_task_ms", TASK, "{runs} runs: longest main-thread task, filter"),
    ("runs_scroll", "longest_task_ms", TASK, "{runs} runs: longest main-thread task, scroll"),
    ("run_metrics", "median_ms", SECOND, "run with {keys} metric keys: metrics shown"),
    ("run_metrics", "longest_task_ms", TASK, "run with {keys} metric keys: longest task"),
    ("chart", "median_ms", SECOND, "chart of 5 runs x {points} points: drawn"),
    ("chart", "longest_task_ms", NO_TARGET, "chart of 5 runs x {points} points: longest task"),
)


def _fmt_ms(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"


def _cell(entry: dict[str, Any] | None, key: str) -> tuple[str, float | None]:
    if entry is None:
        return "not measured", None
    if "not_applicable" in entry:
        return "n/a", None
    if entry.get("timeouts") and key in ("median_ms", "longest_task_ms"):
        n = len(entry["samples"])
        text = f"did not load within {entry['timeout_s']:.0f} s"
        if entry["timeouts"] < n:
            text += f" ({entry['timeouts']} of {n})"
        if key == "longest_task_ms":
            return "—", None
        return text, None
    value = entry.get(key)
    if value is None:
        return "—", None
    if key == "blank_frames":
        return f"{value:.0f} of {entry.get('frames', 0):.0f}", float(value)
    return _fmt_ms(float(value)), float(value)


def render(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    fill = {
        "runs": f"{sizes['runs']:,}",
        "keys": f"{sizes['keys']:,}",
        "points": f"{sizes['points']:,}",
    }
    m = results["machine"]
    lines = [
        f"Measured by `python bench/ui/measure.py{' --quick' if results.get('quick') else ''}`"
        f" on {m['date']}.",
        "",
        f"- Machine: {m['cpu_model']}, {m['cpu_count']} CPUs, {m['memory_gib']} GiB, "
        f"{m['platform']}",
        f"- Browser: {m['chromium']}, headless, driven by Playwright {m['playwright']}; "
        f"viewport {VIEWPORT['width']}x{VIEWPORT['height']}",
        f"- cairn {m['cairn']} (`cairn server`, 1 worker) vs MLflow {m['mlflow']} "
        "(`mlflow server`, SQLite, 4 workers): each with its defaults",
        f"- Median of {results['repeat']} visits, each in a fresh page after one untimed "
        "warm-up visit; times are from the page's own clock",
        "",
        "| case | cairn | MLflow | ratio (x faster) | target (cairn) | met? |",
        "|---|---|---|---|---|---|",
    ]
    for case, key, (target, limit), label in ROWS:
        per_tool = results["cases"].get(case, {})
        cairn_text, cairn_value = _cell(per_tool.get("cairn"), key)
        mlflow_text, mlflow_value = _cell(per_tool.get("mlflow"), key)
        ratio = ""
        if key == "median_ms" and cairn_value and mlflow_value and case != "runs_scroll":
            ratio = f"{mlflow_value / cairn_value:,.1f}x"
        elif key == "median_ms" and cairn_value and mlflow_text.startswith("did not"):
            ratio = f"> {per_tool['mlflow']['timeout_s'] * 1000 / cairn_value:,.0f}x"
        met = ""
        if limit is not None and cairn_value is not None:
            ok = cairn_value < limit if key == "longest_task_ms" else cairn_value <= limit
            met = "yes" if ok else "**no**"
        elif limit is not None:
            met = "—"
        lines.append(
            f"| {label.format(**fill)} | {cairn_text} | {mlflow_text} | {ratio} | "
            f"{target} | {met} |"
        )
    lines += ["", *slowest_requests(results)]
    return "\n".join(lines) + "\n"


def slowest_requests(results: dict[str, Any]) -> list[str]:
    """Where the time goes: per case and tool, the API request that took longest among those
    the page waited for (finished before the view showed), median over the visits of its
    duration and of its time to first byte (the server's part)."""
    lines = [
        "Where the time goes: the slowest API request each view waited for (it finished before"
        " the view showed; median over the visits; total = request start to last byte,"
        " server = time to first byte):",
        "",
        "| case | tool | slowest request | total | server | size |",
        "|---|---|---|---|---|---|",
    ]
    for case in CASES:
        for tool in TOOLS:
            entry = results["cases"].get(case, {}).get(tool)
            if not entry or not entry.get("samples"):
                continue
            picked = []
            for sample in entry["samples"]:
                shown = sample.get("shown", float("inf"))
                found = [r for r in sample["requests"] if r["end"] <= shown + 1]
                if found:
                    picked.append(max(found, key=lambda r: r["end"] - r["start"]))
            if not picked:
                continue
            path = statistics.mode(r["url"].split("?")[0] for r in picked)
            same = [r for r in picked if r["url"].split("?")[0] == path]
            total = statistics.median(r["end"] - r["start"] for r in same)
            wait = statistics.median(r["wait"] for r in same)
            size = statistics.median(r["bytes"] for r in same)
            lines.append(
                f"| {case} | {tool} | `{path}` | {_fmt_ms(total)} | {_fmt_ms(wait)} | "
                f"{size / 1024:,.0f} KiB |"
            )
    return lines


def update_readme(table: str) -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.find(MARK_START), text.find(MARK_END)
    if start < 0 or end < 0:
        raise SystemExit(f"{README} has no {MARK_START} ... {MARK_END} section")
    text = text[: start + len(MARK_START)] + "\n" + table + text[end:]
    README.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the smaller data set")
    parser.add_argument("--reuse", action="store_true", help="keep a seeded data set")
    parser.add_argument("--root", type=Path, default=seeding.DEFAULT_ROOT)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per visit")
    parser.add_argument("--only", help=f"comma-separated cases: {','.join(CASES)}")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--update-readme", action="store_true")
    parser.add_argument("--from-json", type=Path, help="render a saved run, measure nothing")
    args = parser.parse_args(argv)

    if args.from_json:
        results = json.loads(args.from_json.read_text(encoding="utf-8"))
    else:
        if not CHROMIUM.exists() or shutil.which("chromium") is None:
            raise SystemExit("Chromium is not installed: apt-get install chromium")
        if not WEBUI.is_file():
            raise SystemExit(f"cairn's web UI is not built ({WEBUI} is missing): run `make ui`")
        mlflow_env.ensure_mlflow_venv()
        sizes = seeding.QUICK if args.quick else seeding.FULL
        manifest = seeding.seed(args.root, sizes, reuse=args.reuse)
        base = seeding.paths(args.root, sizes)["base"]
        cases = args.only.split(",") if args.only else list(CASES)
        unknown = set(cases) - set(CASES)
        if unknown:
            raise SystemExit(f"unknown cases: {', '.join(sorted(unknown))}")
        expected = Expected.compute(sizes.runs)
        results = {
            "machine": machine_info(),
            "quick": args.quick,
            "sizes": manifest["sizes"],
            "repeat": args.repeat,
            "data": str(base),
            "cases": {},
        }
        for tool in args.tools.split(","):
            load = [round(x, 2) for x in os.getloadavg()]
            found = measure_tool(tool, manifest, base, expected, cases, args.repeat, args.timeout)
            results.setdefault("load_average", {})[tool] = {
                "before": load,
                "after": [round(x, 2) for x in os.getloadavg()],
            }
            for case, entry in found.items():
                results["cases"].setdefault(case, {})[tool] = entry
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=1), encoding="utf-8")
        print(f"results: {args.output}")
    table = render(results)
    print(table)
    if args.update_readme:
        update_readme(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
