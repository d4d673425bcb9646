"""API documentation that lives on each route and is what the route accepts (as flask-smorest
and apifairy do it, on the marshmallow stack already in use): `@documented(Operation(...))`,
directly above the view function (below the route and auth decorators, so a caller without a key
gets 401 before their body is read), says what the view takes and answers. When the operation
names a marshmallow schema class for the body or the query, the decorator loads the request
through it (a 400 naming the field otherwise) and hands the view `body=` or `query=`: the
documented schema is the one that validates, so the two cannot drift. app.openapi reads the
operation off the view with the docstring (summary and description) and the auth decorator
(security). A route without it is still in the document, with a generic JSON answer and the
standard errors.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from marshmallow import Schema, fields

from app import load

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Answer:
    description: str
    schema: object = None  # a marshmallow Schema class, a component name's $ref dict or a plain JSON schema
    example: object = None
    html: bool = False
    media: str = "application/json"  # what a non-HTML answer is, e.g. text/plain for /metrics


@dataclass(frozen=True)
class Operation:
    body: object = None
    body_example: object = None
    query: object = None
    responses: dict = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    html: bool = False
    form: object = None  # a schema for an application/x-www-form-urlencoded body (HTML forms)


def schema_class(spec: object) -> type[Schema] | None:
    """The marshmallow schema class a body or query is loaded with; None for a documentation-only
    spec (a JSON schema, a oneOf of schemas)."""
    return spec if isinstance(spec, type) and issubclass(spec, Schema) else None


def documented(operation: Operation) -> Callable[[View], View]:
    """Attach `operation` to the view and load what it names: place it directly above the view
    function. The view takes `body` when the operation names a body schema, `query` when it
    names a query schema."""
    body, query = schema_class(operation.body), schema_class(operation.query)

    def attach(view: View) -> View:
        if body is None and query is None:
            view.gems_doc = operation  # type: ignore[attr-defined]
            return view

        @functools.wraps(view)
        def loaded(*args, **kwargs):
            if body is not None:
                kwargs["body"] = load.json_body(body())
            if query is not None:
                kwargs["query"] = load.query(query())
            return view(*args, **kwargs)

        loaded.gems_doc = operation  # type: ignore[attr-defined]
        return loaded  # type: ignore[return-value]

    return attach


def operation_of(view: Callable[..., Any]) -> Operation | None:
    return getattr(view, "gems_doc", None)


HTML_PAGE = Operation(html=True, responses={200: Answer("An HTML page.", html=True)})


class ErrorSchema(Schema):
    error = fields.String(
        required=True,
        metadata={
            "description": "machine-readable code",
            "enum": [
                "invalid_request",
                "unauthorized",
                "forbidden",
                "not_found",
                "conflict",
                "unavailable",
                "too_many_requests",
                "bad_input",
                "internal_error",
            ],
        },
    )
    message = fields.String(required=True, metadata={"description": "one line a person can act on"})
    field = fields.String(metadata={"description": "the request field at fault, when there is one"})
    details = fields.Dict(metadata={"description": "more about the error, e.g. every field's messages"})


ERRORS: dict[int, tuple[str, str, dict]] = {
    400: (
        "invalid_request",
        "A request field is missing or wrong; `field` names it.",
        {
            "error": "invalid_request",
            "field": "hla_class",
            "message": "hla_class: Must be one of: 1, 2.",
            "details": {"fields": {"hla_class": ["Must be one of: 1, 2."]}},
        },
    ),
    401: (
        "unauthorized",
        "No API key, or not a valid one.",
        {
            "error": "unauthorized",
            "field": "Authorization",
            "message": "missing API key: send 'Authorization: Bearer <key>'",
        },
    ),
    403: (
        "forbidden",
        "The key is valid but may not do this.",
        {
            "error": "forbidden",
            "field": "Authorization",
            "message": "this needs an admin key (gems keys create NAME --admin)",
        },
    ),
    404: (
        "not_found",
        "No such job (or file).",
        {"error": "not_found", "field": "session_key", "message": "no job with session_key 'f00'"},
    ),
    409: (
        "conflict",
        "The same bucket/prefix already has a job running.",
        {
            "error": "conflict",
            "field": "prefix",
            "message": "gems-demo/demo/ already has a running job 3f2c...; stop it or wait",
        },
    ),
    413: (
        "request_entity_too_large",
        "The body is over this route's limit (1 MiB; /predict 16 MiB; TES create 4 MiB).",
        {
            "error": "request_entity_too_large",
            "message": "the request body is over 1024 KiB, this route's limit",
        },
    ),
    422: (
        "bad_input",
        "The input data (reads, references) cannot be used.",
        {"error": "bad_input", "message": "reads.fastq.gz is not gzip"},
    ),
    429: (
        "too_many_requests",
        "Too many failed API key attempts from this address; wait Retry-After seconds.",
        {
            "error": "too_many_requests",
            "field": "Authorization",
            "message": "too many failed API key attempts from this address; try again in 42 s",
            "details": {"retry_after_s": 42},
        },
    ),
    503: (
        "unavailable",
        "A backing service (the model, BaseSpace) did not answer; retry later.",
        {
            "error": "unavailable",
            "message": "the model is unavailable after 4 attempts: model server unreachable",
        },
    ),
    500: (
        "internal_error",
        "A bug: the server logged it.",
        {"error": "internal_error", "message": "internal server error"},
    ),
}
