"""The embedded stack's control plane alone, for benchmarks that measure it: the API server over HTTP
and moto, in a home of its own, with no instance runner and no model server."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from embedded.stack import Stack, StackOptions
from gems.api_client import ApiClient
from gems.aws.clients import Clients


@contextlib.contextmanager
def control_plane(prefix: str, max_workers: int) -> Iterator[tuple[Stack, Clients, ApiClient, Path]]:
    """(stack, its clients, an API client with the stack's key, the home), stopped on leaving."""
    os.environ["GEMS_MAX_WORKERS"] = str(max_workers)
    home = Path(tempfile.mkdtemp(prefix=prefix))
    stack = Stack(
        StackOptions(home=home, port=0, moto_port=0, model_port=0, persist=False, runner=False, model=False)
    )
    stack.start()
    try:
        yield stack, Clients(stack.config), ApiClient(stack.api_url, stack.api_key, timeout=600), home
    finally:
        stack.stop()
