"""Shared test setup.

Hypothesis profiles: ``ci`` (the default), ``mutation`` (few examples, for the mutation run
in README's "Udvikling") and ``thorough`` (many, to hunt for edges by hand). Choose one with
the environment variable ``HYPOTHESIS_PROFILE``. ``ci`` draws the same examples on every run
(``derandomize``): the test command fails for a change to the code, the tests or the versions
it tests with, not on a day nobody changed anything; ``thorough`` draws new ones every time.
The properties of the computation (``test_properties.py``) take their number of examples
from the profile; slower ones, which write and read a whole dataset per example, set their
own.

No test writes to the user's real cache folder (``cache_folder``)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

for _name, _examples in (("ci", 30), ("mutation", 8), ("thorough", 300)):
    settings.register_profile(
        _name,
        max_examples=_examples,
        derandomize=_name != "thorough",
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def cache_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test (and every command it starts) keeps kmf's cache in a folder of its own
    session (KMF_CACHE), never in ~/.cache."""
    folder = tmp_path_factory.getbasetemp() / "kmf-cache"
    monkeypatch.setenv("KMF_CACHE", str(folder))
    yield folder


@pytest.fixture(autouse=True)
def signal_handlers() -> Iterator[None]:
    """Every test starts with the signal handlers the one before it had, and leaves them so:
    a command run in the test's process (CliRunner) installs kmf's handlers and, when it has
    ended, ignores SIGINT and SIGTERM (kmf._signals.finish), which a later test of Ctrl-C
    must not inherit."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        if handler is not None:
            signal.signal(signum, handler)
