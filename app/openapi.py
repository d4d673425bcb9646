"""The OpenAPI 3 document of the live app, at /openapi.json, with Swagger UI at /docs.

The document is built from the app's own url_map, so a route added by any blueprint appears
without anyone editing this file: its summary and description come from the view's docstring,
its security from the auth decorator it wears (app.auth), and its path parameters from the rule.
What a docstring cannot say -- request and response schemas and examples -- the view carries
itself, as `@documented(Operation(...))` (app.apidoc) under its route; a view without it is
still documented, with a generic JSON answer and the standard errors. Schemas become components
named after their classes (JobRequestSchema -> JobRequest).
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app, jsonify, render_template, request

import gems
from app.apidoc import ERRORS, Answer, ErrorSchema, Operation, documented, operation_of

bp = Blueprint("openapi", __name__, template_folder="openapi_docs")

SKIP_METHODS = {"HEAD", "OPTIONS"}
_PARAM = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_CONVERTER_TYPES = {"int": "integer", "float": "number"}
_HTML = {"text/html": {"schema": {"type": "string"}}}
TAGS = {
    "jobs": "Start, list, follow and stop jobs.",
    "results": "A job's result files.",
    "predict": "The primary-site model.",
    "stop": "Workers stopping their own job's fleet.",
    "health": "Liveness.",
    "web": "The web app's pages and the small JSON reads behind them.",
    "openapi": "This document and its interactive docs.",
}


def openapi_path(rule: str) -> str:
    """Flask's `/job/<session_key>` -> OpenAPI's `/job/{session_key}`."""
    return _PARAM.sub(lambda m: "{" + m["name"] + "}", rule)


def _auth_of(view) -> str | None:
    """'key' when the view needs an API key, 'read' when only a key-guarded deployment needs one.

    The auth decorators of app.auth mark their wrapper; the outermost one is what the route does.
    """
    return getattr(view, "gems_auth", None)


def _docstring(view) -> tuple[str, str]:
    doc = inspect.getdoc(inspect.unwrap(view)) or ""
    summary, _, rest = doc.partition("\n")
    return summary.strip() or view.__name__.replace("_", " "), rest.strip()


def _path_parameters(rule) -> list[dict]:
    params = []
    for m in _PARAM.finditer(rule.rule):
        params.append(
            {
                "name": m["name"],
                "in": "path",
                "required": True,
                "schema": {"type": _CONVERTER_TYPES.get(m["conv"] or "", "string")},
            }
        )
    return params


def _error_response(status: int) -> dict:
    code, text, example = ERRORS[status]
    return {
        "description": text,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}, "example": example}
        },
    }


def _response(spec_entry: Answer) -> dict:
    if spec_entry.html:
        return {"description": spec_entry.description, "content": _HTML}
    media: dict = {}
    if spec_entry.schema is not None:
        media["schema"] = spec_entry.schema
    if spec_entry.example is not None:
        media["example"] = spec_entry.example
    return {"description": spec_entry.description, "content": {spec_entry.media: media or {"schema": {}}}}


def _operation(rule, method: str, view, entry: Operation | None) -> dict:
    summary, description = _docstring(view)
    auth = _auth_of(view)
    op: dict = {
        "operationId": f"{rule.endpoint}.{method.lower()}".replace(".", "_"),
        "summary": summary,
        "tags": [rule.endpoint.split(".")[0]],
    }
    if description:
        op["description"] = description
    params = _path_parameters(rule)
    if entry and entry.query is not None:
        params.append({"in": "query", "schema": entry.query})
    if params:
        op["parameters"] = params
    if entry and entry.body is not None:
        body: dict[str, Any] = {"required": True, "content": {"application/json": {"schema": entry.body}}}
        if entry.body_example is not None:
            body["content"]["application/json"]["example"] = entry.body_example
        op["requestBody"] = body
    if entry and entry.form is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": entry.form}},
        }
    answers = dict(entry.responses) if entry and entry.responses else {200: Answer("OK")}
    responses = {str(status): _response(answer) for status, answer in answers.items()}
    errors = set(entry.errors if entry else ())
    if auth in ("key", "admin"):
        op["security"] = [{"ApiKey": []}]
        errors.update((401, 429))
        if auth == "admin":
            errors.add(403)
    elif auth == "read":
        op["security"] = [{}, {"ApiKey": []}]
        op["description"] = (description + "\n\n" if description else "") + (
            "Open to read unless the deployment sets GEMS_READ_REQUIRES_KEY=1; then it needs the API key."
        )
        errors.update((401, 429))
    if entry and (entry.body is not None or entry.form is not None):
        errors.add(413)  # app.limits: the body limit
    if params and any(p["in"] == "path" for p in params) and not (entry and entry.html):
        errors.add(404)
    if entry is None or not entry.html:
        errors.add(500)
    for status in sorted(errors):
        responses.setdefault(str(status), _error_response(status))
    op["responses"] = responses
    return op


def api_rules(app: Flask):
    """Every rule the document must describe: all but static files and the docs themselves."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        yield rule


