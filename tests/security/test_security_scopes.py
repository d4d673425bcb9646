"""Input data has an owner (issue 31, item 2): a key's scopes bound the S3 data it may run jobs
on and list, and the open job views show states, not figures or local paths."""

from __future__ import annotations

import pytest
from motostack import fastq
from security_helpers import LAB, bearer, instances, state_snapshot

from gems import auth, records
from gems.states import SampleStatus, WorkerStatus
from gems.status import record_status

TES = "/ga4gh/tes/v1"
REFS = "shared-refs"


def _key(services, user: str, *scopes: str, admin: bool = False) -> dict:
    key = auth.create_key(services.keys.secrets, user, admin=admin, scopes=scopes)
    return {"Authorization": f"Bearer {key}"}


def _seed(s3, prefix: str) -> None:
    for mate in (1, 2):
        s3.put_object(Bucket=LAB, Key=f"{prefix}D1_S1_L001_R{mate}_001.fastq.gz", Body=fastq())


def _job(prefix: str = "run1/", **extra) -> dict:
    return {"bucket": LAB, "prefix": prefix, "hla_class": 1} | extra


@pytest.fixture
def dora(services):
    """A key scoped to her own folder of the lab bucket."""
    _seed(services.clients.s3, "dora/run7/")
    return _key(services, "dora", f"{LAB}/dora")


def test_a_scoped_key_cannot_run_a_job_on_another_users_reads(client, services, config, dora):
    before = state_snapshot(services.clients.s3, config.state_bucket)
    resp = client.post("/job", json=_job("run1/"), headers=dora)
    assert resp.status_code == 403 and resp.json["field"] == "prefix", resp.json
    assert "outside the scopes of this key" in resp.json["message"] and f"{LAB}/dora" in resp.json["message"]
    assert state_snapshot(services.clients.s3, config.state_bucket) == before  # not even the lock
    assert instances(services.clients.ec2) == []
    # ...so the owner of run1/ is not locked out of her own prefix (a 409 was possible before).
    assert client.post("/job", json=_job("run1/"), headers=bearer("alice")).status_code == 201


def test_a_scope_is_a_folder_not_a_name_prefix(client, services, dora):
    _seed(services.clients.s3, "dora2/run1/")
    assert client.post("/job", json=_job("dora2/run1/"), headers=dora).status_code == 403
    assert client.post("/job", json=_job("dora/run7/"), headers=dora).status_code == 201


def test_a_bucket_outside_every_scope_is_named_as_the_bucket(client, services, dora):
    services.clients.s3.create_bucket(Bucket="other-lab")
    resp = client.post("/job", json={"bucket": "other-lab", "prefix": "x/", "hla_class": 1}, headers=dora)
    assert resp.status_code == 403 and resp.json["field"] == "bucket"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"reference": f"s3://{LAB}/run1/private.fa"}, "reference"),
        ({"reference": "run1/private.fa"}, "reference"),
        ({"options": {"annotation": f"s3://{LAB}/alice/genes.gff3"}}, "options.annotation"),
        ({"options": {"targets": "run1/panel.bed"}}, "options.targets"),
        ({"options": {"hla_reference": f"s3://{LAB}/run1/"}}, "options.hla_reference"),
    ],
)
def test_every_input_in_the_jobs_bucket_must_lie_in_a_scope(client, services, config, dora, extra, field):
    before = state_snapshot(services.clients.s3, config.state_bucket)
    resp = client.post("/job", json=_job("dora/run7/", **extra), headers=dora)
    assert resp.status_code == 403 and resp.json["field"] == field, resp.json
    assert state_snapshot(services.clients.s3, config.state_bucket) == before
    assert instances(services.clients.ec2) == []


def test_reference_buckets_are_open_to_every_key(client, services, config, app, dora):
    cfg = config.with_(reference_buckets=(REFS,))
    app.config["GEMS"] = services.config = services.jobs.config = cfg
    body = _job(
        "dora/run7/", reference=f"s3://{REFS}/hg38.fa", options={"hla_reference": f"s3://{REFS}/imgt/"}
    )
    assert client.post("/job", json=body, headers=dora).status_code == 201


def test_a_tes_task_outside_the_scopes_is_refused_and_stores_nothing(client, services, config, dora):
    before = state_snapshot(services.clients.s3, config.state_bucket)
    task = {
        "inputs": [
            {"url": f"s3://{LAB}/run1/S1_S1_L001_R1_001.fastq.gz"},
            {"url": f"s3://{LAB}/run1/S1_S1_L001_R2_001.fastq.gz"},
        ],
        "executors": [{"image": "x", "command": ["y"]}],
        "tags": {"hla_class": "1"},
    }
    resp = client.post(f"{TES}/tasks", json=task, headers=dora)
    assert resp.status_code == 403 and resp.json["field"] == "inputs", resp.json
    assert state_snapshot(services.clients.s3, config.state_bucket) == before
    assert instances(services.clients.ec2) == []


