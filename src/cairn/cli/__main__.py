"""``python -m cairn.cli``: the same as the ``cairn`` command.

python -m cairn.cli runs list --experiment iris
"""

from cairn.cli import main

main(prog_name="cairn")
