"""Item 7: the documented maximum /predict batch fits the client's deadline, and a caller that gives
up stops the model server's work."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from testconfig import TestConfig

from app.predict import model_client
from gems.errors import UnavailableError

PATIENT = {"mutated_genes": ["TP53", "KRAS"]}


def fake_answer(body: bytes) -> bytes:
    n = len(json.loads(body)["instances"])
    return json.dumps({"model_version": "v1", "predictions": [{"probabilities": {"Lung": 1.0}}] * n}).encode()


def test_a_full_batch_is_sent_in_slices_each_within_the_deadline(monkeypatch):
    sizes, timeouts = [], []

    def call(self, body, timeout_s):
        sizes.append(len(json.loads(body)["instances"]))
        timeouts.append(timeout_s)
        return fake_answer(body)

    monkeypatch.setattr(model_client.ModelClient, "_post_local", call)
    answer = model_client.ModelClient(TestConfig(model_url="http://127.0.0.1:9")).predict([PATIENT] * 500)
    assert sizes == [model_client.CHUNK] * (500 // model_client.CHUNK)
    assert len(answer["predictions"]) == 500 and answer["model_version"] == "v1"
    assert all(0 < t <= 10 for t in timeouts)


def test_a_slow_model_ends_in_a_503_at_the_deadline_not_after_every_retry(monkeypatch):
    now = [0.0]

    def slow(self, body, timeout_s):
        now[0] += timeout_s  # the call used all the time it was given, then timed out
        raise model_client._Retry("model server at http://x unreachable: timed out")

    monkeypatch.setattr(model_client.ModelClient, "_post_local", slow)
    model = model_client.ModelClient(
        TestConfig(model_url="http://127.0.0.1:9"),
        sleep=lambda s: now.__setitem__(0, now[0] + s),
        clock=lambda: now[0],
    )
    with pytest.raises(UnavailableError, match="did not answer within 25 s"):
        model.predict([PATIENT] * 500)
    assert now[0] <= model_client.DEADLINE_S + 0.01


def test_the_model_server_stops_when_its_caller_goes_away(monkeypatch):
    from ml import artifacts, serve

    server, url = serve.start_in_thread(artifacts.DEFAULT_MODEL_DIR)
    try:
        predictor = server.RequestHandlerClass.holder.predictor
        slices = []

        def slow_predict(patients, average_missing=False, matrix=None):
            slices.append(len(patients))
            time.sleep(0.05)
            return [[1.0 / len(predictor.classes)] * len(predictor.classes) for _ in patients]

        monkeypatch.setattr(predictor, "predict_patients", slow_predict)
        body = json.dumps({"instances": [PATIENT] * 500}).encode()
        host, port = server.server_address[:2]
        with socket.create_connection((host, port)) as conn:
            conn.sendall(
                b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            deadline = time.monotonic() + 10
            while not slices and time.monotonic() < deadline:
                time.sleep(0.01)
        # The caller hung up after the first slice started; the server notices at the next one.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            seen = len(slices)
            time.sleep(0.3)
            if len(slices) == seen:
                break
        assert 1 <= len(slices) < 500 // serve.SLICE, slices
        # and it still answers the next caller in full
        done = threading.Event()
        monkeypatch.setattr(
            predictor,
            "predict_patients",
            lambda p, average_missing=False, matrix=None: (
                done.set() or [[0.1] * len(predictor.classes)] * len(p)
            ),
        )
        import urllib.request

        req = urllib.request.Request(
            url + "/invocations",
            data=json.dumps({"instances": [PATIENT] * 60}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
            assert len(json.loads(resp.read())["predictions"]) == 60
    finally:
        server.shutdown()
        server.server_close()
