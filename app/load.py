"""Loading request bodies and queries through a schema, with errors that name the field."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, fields
from marshmallow import ValidationError as MarshmallowError

from gems.errors import ValidationError


def _first(messages) -> tuple[str, str]:
    field, msgs = next(iter(messages.items()))
    if isinstance(msgs, dict):
        sub, text = _first(msgs)
        return f"{field}.{sub}", text
    return field, msgs[0] if isinstance(msgs, list) else str(msgs)


def _refused(messages) -> ValidationError:
    messages = messages if isinstance(messages, dict) else {"_schema": messages}
    field, text = _first(messages)
    return ValidationError(f"{field}: {text}", field=field, details={"fields": messages})


def load(schema: Schema, data) -> dict:
    try:
        return schema.load(data)
    except MarshmallowError as exc:
        raise _refused(exc.messages) from exc


def load_part(schema: Schema, items: list, field: str, offset: int) -> list[dict]:
    """items[k] through a `many=True` schema, errors named as if the whole list `field` had been
    loaded and these were its items from `offset` on (`patients.117.mutated_genes.0`)."""
    try:
        return schema.load(items)
    except MarshmallowError as exc:
        messages = exc.messages
        if isinstance(messages, dict):
            messages = {field: {offset + k if isinstance(k, int) else k: v for k, v in messages.items()}}
        raise _refused(messages) from exc


def json_body(schema: Schema) -> dict:
    data = request.get_json(silent=True)
    if data is None:
        raise ValidationError("the body must be a JSON object (Content-Type: application/json)", field="body")
    if not isinstance(data, dict):
        raise ValidationError("the body must be a JSON object", field="body")
    return load(schema, data)


def query(schema: Schema) -> dict:
    """The query string through `schema`; a list field takes every value of its name (`?k=a&k=b`)."""
    args: dict[str, str | list[str]] = {}
    for name in request.args:
        many = isinstance(schema.fields.get(name), fields.List)
        args[name] = request.args.getlist(name) if many else request.args[name]
    return load(schema, args)
