"""/predict latency and throughput, next to CatBoost's own in-process prediction as the floor.

    .venv/bin/python -m benchmarks.predict [--model DIR] [--requests 200] [--batches 20]

Three ways to score the same real patients (TCGA rows from ../shared/data/tcga, or the test slice):
  floor    the feature builder + CatBoost predict_proba in this process (no HTTP, no validation),
           on the patients as the app's schema hands them to the server
  server   POST /invocations on the local inference server (JSON, feature building server-side)
  /predict the Flask app (schema validation, gene checks, auth) -> local inference server
Latency: one patient per call (p50/p99 over --requests calls). Throughput: batches of 100 patients.
The three take turns on each call and each batch, so a machine whose speed drifts during the run
weighs on all three alike.
Request bodies are encoded before the clock starts: turning a batch into JSON is the caller's work
(about a tenth of a millisecond per patient with the stdlib), not the service's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import urllib.parse
import urllib.request
from pathlib import Path

from gems.config import Config, shared_dir
from ml import artifacts, data
from ml.predictor import Predictor

BATCH = 100
SLICE = Path(__file__).resolve().parent.parent / "tests" / "data" / "ml" / "tcga_slice"


def as_request(patient: dict) -> dict:
    """A data-set patient as a /predict body (what a clinic or a job's variant results would send)."""
    body = {
        k: patient[k]
        for k in ("age_at_diagnosis", "sex", "race", "n_silent")
        if patient.get(k) == patient.get(k) and patient.get(k) is not None
    }
    if body.get("race") not in ("white", "black", "asian", "other", "unknown"):
        body.pop("race", None)
    if body.get("sex") not in ("female", "male"):
        body.pop("sex", None)
    if "n_silent" in body:
        body["n_silent"] = int(body["n_silent"])
    if patient.get("prior_malignancy") in (0, 1):
        body["prior_malignancy"] = bool(patient["prior_malignancy"])
    body["mutations"] = [
        {
            k: v
            for k, v in m.items()
            if k != "variant_class"
            or v
            in (
                "Missense_Mutation",
                "Nonsense_Mutation",
                "Frame_Shift_Del",
                "Frame_Shift_Ins",
                "Splice_Site",
                "Nonstop_Mutation",
                "Translation_Start_Site",
                "In_Frame_Del",
                "In_Frame_Ins",
            )
        }
        for m in patient["mutations"]
    ][:5000]
    body["patient_id"] = patient["patient_id"]
    return body


def _server_process(model: Path):
    import subprocess
    import sys

    from embedded.stack import free_port

    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "ml.serve",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(url + "/ping", timeout=2):  # noqa: S310 - loopback
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the model server did not start")


def _hop_ms(url: str, n: int) -> float:
    """p50 of a bare GET /ping on one kept-alive connection: the cost of one loopback HTTP hop."""
    import http.client

    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    times = []
    for _ in range(max(n, 50)):
        started = time.perf_counter()
        conn.request("GET", "/ping")
        conn.getresponse().read()
        times.append(time.perf_counter() - started)
    conn.close()
    return statistics.median(times) * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def interleaved(ways: list, inputs: list[list]) -> list[list[float]]:
    """Seconds per input for each way, the ways taking turns on each input: a machine that speeds
    up or slows down during the run (shared cores, frequency scaling) weighs on all of them alike."""
    out: list[list[float]] = [[] for _ in ways]
    for k in range(len(inputs[0])):
        for times, fn, items in zip(out, ways, inputs, strict=True):
            started = time.perf_counter()
            fn(items[k])
            times.append(time.perf_counter() - started)
    return out


def main(argv: list[str] | None = None) -> int:

    from moto import mock_aws

    # /predict also appends drift counts to the state bucket: an in-process moto S3 stands in for it.
    for key, value in (
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(key, value)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        return _run(argv)


def _run(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.predict")
    parser.add_argument("--model", type=Path, default=artifacts.DEFAULT_MODEL_DIR)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--batches", type=int, default=20)
    args = parser.parse_args(argv)

    tcga = shared_dir() / "data" / "tcga"
    source = tcga if (tcga / "tcga_mc3_mut.csv.gz").exists() else SLICE
    patients = data.load(source, labels=False).patients
    # Keep the patients a form or a job could send (up to 5000 listed mutations), in a fixed order.
    patients = [p for p in patients if len(p["mutations"]) <= 5000 and p["mutations"]]
    needed = max(args.requests, args.batches * BATCH)
    patients = (patients * (needed // len(patients) + 1))[:needed]
    bodies = [as_request(p) for p in patients]

    predictor = Predictor(args.model)
    # The server runs as its own process, as it does in SageMaker and the embedded stack: in a
    # thread of this one it would share the app's interpreter lock and hide the overlap of the
    # app's work with the model's.
    server, url = _server_process(args.model)
    from app import create_app
    from app.services import Services
    from gems import auth
    from gems.aws.clients import Clients

    class Secrets(dict):
        def put(self, name, value):
            self[name] = value

    secrets = Secrets()
    auth.seed(secrets, {"bench": "bench-key"})
    config = Config.from_env({}).with_(
        region="us-east-1", state_bucket="bench-state", api_url="http://testserver", model_url=url,
        sagemaker_endpoint=None,
    )  # fmt: skip
    Clients(config).s3.create_bucket(Bucket=config.state_bucket)
    app = create_app(
        config,
        services=Services(config=config, clients=Clients(config), keys=auth.KeyStore(secrets), jobs=None),
    )
    client = app.test_client()
    headers = {"Authorization": "Bearer bench-key"}

    # The floor scores exactly what the server is sent: the posted bodies as the app's schema loads
    # them (loaded before the clock). The data set's own rows would be less work: a race or sex
    # recorded as "unknown" there is left out of a request and averaged over on the server.
    from app.load import load
    from app.predict.schemas import PatientSchema

    posted = [load(PatientSchema(), body) for body in bodies]

    def floor(items):
        predictor.predict_patients(items, average_missing=True)

    def invocations(body: bytes):
        request = urllib.request.Request(
            url + "/invocations", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            response.read()

    def predict_api(body: bytes):
        response = client.post("/predict", data=body, content_type="application/json", headers=headers)
        assert response.status_code == 200, response.get_json()

    def instances(items: list[dict]) -> bytes:
        return json.dumps({"instances": items}).encode()

    def api_body(items: list[dict]) -> bytes:
        return json.dumps({"patients": items} if len(items) > 1 else items[0]).encode()

    ways = [
        ("catboost in-process (floor)", floor, posted, lambda items: items),
        ("inference server /invocations", invocations, bodies, instances),
        ("Flask /predict -> server", predict_api, bodies, api_body),
    ]
    for _, fn, items, encode in ways:  # warm-up: imports, first-call caches (gene vocabulary), connections
        fn(encode(items[:1]))
        fn(encode(items[:BATCH]))
    fns = [fn for _, fn, _, _ in ways]
    singles = interleaved(
        fns, [[encode([x]) for x in items[: args.requests]] for _, _, items, encode in ways]
    )
    batch_times = interleaved(
        fns,
        [
            [encode(items[i * BATCH : (i + 1) * BATCH]) for i in range(args.batches)]
            for _, _, items, encode in ways
        ],
    )
    rows = [
        (
            name,
            statistics.median(one) * 1000,
            percentile(one, 99) * 1000,
            args.batches * BATCH / sum(batch),
        )
        for (name, *_), one, batch in zip(ways, singles, batch_times, strict=True)
    ]
    hop = _hop_ms(url, args.requests)
    server.terminate()
    server.wait(10)

    floor_p50, floor_tput = rows[0][1], rows[0][3]
    print(
        f"model {predictor.version}; {len(set(p['patient_id'] for p in patients))} distinct real patients from {source}; {args.requests} single calls, {args.batches} batches of {BATCH}"
    )
    print(f"{'path':<32} {'p50 ms':>8} {'p99 ms':>8} {'x floor':>8} {'patients/s':>11} {'floor/x':>8}")
    for name, p50, p99, tput in rows:
        print(
            f"{name:<32} {p50:>8.2f} {p99:>8.2f} {p50 / floor_p50:>8.1f} {tput:>11.0f} {floor_tput / tput:>8.1f}"
        )
    api_p50, api_tput = rows[2][1], rows[2][3]
    single_goal = 2 * floor_p50 + hop
    print(
        f"\nsingle call: /predict p50 {api_p50:.2f} ms against the goal of 2 x floor + one loopback HTTP hop "
        f"(GET /ping p50 {hop:.2f} ms) = {single_goal:.2f} ms: {'met' if api_p50 <= single_goal else 'not met'}"
    )
    print(
        f"batches: /predict {api_tput:.0f} patients/s against the goal of half the floor's {floor_tput / 2:.0f}: "
        f"{'met' if api_tput >= floor_tput / 2 else 'not met'}"
    )
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
