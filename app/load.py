"""Loading request bodies and queries through a schema, with errors that name the field."""

from __future__ import annotations

from flask import request
from marshmallow import Schema
from marshmallow import ValidationError as MarshmallowError

from gems.errors import ValidationError


def _first(messages) -> tuple[str, str]:
    field, msgs = next(iter(messages.items()))
    if isinstance(msgs, dict):
        sub, text = _first(msgs)
        return f"{field}.{sub}", text
    return field, msgs[0] if isinstance(msgs, list) else str(msgs)


def load(schema: Schema, data) -> dict:
    try:
        return schema.load(data)
    except MarshmallowError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        field, text = _first(messages)
        raise ValidationError(f"{field}: {text}", field=field, details={"fields": messages}) from exc


def json_body(schema: Schema) -> dict:
    data = request.get_json(silent=True)
    if data is None:
        raise ValidationError("the body must be a JSON object (Content-Type: application/json)", field="body")
    if not isinstance(data, dict):
        raise ValidationError("the body must be a JSON object", field="body")
    return load(schema, data)


def query(schema: Schema) -> dict:
    return load(schema, request.args.to_dict())
