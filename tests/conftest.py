"""Shared test setup: no test writes to the user's real cache folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def cache_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test (and every command it starts) keeps kmf's cache in a folder of its own
    session (KMF_CACHE), never in ~/.cache."""
    folder = tmp_path_factory.getbasetemp() / "kmf-cache"
    monkeypatch.setenv("KMF_CACHE", str(folder))
    yield folder
