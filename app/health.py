"""GET /health: is the API up, and which version."""

from __future__ import annotations

from flask import Blueprint, jsonify
from marshmallow import Schema, fields

import gems
from app.apidoc import Answer, Operation, documented

bp = Blueprint("health", __name__)


class HealthSchema(Schema):
    status = fields.String(metadata={"example": "ok"})
    service = fields.String()
    version = fields.String()


@bp.get("/health")
@documented(
    Operation(
        responses={
            200: Answer(
                "The API is up.", HealthSchema, {"status": "ok", "service": "gems", "version": "0.1.0"}
            )
        }
    )
)
def health():
    """Liveness: answers without touching AWS."""
    return jsonify({"status": "ok", "service": "gems", "version": gems.__version__})
