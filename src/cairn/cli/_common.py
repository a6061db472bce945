"""What every ``cairn`` command shares: the tracking URI in the click context, the way errors
are shown, output helpers (rich consoles, JSON) and the small value parsers.

Commands get their client from the context::

    @click.command()
    @click.pass_context
    def show(ctx: click.Context) -> None:
        client = get_client(ctx)
        ...

Nothing here imports rich, SQLAlchemy or the store at module level, so ``cairn --help`` stays
fast; the helpers import what they need when called.
"""

from __future__ import annotations

import errno
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cairn.errors import CairnError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from cairn.client import Client
    from cairn.entities import Experiment, Run

F = TypeVar("F", bound=Callable[..., Any])

#: ``--view`` choices and the ViewType names they stand for.
VIEWS = {"active": "ACTIVE_ONLY", "deleted": "DELETED_ONLY", "all": "ALL"}


@dataclass(frozen=True)
class CliState:
    """What the ``cairn`` group hands its subcommands (``ctx.obj``)."""

    tracking_uri: str


class CliError(click.ClickException):
    """An error shown as one ``Error: <message>`` line on stderr, exit code 1."""

    def __init__(self, message: str) -> None:
        # Store messages may span lines; a CLI error reads best as one line.
        super().__init__(" ".join(part.strip() for part in message.splitlines() if part.strip()))


class CairnGroup(click.Group):
    """A click group that turns cairn's errors into clean one-line messages.

    Catching here (around every subcommand) rather than in each command keeps commands free of
    try/except boilerplate; anything that is not a cairn or OS error still shows its traceback,
    because that is a bug worth seeing.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CairnError as err:
            raise CliError(err.message) from err
        except OSError as err:
            if err.errno == errno.EPIPE:
                raise  # output piped into `head` and closed: click exits quietly on this
            raise CliError(str(err)) from err


def tracking_state(ctx: click.Context) -> CliState:
    """The :class:`CliState` the root group stored (a default one when run standalone)."""
    state = ctx.find_object(CliState)
    if state is None:  # a subcommand invoked on its own, e.g. from a test
        from cairn.store.registry import DEFAULT_TRACKING_URI

        state = CliState(DEFAULT_TRACKING_URI)
    return state


def get_client(ctx: click.Context) -> Client:
    """A :class:`~cairn.client.Client` for the tracking URI given to ``cairn``."""
    from cairn.client import Client

    return Client(tracking_uri=tracking_state(ctx).tracking_uri)


# -- options ----------------------------------------------------------------------------------


def json_option(func: F) -> F:
    """``--json``: print machine-readable JSON on stdout instead of a table."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table."
    )(func)


def view_option(what: str) -> Callable[[F], F]:
    """``--view active|deleted|all`` for listings of ``what``."""

    def decorate(func: F) -> F:
        return click.option(
            "--view",
            type=click.Choice(list(VIEWS), case_sensitive=False),
            default="active",
            show_default=True,
            help=f"Which {what} to list, by lifecycle stage.",
        )(func)

    return decorate


def view_type(view: str) -> int:
    """The :class:`~cairn.entities.ViewType` for a ``--view`` choice."""
    from cairn.entities import ViewType

    return ViewType.from_string(VIEWS[view.lower()])


def split_csv(values: str | Sequence[str] | None) -> list[str]:
    """Items of comma-separated option values, blanks dropped, order and duplicates kept once.

    >>> split_csv(("a,b", "c", " b "))
    ['a', 'b', 'c']
    """
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    items: dict[str, None] = {}
    for value in values:
        for item in value.split(","):
            if item.strip():
                items[item.strip()] = None
    return list(items)


_AGE = re.compile(r"^\s*(\d+)\s*([dhms]?)\s*$", re.IGNORECASE)
_AGE_UNITS_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1_000, "": 1_000}


if TYPE_CHECKING:
    # click 8.2+ types ParamType by its value; older clicks cannot subscript it at run time.
    _IntParamType = click.ParamType[int]
else:
    _IntParamType = click.ParamType


class AgeType(_IntParamType):
    """An age such as ``30d``, ``12h``, ``90m``, ``45s`` or ``0``, converted to milliseconds.

    >>> AgeType().convert("12h", None, None)
    43200000
    """

    name = "age"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = _AGE.match(str(value))
        if match is None:
            self.fail(
                f"{value!r} is not an age; use a number with a unit, e.g. 30d, 12h, 90m, 45s or 0",
                param,
                ctx,
            )
        number, unit = match.groups()
        return int(number) * _AGE_UNITS_MS[unit.lower()]


def parse_key_values(values: Sequence[str], option: str) -> dict[str, str]:
    """``("k=v", ...)`` as a dict. Raises click.BadParameter naming ``option`` for bad items."""
    pairs: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=option)
        pairs[key.strip()] = value
    return pairs


# -- lookups ----------------------------------------------------------------------------------


