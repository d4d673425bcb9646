"""The OpenAPI document: valid OpenAPI 3, one operation per live route, errors with examples."""

from __future__ import annotations

import re

from flask import Blueprint
from openapi_spec_validator import validate


def _routes(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule)
        out |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return out


def _documented(doc) -> set[tuple[str, str]]:
    return {(p, m) for p, ops in doc["paths"].items() for m in ops}


def test_served_document_is_valid_openapi_and_matches_the_routes(app):
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    validate(doc)
    assert doc["openapi"].startswith("3.")
    assert _documented(doc) == _routes(app)
    # the API's own routes, whatever other blueprints add
    for path in ("/job", "/job/{session_key}", "/job/{session_key}/results", "/predict", "/stop_instances"):
        assert path in doc["paths"], path


def test_a_route_added_later_appears_without_any_documentation_of_its_own(app):
    extra = Blueprint("later", __name__)

    @extra.get("/later/<int:n>")
    def later(n: int):
        """Something another engineer adds.

        With a longer description.
        """
        return {"n": n}

    app.register_blueprint(extra)
    doc = app.test_client().get("/openapi.json").get_json()
    validate(doc)
    op = doc["paths"]["/later/{n}"]["get"]
    assert op["summary"] == "Something another engineer adds."
    assert op["description"] == "With a longer description."
    assert op["parameters"] == [{"name": "n", "in": "path", "required": True, "schema": {"type": "integer"}}]
    assert _documented(doc) == _routes(app)


def test_every_operation_describes_its_errors_with_examples(app):
    doc = app.test_client().get("/openapi.json").get_json()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["summary"], (path, method)
            assert any(code.startswith("2") for code in op["responses"]), (path, method)
            for code, answer in op["responses"].items():
                if code.startswith(("4", "5")):
                    if "text/html" in answer["content"]:  # a page a person opened errs as a page
                        assert "text/html" in op["responses"]["200"]["content"], (path, method, code)
                        continue
                    body = answer["content"]["application/json"]
                    assert body["schema"] == {"$ref": "#/components/schemas/Error"}
                    assert body["example"]["error"] and body["example"]["message"], (path, method, code)


def test_security_follows_the_auth_decorators(app):
    doc = app.test_client().get("/openapi.json").get_json()
    paths = doc["paths"]
    assert paths["/job"]["post"]["security"] == [{"ApiKey": []}]
    assert "401" in paths["/job"]["post"]["responses"]
    assert {} in paths["/job"]["get"]["security"]  # open to read unless the deployment closes it
    assert "security" not in paths["/health"]["get"]
    submit = paths["/job"]["post"]
    assert submit["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JobRequest"
    }
    assert submit["responses"]["400"]["content"]["application/json"]["example"]["field"] == "hla_class"
    listing = {p["name"] for p in paths["/job"]["get"]["parameters"]}
    assert {"status", "bucket", "prefix", "session_key"} <= listing
    schemas = doc["components"]["schemas"]
    assert schemas["JobRequest"]["required"] == ["bucket", "hla_class", "prefix"]
    assert schemas["JobRequest"]["properties"]["hla_class"]["enum"] == [1, 2]


def test_docs_page_is_self_contained(app):
    client = app.test_client()
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the docs page must not load from a CDN"
    for asset in re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", html):
        got = client.get(asset)
        assert got.status_code == 200, asset
        assert len(got.data) > 100, asset
        got.close()


def test_every_route_of_the_app_carries_its_documentation(app):
    """Schemas, answers and examples sit on each view (`@documented` under the route): a view
    renamed or moved keeps them, and a new route without them is caught here."""
    from app.apidoc import operation_of

    bare = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if not rule.endpoint.endswith("static") and operation_of(app.view_functions[rule.endpoint]) is None
    ]
    assert bare == []


def test_documentation_follows_a_renamed_view(app):
    from app.apidoc import Answer, Operation, documented

    extra = Blueprint("renamed", __name__)

    @extra.get("/renamed")
    @documented(Operation(responses={200: Answer("Still described.", {"type": "object"}, {"x": 1})}))
    def a_name_no_registry_knows():
        """A view whose endpoint name appears nowhere else."""
        return {"x": 1}

    app.register_blueprint(extra)
    op = app.test_client().get("/openapi.json").get_json()["paths"]["/renamed"]["get"]
    assert op["responses"]["200"]["description"] == "Still described."
    assert op["responses"]["200"]["content"]["application/json"]["example"] == {"x": 1}


def test_the_prediction_answer_and_each_prediction_are_different_components(app):
    doc = app.test_client().get("/openapi.json").get_json()
    answer = doc["paths"]["/predict"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    schemas = doc["components"]["schemas"]
    assert answer == {"$ref": "#/components/schemas/Answer"}
    assert {"model_version", "predictions"} <= set(schemas["Answer"]["properties"])
    assert "top" in schemas["Prediction"]["properties"]
