"""Marshmallow schemas of the GA4GH TES v1.1 facade (field names as in the TES OpenAPI spec)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

STATES = [
    "UNKNOWN",
    "QUEUED",
    "INITIALIZING",
    "RUNNING",
    "PAUSED",
    "COMPLETE",
    "EXECUTOR_ERROR",
    "SYSTEM_ERROR",
    "CANCELED",
    "PREEMPTED",
    "CANCELING",
]
VIEWS = ["MINIMAL", "BASIC", "FULL"]


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class InputSchema(_Strict):
    name = fields.String()
    description = fields.String()
    url = fields.String(metadata={"description": "s3://bucket/key of a read file, reference or folder"})
    path = fields.String(metadata={"description": "where the file would be in the container (recorded)"})
    type = fields.String(validate=validate.OneOf(["FILE", "DIRECTORY"]), load_default="FILE")
    content = fields.String(metadata={"description": "inline content: not supported by gems"})
    streamable = fields.Boolean()


class OutputSchema(_Strict):
    name = fields.String()
    description = fields.String()
    url = fields.String()
    path = fields.String()
    path_prefix = fields.String()
    type = fields.String(validate=validate.OneOf(["FILE", "DIRECTORY"]), load_default="FILE")


class ResourcesSchema(_Strict):
    cpu_cores = fields.Integer(allow_none=True)
    preemptible = fields.Boolean(allow_none=True)
    ram_gb = fields.Float(allow_none=True)
    disk_gb = fields.Float(allow_none=True)
    zones = fields.List(fields.String(), allow_none=True)
    backend_parameters = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    backend_parameters_strict = fields.Boolean(allow_none=True)


class ExecutorSchema(_Strict):
    image = fields.String(required=True)
    command = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    workdir = fields.String()
    stdin = fields.String()
    stdout = fields.String()
    stderr = fields.String()
    env = fields.Dict(keys=fields.String(), values=fields.String())
    ignore_error = fields.Boolean()


class TaskRequestSchema(_Strict):
    """POST /tasks. Read-only fields a client may echo back (id, state, logs) are accepted and ignored."""

    id = fields.String(load_only=True)
    state = fields.String(load_only=True)
    creation_time = fields.String(load_only=True)
    logs = fields.List(fields.Dict(), load_only=True)
    name = fields.String(validate=validate.Length(max=512))
    description = fields.String(validate=validate.Length(max=4096))
    inputs = fields.List(fields.Nested(InputSchema), validate=validate.Length(max=10000))
    outputs = fields.List(fields.Nested(OutputSchema), validate=validate.Length(max=1000))
    resources = fields.Nested(ResourcesSchema, allow_none=True)
    executors = fields.List(fields.Nested(ExecutorSchema), required=True, validate=validate.Length(min=1))
    volumes = fields.List(fields.String())
    tags = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))


class ViewQuerySchema(_Strict):
    view = fields.String(validate=validate.OneOf(VIEWS), load_default="MINIMAL")


class ListQuerySchema(_Strict):
    name_prefix = fields.String()
    state = fields.String(validate=validate.OneOf(STATES))
    tag_key = fields.List(fields.String())
    tag_value = fields.List(fields.String())
    page_size = fields.Integer(validate=validate.Range(min=1, max=2048), load_default=256)
    page_token = fields.String()
    view = fields.String(validate=validate.OneOf(VIEWS), load_default="MINIMAL")
