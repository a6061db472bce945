"""``cairn models``: serve a model, score a file with it, show its requirements.

    cairn models serve -m runs:/<run_id>/model --port 5001 --workers 2
    cairn models serve -m ./model --trusted-type sklearn.tree._tree.Tree
    cairn models predict -m models:/m-0a1b... -i rows.csv -o predictions.json
    cairn models env -m ./model                     # the pip requirements, one per line
    cairn models serve -m ./model --env-manager virtualenv   # in an env built from them

The scoring server speaks MLflow's protocol (``POST /invocations``, ``GET /ping``,
``/health``, ``/version``). Models from ``runs:/`` and ``models:/`` URIs are checked against
the digest recorded when they were logged; a model of unknown origin that needs pickle, its
own code or skops types outside the default trusted set needs ``--allow-pickle``,
``--allow-code`` or ``--trusted-type``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cairn.cli._common import tracking_state

if TYPE_CHECKING:
    from cairn.models.pyfunc import LoadedModel

F = TypeVar("F", bound=Callable[..., Any])

ENV_MANAGERS = ("local", "virtualenv")


def _model_options(func: F) -> F:
    """The options every ``cairn models`` command shares."""
    decorators = [
        click.option(
            "-m",
            "--model-uri",
            required=True,
            metavar="URI",
            help="The model: a folder, runs:/<run_id>/<name>, models:/<model_id>, "
            "mlflow-artifacts:/... or an fsspec URL (s3://...).",
        ),
        click.option(
            "--allow-pickle",
            is_flag=True,
            default=None,
            help="Load pickle-based models (pickle, cloudpickle, torch pt2): runs code from "
            "the file. Only for models you trust.",
        ),
        click.option(
            "--allow-code",
            is_flag=True,
            default=None,
            help="Import Python code shipped inside a model whose origin cannot be verified.",
        ),
        click.option(
            "--trusted-type",
            "trusted_types",
            multiple=True,
            metavar="NAME",
            help="A skops type to trust beyond skops' default set (repeatable); the load error "
            "lists the ones a model needs.",
        ),
        click.option("--expected-digest", hidden=True, default=None),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _env_manager_option(func: F) -> F:
    return click.option(
        "--env-manager",
        type=click.Choice(ENV_MANAGERS),
        default="local",
        show_default=True,
        help="local: this Python environment. virtualenv: one built from the model's "
        "requirements (cached under ~/.cache/cairn/envs).",
    )(func)


def _options(
    allow_pickle: bool | None,
    allow_code: bool | None,
    trusted_types: tuple[str, ...],
    expected_digest: str | None,
) -> dict[str, Any]:
    return {
        "allow_pickle": allow_pickle,
        "allow_code": allow_code,
        "trusted_types": list(trusted_types),
        "expected_digest": expected_digest,
    }


def _open(ctx: click.Context, model_uri: str, options: dict[str, Any]) -> LoadedModel:
    from cairn.models.pyfunc import open_model

    return open_model(
        model_uri,
        allow_pickle=options.get("allow_pickle"),
        allow_code=options.get("allow_code"),
        trusted_types=options.get("trusted_types") or None,
        tracking_uri=tracking_state(ctx).tracking_uri,
        expected_digest=options.get("expected_digest"),
    )


def _reexec_in_env(ctx: click.Context, loaded: LoadedModel, argv: Sequence[str]) -> None:
    """Run this same command in the model's virtual environment, on the local copy."""
    from cairn.models.envs import ensure_env

    click.echo(f"Preparing the model's environment ({loaded.path}) ...", err=True)
    python = ensure_env(loaded.path)
    command = [
        str(python),
        "-m",
        "cairn.cli",
        "--tracking-uri",
        tracking_state(ctx).tracking_uri,
        "models",
        *argv,
        "-m",
        str(loaded.path),
        "--env-manager",
        "local",
    ]
    digest = loaded.resolved.expected_digest
    if loaded.policy.verified and digest:
        command += ["--expected-digest", digest]
    if loaded.policy.allow_pickle:
        command.append("--allow-pickle")
    if loaded.policy.allow_code:
        command.append("--allow-code")
    for name in sorted(loaded.policy.trusted_types):
        command += ["--trusted-type", name]
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "nt":  # no exec on Windows: wait for the child and pass its status on
        import subprocess

        raise SystemExit(subprocess.call(command))
    os.execv(command[0], command)


@click.group()
def models() -> None:
    """Serve models, score files with them, show their requirements."""


