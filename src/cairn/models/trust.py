"""Who decides whether a model may run code when it loads: the loader, never the file.

Saving always works. Loading follows these rules (DESIGN decision 9):

1. **Verified origin.** When a model is loaded through ``models:/<id>`` or ``runs:/...`` and
   the content digest of its files matches the digest the store recorded when it was logged
   (logged-model tag ``cairn.model.digest``), it loads without questions: whatever skops types
   it uses, and the code it ships in ``code/``, are the ones that were logged. A digest that
   does not match is refused (:class:`~cairn.models.errors.ModelTampered`).
2. **Unknown origin** (a local path, an ``s3://`` folder, a model logged without a digest):
   skops files load when every type they reference is in skops' default trusted set or listed
   by the caller in ``trusted_types``; otherwise the error lists the types. Code shipped in the
   model needs ``allow_code=True``.
3. **Pickle** (pickle, cloudpickle, torch ``pt2`` archives) needs ``allow_pickle=True`` or
   ``CAIRN_ALLOW_PICKLE=true``, always: unpickling runs arbitrary code, and only the person
   loading can accept that. ``allow_pickle`` also accepts any skops type and model code.

The trust list MLflow writes into ``MLmodel`` (``skops_trusted_types``) is never read here:
whoever wrote the file controls it.

    >>> policy = LoadPolicy.create(trusted_types=["sklearn.tree._tree.Tree"])
    >>> policy.allow_pickle, policy.verified
    (False, False)
    >>> policy.check_pickle("model.pkl")
    Traceback (most recent call last):
    ...
    cairn.models.errors.PickleNotAllowed: Refusing to load model.pkl: it is pickle-based, ...
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cairn.models.errors import (
    ModelCodeNotAllowed,
    ModelFormatError,
    ModelTampered,
    PickleNotAllowed,
    UntrustedTypes,
)

__all__ = [
    "ALLOW_CODE_ENV",
    "ALLOW_PICKLE_ENV",
    "DIGEST_TAG",
    "LoadPolicy",
    "model_digest",
    "verify_digest",
]

#: The logged-model tag holding the digest of the model's files, written by ``log_model``.
DIGEST_TAG = "cairn.model.digest"
ALLOW_PICKLE_ENV = "CAIRN_ALLOW_PICKLE"
ALLOW_CODE_ENV = "CAIRN_ALLOW_MODEL_CODE"
_CHUNK = 1 << 20
#: Files a tool may add to a model directory after it was logged (caches), never hashed.
_IGNORED_PARTS = frozenset({"__pycache__"})


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def model_digest(model_dir: str | os.PathLike[str]) -> str:
    """``sha256:<hex>`` over every file of ``model_dir``: its relative path and its bytes.

    Renaming, adding, removing or changing any file changes the digest; file times do not.
    """
    root = Path(model_dir)
    outer = hashlib.sha256()
    for path in sorted(_files(root), key=lambda p: p.relative_to(root).as_posix()):
        inner = hashlib.sha256()
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                inner.update(chunk)
        outer.update(path.relative_to(root).as_posix().encode("utf-8"))
        outer.update(b"\0")
        outer.update(inner.digest())
    return f"sha256:{outer.hexdigest()}"


def _files(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _IGNORED_PARTS]
        for name in filenames:
            yield Path(dirpath) / name


def verify_digest(model_dir: Path, expected: str, what: str) -> None:
    """Raise :class:`ModelTampered` unless ``model_dir``'s digest is ``expected``."""
    actual = model_digest(model_dir)
    if actual != expected:
        raise ModelTampered(
            f"The files of {what} changed after it was logged: their digest is {actual}, but "
            f"the store recorded {expected} when the model was logged. Someone or something "
            "modified the stored model; refusing to load it. Log the model again, or, if you "
            "know why it changed, download it and load the local copy explicitly."
        )


@dataclass(frozen=True)
class LoadPolicy:
    """What the caller of a load allows.

    Attributes:
        allow_pickle: unpickle (pickle, cloudpickle, torch pt2); implies the other two.
        allow_code: import Python code shipped inside the model.
        trusted_types: skops types accepted beyond skops' default set.
        verified: the files match the digest recorded at log time (see the module doc).
    """

    allow_pickle: bool = False
    allow_code: bool = False
    trusted_types: frozenset[str] = frozenset()
    verified: bool = False

    @classmethod
    def create(
        cls,
        allow_pickle: bool | None = None,
        allow_code: bool | None = None,
        trusted_types: Iterable[str] | None = None,
        verified: bool = False,
    ) -> LoadPolicy:
        """A policy from the caller's arguments; None falls back to the environment
        (``CAIRN_ALLOW_PICKLE``, ``CAIRN_ALLOW_MODEL_CODE``)."""
        pickle = _env_flag(ALLOW_PICKLE_ENV) if allow_pickle is None else bool(allow_pickle)
        code = _env_flag(ALLOW_CODE_ENV) if allow_code is None else bool(allow_code)
        if isinstance(trusted_types, str):
            trusted_types = [trusted_types]
        return cls(pickle, code, frozenset(trusted_types or ()), verified)

    def check_pickle(self, what: str) -> None:
        """Raise PickleNotAllowed unless the caller allowed pickle."""
        if not self.allow_pickle:
            raise PickleNotAllowed(what)

    def check_code(self, what: str) -> None:
        """Raise ModelCodeNotAllowed unless the model is verified or code was allowed."""
        if not (self.verified or self.allow_code or self.allow_pickle):
            raise ModelCodeNotAllowed(what)

    def load_skops(self, path: Path, what: str) -> Any:
        """Load a skops file under this policy.

        Raises:
            UntrustedTypes: an unverified file uses types outside the trusted set.
            ModelFormatError: the file is not a readable skops archive (corrupted, cut
                short or tampered with).
        """
        import skops.io
        from skops.io.exceptions import UntrustedTypesFoundException

        trusted = sorted(self.trusted_types)
        if self.verified or self.allow_pickle:
            try:
                trusted = sorted(skops.io.get_untrusted_types(file=path))
            except Exception as err:  # zipfile, json and skops errors alike mean "not skops"
                raise _corrupted(what, err) from None
        try:
            # One pass over the archive: skops refuses types outside `trusted` itself.
            return skops.io.load(path, trusted=trusted)
        except UntrustedTypesFoundException:
            refused = sorted(set(skops.io.get_untrusted_types(file=path)) - self.trusted_types)
            raise UntrustedTypes(what, refused) from None
        except Exception as err:
            raise _corrupted(what, err) from None


def _corrupted(what: str, err: BaseException) -> ModelFormatError:
    return ModelFormatError(
        f"Cannot read {what}: the file is corrupted, incomplete or was tampered with "
        f"({type(err).__name__}: {err}). Save or download the model again."
    )
