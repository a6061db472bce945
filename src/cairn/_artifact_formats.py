"""Turning Python objects into artifact files: dicts, figures, images and tables.

Each function returns bytes; the caller writes them through an artifact repository. Heavy
libraries (matplotlib, plotly, PIL, numpy, pandas) are imported only when their objects show up.

>>> dict_to_bytes({"a": 1}, "config.json")
b'{\\n  "a": 1\\n}'
"""

from __future__ import annotations

import io
import json
import posixpath
from typing import Any

from cairn.errors import InvalidParameter


def _extension(artifact_file: str) -> str:
    return posixpath.splitext(artifact_file)[1].lower().lstrip(".")


def dict_to_bytes(data: Any, artifact_file: str) -> bytes:
    """JSON for ``.json`` (and anything else), YAML for ``.yaml``/``.yml``."""
    if _extension(artifact_file) in ("yaml", "yml"):
        import yaml

        return yaml.safe_dump(data, default_flow_style=False, sort_keys=False).encode()
    try:
        return json.dumps(data, indent=2, default=_json_default).encode()
    except (TypeError, ValueError) as err:
        raise InvalidParameter(f"Cannot write {artifact_file!r} as JSON: {err}") from None


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return obj.tolist()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def figure_to_bytes(figure: Any, artifact_file: str, save_kwargs: dict[str, Any] | None) -> bytes:
    """A matplotlib or plotly figure in the format the file extension names."""
    ext = _extension(artifact_file)
    module = type(figure).__module__
    if module.startswith("matplotlib"):
        buffer = io.BytesIO()
        figure.savefig(buffer, format=ext or "png", **(save_kwargs or {}))
        return buffer.getvalue()
    if module.startswith("plotly"):
        if ext in ("html", "htm"):
            # Self-contained, so the file opens offline and in the UI's sandboxed preview.
            html: str = figure.to_html(include_plotlyjs=True, full_html=True, **(save_kwargs or {}))
            return html.encode()
        if ext == "json":
            return str(figure.to_json()).encode()
        try:
            image: bytes = figure.to_image(format=ext, **(save_kwargs or {}))
        except (ValueError, ImportError) as err:
            raise InvalidParameter(
                f"Cannot save a plotly figure as {ext!r}: {err}. Use an .html or .json file, "
                "or install kaleido for image formats"
            ) from None
        return image
    raise InvalidParameter(
        f"log_figure takes a matplotlib or plotly figure, not {type(figure).__name__}"
    )


def image_to_png(image: Any) -> bytes:
    """PNG bytes of a PIL image or a numpy array (HxW, HxWx1, HxWx3, HxWx4).

    Integer arrays must hold 0..255; float arrays 0..1 (scaled to 0..255).
    """
    try:
        from PIL import Image
    except ImportError:
        raise InvalidParameter("log_image needs Pillow: pip install pillow") from None
    if not isinstance(image, Image.Image):
        image = Image.fromarray(_to_uint8(image))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _to_uint8(array: Any) -> Any:
    import numpy as np

    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise InvalidParameter(
            f"log_image needs an array of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); "
            f"got {a.shape}"
        )
    if a.dtype == np.uint8:
        return a
    if np.issubdtype(a.dtype, np.bool_):
        return a.astype(np.uint8) * 255
    if np.issubdtype(a.dtype, np.integer):
        if a.size and (a.min() < 0 or a.max() > 255):
            raise InvalidParameter("log_image: integer pixel values must lie in 0..255")
        return a.astype(np.uint8)
    if np.issubdtype(a.dtype, np.floating):
        if a.size and (np.nanmin(a) < 0 or np.nanmax(a) > 1):
            raise InvalidParameter("log_image: float pixel values must lie in 0..1")
        return (np.nan_to_num(a) * 255).round().astype(np.uint8)
    raise InvalidParameter(f"log_image: unsupported pixel type {a.dtype}")


def table_to_bytes(data: Any, existing: bytes | None = None) -> bytes:
    """A dict of columns or a DataFrame as JSON ``{"columns": [...], "data": [[...], ...]}``;
    with ``existing`` (a table written before), the new rows are appended to it."""
    import pandas as pd

    frame = _table_frame(data)
    if existing is not None:
        previous = table_from_bytes(existing, "log_table: the existing file")
        frame = pd.concat([previous, frame], ignore_index=True)
    encoded: bytes = frame.to_json(orient="split", index=False).encode()
    return encoded


def table_from_bytes(raw: bytes, what: str) -> Any:
    """The DataFrame of a table :func:`table_to_bytes` wrote; ``what`` names the file in the
    InvalidParameter raised for anything else."""
    import pandas as pd

    try:
        table = json.loads(raw)
        return pd.DataFrame(table["data"], columns=table["columns"])
    except (ValueError, KeyError, TypeError) as err:
        raise InvalidParameter(f"{what} is not a table: {err}") from None


def _table_frame(data: Any) -> Any:
    import pandas as pd

    if isinstance(data, dict):
        try:
            data = pd.DataFrame(data)
        except ValueError as err:
            raise InvalidParameter(f"log_table: the columns do not form a table: {err}") from None
    if not isinstance(data, pd.DataFrame):
        raise InvalidParameter(
            f"log_table takes a dict of columns or a pandas DataFrame, not {type(data).__name__}"
        )
    return data
