"""POST /predict: validated patient facts in, the likely primary sites with probabilities out."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from app.apidoc import Answer, Operation, documented
from app.auth import require_api_key
from app.drift import record_served
from app.load import load, load_part
from app.metrics import observe_prediction
from app.predict.model_client import ModelClient
from app.predict.schemas import (
    PATIENT_EXAMPLE,
    PREDICTION_EXAMPLE,
    AnswerSchema,
    BatchEnvelopeSchema,
    BatchSchema,
    PatientRequestSchema,
    PatientSchema,
)
from gems.errors import UnavailableError, ValidationError
from ml import features

bp = Blueprint("predict", __name__)

NOTE = (
    "Not a diagnosis. The model ranks the 11 primary sites it was trained on (TCGA tumours) from somatic "
    "mutations and a few clinical facts; it cannot say that a tumour is from any other site, that there is "
    "no cancer, or how sure a pathologist would be. Clinical facts listed in not_given are averaged over "
    "training patients of the same sex rather than read as unknown. Confirm with histopathology."
)
_CLIENT_KEY = "gems_predict_client"
# Made once: building a marshmallow schema copies its fields (a third of a millisecond per call
# for these three); loading and dumping keep no state in the instance.
_PATIENT, _PATIENTS, _ENVELOPE = PatientSchema(), PatientSchema(many=True), BatchEnvelopeSchema()


def model_client() -> ModelClient:
    """One client per app; tests may put their own in app.extensions[_CLIENT_KEY]."""
    client = current_app.extensions.get(_CLIENT_KEY)
    if client is None:
        config = current_app.config["GEMS"]
        runtime = None
        if config.sagemaker_endpoint:
            services = current_app.extensions.get("gems")
            runtime = services.clients.sagemaker_runtime if services is not None else None
        client = current_app.extensions[_CLIENT_KEY] = ModelClient(config, runtime=runtime)
    return client


def _answer(raw: dict, patients: list[dict], top: int, served_by: str) -> dict:
    ids = [p.get("patient_id") for p in patients]
    predictions = raw.get("predictions")
    if not isinstance(predictions, list) or len(predictions) != len(ids):
        raise UnavailableError("the model answered something other than one prediction per patient")
    out = []
    for patient, pid, item in zip(patients, ids, predictions, strict=True):
        ranked = sorted(item["probabilities"].items(), key=lambda kv: -kv[1])
        out.append(
            {
                "patient_id": pid,
                "top": [{"site": site, "probability": round(p, 4)} for site, p in ranked[:top]],
                "probabilities": {site: round(p, 4) for site, p in ranked},
                "not_given": features.not_given(patient),
                "confident": item.get("confident"),
            }
        )
    # AnswerSchema's shape, built as such: dumping it through the schema was a third of the
    # view's own time on a batch (tests check that the schema leaves it unchanged)
    return {
        "model_version": raw.get("model_version", "unknown"),
        "confident_threshold": raw.get("confident_threshold"),
        "served_by": served_by,
        "predictions": out,
        "note": NOTE,
    }


@bp.post("/predict")
@require_api_key
@documented(
    Operation(
        # Loaded in the view, not by the decorator: a batch's patients go to the model a chunk at a
        # time while the next chunk is checked (BatchEnvelopeSchema, then PatientSchema per chunk).
        body={"oneOf": [PatientRequestSchema, BatchSchema]},
        body_example=PATIENT_EXAMPLE,
        responses={200: Answer("The top sites with probabilities.", AnswerSchema, PREDICTION_EXAMPLE)},
        errors=(400, 503),
    )
)
def predict():
    """Rank the likely primary sites of one patient's tumour, or of a batch (`{"patients": [...]}`)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body:
        raise ValidationError(
            'the body must be a non-empty JSON object: one patient, or {"patients": [...]}', field="body"
        )
    client = model_client()
    if "patients" in body:
        batch = load(_ENVELOPE, body)
        top, patients = batch["top"], []

        def checked():
            for start in range(0, len(batch["patients"]), client.chunk):
                part = load_part(
                    _PATIENTS, batch["patients"][start : start + client.chunk], "patients", start
                )
                patients.extend(part)
                yield part

        raw = client.predict_chunks(checked())
    else:
        top = body.pop("top", 3)
        if not isinstance(top, int) or isinstance(top, bool) or not 1 <= top <= 20:
            raise ValidationError("top: must be an integer between 1 and 20", field="top")
        patients = [load(_PATIENT, body)]
        raw = client.predict(patients)
    answer = _answer(raw, patients, top, client.served_by)
    observe_prediction(answer["model_version"], len(patients))
    record_served(patients, answer["model_version"], raw.get("drift"))
    return jsonify(answer)
