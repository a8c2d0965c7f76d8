"""The ``kmf`` command line: parse, call the library's verbs, print (:mod:`kmf.cli.console`).

Importing this package loads only typer, so ``kmf --help`` answers at once."""

from kmf.cli.app import app, main

__all__ = ["app", "main"]
