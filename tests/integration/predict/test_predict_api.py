"""POST /predict through the Flask app and the local inference server (the embedded stack's path)."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from moto import mock_aws
from testconfig import TestConfig

from app import create_app
from app.predict.schemas import AnswerSchema
from app.services import Services
from gems import auth
from gems.aws.clients import Clients
from ml import artifacts, serve

KEY = "predict-test-key"
HEADERS = {"Authorization": f"Bearer {KEY}"}


class DictSecrets(dict):
    """credstash's interface (gems.aws.secrets.CredstashSecrets) over a dict."""

    def get(self, name, max_age=None):
        return self[name]

    def put(self, name, value):
        self[name] = value


def make_client(config):
    secrets = DictSecrets()
    auth.seed(secrets, {"clinic": KEY})
    services = Services(config=config, clients=Clients(config), keys=auth.KeyStore(secrets), jobs=None)
    return create_app(config, services=services).test_client()


@pytest.fixture(scope="module", autouse=True)
def aws():
    """The view also appends drift counts to the state bucket: keep that in moto."""
    with mock_aws():
        import boto3

        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=TestConfig().state_bucket)
        yield


@pytest.fixture
def client(model_server):
    return make_client(TestConfig(model_url=model_server, sagemaker_endpoint=None))


def test_one_patient(client):
    body = {
        "mutated_genes": ["IDH1", "ATRX", "TP53"],
        "variant_classes": {"ATRX": "Nonsense_Mutation"},
        "sex": "male",
        "age_at_diagnosis": 38,
    }
    response = client.post("/predict", json=body, headers=HEADERS)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert AnswerSchema().dump(answer) == answer  # the documented shape, nothing more or less
    assert answer["model_version"] == artifacts.read_manifest(artifacts.DEFAULT_MODEL_DIR)["version"]
    assert answer["served_by"].startswith("local:http://127.0.0.1:")
    assert "Not a diagnosis" in answer["note"]
    (prediction,) = answer["predictions"]
    assert [t["site"] for t in prediction["top"]][0] == "Brain" and len(prediction["top"]) == 3
    probabilities = [t["probability"] for t in prediction["top"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert len(prediction["probabilities"]) == 11
    assert prediction["not_given"] == ["race", "prior_malignancy"]
    threshold = artifacts.read_config(artifacts.DEFAULT_MODEL_DIR)["calibration"]["confident_threshold"]
    assert answer["confident_threshold"] == threshold
    assert prediction["confident"] is (probabilities[0] >= threshold)


def test_race_said_unknown_is_averaged_like_race_left_out(client):
    body = {
        "mutated_genes": ["SPOP", "FOXA1"],
        "sex": "male",
        "age_at_diagnosis": 66,
        "prior_malignancy": False,
    }
    left_out = client.post("/predict", json=body, headers=HEADERS).get_json()["predictions"][0]
    said = client.post("/predict", json={**body, "race": "unknown"}, headers=HEADERS).get_json()[
        "predictions"
    ][0]
    assert left_out["not_given"] == said["not_given"] == ["race"]
    assert left_out["probabilities"] == said["probabilities"]
    given = client.post("/predict", json={**body, "race": "white"}, headers=HEADERS).get_json()[
        "predictions"
    ][0]
    assert given["not_given"] == [] and given["probabilities"] != said["probabilities"]


def test_a_batch(client):
    patients = [
        {"patient_id": f"p{i}", "mutated_genes": genes, "sex": sex, "n_nonsilent": 60, "n_silent": 20}
        for i, (genes, sex) in enumerate(
            [(["VHL", "PBRM1"], "male"), (["BRAF"], "female"), (["APC", "KRAS", "TP53"], "male")]
        )
    ]
    response = client.post("/predict", json={"patients": patients, "top": 2}, headers=HEADERS)
    assert response.status_code == 200, response.get_json()
    assert AnswerSchema().dump(response.get_json()) == response.get_json()
    predictions = response.get_json()["predictions"]
    assert [p["patient_id"] for p in predictions] == ["p0", "p1", "p2"]
    assert all(len(p["top"]) == 2 for p in predictions)
    assert predictions[0]["top"][0]["site"] == "Kidney"


def test_a_batch_of_several_chunks_is_answered_in_order_and_a_bad_patient_stops_it(client):
    # 130 patients: the model is asked 50 at a time
    kinds = [(["VHL", "PBRM1"], "male"), (["BRAF"], "female"), (["APC", "KRAS", "TP53"], "male")]
    patients = [
        {"patient_id": f"p{i}", "mutated_genes": kinds[i % 3][0], "sex": kinds[i % 3][1]} for i in range(130)
    ]
    response = client.post("/predict", json={"patients": patients}, headers=HEADERS)
    assert response.status_code == 200, response.get_json()
    predictions = response.get_json()["predictions"]
    assert [p["patient_id"] for p in predictions] == [f"p{i}" for i in range(130)]
    assert {p["top"][0]["site"] for p in predictions[::3]} == {"Kidney"}
    # a bad gene in the third chunk: a 400 naming it
    patients[117]["mutated_genes"] = ["EGRF"]
    response = client.post("/predict", json={"patients": patients}, headers=HEADERS)
    body = response.get_json()
    assert response.status_code == 400 and body["field"] == "patients.117.mutated_genes.0"
    assert "did you mean 'EGFR'" in body["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"mutated_genes": ["TP35"]}, "mutated_genes.0"),
        ({"mutated_genes": ["TP53"] * 10_000}, "mutated_genes"),
        ({"mutated_genes": ["TP53"], "age_at_diagnosis": -4}, "age_at_diagnosis"),
        ({"mutated_genes": ["TP53"], "age_at_diagnosis": "sixty"}, "age_at_diagnosis"),
        ({"mutated_genes": ["TP53"], "top": 0}, "top"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(client, body, field):
    response = client.post("/predict", json=body, headers=HEADERS)
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_nan_in_the_json_body_is_400(client):
    raw = '{"mutated_genes": ["TP53"], "age_at_diagnosis": NaN}'
    response = client.post("/predict", data=raw, content_type="application/json", headers=HEADERS)
    assert response.status_code == 400 and response.get_json()["field"] == "age_at_diagnosis"


def test_json_the_fast_parser_refuses_gets_the_stdlib_parsers_answer(client):
    # orjson parses bodies but refuses integers past 64 bits; the stdlib parser takes them and
    # the schema names the field, as before.
    raw = '{"mutated_genes": ["TP53"], "n_silent": 100000000000000000000000000000}'
    response = client.post("/predict", data=raw, content_type="application/json", headers=HEADERS)
    assert response.status_code == 400 and response.get_json()["field"] == "n_silent"


def test_not_json_is_400(client):
    response = client.post("/predict", data="genes=TP53", content_type="text/plain", headers=HEADERS)
    assert response.status_code == 400 and response.get_json()["field"] == "body"


def test_predict_needs_an_api_key(client):
    assert client.post("/predict", json={"mutated_genes": ["TP53"]}).status_code == 401


def test_a_corrupt_model_makes_predict_503_and_the_rest_stays_up(tmp_path):
    broken = tmp_path / "model"
    shutil.copytree(artifacts.DEFAULT_MODEL_DIR, broken)
    (broken / artifacts.MODEL_FILE).write_bytes(b"garbage")
    server, url = serve.start_in_thread(broken)
    try:
        client = make_client(TestConfig(model_url=url, sagemaker_endpoint=None))
        client.application.extensions["gems_predict_client"] = None
        from app.predict.model_client import ModelClient

        client.application.extensions["gems_predict_client"] = ModelClient(
            client.application.config["GEMS"], attempts=2, backoff_s=0.01
        )
        response = client.post("/predict", json={"mutated_genes": ["TP53"]}, headers=HEADERS)
        assert response.status_code == 503
        message = response.get_json()["message"]
        assert "corrupt" in message and "after 2 attempts" in message
        assert client.get("/health").status_code == 200
    finally:
        server.shutdown()
        server.server_close()


def test_a_missing_model_directory_makes_predict_503_and_the_rest_stays_up(tmp_path, monkeypatch):
    from app.predict import vocabulary

    monkeypatch.setenv("GEMS_MODEL_DIR", str(tmp_path / "no-model"))
    vocabulary.load.cache_clear()
    try:
        client = make_client(TestConfig(model_url="http://127.0.0.1:9", sagemaker_endpoint=None))
        response = client.post("/predict", json={"mutated_genes": ["TP53"]}, headers=HEADERS)
        assert response.status_code == 503
        body = response.get_json()
        assert body["error"] == "unavailable" and "config.json is missing" in body["message"]
        assert client.get("/health").status_code == 200
    finally:
        monkeypatch.delenv("GEMS_MODEL_DIR")
        vocabulary.load.cache_clear()


def test_an_unreachable_model_server_is_503_with_the_reason():
    from app.predict.model_client import ModelClient

    client = make_client(TestConfig(model_url="http://127.0.0.1:9", sagemaker_endpoint=None))
    client.application.extensions["gems_predict_client"] = ModelClient(
        client.application.config["GEMS"], attempts=2, backoff_s=0.01, timeout_s=2
    )
    response = client.post("/predict", json={"mutated_genes": ["TP53"]}, headers=HEADERS)
    assert response.status_code == 503 and "unreachable" in response.get_json()["message"]
    assert json.loads(response.data)["error"] == "unavailable"


def test_a_kept_alive_connection_the_server_closed_is_replaced_without_a_retry(monkeypatch):
    from app.predict.model_client import ModelClient
    from ml import artifacts, serve

    server, url = serve.start_in_thread(artifacts.DEFAULT_MODEL_DIR)
    # the server closes a connection idle for 0.2 s, as a restarted or load-balanced one would
    monkeypatch.setattr(server.RequestHandlerClass, "timeout", 0.2)
    slept = []
    try:
        model = ModelClient(TestConfig(model_url=url, sagemaker_endpoint=None), sleep=slept.append)
        patient = {"mutated_genes": ["BRAF"], "mutations": [{"gene": "BRAF"}]}
        first = model.predict([patient])
        kept = model._local.conn
        time.sleep(0.6)
        second = model.predict([patient])
        assert model._local.conn is not kept  # a new connection carried the second call
        assert second["predictions"] == first["predictions"] and slept == []  # no backoff spent
    finally:
        server.shutdown()
        server.server_close()
