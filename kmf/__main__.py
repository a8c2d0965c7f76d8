"""The ``kmf`` command (also ``python -m kmf``).

Ctrl-C and SIGTERM are taken over first, before the command line imports polars, numba and
matplotlib (most of the start-up time), so a stop at any moment ends with one Danish line
and exit code 130 (SIGINT) or 143 (SIGTERM), never a traceback (see ``kmf._signals``).
"""

from __future__ import annotations

from kmf import _signals


def main() -> None:
    """Entry point of the ``kmf`` console script."""
    _signals.install()
    try:
        from kmf.cli import main as cli_main

        cli_main()
    finally:
        _signals.finish()


if __name__ == "__main__":
    main()
