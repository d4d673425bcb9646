"""Drift end to end on moto: /predict's hook appends counts to S3, `gems model drift` compares."""

from __future__ import annotations

import json

import pytest

from app.drift import FLUSH_S, ServedCounts, record_served, served_counts
from gems.errors import GemsError
from ml import cli, drift


def test_served_batches_are_merged_and_written_once_per_version(ops_client, ops_services):
    app = ops_client.application
    with app.test_request_context():
        record_served([{"age_at_diagnosis": 70, "sex": "male"}], "v1")
        record_served([{"age_at_diagnosis": 40, "sex": "female"}, {"sex": "male"}], "v1")
        record_served([{"age_at_diagnosis": 40}], "v2")
    s3, bucket = ops_services.clients.s3, ops_services.config.state_bucket
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=drift.PREFIX)  # nothing per call
    served_counts(app).flush()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=drift.PREFIX)["Contents"]]
    assert len(keys) == 2 and all(k.startswith(("drift/served/v1/", "drift/served/v2/")) for k in keys)
    v1 = drift.load_served(s3, bucket, "v1")
    assert v1["n"] == 3 and v1["features"]["sex"]["male"] == 2
    assert drift.load_served(s3, bucket)["n"] == 4
    assert drift.load_served(s3, bucket, since="2999-01-01")["n"] == 0
    assert served_counts(app).flush() == []  # written once


def test_counts_are_written_in_the_background_once_due(ops_client, ops_services):
    now = [1000.0]
    buffer = ServedCounts(ops_services.clients.s3, ops_services.config.state_bucket, clock=lambda: now[0])
    buffer.add("v1", drift.histogram([{"sex": "male"}]))
    assert buffer._writer is None  # not due yet
    now[0] += FLUSH_S  # the next call finds the first one FLUSH_S old
    buffer.add("v1", drift.histogram([{"sex": "female"}]))
    buffer._writer.join(timeout=10)
    s3, bucket = ops_services.clients.s3, ops_services.config.state_bucket
    assert drift.load_served(s3, bucket, "v1")["n"] == 2


def test_a_failing_store_never_fails_the_prediction_and_keeps_the_counts(
    ops_client, ops_services, monkeypatch
):
    s3 = ops_services.clients.s3
    real_put = s3.put_object

    def broken(**_):
        raise RuntimeError("S3 is down")

    monkeypatch.setattr(s3, "put_object", broken)
    app = ops_client.application
    with app.test_request_context():
        record_served([{"sex": "male"}], "v1")  # nothing is written on the request path
    with pytest.raises(RuntimeError, match="S3 is down"):
        served_counts(app).flush()
    served_counts(app).flush_quietly()  # the background writer logs and raises nothing
    monkeypatch.setattr(s3, "put_object", real_put)
    served_counts(app).flush()  # kept, written once S3 answers again
    assert drift.load_served(s3, ops_services.config.state_bucket, "v1")["n"] == 1


def test_drift_builds_and_keeps_the_baseline_from_data(tmp_path, monkeypatch, capsys):
    from ml import data

    class Loaded:
        patients = [{"age_at_diagnosis": a, "sex": "female"} for a in range(40, 80)]

    monkeypatch.setattr(data, "load", lambda path, labels: Loaded)
    served = tmp_path / "served.json"
    served.write_text(json.dumps(drift.histogram(Loaded.patients[::3])))
    baseline = tmp_path / "baseline.json"
    args = ["drift", "--data", str(tmp_path), "--baseline", str(baseline), "--served", str(served)]
    assert cli.main(args) == 0
    assert json.loads(baseline.read_text())["n"] == 40
    assert "training patients: 40   served patients: 14" in capsys.readouterr().out
    with pytest.raises(GemsError, match="--baseline"):
        cli.main(["drift", "--served", str(served)])


@pytest.mark.slow
def test_drift_report_against_the_training_data(tmp_path, capsys, shared):
    from ml import data

    patients = data.load(shared / "data" / "tcga", labels=False).patients
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(drift.histogram(patients)))
    like_training = tmp_path / "same.json"
    like_training.write_text(json.dumps(drift.histogram(patients[::7])))
    args = ["drift", "--baseline", str(baseline), "--fail-on-alert"]
    assert cli.main([*args, "--served", str(like_training)]) == 0
    out = capsys.readouterr().out
    assert "no feature over the alert threshold" in out and "age_at_diagnosis" in out
    # A clinic that only sends young patients with few mutations.
    shifted = [
        dict(p, age_at_diagnosis=25, n_nonsilent=1, mutations=p["mutations"][:1]) for p in patients[::40]
    ]
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(drift.histogram(shifted)))
    report = tmp_path / "report.json"
    assert cli.main([*args, "--served", str(odd), "--json", str(report)]) == 1
    rows = {r["feature"]: r for r in json.loads(report.read_text())["features"]}
    assert rows["age_at_diagnosis"]["level"] == "ALERT" and rows["n_nonsilent"]["level"] == "ALERT"
    assert rows["sex"]["level"] == "stable"


def test_counts_the_model_server_made_are_used_when_they_cover_the_batch(ops_client, ops_services):
    app = ops_client.application
    patients = [{"sex": "male"}, {"sex": "female"}]
    from_server = drift.histogram([{"sex": "female"}, {"sex": "female"}])  # tells the two apart
    with app.test_request_context():
        record_served(patients, "v9", from_server)
        record_served(patients, "v9", {"n": 1, "features": {}})  # covers one patient of two: recount
    served_counts(app).flush()
    v9 = drift.load_served(ops_services.clients.s3, ops_services.config.state_bucket, "v9")
    assert v9["n"] == 4 and v9["features"]["sex"]["female"] == 3 and v9["features"]["sex"]["male"] == 1
