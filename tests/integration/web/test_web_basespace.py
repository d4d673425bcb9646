"""A fake BaseSpace launch: OAuth consent redirect, code -> token, the page, the confirm, the job."""

from __future__ import annotations

import urllib.parse

import pytest
from fake_basespace import FakeBaseSpace
from web_helpers import fastq

from app.web.basespace_client import BaseSpaceSettings

BUCKET = "bs-copies"


@pytest.fixture
def fake(app, services):
    services.clients.s3.create_bucket(Bucket=BUCKET)
    files = {"S1_S1_L001_R1_001.fastq.gz": fastq(8), "S1_S1_L001_R2_001.fastq.gz": fastq(8)}
    with FakeBaseSpace(files) as server:
        app.config["GEMS_BASESPACE"] = BaseSpaceSettings(
            api_url=server.url,
            oauth_url=server.url,
            client_id="gems-app",
            client_secret="secret",
            bucket=BUCKET,
            job_defaults={"options": {"threads": 1}},
        )
        yield server


def test_launch_without_code_goes_to_basespace_consent(client, fake):
    response = client.get("/basespace/launch?appsessionuri=v1pre3/appsessions/as42")
    assert response.status_code == 302
    target = urllib.parse.urlparse(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}" == fake.url and target.path == "/oauth/authorize"
    query = dict(urllib.parse.parse_qsl(target.query))
    assert query["client_id"] == "gems-app" and query["response_type"] == "code"
    assert query["state"] == "v1pre3/appsessions/as42"
    assert query["redirect_uri"].endswith("/basespace/launch")


def test_a_fake_launch_shows_the_run_then_starts_the_job(client, fake, services):
    page = client.get("/basespace/launch?code=the-code&state=v1pre3/appsessions/as42")
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    assert "gems run 42" in html and 'data-sample="S1"' in html and "S1_S1_L001_R1_001.fastq.gz" in html
    assert f"s3://{BUCKET}/basespace/as42/" in html and "<dd>2</dd>" in html  # HLA class from the form
    token_form = fake.requests[0]
    assert token_form[1] == "/v1pre3/oauthv2/token" and token_form[2]["grant_type"] == "authorization_code"
    assert services.clients.ec2.describe_instances()["Reservations"] == []  # nothing runs before confirm

    confirm = client.post("/basespace/launch", data={"token": "bs-token", "session_id": "as42"})
    assert confirm.status_code == 303, confirm.get_data(as_text=True)
    key = confirm.headers["Location"].rsplit("/", 1)[-1]
    job = services.jobs.get(key)
    assert (job["bucket"], job["prefix"], job["hla_class"]) == (BUCKET, "basespace/as42/", 2)
    copied = services.clients.s3.list_objects_v2(Bucket=BUCKET, Prefix="basespace/as42/")["Contents"]
    assert sorted(o["Key"].rsplit("/", 1)[-1] for o in copied) == sorted(fake.files)
    assert fake.status_updates == [{"status": "Running", "statusSummary": f"gems job {key}"}]
    again = client.post("/basespace/launch", data={"token": "bs-token", "session_id": "as42"})
    assert again.headers["Location"].endswith(key)  # a second confirm finds the same job


def test_a_bad_code_or_token_is_refused_with_its_reason(client, fake):
    page = client.get("/basespace/launch?code=stolen&appsessionuri=v1pre3/appsessions/as42")
    assert page.status_code == 401 and "BaseSpace refused" in page.get_data(as_text=True)
    confirm = client.post("/basespace/launch", data={"token": "forged", "session_id": "as42"})
    assert confirm.status_code == 401
    assert client.get("/basespace/launch?appsessionuri=../../x&code=c").get_json()["field"] == "appsessionuri"


def test_unconfigured_launch_says_what_is_missing(app, client):
    app.config["GEMS_BASESPACE"] = BaseSpaceSettings()
    response = client.get("/basespace/launch?appsessionuri=v1pre3/appsessions/as42")
    assert response.status_code == 404
    assert "GEMS_BASESPACE_CLIENT_ID" in response.get_json()["message"]


def test_a_launch_reads_only_its_own_folder_and_copies_nothing_otherwise(app, client, fake, services):
    # The deployment's job defaults may not point a launch at the lab's other data (issue 31).
    services.clients.s3.put_object(Bucket=BUCKET, Key="someone/else/ref.fa", Body=b">c\nACGT\n")
    settings = app.config["GEMS_BASESPACE"]
    app.config["GEMS_BASESPACE"] = BaseSpaceSettings(
        **{**settings.__dict__, "job_defaults": {"reference": f"s3://{BUCKET}/someone/else/ref.fa"}}
    )
    confirm = client.post("/basespace/launch", data={"token": "bs-token", "session_id": "as42"})
    assert confirm.status_code == 403 and "reference" in confirm.get_data(as_text=True)
    copied = services.clients.s3.list_objects_v2(Bucket=BUCKET, Prefix="basespace/")
    assert copied.get("KeyCount", 0) == 0
    assert services.clients.ec2.describe_instances()["Reservations"] == []
