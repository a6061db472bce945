"""``cairn server`` (a team tracking server) and ``cairn ui`` (the same over ./mlruns).

    cairn server --backend-store-uri postgresql://cairn@db/cairn \\
                 --artifacts-destination s3://bucket/cairn --host 0.0.0.0 --port 5000 --workers 4
    cairn ui                      # http://127.0.0.1:5000 over ./mlruns

Any MLflow client can use the server as its tracking URI. Artifacts of experiments without an
explicit location are served through it (``mlflow-artifacts:/`` URIs), so clients need no
storage credentials. SIGTERM or Ctrl-C stops it gracefully: requests in flight finish first.
"""

from __future__ import annotations

import errno
import os
import socket

import click

from cairn.cli._common import CliError, tracking_state


def _check_port(host: str, port: int) -> None:
    """Fail early, and clearly, when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise CliError(
                    f"Port {port} on {host} is already in use. Stop what is using it, or "
                    f"choose another port with --port (e.g. --port {port + 1})."
                ) from None
            raise CliError(f"Cannot listen on {host}:{port}: {err.strerror}") from None


def _serve(
    backend_store_uri: str,
    artifacts_destination: str | None,
    host: str,
    port: int,
    workers: int,
    serve_artifacts: bool,
) -> None:
    import uvicorn

    from cairn.server import asgi
    from cairn.server.settings import ServerSettings

    _check_port(host, port)
    # Open the store once here: a bad URI or an outdated database fails before any worker.
    ServerSettings.for_uri(backend_store_uri, artifacts_destination).tracking_store.close()
    os.environ[asgi.BACKEND_ENV] = backend_store_uri
    os.environ[asgi.ARTIFACTS_ENV] = artifacts_destination or ""
    if not serve_artifacts:
        os.environ[asgi.NO_ARTIFACTS_ENV] = "1"
    click.echo(f"cairn tracking server on http://{host}:{port} (store: {backend_store_uri})")
    uvicorn.run(
        "cairn.server.asgi:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        timeout_graceful_shutdown=10,
        access_log=False,
    )


@click.command()
@click.option(
    "--backend-store-uri",
    default="./mlruns",
    show_default=True,
    metavar="URI",
    help="Where runs are stored: a folder, sqlite:///file.db or postgresql://user@host/db.",
)
@click.option(
    "--artifacts-destination",
    default=None,
    metavar="URI",
    help="Where proxied artifacts are stored: a folder or any fsspec URL (s3://bucket/path). "
    "Default: the store's own artifact folder.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes; they share nothing but the store.",
)
@click.option(
    "--serve-artifacts/--no-serve-artifacts",
    default=True,
    show_default=True,
    help="Proxy artifact uploads and downloads through the server.",
)
def server(
    backend_store_uri: str,
    artifacts_destination: str | None,
    host: str,
    port: int,
    workers: int,
    serve_artifacts: bool,
) -> None:
    """Run a tracking server that MLflow clients and cairn can log to."""
    _serve(backend_store_uri, artifacts_destination, host, port, workers, serve_artifacts)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.pass_context
def ui(ctx: click.Context, host: str, port: int) -> None:
    """Serve the local store (the --tracking-uri, default ./mlruns) at http://127.0.0.1:5000."""
    _serve(tracking_state(ctx).tracking_uri, None, host, port, 1, True)
