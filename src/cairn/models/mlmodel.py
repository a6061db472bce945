"""The ``MLmodel`` file: a model directory's YAML description, in MLflow's format.

A model directory holds ``MLmodel`` (flavors, signature, input example reference, ids,
creation time, versions, metadata), the serialized model, ``requirements.txt``,
``python_env.yaml``, ``conda.yaml`` and, when one was given, the input example. MLflow reads
the files cairn writes and the other way round; keys cairn does not know are kept as they are.

    >>> import tempfile
    >>> model = Model()
    >>> _ = model.add_flavor("python_function", loader_module="mlflow.sklearn", model_path="m")
    >>> folder = tempfile.mkdtemp()
    >>> model.save(f"{folder}/MLmodel")
    >>> Model.load(folder).flavors["python_function"]["loader_module"]
    'mlflow.sklearn'

cairn writes ``cairn_version`` and ``cairn_format_version``; a file whose format version is
newer than this cairn understands is refused with an error that says to upgrade.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn._version import __version__
from cairn.models.errors import ModelFormatError

if TYPE_CHECKING:
    from cairn.models.schema import ModelSignature, ParamSchema, Schema

__all__ = ["FORMAT_VERSION", "MLMODEL_FILE_NAME", "Model"]

MLMODEL_FILE_NAME = "MLmodel"
#: The layout of the model directories this cairn writes; bumped on incompatible changes.
FORMAT_VERSION = 1
#: Keys with a meaning here; the rest of an MLmodel file is carried through untouched.
_KNOWN = {
    "artifact_path",
    "run_id",
    "model_id",
    "model_uuid",
    "utc_time_created",
    "flavors",
    "signature",
    "saved_input_example_info",
    "metadata",
    "model_size_bytes",
    "cairn_version",
    "cairn_format_version",
    "mlflow_version",
    "is_signature_from_type_hint",
    "type_hint_from_example",
}


class Model:
    """The content of one ``MLmodel`` file.

    Attributes:
        flavors: flavor name -> its configuration (``python_function``, ``sklearn``...).
        signature: the :class:`~cairn.models.schema.ModelSignature`, or None.
        saved_input_example_info: where the input example is and how it is encoded.
        model_uuid, model_id, run_id, artifact_path: identity; the last three are set when
            the model is logged.
        utc_time_created: ``"YYYY-MM-DD HH:MM:SS.ffffff"`` in UTC, as MLflow writes it.
        cairn_version / mlflow_version: the tool that wrote the file (one of them is None).
        metadata: free-form user metadata.
        extra: keys of the file cairn does not interpret, kept for writing back.
    """

    def __init__(
        self,
        *,
        artifact_path: str | None = None,
        run_id: str | None = None,
        model_id: str | None = None,
        model_uuid: str | None = None,
        utc_time_created: str | None = None,
        flavors: dict[str, dict[str, Any]] | None = None,
        signature: ModelSignature | None = None,
        saved_input_example_info: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        model_size_bytes: int | None = None,
        cairn_version: str | None = __version__,
        mlflow_version: str | None = None,
        format_version: int = FORMAT_VERSION,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.artifact_path = artifact_path
        self.run_id = run_id
        self.model_id = model_id
        self.model_uuid = model_uuid or uuid.uuid4().hex
        self.utc_time_created = utc_time_created or str(
            datetime.now(timezone.utc).replace(tzinfo=None)
        )
        self.flavors: dict[str, dict[str, Any]] = flavors if flavors is not None else {}
        self.signature = signature
        self.saved_input_example_info = saved_input_example_info
        self.metadata = metadata
        self.model_size_bytes = model_size_bytes
        self.cairn_version = cairn_version
        self.mlflow_version = mlflow_version
        self.format_version = format_version
        self.extra = extra or {}

    # -- content ------------------------------------------------------------------------------

    def add_flavor(self, name: str, **config: Any) -> Model:
        """Add (or replace) a flavor's configuration; returns self."""
        self.flavors[name] = dict(config)
        return self

    def get_input_schema(self) -> Schema | None:
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self) -> Schema | None:
        return self.signature.outputs if self.signature is not None else None

    def get_params_schema(self) -> ParamSchema | None:
        return self.signature.params if self.signature is not None else None

    @property
    def written_by(self) -> str:
        """``"cairn 0.1.0"``, ``"mlflow 3.17.2"`` or ``"an unknown tool"``."""
        if self.cairn_version:
            return f"cairn {self.cairn_version}"
        if self.mlflow_version:
            return f"mlflow {self.mlflow_version}"
        return "an unknown tool"

    def load_input_example(self, model_dir: str | os.PathLike[str]) -> Any:
        """The saved input example (as the model takes it), or None when there is none."""
        from cairn.models.example import read_example

        return read_example(self, Path(model_dir))

    # -- (de)serialization -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The mapping written to YAML; None-valued optional keys are left out."""
        result: dict[str, Any] = dict(self.extra)
        result.update(
            {
                "flavors": self.flavors,
                "model_uuid": self.model_uuid,
                "utc_time_created": self.utc_time_created,
                "cairn_format_version": self.format_version,
            }
        )
        optional = {
            "artifact_path": self.artifact_path,
            "run_id": self.run_id,
            "model_id": self.model_id,
            "saved_input_example_info": self.saved_input_example_info,
            "metadata": self.metadata,
            "model_size_bytes": self.model_size_bytes,
            "cairn_version": self.cairn_version,
            "mlflow_version": self.mlflow_version,
        }
        result.update({k: v for k, v in optional.items() if v is not None})
        if self.signature is not None:
            result["signature"] = self.signature.to_dict()
            # MLflow reads these two next to the signature; both are false for cairn's.
            result.setdefault("is_signature_from_type_hint", False)
            result.setdefault("type_hint_from_example", False)
        return result

    def to_yaml(self) -> str:
        import yaml

        text: str = yaml.safe_dump(self.to_dict(), default_flow_style=False)
        return text

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the YAML to ``path`` (the ``MLmodel`` file itself)."""
        Path(path).write_text(self.to_yaml(), encoding="utf-8")

    @classmethod
    def from_dict(cls, data: Any, source: str = "MLmodel") -> Model:
        """Read the mapping of an MLmodel file.

        Raises:
            ModelFormatError: not a mapping, no flavors, a malformed signature, or a format
                version newer than this cairn reads.
        """
        from cairn.models.schema import ModelSignature

        if not isinstance(data, dict):
            raise ModelFormatError(f"{source} is not a YAML mapping; is it an MLmodel file?")
        version = data.get("cairn_format_version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
            raise ModelFormatError(
                f"{source} has format version {version!r}, written by cairn "
                f"{data.get('cairn_version', '?')}; this cairn ({__version__}) reads format "
                f"{FORMAT_VERSION} and older. Upgrade cairn: pip install -U cairn"
            )
        flavors = data.get("flavors")
        if not isinstance(flavors, dict) or not flavors:
            raise ModelFormatError(f"{source} lists no flavors, so there is nothing to load")
        for name, config in flavors.items():
            if not isinstance(config, dict):
                raise ModelFormatError(f"{source}: flavor {name!r} has no configuration mapping")
        signature = None
        if data.get("signature"):
            signature = ModelSignature.from_dict(data["signature"])
        size = data.get("model_size_bytes")
        return cls(
            artifact_path=data.get("artifact_path"),
            run_id=data.get("run_id"),
            model_id=data.get("model_id"),
            model_uuid=data.get("model_uuid"),
            utc_time_created=str(data.get("utc_time_created") or "") or None,
            flavors=flavors,
            signature=signature,
            saved_input_example_info=data.get("saved_input_example_info"),
            metadata=data.get("metadata"),
            model_size_bytes=size if isinstance(size, int) else None,
            cairn_version=data.get("cairn_version"),
            mlflow_version=data.get("mlflow_version"),
            format_version=version,
            extra={k: v for k, v in data.items() if k not in _KNOWN},
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Read ``path``: a model directory or its ``MLmodel`` file.

        Raises:
            ModelFormatError: no MLmodel file there, or one that cannot be read.
        """
        import yaml

        target = Path(path)
        if target.is_dir():
            target = target / MLMODEL_FILE_NAME
        if not target.is_file():
            listing = ""
            if target.parent.is_dir():
                names = sorted(p.name for p in target.parent.iterdir())[:10]
                listing = f" (it holds: {', '.join(names) or 'nothing'})"
            raise ModelFormatError(
                f"No {MLMODEL_FILE_NAME} file in {str(target.parent)!r}{listing}: this is not "
                "a model directory. Point at the folder that save_model/log_model wrote."
            )
        try:
            data = yaml.safe_load(target.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            raise ModelFormatError(f"{target} is not valid YAML: {err}") from None
        return cls.from_dict(data, str(target))


def file_in(model_dir: str | os.PathLike[str], relative: object) -> Path:
    """``relative``, a path an MLmodel file names, inside ``model_dir``.

    The file is data: whoever wrote it must not make a loader read outside the model.

    >>> file_in("/models/m", "data/model.lgb").as_posix()
    '/models/m/data/model.lgb'
    >>> file_in("/models/m", "../../etc/passwd")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cairn.models.errors.ModelFormatError: The MLmodel file names '../../etc/passwd', which is ...

    Raises:
        ModelFormatError: a path that leads out of the directory (``..``, absolute, links).
    """
    root = Path(model_dir).resolve()
    target = (root / str(relative)).resolve()
    if not target.is_relative_to(root):
        raise ModelFormatError(
            f"The MLmodel file names {str(relative)!r}, which is outside the model directory; "
            "refusing to read it"
        )
    return target
