"""A structural check of a LightGBM text model before LightGBM parses it.

LightGBM parses the trees of a text model on several threads, and a malformed tree there
(a truncated file, a stray byte in a number, a missing field) ends the whole process with
``std::terminate`` instead of raising an error Python could catch. A scoring server would
die on one bad file. So the trees are checked here first, with the rules LightGBM's parser
relies on: the byte sizes in ``tree_sizes`` cut the text into ``Tree=<i>`` blocks, every
line of a block is ``key=numbers``, the fields a split tree needs are present and the
per-node arrays have the lengths ``num_leaves`` implies.

A file that passes can still hold different numbers than were saved (that is what the
content digest of a logged model catches), but it no longer crashes the process.

    >>> check_model_text("tree\\nversion=v4\\ntree_sizes=49\\n\\n"
    ...                  "Tree=0\\nnum_leaves=1\\nleaf_value=0.5\\nshrinkage=1\\n\\n\\n"
    ...                  "end of trees\\n")
    >>> check_model_text("tree\\nversion=v4\\ntree_sizes=49\\n\\nTree=0\\nnum_le")
    Traceback (most recent call last):
    ...
    ValueError: tree 0 runs past the end of the file (is it truncated?)
"""

from __future__ import annotations

import re

__all__ = ["check_model_text"]

# A line of a tree block: a field name, then numbers separated by spaces (possibly none).
_NUMBERS_LINE = re.compile(r"[a-z_]+=(?:[-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?|nan|inf)| )*")
# Fields LightGBM reads as arrays of one entry per internal node / per leaf.
_PER_INTERNAL = ("split_feature", "threshold", "decision_type", "left_child", "right_child")
_PER_LEAF = ("leaf_value",)


def check_model_text(text: str) -> None:
    """Raise ValueError naming the first problem that would crash LightGBM's parser."""
    if not text.startswith("tree\n"):
        raise ValueError("it does not start with LightGBM's 'tree' header")
    header_end = text.find("\n\n")
    if header_end < 0:
        raise ValueError("its header never ends (is it truncated?)")
    sizes = _tree_sizes(text[:header_end])
    if sizes is None:  # an old model without tree_sizes: LightGBM parses it on one thread
        if "end of trees" not in text:
            raise ValueError("it has no 'end of trees' line (is it truncated?)")
        return
    offset = header_end + 2
    for index, size in enumerate(sizes):
        if offset + size > len(text):
            raise ValueError(f"tree {index} runs past the end of the file (is it truncated?)")
        _check_tree(index, text[offset : offset + size])
        offset += size
    if not text[offset:].lstrip("\n").startswith("end of trees"):
        raise ValueError("the trees are not followed by 'end of trees' (is it corrupted?)")


def _tree_sizes(header: str) -> list[int] | None:
    for line in header.split("\n"):
        if line.startswith("tree_sizes="):
            try:
                return [int(size) for size in line[len("tree_sizes=") :].split()]
            except ValueError:
                raise ValueError(f"its tree_sizes line is not a list of sizes: {line!r}") from None
    return None


def _check_tree(index: int, block: str) -> None:
    lines = [line for line in block.split("\n") if line]
    if not lines or lines[0] != f"Tree={index}":
        raise ValueError(f"tree {index} does not start where tree_sizes says it does")
    fields: dict[str, list[str]] = {}
    for line in lines[1:]:
        if not _NUMBERS_LINE.fullmatch(line):
            raise ValueError(f"tree {index} has a malformed line: {line[:80]!r}")
        key, _, values = line.partition("=")
        fields[key] = values.split()
    try:
        leaves = int(fields["num_leaves"][0])
    except (KeyError, IndexError, ValueError):
        raise ValueError(f"tree {index} has no num_leaves") from None
    wanted = dict.fromkeys(_PER_INTERNAL, leaves - 1) if leaves > 1 else {}
    wanted.update(dict.fromkeys(_PER_LEAF, leaves))
    for key, count in wanted.items():
        if key not in fields:
            raise ValueError(f"tree {index} has no {key} field")
        if len(fields[key]) != count:
            raise ValueError(
                f"tree {index} has {len(fields[key])} {key} values where {count} are needed"
            )
