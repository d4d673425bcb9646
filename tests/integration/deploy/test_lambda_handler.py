"""Zappa's own handler from the built package, as Lambda calls it, with API Gateway REST events
against a moto server: the routes answer, the sweep runs, and no key or token reaches the logs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from gems import auth
from gems.aws.secrets import CredstashSecrets, create_store
from gems.config import MOTO_AMI, Config

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.slow
KEY = "lambda-test-key-0123456789abcdef"
LAB = "lab-runs"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def moto_url(monkeypatch):
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    # moto's backends are global to this process: start from an empty account, whatever ran before.
    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST"), timeout=30)  # noqa: S310
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    config = Config.from_env({"AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": "us-east-1"})
    from gems.aws.clients import Clients, client

    s3 = Clients(config).s3
    s3.create_bucket(Bucket=config.state_bucket)
    s3.create_bucket(Bucket=LAB)
    for mate in (1, 2):
        s3.put_object(Bucket=LAB, Key=f"run1/S1_S1_L001_R{mate}_001.fastq.gz", Body=b"\x1f\x8b")
    create_store(config)
    auth.seed(CredstashSecrets(config), {"lab": KEY})
    # zappa_settings.json's stage names this worker role; moto checks that it exists.
    client(config, "iam").create_instance_profile(InstanceProfileName="gems-worker")
    yield url
    server.stop()


def _invoke(unzipped: Path, endpoint: str) -> tuple[dict, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMS_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(
        # what `gems deploy` gives the stage (issue 14): the API's public URL and the worker image
        GEMS_API="https://abc.execute-api.us-east-1.amazonaws.com/dev",
        GEMS_AMI_ID=MOTO_AMI,
        AWS_ENDPOINT_URL=endpoint,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    result = subprocess.run(  # noqa: S603 - our own driver, in a clean interpreter
        [sys.executable, "-I", str(HERE / "lambda_driver.py"), str(unzipped), KEY, LAB],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=unzipped,
        env=env,
    )
    logs = result.stdout + result.stderr
    assert result.returncode == 0, logs[-4000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :]), logs


def test_zappa_handler_answers_rest_events_and_logs_no_secret(unzipped, moto_url):
    answers, logs = _invoke(unzipped, moto_url)
    assert answers["health"]["status"] == 200
    assert answers["list"]["status"] == 200 and json.loads(answers["list"]["body"]) == []
    assert answers["submit"]["status"] == 201, answers["submit"]
    job = json.loads(answers["submit"]["body"])
    assert len(job["workers"]) == 1 and job["workers"][0]["instance_id"].startswith("i-")
    assert answers["page"]["status"] == 200 and "text/html" in answers["page"]["type"]
    assert answers["bad_key"]["status"] == 401
    # No model is configured on this stage: a clear 503, not a 500.
    assert (
        answers["predict"]["status"] == 503
        and json.loads(answers["predict"]["body"])["error"] == "unavailable"
    )
    assert answers["sweep"] == {"marked": 0}
    token = auth.KeyStore(CredstashSecrets(Config.from_env())).worker_token(job["session_key"])
    assert KEY not in logs and token not in logs and "not-the-key" not in logs
    assert "Zappa Event" not in logs  # Zappa's DEBUG dump of each event, headers included


def test_unreachable_aws_is_a_quick_503_naming_it(unzipped):
    answers, logs = _invoke(unzipped, f"http://127.0.0.1:{_free_port()}")  # nothing listens there
    for name in ("list", "submit", "page"):
        answer = answers[name]
        assert answer["status"] == 503, (name, answer)
        assert answer["seconds"] < 10, (name, answer["seconds"])
    body = json.loads(answers["list"]["body"])
    assert body["error"] == "unavailable" and "AWS did not answer" in body["message"]
    assert answers["sweep"] == {"error": "EndpointConnectionError"}
    assert KEY not in logs
