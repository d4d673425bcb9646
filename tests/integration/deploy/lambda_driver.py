"""Run inside a clean interpreter whose sys.path is the unzipped Lambda package: Zappa's own
handler, as Lambda calls it, with API Gateway REST (v1) events. Prints one JSON line of answers."""

import base64
import json
import sys
import time

sys.path.insert(0, sys.argv[1])
import handler  # noqa: E402 - Zappa's handler, from the package

key, lab = sys.argv[2], sys.argv[3]


class Context:
    function_name = "gems-dev"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self):
        return 60_000


def rest(method, path, body=None, headers=None, query=None):
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": dict(
            {"Host": "abc.execute-api.us-east-1.amazonaws.com", "X-Forwarded-Proto": "https"},
            **(headers or {}),
        ),
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": "/dev" + path,
            "stage": "dev",
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "test"},
            "requestId": "r1",
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
calls = {
    "health": rest("GET", "/health"),
    "list": rest("GET", "/job"),
    "submit": rest("POST", "/job", {"bucket": lab, "prefix": "run1/", "hla_class": 1}, auth),
    "predict": rest("POST", "/predict", {"mutated_genes": ["TP53"]}, auth),
    "page": rest("GET", "/"),
    "bad_key": rest("POST", "/job", {}, {"Authorization": "Bearer not-the-key"}),
}
out = {}
for name, event in calls.items():
    started = time.monotonic()
    answer = handler.lambda_handler(event, Context())
    body = answer.get("body") or ""
    if answer.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    out[name] = {
        "status": answer["statusCode"],
        "body": body[:3000],
        "seconds": round(time.monotonic() - started, 2),
        "type": (answer.get("headers") or {}).get("Content-Type", ""),
    }
sweep = {
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/gems-dev-app.events.sweep"],
}
try:
    out["sweep"] = handler.lambda_handler(sweep, Context())
except Exception as exc:  # noqa: BLE001 - a scheduled run that fails is logged and runs again in 5 minutes
    out["sweep"] = {"error": type(exc).__name__}
print("RESULT " + json.dumps(out))
