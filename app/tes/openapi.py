"""The TES endpoints' documentation (app.apidoc Operations, worn by the views in app.tes.views): request and answer shapes from TES v1.1.

Answers are plain JSON Schema written after the GA4GH TES 1.1 OpenAPI definitions (tesTask,
tesTaskLog, tesExecutorLog, ...), so a schema check of /openapi.json checks the TES contract.
"""

from __future__ import annotations

from app.apidoc import Answer, Operation
from app.tes.schemas import STATES, ListQuerySchema, TaskRequestSchema, ViewQuerySchema

_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_INPUT = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "url": {"type": "string"},
        "path": {"type": "string"},
        "type": {"type": "string", "enum": ["FILE", "DIRECTORY"]},
        "content": {"type": "string"},
        "streamable": {"type": "boolean"},
    },
}
_OUTPUT = {
    "type": "object",
    "properties": {
        k: {"type": "string"} for k in ("name", "description", "url", "path", "path_prefix", "type")
    },
}
_EXECUTOR = {
    "type": "object",
    "required": ["image", "command"],
    "properties": {
        "image": {"type": "string"},
        "command": {"type": "array", "items": {"type": "string"}},
        "workdir": {"type": "string"},
        "stdin": {"type": "string"},
        "stdout": {"type": "string"},
        "stderr": {"type": "string"},
        "env": _STRING_MAP,
        "ignore_error": {"type": "boolean"},
    },
}
_EXECUTOR_LOG = {
    "type": "object",
    "required": ["exit_code"],
    "properties": {
        "start_time": {"type": "string"},
        "end_time": {"type": "string"},
        "stdout": {"type": "string"},
        "stderr": {"type": "string"},
        "exit_code": {"type": "integer"},
    },
}
_TASK_LOG = {
    "type": "object",
    "required": ["logs", "outputs"],
    "properties": {
        "logs": {"type": "array", "items": _EXECUTOR_LOG},
        "metadata": _STRING_MAP,
        "start_time": {"type": "string"},
        "end_time": {"type": "string"},
        "outputs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["url", "path", "size_bytes"],
                "properties": {k: {"type": "string"} for k in ("url", "path", "size_bytes")},
            },
        },
        "system_logs": {"type": "array", "items": {"type": "string"}},
    },
}
TASK = {
    "type": "object",
    "required": ["id", "state"],
    "properties": {
        "id": {"type": "string"},
        "state": {"type": "string", "enum": STATES},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "inputs": {"type": "array", "items": _INPUT},
        "outputs": {"type": "array", "items": _OUTPUT},
        "resources": {"type": ["object", "null"]},
        "executors": {"type": "array", "items": _EXECUTOR},
        "volumes": {"type": "array", "items": {"type": "string"}},
        "tags": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
        "logs": {"type": "array", "items": _TASK_LOG},
        "creation_time": {"type": "string"},
    },
}
EXAMPLE = {"id": "3f5c0a1e9b7d4c2a8e6f1d0b9a8c7e6d", "state": "RUNNING"}

SERVICE_INFO = Operation(
    responses={
        200: Answer(
            "GA4GH service-info for TES 1.1.",
            {
                "type": "object",
                "required": ["id", "name", "type", "organization", "version"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "type": {"type": "object", "required": ["group", "artifact", "version"]},
                    "organization": {"type": "object", "required": ["name", "url"]},
                    "version": {"type": "string"},
                    "storage": {"type": "array", "items": {"type": "string"}},
                },
            },
        )
    }
)
LIST_TASKS = Operation(
    query=ListQuerySchema,
    responses={
        200: Answer(
            "Tasks, newest first; next_page_token while more remain.",
            {
                "type": "object",
                "required": ["tasks"],
                "properties": {
                    "tasks": {"type": "array", "items": TASK},
                    "next_page_token": {"type": "string"},
                },
            },
            {"tasks": [EXAMPLE]},
        )
    },
    errors=(400,),
)
CREATE_TASK = Operation(
    body=TaskRequestSchema,
    body_example={
        "name": "hla run1",
        "inputs": [
            {"url": "s3://lab-runs/run1/NA12878_S1_L001_R1_001.fastq.gz"},
            {"url": "s3://lab-runs/run1/NA12878_S1_L001_R2_001.fastq.gz"},
        ],
        "executors": [{"image": "gems-worker", "command": ["gems"], "env": {"HLA_CLASS": "1"}}],
    },
    responses={
        200: Answer(
            "The task (a gems job) was created.",
            {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "string"},
                    "callback_secret": {
                        "type": "string",
                        "description": "only when tags.callback_url was given: the key its callbacks "
                        "are signed with (X-Gems-Signature), answered this once",
                    },
                },
            },
            {"id": EXAMPLE["id"]},
        )
    },
    errors=(400, 403, 409, 503),
)
GET_TASK = Operation(
    query=ViewQuerySchema, responses={200: Answer("The task.", TASK, EXAMPLE)}, errors=(400,)
)
CANCEL_TASK = Operation(responses={200: Answer("Canceled (or already ended).", {"type": "object"}, {})})
