"""The job API against moto: submit, read, idempotency, locking, stop, durability."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from jobhelpers import LAB, bearer, instances

import gems.tags

BODY = {"bucket": LAB, "prefix": "run1/", "hla_class": 1}


def test_submit_launches_one_tagged_instance_per_worker(client, services):
    resp = client.post("/job", json=dict(BODY, workers=2), headers=bearer())
    assert resp.status_code == 201, resp.json
    job = resp.json
    assert job["overall_status"] == "PENDING"
    assert [w["instance_index"] for w in job["workers"]] == [0, 1]
    assert sorted(s for w in job["workers"] for s in w["samples"]) == ["S1", "S2", "S3"]
    live = instances(services.clients.ec2)
    assert len(live) == 2
    for inst in live:
        tags = gems.tags.from_aws(inst["Tags"])
        assert tags[gems.tags.SESSION] == job["session_key"]
        assert tags[gems.tags.STATUS] == "PENDING"
        assert tags[gems.tags.BUCKET] == LAB and tags[gems.tags.JOB_PREFIX] == "run1/"
    ud = services.clients.ec2.describe_instance_attribute(
        InstanceId=live[0]["InstanceId"], Attribute="userData"
    )
    assert ud["UserData"]["Value"]  # each instance carries its own user-data


def test_default_worker_count_is_three_samples_each(client):
    job = client.post("/job", json=BODY, headers=bearer()).json
    assert len(job["workers"]) == 1 and job["workers"][0]["samples"] == ["S1", "S2", "S3"]


def test_get_job_lists_and_filters(client):
    key = client.post("/job", json=BODY, headers=bearer()).json["session_key"]
    listed = client.get("/job").json
    assert [j["session_key"] for j in listed] == [key]
    assert client.get("/job", query_string={"bucket": LAB}).json[0]["session_key"] == key
    assert client.get("/job", query_string={"bucket": "other"}).json == []
    assert client.get("/job", query_string={"status": "COMPLETE"}).json == []
    assert client.get("/job", query_string={"status": "PENDING"}).json[0]["session_key"] == key
    one = client.get(f"/job/{key}").json
    assert set(one) >= {
        "bucket",
        "prefix",
        "hla_class",
        "overall_status",
        "session_key",
        "created",
        "workers",
    }
    assert set(one["workers"][0]) >= {"instance_id", "instance_index", "samples", "status", "step", "updated"}
    assert client.get("/job/doesnotexist").status_code == 404


def test_idempotency_key_returns_the_same_job_and_launches_once(client, services):
    h = dict(bearer(), **{"Idempotency-Key": "run1-try"})
    first = client.post("/job", json=BODY, headers=h)
    second = client.post("/job", json=BODY, headers=h)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json["session_key"] == second.json["session_key"]
    assert len(instances(services.clients.ec2)) == 1
    reused = client.post("/job", json=dict(BODY, hla_class=2), headers=h)
    assert reused.status_code == 409 and reused.json["field"] == "Idempotency-Key"
    assert len(instances(services.clients.ec2)) == 1


def test_same_prefix_while_running_is_a_conflict(client, services):
    first = client.post("/job", json=BODY, headers=bearer())
    again = client.post("/job", json=BODY, headers=bearer())
    assert again.status_code == 409
    assert again.json["details"]["session_key"] == first.json["session_key"]
    assert len(instances(services.clients.ec2)) == 1
    # Another HLA class is another job.
    assert client.post("/job", json=dict(BODY, hla_class=2), headers=bearer()).status_code == 201


def test_concurrent_duplicates_launch_one_fleet(client, services):
    with ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(lambda _: client.post("/job", json=BODY, headers=bearer()).status_code, range(20))
        )
    assert codes.count(201) == 1 and codes.count(409) == 19
    assert len(instances(services.clients.ec2)) == 1


def test_stop_needs_the_jobs_own_token(client, services):
    a = client.post("/job", json=BODY, headers=bearer()).json["session_key"]
    b = client.post("/job", json=dict(BODY, hla_class=2), headers=bearer()).json["session_key"]
    token_b = services.keys.worker_token(b)
    resp = client.post("/stop_instances", json={"session_key": a, "token": token_b})
    assert resp.status_code == 403 and resp.json["field"] == "token"
    assert client.post("/stop_instances", json={"session_key": a}).status_code == 401
    states = {i["State"]["Name"] for i in instances(services.clients.ec2)}
    assert states == {"running"}  # nothing was stopped


def test_stop_terminates_only_that_job_and_is_idempotent(client, services):
    a = client.post("/job", json=BODY, headers=bearer()).json["session_key"]
    b = client.post("/job", json=dict(BODY, hla_class=2), headers=bearer()).json["session_key"]
    headers = {"Authorization": f"Bearer {services.keys.worker_token(a)}"}
    for _ in range(2):
        resp = client.post("/stop_instances", json={"session_key": a}, headers=headers)
        assert resp.status_code == 200, resp.json
        assert resp.json["overall_status"] == "STOPPED"
    by_job = {}
    for inst in instances(services.clients.ec2):
        by_job[gems.tags.from_aws(inst["Tags"])[gems.tags.SESSION]] = inst["State"]["Name"]
    assert by_job == {a: "terminated", b: "running"}
    # The prefix is free again once the job is finished.
    assert client.post("/job", json=BODY, headers=bearer()).status_code == 201


def test_finished_jobs_survive_ec2_forgetting_the_instances(client, services):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ec2.models import ec2_backends

    key = client.post("/job", json=BODY, headers=bearer()).json["session_key"]
    token = services.keys.worker_token(key)
    client.post("/stop_instances", json={"session_key": key, "token": token})
    backend = ec2_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    backend.reservations.clear()  # terminated instances vanish from real EC2 within the hour
    backend.tags.clear()
    assert instances(services.clients.ec2) == []
    listed = client.get("/job").json
    assert [j["session_key"] for j in listed] == [key]
    assert listed[0]["overall_status"] == "STOPPED"
    assert client.get(f"/job/{key}").json["workers"][0]["samples"] == ["S1", "S2", "S3"]


def test_many_samples_go_to_a_manifest_not_a_tag(client, services):
    s3 = services.clients.s3
    from jobhelpers import fastq

    for i in range(40):
        for mate in (1, 2):
            s3.put_object(
                Bucket=LAB,
                Key=f"big/Sample-with-a-long-name-{i:03d}_S{i + 1}_L001_R{mate}_001.fastq.gz",
                Body=fastq(),
            )
    job = client.post(
        "/job", json={"bucket": LAB, "prefix": "big", "hla_class": 2, "workers": 1}, headers=bearer()
    ).json
    tags = gems.tags.from_aws(instances(services.clients.ec2)[0]["Tags"])
    assert gems.tags.SAMPLES not in tags and tags[gems.tags.MANIFEST].endswith("/manifests/0.json")
    assert all(len(v) <= gems.tags.MAX_VALUE for v in tags.values())
    assert len(client.get(f"/job/{job['session_key']}").json["workers"][0]["samples"]) == 40
