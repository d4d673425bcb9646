"""The SageMaker path of the model client, against botocore's Stubber (no network)."""

from __future__ import annotations

import io
import json
import threading

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from testconfig import TestConfig

from app.predict.model_client import ModelClient
from gems.errors import UnavailableError, ValidationError

ANSWER = {
    "model_version": "v1",
    "classes": ["Breast", "Lung"],
    "predictions": [{"predicted_site": "Lung", "probabilities": {"Breast": 0.2, "Lung": 0.8}}],
}
PATIENTS = [{"mutations": [{"gene": "EGFR"}], "sex": "male"}]


def _body(payload: dict) -> StreamingBody:
    raw = json.dumps(payload).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


@pytest.fixture
def runtime():
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    with Stubber(client) as stubber:
        client.stubber = stubber
        yield client
        stubber.assert_no_pending_responses()


def make_client(runtime, sleeps):
    return ModelClient(
        TestConfig(sagemaker_endpoint="gems-site"),
        runtime=runtime,
        attempts=3,
        backoff_s=0.5,
        sleep=sleeps.append,
    )


def test_invoke_endpoint_sends_the_patients_as_json(runtime):
    expected = {
        "EndpointName": "gems-site",
        "ContentType": "application/json",
        "Accept": "application/json",
        "Body": ANY,
    }
    runtime.stubber.add_response(
        "invoke_endpoint", {"Body": _body(ANSWER), "ContentType": "application/json"}, expected
    )
    sleeps = []
    assert make_client(runtime, sleeps).predict(PATIENTS) == ANSWER
    assert sleeps == []


def test_throttling_is_retried_with_backoff_then_succeeds(runtime):
    runtime.stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ThrottlingException",
        service_message="Rate exceeded",
        http_status_code=400,
    )
    runtime.stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ModelNotReadyException",
        service_message="warming up",
        http_status_code=429,
    )
    runtime.stubber.add_response("invoke_endpoint", {"Body": _body(ANSWER)})
    sleeps = []
    assert make_client(runtime, sleeps).predict(PATIENTS)["model_version"] == "v1"
    assert sleeps == [0.5, 1.0]


def test_throttling_every_time_is_a_503_with_the_reason(runtime):
    for _ in range(3):
        runtime.stubber.add_client_error(
            "invoke_endpoint",
            service_error_code="ThrottlingException",
            service_message="Rate exceeded",
            http_status_code=400,
        )
    sleeps = []
    with pytest.raises(UnavailableError) as caught:
        make_client(runtime, sleeps).predict(PATIENTS)
    assert caught.value.status == 503
    assert (
        "after 3 attempts" in caught.value.message
        and "ThrottlingException: Rate exceeded" in caught.value.message
    )
    assert sleeps == [0.5, 1.0]


def test_a_container_503_is_retried_and_a_container_400_is_the_callers_fault(runtime):
    runtime.stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ModelError",
        service_message="boom",
        http_status_code=424,
        modeled_fields={"OriginalStatusCode": 503},
    )
    runtime.stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ModelError",
        service_message="Received client error (400)",
        http_status_code=424,
        modeled_fields={
            "OriginalStatusCode": 400,
            "OriginalMessage": json.dumps({"message": "a feature row has 3 values"}),
        },
    )
    with pytest.raises(ValidationError, match="a feature row has 3 values"):
        make_client(runtime, []).predict(PATIENTS)


def test_an_access_error_is_not_retried(runtime):
    runtime.stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="AccessDeniedException",
        service_message="no",
        http_status_code=403,
    )
    sleeps = []
    with pytest.raises(UnavailableError, match="AccessDeniedException"):
        make_client(runtime, sleeps).predict(PATIENTS)
    assert sleeps == []


def test_no_model_configured_is_a_503():
    with pytest.raises(UnavailableError, match="GEMS_SAGEMAKER_ENDPOINT or GEMS_MODEL_URL"):
        ModelClient(TestConfig(sagemaker_endpoint=None, model_url=None)).predict(PATIENTS)


class OrderedRuntime:
    """A SageMaker runtime whose first call waits until the caller has made the second chunk."""

    def __init__(self):
        self.second_ready = threading.Event()
        self.first_saw_second: bool | None = None
        self.sent: list[str] = []

    def invoke_endpoint(self, **kwargs):
        patients = json.loads(kwargs["Body"])["instances"]
        self.sent.append(patients[0]["patient_id"])
        if patients[0]["patient_id"] == "p0":
            self.first_saw_second = self.second_ready.wait(5)
        answer = {"model_version": "v1", "predictions": [{"patient_id": p["patient_id"]} for p in patients]}
        return {"Body": _body(answer), "ContentType": "application/json"}


def test_chunks_are_sent_while_the_next_is_made_and_answered_in_order():
    runtime = OrderedRuntime()

    def chunks():
        for k in range(3):
            if k == 1:
                runtime.second_ready.set()
            yield [{"patient_id": f"p{k}"}]

    client = ModelClient(TestConfig(sagemaker_endpoint="gems-site"), runtime=runtime)
    answer = client.predict_chunks(chunks())
    # the first chunk was with the model while the second was being made; it answered last of
    # all, and the joined answer still follows the batch's order
    assert runtime.first_saw_second is True
    assert [p["patient_id"] for p in answer["predictions"]] == ["p0", "p1", "p2"]


def test_a_bad_chunk_stops_the_batch_and_later_chunks_are_never_sent():
    runtime = OrderedRuntime()
    runtime.second_ready.set()

    def chunks():
        yield [{"patient_id": "p0"}]
        raise ValidationError("patients.50.sex: not a sex", field="patients.50.sex")
        yield [{"patient_id": "p2"}]

    client = ModelClient(TestConfig(sagemaker_endpoint="gems-site"), runtime=runtime)
    with pytest.raises(ValidationError, match="patients.50.sex"):
        client.predict_chunks(chunks())
    assert "p2" not in runtime.sent
