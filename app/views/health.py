"""GET /health: is the API up, and which version."""

from __future__ import annotations

from flask import Blueprint, jsonify

import gems

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """Liveness: answers without touching AWS."""
    return jsonify({"status": "ok", "service": "gems", "version": gems.__version__})