def build_spec(app: Flask) -> dict:
    spec = APISpec(
        title="gems API",
        version=gems.__version__,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": (
                "Jobs (alignment, HLA typing, variant calling on EC2 workers), their results, the "
                "primary-site model and the web pages. Write calls need `Authorization: Bearer <API key>`; "
                "every error is JSON with `error`, `message` and, when a request field is at fault, `field`."
            )
        },
        servers=[{"url": "/"}],
    )
    spec.components.security_scheme(
        "ApiKey", {"type": "http", "scheme": "bearer", "description": "the API key (credstash)"}
    )
    spec.components.schema("Error", schema=ErrorSchema)
    by_path: dict[str, dict] = {}
    used: set[str] = set()
    for rule in sorted(api_rules(app), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        ops = by_path.setdefault(openapi_path(rule.rule), {})
        for method in sorted(rule.methods - SKIP_METHODS):
            entry = operation_of(view)
            op = _operation(rule, method, view, entry)
            if op["operationId"] in used:  # one view on several rules (/ and /jobs): ids must differ
                op["operationId"] += "_" + (re.sub(r"\W+", "_", rule.rule).strip("_") or "root")
            used.add(op["operationId"])
            ops[method.lower()] = op
    for path, ops in by_path.items():
        spec.path(path=path, operations=ops)
    present = {t for ops in by_path.values() for op in ops.values() for t in op["tags"]}
    # Swagger UI lists tags in this order: the job API first, the pages last.
    ordered = [t for t in TAGS if t in present] + sorted(present - set(TAGS))
    for name in ordered:
        spec.tag({"name": name, "description": TAGS.get(name, "")} if TAGS.get(name) else {"name": name})
    return spec.to_dict()


def cached_spec(app: Flask) -> dict:
    """Built once per app (per cold start on Lambda); rebuilt if routes were added since."""
    n_rules = len(list(app.url_map.iter_rules()))
    held = app.extensions.get("gems_openapi")
    if held is None or held[0] != n_rules:
        held = app.extensions["gems_openapi"] = (n_rules, build_spec(app))
    return held[1]


@bp.get("/openapi.json")
@documented(Operation(responses={200: Answer("This document.", {"type": "object"})}))
def openapi_json():
    """This API's OpenAPI 3 document, built from the live routes and their marshmallow schemas."""
    doc = dict(cached_spec(current_app._get_current_object()))  # type: ignore[attr-defined]  # the proxy's target
    # "Try it out" must call the API where this request came in (API Gateway adds a stage prefix).
    doc["servers"] = [{"url": request.script_root or "/"}]
    return jsonify(doc)


@bp.get("/docs")
@documented(Operation(html=True, responses={200: Answer("Swagger UI", html=True)}))
def docs():
    """Interactive API documentation (Swagger UI, served from this app: no CDN)."""
    return render_template("openapi_docs.html")
