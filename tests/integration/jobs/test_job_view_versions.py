"""GET /job/<key> reads a worker's record again only when one listing of the job's workers/ prefix
shows it has a new ETag, so a fleet's status costs its tag read, that listing and the records
written since the last look."""

from __future__ import annotations

from jobhelpers import LAB, bearer

from gems import records
from gems.states import SampleStatus, WorkerStatus
from gems.status import new_worker_record, record_progress, record_status


def test_a_running_workers_record_is_read_once_per_version(services, config, client):
    key = client.post(
        "/job", json={"bucket": LAB, "prefix": "run1/", "hla_class": 2, "workers": 3}, headers=bearer()
    ).json["session_key"]
    job = records.read_job(services.clients.s3, config.state_bucket, key)
    ec2, s3, jobs = services.clients.ec2, services.clients.s3, services.jobs
    recs, versions = {}, {}
    for i, plan in enumerate(job.workers):
        recs[i] = new_worker_record(key, i, plan.instance_id, plan.samples)
        versions[i] = record_status(
            ec2, s3, state_bucket=config.state_bucket, record=recs[i], status=WorkerStatus.RUNNING, version=""
        )

    def reads_for_one_view() -> tuple[int, dict]:
        before = jobs.records.reads
        view = client.get(f"/job/{key}", headers=bearer()).json
        return jobs.records.reads - before, view

    assert reads_for_one_view()[0] == 3  # the first look reads every record
    assert reads_for_one_view()[0] == 0  # nothing changed: none again
    record_progress(ec2, recs[1].instance_id, "S2: align 40%")  # progress moves the tags only
    reads, view = reads_for_one_view()
    assert reads == 0 and view["workers"][1]["step"] == "S2: align 40"  # a tag holds no %
    sample = recs[2].samples and next(iter(recs[2].samples))
    record_status(
        ec2, s3, state_bucket=config.state_bucket, record=recs[2], version=versions[2],
        sample=sample, sample_status=SampleStatus.COMPLETE, sample_fields={"step": "done"},
    )  # fmt: skip
    reads, view = reads_for_one_view()
    assert reads == 1  # only the worker whose record changed
    assert view["workers"][2]["sample_status"][sample]["status"] == "COMPLETE"


def test_a_record_written_without_its_tags_is_read_and_shown(services, config, client):
    """A step change goes to the record at once and to the tags only within the fleet's CreateTags
    budget; a record the service wrote over a terminated instance (LOST) can never reach its
    tags. Either way the listing shows a new ETag and the view shows the record."""
    key = client.post(
        "/job", json={"bucket": LAB, "prefix": "run1/", "hla_class": 2, "workers": 2}, headers=bearer()
    ).json["session_key"]
    job = records.read_job(services.clients.s3, config.state_bucket, key)
    ec2, s3, jobs = services.clients.ec2, services.clients.s3, services.jobs
    rec = new_worker_record(key, 0, job.workers[0].instance_id, job.workers[0].samples)
    version = record_status(
        ec2, s3, state_bucket=config.state_bucket, record=rec, status=WorkerStatus.RUNNING, version=""
    )
    client.get(f"/job/{key}", headers=bearer())
    before = jobs.records.reads
    record_status(
        ec2, s3, state_bucket=config.state_bucket, record=rec, version=version, step="S1: call_variants", tags=False
    )  # fmt: skip
    view = client.get(f"/job/{key}", headers=bearer()).json
    assert jobs.records.reads - before == 1
    assert view["workers"][0]["step"] == "S1: call_variants"  # the record's, newer than the tags'
    assert view["workers"][0]["status"] == "RUNNING"
