"""The /predict side of drift monitoring: append each answered batch's feature counts to S3."""

from __future__ import annotations

import logging

from flask import current_app

from ml import drift

log = logging.getLogger(__name__)


def record_served(patients: list[dict], model_version: str | None) -> None:
    """Counts only (see ml.drift); a failure is logged and never fails the prediction."""
    services = current_app.extensions.get("gems")
    if services is None:
        return
    try:
        drift.record(services.clients.s3, services.config.state_bucket, model_version, patients)
    except Exception as exc:  # noqa: BLE001 - monitoring must not cost the user an answer
        log.warning("drift: could not record served features: %s", exc)
