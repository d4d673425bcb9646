"""A route's docs are what it accepts: `@documented` loads the body or query through the schema
it documents and hands it to the view (app.apidoc), after the auth decorators have run."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from app.apidoc import operation_of, schema_class

APP = Path(__file__).resolve().parents[3] / "app"


def _innermost(view):
    while hasattr(view, "__wrapped__"):
        view = view.__wrapped__
    return view


def test_every_documented_schema_is_the_one_the_view_receives(app):
    checked = 0
    for endpoint, view in app.view_functions.items():
        op = operation_of(view)
        if op is None:
            continue
        params = inspect.signature(_innermost(view)).parameters
        for kind, spec in (("body", op.body), ("query", op.query)):
            if schema_class(spec) is not None:
                assert kind in params, f"{endpoint} documents a {kind} schema but does not take `{kind}`"
                checked += 1
    assert checked >= 12  # jobs, worker calls, TES, samples, genes, lake questions


def test_no_view_loads_a_body_or_query_by_hand():
    # /predict is the one exception: its batch is loaded in chunks as the model answers
    by_hand = re.compile(r"\b(json_body|query)\(\w+Schema\(\)\)")
    found = [
        f"{p.relative_to(APP)}:{n}"
        for p in sorted(APP.rglob("*.py"))
        if p.name not in ("load.py", "apidoc.py")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if by_hand.search(line)
    ]
    assert found == []


def test_the_documented_schema_refuses_what_it_does_not_describe(app):
    client = app.test_client()
    answer = client.post("/stop_instances", json={"session_key": "f" * 32, "token": "t", "extra": 1})
    assert answer.status_code == 400 and answer.get_json()["field"] == "extra"
    answer = client.get("/job?colour=blue")
    assert answer.status_code == 400 and answer.get_json()["field"] == "colour"
    answer = client.get("/ga4gh/tes/v1/tasks?view=NOPE")
    assert answer.status_code == 400 and answer.get_json()["field"] == "view"


def test_a_caller_without_a_key_is_refused_before_the_body_is_read(app):
    answer = app.test_client().post("/job", data="not json", content_type="application/json")
    assert answer.status_code == 401
