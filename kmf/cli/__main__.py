"""``python -m kmf.cli``: as the ``kmf`` command."""

from kmf.__main__ import main

main()
