"""The Flask app: the job API, /stop_instances, /predict and the web pages.

It runs on Lambda (Zappa) and in the embedded stack; it never imports catboost or pysam.
"""

from __future__ import annotations

import logging

from flask import Flask

from gems.config import Config

log = logging.getLogger(__name__)


def create_app(config: Config | None = None, *, services=None) -> Flask:
    """Build the app. `services` (an app.services.Services) may be injected by tests."""
    from app import headers, health, limits, metrics, openapi, request_log
    from app.errors import register_error_handlers
    from app.jobs import results, stop
    from app.jobs import views as jobs
    from app.lake import views as lake
    from app.predict import views as predict
    from app.services import Services
    from app.tes import views as tes
    from app.web import views as web

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
    # Every blueprint, by name: what the app serves is read here, not assembled from strings.
    for module in (health, jobs, results, stop, predict, web, openapi, tes, lake):
        flask_app.register_blueprint(module.bp)
    return flask_app
