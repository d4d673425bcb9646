"""The Flask app: the job API, /stop_instances, /predict and the web pages.

It runs on Lambda (Zappa) and in the embedded stack; it never imports catboost or pysam.
"""

from __future__ import annotations

import importlib
import logging

from flask import Flask

from gems.config import Config

log = logging.getLogger(__name__)

# Blueprints, each in its own module; a module that is missing is a bug, not optional.
BLUEPRINTS = [
    "app.views.health",
    "app.views.jobs",
    "app.views.results",
    "app.views.stop",
    "app.predict.views",
    "app.web.views",
    "app.openapi",
    "app.tes.views",
    "app.views.lake",
]


def create_app(config: Config | None = None, *, services=None) -> Flask:
    """Build the app. `services` (an app.services.Services) may be injected by tests."""
    from app import headers, limits, metrics, request_log
    from app.errors import register_error_handlers
    from app.services import Services

    config = config or Config.from_env()
    flask_app = Flask(__name__)
    flask_app.config["GEMS"] = config
    flask_app.config["JSON_SORT_KEYS"] = False
    flask_app.extensions["gems"] = services or Services.from_config(config)
    register_error_handlers(flask_app)
    limits.init_app(flask_app)
    headers.init_app(flask_app)
    request_log.init_app(flask_app)
    metrics.init_app(flask_app)
    for name in BLUEPRINTS:
        flask_app.register_blueprint(importlib.import_module(name).bp)
    return flask_app