def test_listing_samples_stays_inside_the_scopes_and_out_of_the_services_buckets(client, config, dora):
    resp = client.get(f"/samples?bucket={LAB}&prefix=run1/", headers=dora)
    assert resp.status_code == 403 and resp.json["field"] == "prefix"
    assert client.get(f"/samples?bucket={LAB}&prefix=dora/run7/", headers=dora).status_code == 200
    for bucket in (config.state_bucket, config.lake_bucket):
        resp = client.get(f"/samples?bucket={bucket}&prefix=jobs/", headers=bearer("carol"))  # an admin
        assert resp.status_code == 400 and resp.json["field"] == "bucket", resp.json


def test_unscoped_keys_read_the_lab_unless_the_deployment_requires_scopes(client, app, services, config):
    # The documented default: a key made without --scope reads every bucket the service may read.
    assert client.post("/job", json=_job("run1/"), headers=bearer("bob")).status_code == 201
    strict = config.with_(keys_need_scopes=True)
    app.config["GEMS"] = services.config = services.jobs.config = strict
    resp = client.post("/job", json=_job("run1/", samples=["S2"]), headers=bearer("bob"))
    assert resp.status_code == 403 and "has no scopes" in resp.json["message"]
    assert client.get(f"/samples?bucket={LAB}&prefix=run1/", headers=bearer("bob")).status_code == 403
    # An admin key reads everything either way.
    assert client.post("/job", json=_job("run1/", hla_class=2), headers=bearer("carol")).status_code == 201


def test_scopes_are_checked_when_a_key_is_made(services):
    from gems.errors import ValidationError

    for bad in ("", "UPPER", "lab-runs/../x", "s3://"):
        with pytest.raises(ValidationError) as err:
            auth.create_key(services.keys.secrets, "eve", scopes=(bad,))
        assert err.value.field == "--scope"
    auth.create_key(services.keys.secrets, "eve", scopes=(f"s3://{LAB}/eve/", f"{LAB}/eve"))
    assert {"user": "eve", "admin": False, "scopes": [f"{LAB}/eve"]} in auth.list_keys(services.keys.secrets)


def test_gems_keys_create_takes_scopes_and_list_shows_them(services, capsys, monkeypatch):
    from gems.cli import main as cli

    monkeypatch.setenv("GEMS_CREDSTASH_TABLE", services.config.credstash_table)
    assert cli.main(["keys", "create", "fred", "--scope", f"{LAB}/fred", "--scope", REFS]) == 0
    assert cli.main(["keys", "list"]) == 0
    out = capsys.readouterr().out
    assert f"fred\tuser\t{LAB}/fred,{REFS}" in out
    assert cli.main(["keys", "create", "fred", "--scope", "Not A Bucket"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bucket" in err[0]


def _finished_job(client, services, config) -> str:
    job = client.post("/job", json=_job("run1/", samples=["S1"]), headers=bearer("alice")).json
    key, instance = job["session_key"], job["workers"][0]["instance_id"]
    rec = records.WorkerRecord.new(key, 0, instance, ["S1"], "2026-12-07T00:00:00Z")
    record_status(
        services.clients.ec2,
        services.clients.s3,
        state_bucket=config.state_bucket,
        record=rec,
        status=WorkerStatus.FAILED,
        reason="1 of 1 samples failed",
        sample="S1",
        sample_status=SampleStatus.FAILED,
        sample_fields={
            "reason": "OSError: cannot open /root/.gems/work/x/reads/S1_R1.fastq.gz",
            "summary": {"qc": {"reads": 123456, "targets_bed": "panel.bed"}},
            "results": f"s3://{LAB}/run1/results/{key}/S1/",
        },
    )
    return key


def test_open_job_views_show_states_not_figures_or_local_paths(client, services, config):
    key = _finished_job(client, services, config)
    for headers in ({}, bearer("bob")):  # no key, and another user's key
        job = client.get(f"/job/{key}", headers=headers).json
        (state,) = [w["sample_status"]["S1"] for w in job["workers"] if w.get("sample_status")]
        assert state["status"] == "FAILED" and "summary" not in state and "results" not in state
        assert "/root/" not in client.get(f"/job/{key}", headers=headers).get_data(as_text=True)
        assert state["reason"] == "OSError: cannot open …/S1_R1.fastq.gz"
        page = client.get(f"/jobs/{key}", headers=headers).get_data(as_text=True)
        assert "/root/" not in page and "123456" not in page
    for user in ("alice", "carol"):  # the owner and an admin see the figures
        job = client.get(f"/job/{key}", headers=bearer(user)).json
        (state,) = [w["sample_status"]["S1"] for w in job["workers"] if w.get("sample_status")]
        assert state["summary"]["qc"]["reads"] == 123456 and state["results"].startswith("s3://")
        assert "/root/" not in state["reason"]  # cut when recorded, for everyone
    assert client.get(f"/job/{key}", headers={"Authorization": "Bearer wrong"}).status_code == 401
