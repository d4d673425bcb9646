"""The SageMaker-contract inference server, in-process on 127.0.0.1 with the committed default model."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request

import pytest

from ml import artifacts, calibration, feature_matrix, features, serve

PATIENT = {
    "patient_id": "demo-1",
    "sex": "male",
    "age_at_diagnosis": 45,
    "mutations": [
        {"gene": "IDH1", "variant_class": "Missense_Mutation", "protein_change": "p.R132H"},
        {"gene": "ATRX", "variant_class": "Nonsense_Mutation"},
        {"gene": "TP53", "variant_class": "Missense_Mutation", "protein_change": "p.R273C"},
    ],
    "n_silent": 10,
}


def call(
    url: str,
    path: str,
    body: bytes | None = None,
    content_type: str = "application/json",
    accept: str | None = None,
):
    headers = {"Content-Type": content_type} | ({"Accept": accept} if accept else {})
    request = urllib.request.Request(
        url + path, data=body, headers=headers, method="POST" if body is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


def test_ping_reports_the_version(model_server):
    status, headers, body = call(model_server, "/ping")
    version = artifacts.read_manifest(artifacts.DEFAULT_MODEL_DIR)["version"]
    assert status == 200 and json.loads(body) == {"status": "ok", "model_version": version}
    assert headers["X-Model-Version"] == version


def test_invocations_json(model_server):
    status, _, body = call(
        model_server,
        "/invocations",
        json.dumps(
            {
                "instances": [
                    PATIENT,
                    {"mutated_genes": ["VHL", "PBRM1"], "sex": "male", "n_nonsilent": 60, "n_silent": 20},
                ]
            }
        ).encode(),
    )
    assert status == 200, body
    answer = json.loads(body)
    config = artifacts.read_config(artifacts.DEFAULT_MODEL_DIR)
    assert answer["classes"] == config["classes"]
    first, second = answer["predictions"]
    assert first["patient_id"] == "demo-1" and first["predicted_site"] == "Brain"
    assert second["predicted_site"] == "Kidney"
    assert sum(first["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


def test_invocations_csv_takes_feature_rows_in_config_order(model_server):
    config = artifacts.read_config(artifacts.DEFAULT_MODEL_DIR)
    # Every clinical fact given: JSON averages over facts left out, CSV rows are taken as they are.
    patient = {**PATIENT, "race": "white", "prior_malignancy": 0}
    row = feature_matrix.build([patient], feature_matrix.Layout(config["spec"])).rows()[0]
    line = ",".join("" if v is None else str(v) for v in row)
    status, headers, body = call(
        model_server, "/invocations", (line + "\n" + line + "\n").encode(), "text/csv"
    )
    assert status == 200 and headers["Content-Type"] == "text/csv"
    lines = body.strip().splitlines()
    assert lines[0].split(",") == ["predicted_site", *config["classes"]]
    assert len(lines) == 3 and lines[1].startswith("Brain,")
    # CSV and JSON give the same probabilities for the same patient.
    _, _, as_json = call(model_server, "/invocations", json.dumps(patient).encode())
    probs = json.loads(as_json)["predictions"][0]["probabilities"]
    assert [float(x) for x in lines[1].split(",")[1:]] == pytest.approx(
        [probs[c] for c in config["classes"]], abs=1e-6
    )


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"instances": 3}', "application/json", 400),
        (b"1,2,3\n", "text/csv", 400),
        (b"x", "application/x-npy", 415),
    ],
)
def test_bad_requests_get_clear_answers(model_server, body, content_type, status):
    code, _, text = call(model_server, "/invocations", body, content_type)
    assert code == status and json.loads(text)["message"]


def test_unknown_route_is_404(model_server):
    assert call(model_server, "/nope")[0] == 404


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_a_missing_or_corrupt_model_keeps_the_server_up_and_says_why(tmp_path, damage):
    broken = tmp_path / "model"
    shutil.copytree(artifacts.DEFAULT_MODEL_DIR, broken)
    if damage == "corrupt":
        (broken / artifacts.MODEL_FILE).write_bytes(b"this is not a catboost model")
    else:
        (broken / artifacts.MODEL_FILE).unlink()
    srv, url = serve.start_in_thread(broken)
    try:
        status, _, body = call(url, "/ping")
        assert status == 503
        reason = json.loads(body)["reason"]
        assert ("corrupt" if damage == "corrupt" else "model.cbm is missing") in reason
        status, _, body = call(url, "/invocations", json.dumps(PATIENT).encode())
        assert status == 503 and json.loads(body)["message"] == reason
    finally:
        srv.shutdown()
        srv.server_close()


def test_facts_left_out_are_averaged_over_training_profiles_not_read_as_unknown(model_server):
    from ml.predictor import Predictor

    predictor = Predictor(artifacts.DEFAULT_MODEL_DIR)
    profiles = predictor.config["clinical_profiles"]
    assert len(profiles["female"]) == len(profiles["male"]) >= 10
    patient = {"mutated_genes": ["PIK3CA", "GATA3", "CDH1"], "sex": "female", "n_nonsilent": 30}
    status, _, body = call(model_server, "/invocations", json.dumps(patient).encode())
    assert status == 200, body
    served = json.loads(body)["predictions"][0]["probabilities"]
    row = predictor.rows([patient])[0]
    copies = features.with_profiles(row, ["race", "prior_malignancy", "age_at_diagnosis"], profiles)
    assert len(copies) == len(profiles["female"])
    # averaged over the profiles first, calibrated once (what training calibrated)
    temperature, predictor.temperature = predictor.temperature, 1.0
    raw = predictor.predict_rows(copies)
    predictor.temperature = temperature
    averaged = [sum(p[k] for p in raw) / len(copies) for k in range(len(predictor.classes))]
    expected = calibration.apply([averaged], temperature)[0]
    assert [served[c] for c in predictor.classes] == pytest.approx(expected, abs=1e-6)
    as_unknown = predictor.predict_rows([row])[0]
    assert [served[c] for c in predictor.classes] != pytest.approx(as_unknown, abs=1e-3)


def test_answers_carry_calibrated_probabilities_and_the_confident_flag(model_server):
    from ml.predictor import Predictor

    predictor = Predictor(artifacts.DEFAULT_MODEL_DIR)
    cal = predictor.config["calibration"]
    assert cal["method"] == "temperature" and 0 < cal["temperature"] < 1  # the raw model is underconfident
    status, _, body = call(model_server, "/invocations", json.dumps(PATIENT).encode())
    answer = json.loads(body)
    assert status == 200 and answer["confident_threshold"] == cal["confident_threshold"]
    item = answer["predictions"][0]
    served = [item["probabilities"][c] for c in predictor.classes]
    predictor.temperature = 1.0
    raw = predictor.predict_patients([PATIENT], average_missing=True)[0]
    assert served == pytest.approx(calibration.apply([raw], cal["temperature"])[0], abs=1e-6)
    assert max(served) > max(raw)  # sharpened, and the ranking kept
    assert served.index(max(served)) == raw.index(max(raw))
    assert item["confident"] is (max(served) >= cal["confident_threshold"])


def test_a_model_without_calibration_answers_raw_probabilities_and_no_flag(tmp_path):
    old = tmp_path / "model"
    shutil.copytree(artifacts.DEFAULT_MODEL_DIR, old)
    config = json.loads((old / artifacts.CONFIG).read_text())
    del config["calibration"]
    (old / artifacts.CONFIG).write_text(json.dumps(config))
    srv, url = serve.start_in_thread(old)
    try:
        answer = json.loads(call(url, "/invocations", json.dumps(PATIENT).encode())[2])
        assert answer["confident_threshold"] is None and answer["predictions"][0]["confident"] is None
    finally:
        srv.shutdown()
        srv.server_close()


def test_answers_carry_the_drift_counts_of_the_rows_the_model_was_given(model_server):
    from ml import drift

    patients = [PATIENT, {"sex": "female", "mutated_genes": ["PIK3CA"], "age_at_diagnosis": 80}]
    answer = json.loads(call(model_server, "/invocations", json.dumps({"instances": patients}).encode())[2])
    # the same counts the app would make from the patients itself, without building features twice
    assert answer["drift"] == drift.histogram(patients)
    assert answer["drift"]["n"] == 2
