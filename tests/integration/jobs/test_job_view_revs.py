"""GET /job/<key> reads a running worker's record again only when its tags name a new version of it
(gems:rev), so a fleet's status costs one tag read and the records written since the last look."""

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
        before = jobs.record_reads
        view = client.get(f"/job/{key}", headers=bearer()).json
        return jobs.record_reads - before, view

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
    assert "rev" not in view["workers"][2]  # the version is the read path's, not the API's


def test_a_silent_workers_tags_are_not_trusted_for_its_record():
    """A terminated instance keeps its last tags, and a record the service wrote over it (LOST)
    could not change them: once the heartbeat is late, the record is read again."""
    from gems.jobs.jobview import REV_TRUSTED_S, rev_trusted

    fresh = {"rev": "abc", "beat_age_s": 5.0}
    assert rev_trusted(fresh, "abc") and not rev_trusted(fresh, "abd")
    assert not rev_trusted({"rev": "abc", "beat_age_s": REV_TRUSTED_S + 1}, "abc")
    assert not rev_trusted({"rev": "", "beat_age_s": 1.0}, "") and not rev_trusted({"rev": "abc"}, "abc")
