"""Calling tests: an isolated GEMS_HOME so reference indexes never land in the repo's .gems."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("GEMS_HOME", str(tmp_path_factory.mktemp("gems_home")))
