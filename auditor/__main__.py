"""``python -m auditor``: the same entry point as the ``auditor`` console script."""

from auditor.cli import main

main()
