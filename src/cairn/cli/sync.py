"""``cairn sync``: send the data kept in the offline spool to its tracking server.

When a tracking server stays unreachable, what was logged to it is kept on local disk (by
default in ``~/.cache/cairn/spool/<host>_<port>/pending.jsonl``; ``$CAIRN_SPOOL_DIR``
overrides the root) and sent before the next write to that server. This command sends it now
and reports what happened:

    cairn sync --tracking-uri http://127.0.0.1:5000     # that server's spool
    cairn sync                                          # every spool, when the tracking
                                                        # URI is not a server

It exits with status 1 when a server is still unreachable (its data stays kept). Entries the
server refuses (a run deleted in the meantime, say) are moved to ``rejected.jsonl`` beside the
spool and reported.
"""

from __future__ import annotations

import click

from cairn.cli._common import CliError, plural, tracking_state


@click.command()
@click.option(
    "--tracking-uri",
    default=None,
    metavar="URI",
    help="The tracking server whose spool to send (default: cairn's --tracking-uri; when "
    "that is not a server, every server that has a spool).",
)
@click.pass_context
def sync(ctx: click.Context, tracking_uri: str | None) -> None:
    """Send data kept while a tracking server was unreachable."""
    from cairn.store._rest_spool import Spool, find_spools, spool_root
    from cairn.store.registry import resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri or tracking_state(ctx).tracking_uri)
    if uri.startswith(("http://", "https://")):
        spools = [Spool(uri)]
    else:
        spools = find_spools()
        if not spools:
            click.echo(f"Nothing to sync: no spool under {spool_root()}")
            return
    problems = [problem for spool in spools if (problem := _sync_one(spool.server_uri))]
    if problems:
        raise CliError(" ".join(problems))


def _sync_one(uri: str) -> str | None:
    """Replay one server's spool and print the outcome; returns the problem, if any."""
    from cairn.store.rest import RestTrackingStore

    store = RestTrackingStore(uri)
    try:
        report = store.sync()
    finally:
        store.close()
    sent, rejected = report.sent, report.rejected
    if not (sent.entries or rejected.entries or report.stopped):
        click.echo(f"{uri}: nothing waiting")
        return None
    if sent.entries:
        click.echo(f"{uri}: sent {plural(sent.entries, 'request')} ({sent.describe()})")
    if rejected.entries:
        click.echo(
            f"{uri}: the server refused {plural(rejected.entries, 'request')} "
            f"({rejected.describe()}); moved to {store.spool.rejected_path}. First refusal: "
            f"{report.first_rejection}"
        )
    if report.stopped is not None:
        click.echo(
            f"{uri}: {plural(report.waiting, 'request')} still waiting in {store.spool.path}"
        )
        return f"{uri}: {report.stopped}"
    return None
