"""The SageMaker path of the model client, against botocore's Stubber (no network)."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from testconfig import TestConfig

from app.predict.client import ModelClient
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