def resolve_experiment(client: Client, id_or_name: str) -> Experiment:
    """The experiment with id ``id_or_name``, else the one with that name.

    An id wins over a name when an experiment is named like another one's id.
    Raises ExperimentNotFound when neither matches.
    """
    from cairn.errors import ExperimentNotFound

    if id_or_name.isdigit():
        try:
            return client.get_experiment(id_or_name)
        except ExperimentNotFound:
            pass
    experiment = client.get_experiment_by_name(id_or_name)
    if experiment is None:
        raise ExperimentNotFound(
            f"No experiment with id or name {id_or_name!r} (see: cairn experiments list)",
            experiment_id=id_or_name,
        )
    return experiment


def iter_runs(
    client: Client,
    experiment_ids: Sequence[str],
    *,
    view: int,
    filter_string: str = "",
    order_by: Sequence[str] | None = None,
    limit: int | None = None,
) -> Iterator[Run]:
    """Matching runs, page after page, up to ``limit`` (all when None)."""
    from cairn.validation import MAX_SEARCH_RESULTS

    token: str | None = None
    seen = 0
    while limit is None or seen < limit:
        size = MAX_SEARCH_RESULTS if limit is None else min(MAX_SEARCH_RESULTS, limit - seen)
        page = client.search_runs(experiment_ids, filter_string, view, size, order_by, token)
        yield from page
        seen += len(page)
        token = page.token
        if not token:
            return


def iter_experiments(
    client: Client, *, view: int, filter_string: str | None = None
) -> Iterator[Experiment]:
    """Every matching experiment, page after page."""
    token: str | None = None
    while True:
        page = client.search_experiments(view, 1000, filter_string, None, token)
        yield from page
        token = page.token
        if not token:
            return


# -- output -----------------------------------------------------------------------------------


def console(width: int | None = None) -> Console:
    """A rich console on stdout (rich itself honours ``NO_COLOR`` and ``COLUMNS``);
    ``width`` overrides the terminal's width."""
    from rich.console import Console

    return Console(width=width)


def err_console() -> Console:
    """A rich console on stderr, for progress and notes that must not pollute stdout."""
    from rich.console import Console

    return Console(stderr=True)


def add_plain_row(table: Table, *values: str | Text) -> None:
    """Add a row whose string cells are shown verbatim: names and values are user data, and
    rich would otherwise read ``[bold]`` or ``[/]`` in them as markup. ``Text`` cells (already
    styled) pass through."""
    from rich.text import Text

    table.add_row(*(Text(value) if isinstance(value, str) else value for value in values))


#: How run statuses are coloured (dropped under ``NO_COLOR``).
STATUS_STYLES = {
    "FINISHED": "green",
    "RUNNING": "yellow",
    "SCHEDULED": "blue",
    "FAILED": "red",
    "KILLED": "red",
}


def styled_status(status: str) -> Text:
    """A run status, coloured by :data:`STATUS_STYLES`."""
    from rich.text import Text

    return Text(status, style=STATUS_STYLES.get(status, ""))


def jsonable(value: Any) -> Any:
    """``value`` with NaN and infinities spelled as strings, as protobuf's JSON mapping does,
    so the output is strict JSON that any parser reads."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def echo_json(value: Any) -> None:
    """Print ``value`` as indented, strict JSON on stdout."""
    click.echo(json.dumps(jsonable(value), indent=2, allow_nan=False))


def format_time(ms: int | None, *, zone: bool = False, seconds: bool = True) -> str:
    """Epoch milliseconds as readable local time (``""`` for None).

    ``zone=True`` appends the zone's abbreviation (for detail views, where width is cheap);
    ``seconds=False`` drops the seconds (for wide tables, where it is not).
    """
    if ms is None:
        return ""
    stamp = datetime.fromtimestamp(ms / 1000).astimezone()
    fmt = "%Y-%m-%d %H:%M" + (":%S" if seconds else "") + (" %Z" if zone else "")
    return stamp.strftime(fmt)


def format_duration(ms: int | None) -> str:
    """A duration for people: ``850ms``, ``12.3s``, ``4m 05s``, ``2h 03m``, ``3d 04h``.

    >>> format_duration(245_000), format_duration(None)
    ('4m 05s', '')
    """
    if ms is None or ms < 0:
        return ""
    if ms < 1_000:
        return f"{ms}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def run_duration_ms(run: Run, now_ms: int) -> int | None:
    """How long a run took; for a run still RUNNING, how long it has been running."""
    info = run.info
    if info.end_time is not None:
        return info.end_time - info.start_time
    if info.status == "RUNNING":
        return now_ms - info.start_time
    return None


def format_metric(value: float) -> str:
    """A metric value in at most 6 significant digits (``nan``/``inf`` as such)."""
    return f"{value:.6g}"


def plural(count: int, noun: str) -> str:
    """``plural(1, "run") == "1 run"``, ``plural(2, "run") == "2 runs"``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
