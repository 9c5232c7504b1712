"""Fixtures of the sync tests: a fake Results server in either spelling, run objects, a History."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "store"))  # store_objects: the run builders

from fake_results import FakeResults  # noqa: E402
from tuikit import pilot_settles_store_reads  # noqa: E402,F401 - autouse: Pilot waits settle the app's store reads


@pytest.fixture(params=["snake", "camel"])
def spelling(request) -> str:
    return request.param


@pytest.fixture
def fake(spelling):
    f = FakeResults(spelling=spelling).start()
    yield f
    f.stop()
