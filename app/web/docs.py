"""The web pages' documentation in the OpenAPI document (app.apidoc Operations, worn by the
views in app.web.views and app.web.basespace; the JSON reads of app.web.api carry their own)."""

from __future__ import annotations

from app.apidoc import Answer, Operation

# 404: this deployment has no BaseSpace app configured.
BASESPACE_LAUNCH = Operation(
    html=True, responses={200: Answer("An HTML page.", html=True)}, errors=(400, 404, 503)
)
# A person opened the page: an unknown job gets an HTML page saying so, not JSON.
JOB_PAGE = Operation(
    html=True,
    responses={
        200: Answer("An HTML page.", html=True),
        404: Answer("No such job: an HTML page saying so.", html=True),
    },
)
JOB_WORKERS_FRAGMENT = Operation(
    html=True, responses={200: Answer("An HTML fragment.", html=True)}, errors=(404,)
)
BASESPACE_CONFIRM = Operation(
    html=True,
    form={
        "type": "object",
        "required": ["token", "session_id"],
        "properties": {
            "token": {"type": "string", "description": "the BaseSpace access token the launch page got"},
            "session_id": {"type": "string", "description": "the BaseSpace app session id"},
            "returnurl": {"type": "string", "description": "where 'Back to BaseSpace' goes"},
        },
    },
    responses={
        303: Answer("The job was launched: on to its page.", html=True),
        200: Answer("The launch page again, with the reason it could not start.", html=True),
    },
    errors=(400, 404, 503),
)
