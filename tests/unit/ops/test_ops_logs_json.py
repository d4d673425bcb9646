"""gems.logs: one JSON object per line, with the bound request/job context and extras."""

from __future__ import annotations

import io
import json
import logging

from gems import logs


def test_lines_are_json_with_context_and_extras(monkeypatch):
    monkeypatch.setenv("GEMS_SESSION_KEY", "abc123")
    monkeypatch.setenv("GEMS_INSTANCE_INDEX", "2")
    out = io.StringIO()
    handler = logs.configure("worker", stream=out)
    try:
        log = logging.getLogger("gems.test")
        with logs.bound(request_id="r-1", sample="S1"):
            log.info("step %s done", "align", extra={"seconds": 1.5})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
    finally:
        logging.getLogger().removeHandler(handler)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["msg"] == "step align done" and first["level"] == "INFO"
    assert (first["service"], first["session_key"], first["instance_index"]) == ("worker", "abc123", "2")
    assert (first["request_id"], first["sample"], first["seconds"]) == ("r-1", "S1", 1.5)
    assert "request_id" not in second  # the context ended with the block
    assert "ValueError: boom" in second["exc"]


def test_configure_twice_keeps_one_json_handler():
    a = logs.configure("api", stream=io.StringIO())
    b = logs.configure("api", stream=io.StringIO())
    try:
        ours = [h for h in logging.getLogger().handlers if getattr(h, "_gems_json", False)]
        assert ours == [b]
    finally:
        logging.getLogger().removeHandler(b)
        logging.getLogger().removeHandler(a)


def test_request_ids_from_callers_are_checked():
    assert logs.clean_request_id("abc-123") == "abc-123"
    for bad in (None, "", "x" * 500, "tab\there", "é"):
        generated = logs.clean_request_id(bad)
        assert len(generated) == 32 and generated.isalnum()
