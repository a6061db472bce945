"""join_uri, local_path_from_uri and uri_scheme."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cairn.artifacts import join_uri, local_path_from_uri
from cairn.artifacts.uri import uri_scheme


@pytest.mark.parametrize(
    ("root", "parts", "expected"),
    [
        ("file:///abs/mlruns", ("1", "r", "artifacts"), "file:///abs/mlruns/1/r/artifacts"),
        ("file:///abs/mlruns/", ("/1/", "r"), "file:///abs/mlruns/1/r"),
        ("file:///", ("a",), "file:///a"),
        ("file:/abs", ("a",), "file:/abs/a"),
        ("s3://bucket", ("p", "q"), "s3://bucket/p/q"),
        ("s3://bucket/prefix/", ("1", "r/artifacts"), "s3://bucket/prefix/1/r/artifacts"),
        ("memory://", ("a",), "memory://a"),
        ("/abs/mlruns", ("1",), "/abs/mlruns/1"),
        ("/", ("a",), "/a"),
        ("mlruns", ("1", "", "/"), "mlruns/1"),
        ("s3://bucket/p", (), "s3://bucket/p"),
        ("s3://bucket/a b", ("c d%",), "s3://bucket/a b/c d%"),
    ],
)
def test_join_uri_puts_exactly_one_slash_between_pieces(
    root: str, parts: tuple[str, ...], expected: str
) -> None:
    assert join_uri(root, *parts) == expected


def test_join_uri_percent_encodes_parts_of_file_uris_so_they_round_trip(tmp_path: Path) -> None:
    uri = join_uri(tmp_path.as_uri(), "my run", "50%#?;.txt")

    assert uri.endswith("/my%20run/50%25%23%3F%3B.txt")
    assert local_path_from_uri(uri) == os.path.join(str(tmp_path), "my run", "50%#?;.txt")


@pytest.mark.skipif(os.name == "nt", reason="POSIX paths")
@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("file:///abs/mlruns", "/abs/mlruns"),
        ("file:/abs/mlruns", "/abs/mlruns"),
        ("file://localhost/abs/mlruns", "/abs/mlruns"),
        ("file:///abs/my%20runs/a%3Bb", "/abs/my runs/a;b"),
        ("FILE:///abs", "/abs"),
        ("/abs/plain%20path", "/abs/plain%20path"),  # plain paths are taken literally
        ("relative/mlruns", "relative/mlruns"),
        ("s3://bucket/key", None),
        ("memory://x", None),
        ("file://otherhost/share", None),
    ],
)
def test_local_path_from_uri(uri: str, expected: str | None) -> None:
    assert local_path_from_uri(uri) == expected


@pytest.mark.parametrize(
    ("uri", "scheme"),
    [("S3://b/k", "s3"), ("/abs", ""), ("rel/path", ""), ("C:\\x", ""), ("c:/x", ""),
     ("mlflow-artifacts:/x", "mlflow-artifacts"), ("file:///x", "file")],
)  # fmt: skip
def test_uri_scheme_treats_drive_letters_as_plain_paths(uri: str, scheme: str) -> None:
    assert uri_scheme(uri) == scheme
