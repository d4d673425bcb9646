"""/metrics scrapes: request counts and latency by route, jobs/workers by state, step durations."""

from __future__ import annotations

import json

from opshelpers import OPS_LAB
from prometheus_client.parser import text_string_to_metric_families

from app.drift import served_counts
from app.metrics import observe_prediction
from gems import records, statekeys
from gems.aws import s3 as S3
from gems.states import SampleStatus, WorkerStatus
from gems.status import new_worker_record, record_status


def scrape(client) -> dict[tuple[str, tuple], float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    out = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def finish_worker(svc, key: str, sample: str, steps: dict[str, float]) -> None:
    """What a worker leaves behind: its COMPLETE record and the sample's report.json."""
    job = records.read_job(svc.clients.s3, svc.config.state_bucket, key)
    plan = job.workers[0]
    results = statekeys.results_prefix(job.prefix, key, sample)
    report = {"sample": sample, "steps": {n: {"status": "done", "seconds": s} for n, s in steps.items()}}
    S3.put_json(svc.clients.s3, job.bucket, results + "report.json", report)
    rec = new_worker_record(key, 0, plan.instance_id, plan.samples)
    record_status(
        svc.clients.ec2,
        svc.clients.s3,
        state_bucket=svc.config.state_bucket,
        record=rec,
        status=WorkerStatus.COMPLETE,
        sample=sample,
        sample_status=SampleStatus.COMPLETE,
        sample_fields={"results": f"s3://{job.bucket}/{results}"},
    )
    svc.jobs.lifecycle.finish(key)


def test_metrics_count_requests_jobs_workers_and_steps(ops_client, ops_services, auth_header):
    body = {"bucket": OPS_LAB, "prefix": "run1/", "hla_class": 1, "samples": ["S1"], "workers": 1}
    first = ops_client.post("/job", json=body, headers=auth_header)
    assert first.status_code == 201
    key = first.get_json()["session_key"]
    ops_client.get(f"/job/{key}")
    ops_client.get("/job/not-a-job")
    before = scrape(ops_client)
    assert (
        before[("gems_http_requests_total", (("method", "POST"), ("route", "/job"), ("status", "201")))] == 1
    )
    route = (("method", "GET"), ("route", "/job/<session_key>"))
    assert before[("gems_http_requests_total", (*route[:1], *route[1:], ("status", "404")))] == 1
    assert before[("gems_http_request_duration_seconds_count", route)] == 2  # one series, not one per job
    assert before[("gems_jobs", (("state", "PENDING"),))] == 1
    assert before[("gems_workers", (("state", "PENDING"),))] == 1
    assert before[("gems_workers_launched_total", ())] == 1
    assert before[("gems_job_listing_up", ())] == 1

    finish_worker(ops_services, key, "S1", {"qc": 2.0, "align": 40.0})
    ops_services.jobs.tags.invalidate()  # a worker is another process: its tags show once the 1 s snapshot expires
    after = scrape(ops_client)
    assert after[("gems_jobs", (("state", "COMPLETE"),))] == 1
    assert after[("gems_jobs", (("state", "PENDING"),))] == 0
    assert after[("gems_step_duration_seconds_count", (("step", "align"),))] == 1
    assert after[("gems_step_duration_seconds_sum", (("step", "align"),))] == 40.0
    assert after[("gems_step_duration_seconds_bucket", (("le", "30.0"), ("step", "align")))] == 0
    assert after[("gems_step_duration_seconds_bucket", (("le", "60.0"), ("step", "align")))] == 1


def test_predictions_are_counted_by_model_version(ops_client):
    with ops_client.application.app_context():
        observe_prediction("v1", 3)
        observe_prediction(None)
    got = scrape(ops_client)
    assert got[("gems_predictions_total", (("model_version", "v1"),))] == 3
    assert got[("gems_predictions_total", (("model_version", "unknown"),))] == 1


def test_a_failing_listing_still_answers_the_scrape(ops_client, ops_services, monkeypatch):
    def broken(**_):
        raise RuntimeError("AWS is down")

    monkeypatch.setattr(ops_services.jobs, "find", broken)
    got = scrape(ops_client)
    assert got[("gems_job_listing_up", ())] == 0


def test_request_ids_are_echoed_or_made(ops_client):
    given = ops_client.get("/health", headers={"X-Request-Id": "trace-42"})
    assert given.headers["X-Request-Id"] == "trace-42"
    made = ops_client.get("/health").headers["X-Request-Id"]
    assert len(made) == 32 and made != "trace-42"


class StandInModel:
    served_by = "stand-in"
    chunk = 50

    def predict(self, patients):
        return {
            "model_version": "m-7",
            "predictions": [{"probabilities": {"Lung": 0.7, "Breast": 0.3}} for _ in patients],
        }

    def predict_chunks(self, chunks):
        return self.predict([p for chunk in chunks for p in chunk])


def test_predict_counts_by_version_and_records_drift_counts(ops_client, ops_services, auth_header):
    ops_client.application.extensions["gems_predict_client"] = StandInModel()
    batch = {"patients": [{"mutated_genes": ["TP53"], "sex": "male", "age_at_diagnosis": 60}] * 2}
    resp = ops_client.post("/predict", json=batch, headers=auth_header)
    assert resp.status_code == 200, resp.get_json()
    assert scrape(ops_client)[("gems_predictions_total", (("model_version", "m-7"),))] == 2
    s3, bucket = ops_services.clients.s3, ops_services.config.state_bucket
    # merged in memory, written by the flush (every 30 s, or at exit): nothing on the request path
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="drift/served/m-7/")
    served_counts(ops_client.application).flush()
    (obj,) = s3.list_objects_v2(Bucket=bucket, Prefix="drift/served/m-7/")["Contents"]
    counts = json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
    assert counts["n"] == 2 and counts["features"]["sex"]["male"] == 2
    assert "TP53" not in json.dumps(counts)
