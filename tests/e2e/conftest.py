"""End-to-end fixtures (the helpers live in e2e_helpers.py so tests can import them by name)."""

import pytest
from e2e_helpers import RunningStack, stack_home  # noqa: F401 - fixtures re-exported for pytest


@pytest.fixture
def stack(stack_home):  # noqa: F811
    running = RunningStack(stack_home).start()
    yield running
    running.stop()