@models.command()
@_model_options
@_env_manager_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("-p", "--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "-w",
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes, each with its own copy of the model.",
)
@click.option(
    "--max-body-size",
    default=100 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(1),
    metavar="BYTES",
    help="Larger request bodies are refused with 413.",
)
@click.option(
    "--batching/--no-batching",
    default=True,
    show_default=True,
    help="Score concurrent requests to a row-wise model (scikit-learn, XGBoost, LightGBM) in "
    "one call.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    model_uri: str,
    env_manager: str,
    host: str,
    port: int,
    workers: int,
    max_body_size: int,
    batching: bool,
    allow_pickle: bool | None,
    allow_code: bool | None,
    trusted_types: tuple[str, ...],
    expected_digest: str | None,
) -> None:
    """Serve a model over HTTP with MLflow's scoring protocol (POST /invocations)."""
    import uvicorn

    from cairn.cli.server import _check_port
    from cairn.models import serving
    from cairn.models.pyfunc import load_opened

    _check_port(host, port)
    options = _options(allow_pickle, allow_code, trusted_types, expected_digest)
    loaded = _open(ctx, model_uri, options)
    if env_manager == "virtualenv":
        _reexec_in_env(
            ctx,
            loaded,
            [
                "serve",
                "--host",
                host,
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--max-body-size",
                str(max_body_size),
                "--batching" if batching else "--no-batching",
            ],
        )
    model = load_opened(loaded)  # in this process first: a model that cannot load fails here
    serving.freeze_heap()
    config = serving.ScoringConfig(max_body_bytes=max_body_size, batching=batching)
    click.echo(f"cairn scoring server on http://{host}:{port} (model: {model_uri})", err=True)
    if workers == 1:
        uvicorn.run(
            serving.create_scoring_app(model, config),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=10,
        )
        return
    os.environ[serving.ENV_MODEL_PATH] = str(loaded.path)
    os.environ[serving.ENV_OPTIONS] = json.dumps(
        {
            "allow_pickle": loaded.policy.allow_pickle,
            "allow_code": loaded.policy.allow_code,
            "trusted_types": sorted(loaded.policy.trusted_types),
            "expected_digest": loaded.resolved.expected_digest or options.get("expected_digest"),
            "max_body_bytes": max_body_size,
            "batching": batching,
        }
    )
    uvicorn.run(
        "cairn.models.serving:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
    )


@models.command()
@_model_options
@_env_manager_option
@click.option(
    "-i",
    "--input-path",
    default=None,
    metavar="FILE",
    help="Rows to score: .json (a scoring request body), .csv or .parquet; - or nothing for stdin.",
)
@click.option(
    "-o",
    "--output-path",
    default=None,
    metavar="FILE",
    help="Where predictions go: .json, .csv or .parquet; - or nothing for stdout (JSON).",
)
@click.option(
    "-t",
    "--content-type",
    type=click.Choice(["json", "csv", "parquet"]),
    default=None,
    help="Input format, when the file extension does not say it.",
)
@click.option(
    "--output-format",
    type=click.Choice(["json", "csv", "parquet"]),
    default=None,
    help="Output format, when the file extension does not say it.",
)
@click.pass_context
def predict(
    ctx: click.Context,
    model_uri: str,
    env_manager: str,
    input_path: str | None,
    output_path: str | None,
    content_type: str | None,
    output_format: str | None,
    allow_pickle: bool | None,
    allow_code: bool | None,
    trusted_types: tuple[str, ...],
    expected_digest: str | None,
) -> None:
    """Score a file (or stdin) with a model and write the predictions."""
    from cairn.models.predict import predict_file
    from cairn.models.pyfunc import load_opened

    input_path = None if input_path == "-" else input_path  # "-": the standard streams
    output_path = None if output_path == "-" else output_path
    options = _options(allow_pickle, allow_code, trusted_types, expected_digest)
    loaded = _open(ctx, model_uri, options)
    if env_manager == "virtualenv":
        argv = ["predict"]
        for flag, value in (
            ("-i", input_path),
            ("-o", output_path),
            ("-t", content_type),
            ("--output-format", output_format),
        ):
            if value is not None:
                argv += [flag, os.path.abspath(value) if flag in ("-i", "-o") else value]
        _reexec_in_env(ctx, loaded, argv)
    predict_file(load_opened(loaded), input_path, output_path, content_type, output_format)


@models.command()
@click.option("-m", "--model-uri", required=True, metavar="URI", help="The model (any URI).")
@click.pass_context
def env(ctx: click.Context, model_uri: str) -> None:
    """Print the model's pip requirements (its requirements.txt), one per line."""
    from cairn.models.env import read_python_version, read_requirements
    from cairn.models.mlmodel import Model
    from cairn.models.uri import resolve_model_uri

    resolved = resolve_model_uri(model_uri, tracking_uri=tracking_state(ctx).tracking_uri)
    Model.load(resolved.path)  # a folder without MLmodel is an error here too
    for line in read_requirements(resolved.path):
        click.echo(line)
    python = read_python_version(resolved.path)
    if python:
        click.echo(f"# python {python}", err=True)
