"""The inference server, in SageMaker's bring-your-own-container contract.

    GET  /ping          200 when the model is loaded; 503 with the reason when it is not
    POST /invocations   application/json: {"instances": [patient, ...]} (or one patient, or a list)
                        text/csv: feature rows in config.json's feature_names order, no header
                        answers JSON (or CSV when Accept: text/csv)

`python -m ml.serve [--model DIR] [--host H] [--port 8080]`; the model directory defaults to
/opt/ml/model (where SageMaker unpacks model.tar.gz), then $GEMS_MODEL_DIR. A missing or corrupt
model does not stop the process: /ping says why with 503, so the endpoint (or the embedded stack's
/predict) reports a clear reason instead of a connection error.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import select
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson

from gems.config import Config
from gems.errors import GemsError
from ml import drift
from ml.predictor import Predictor

log = logging.getLogger(__name__)

SAGEMAKER_MODEL_DIR = Path("/opt/ml/model")
MAX_BODY = 6 * 1024 * 1024  # SageMaker's own payload limit for real-time endpoints
MAX_INSTANCES = 1000
# patients predicted between two looks at whether the caller is still there: at least the app's
# CHUNK, so one of its calls is one matrix, one CatBoost pool and one prediction
SLICE = 100


def _plain(value):
    """orjson's fallback: numpy scalars and arrays as the numbers and lists they hold."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON")


class CallerGone(Exception):
    """The client closed its connection: the rest of the batch is not worth computing."""


class ModelHolder:
    """The loaded predictor, or the one-line reason it could not be loaded."""

    def __init__(self, model_dir: Path):
        self.model_dir = model_dir
        self.predictor: Predictor | None = None
        self.error: str | None = None
        try:
            self.predictor = Predictor(model_dir)
        except GemsError as exc:
            self.error = exc.message
        except Exception as exc:  # noqa: BLE001 - any load failure is reported, never a crash loop
            self.error = f"model directory {model_dir} could not be loaded: {type(exc).__name__}: {exc}"
        if self.error:
            log.error("model not loaded: %s", self.error)


def _instances(body: bytes) -> list[dict]:
    try:
        payload = orjson.loads(body)
    except ValueError as exc:
        raise ValueError(f"body is not JSON ({exc})") from None
    if isinstance(payload, dict) and "instances" in payload:
        payload = payload["instances"]
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list) or not all(isinstance(p, dict) for p in payload):
        raise ValueError('expected {"instances": [patient, ...]}')
    return payload


def _csv_rows(body: bytes, names: list[str]) -> list[list]:
    rows = [r for r in csv.reader(io.StringIO(body.decode("utf-8"))) if r]
    if rows and rows[0][: len(names)] == names[: len(rows[0])]:
        rows = rows[1:]
    return rows


def answer(predictor: Predictor, probabilities: list[list[float]], ids: list) -> dict:
    classes = predictor.classes
    predictions = []
    for pid, probs in zip(ids, probabilities, strict=True):
        best = max(range(len(classes)), key=probs.__getitem__)
        item = {
            "predicted_site": classes[best],
            "probabilities": {c: round(p, 6) for c, p in zip(classes, probs, strict=True)},
            "confident": predictor.confident(probs),
        }
        if pid is not None:
            item["patient_id"] = pid
        predictions.append(item)
    return {
        "model_version": predictor.version,
        "classes": classes,
        "confident_threshold": predictor.confident_threshold,
        "predictions": predictions,
    }


def _as_csv(result: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["predicted_site", *result["classes"]])
    for item in result["predictions"]:
        writer.writerow([item["predicted_site"], *(item["probabilities"][c] for c in result["classes"])])
    return out.getvalue()


class Handler(BaseHTTPRequestHandler):
    holder: ModelHolder
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: on a kept-alive connection Nagle's algorithm would
    # hold the body until the client's delayed ACK (40 ms a call).
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        log.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: str | dict, content_type: str = "application/json") -> None:
        data = orjson.dumps(body, default=_plain) if isinstance(body, dict) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header(
            "X-Model-Version", self.holder.predictor.version if self.holder.predictor else "none"
        )
        self.end_headers()
        self.wfile.write(data)

    def _caller_gone(self) -> bool:
        """True when the client has closed its end (readable, and a peek reads nothing)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def do_GET(self):  # noqa: N802 - the stdlib's naming
        if self.path != "/ping":
            return self._send(404, {"error": "not_found", "message": f"no route {self.path}"})
        if self.holder.predictor is None:
            return self._send(503, {"status": "unhealthy", "reason": self.holder.error})
        return self._send(200, {"status": "ok", "model_version": self.holder.predictor.version})

    def do_POST(self):  # noqa: N802
        if self.path != "/invocations":
            return self._send(404, {"error": "not_found", "message": f"no route {self.path}"})
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._send(413, {"error": "too_large", "message": f"body over {MAX_BODY} bytes"})
        body = self.rfile.read(length)
        predictor = self.holder.predictor
        if predictor is None:
            return self._send(503, {"error": "unavailable", "message": self.holder.error})
        content_type = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        try:
            if content_type == "text/csv":
                rows = _csv_rows(body, predictor.feature_names)
                ids: list = [None] * len(rows)
            elif content_type == "application/json":
                patients = _instances(body)
                ids = [p.get("patient_id") for p in patients]
                rows = None
            else:
                return self._send(
                    415,
                    {
                        "error": "unsupported_media_type",
                        "message": f"{content_type}: send application/json or text/csv",
                    },
                )
            if len(ids) > MAX_INSTANCES:
                raise ValueError(f"{len(ids)} instances: at most {MAX_INSTANCES} per call")
            served: list[list] = []
            if rows is None:
                probabilities = []
                for start in range(0, len(patients), SLICE):
                    if start and self._caller_gone():
                        raise CallerGone
                    part = patients[start : start + SLICE]
                    matrix = predictor.matrix(part)
                    probabilities += predictor.predict_patients(part, average_missing=True, matrix=matrix)
                    served += matrix.patient_rows
            else:
                probabilities = predictor.predict_rows(rows)
            result = answer(predictor, probabilities, ids)
            if served:
                # the drift counts of these patients, from the rows the model was given (app.drift)
                result["drift"] = drift.histogram_of_rows(served)
        except CallerGone:
            log.info("caller went away; stopped after part of a %d-patient batch", len(ids))
            self.close_connection = True
            return None
        except (ValueError, KeyError, TypeError, GemsError) as exc:
            message = exc.message if isinstance(exc, GemsError) else str(exc)
            return self._send(400, {"error": "invalid_request", "message": message})
        accept = (self.headers.get("Accept") or "").lower()
        if "text/csv" in accept or (content_type == "text/csv" and "json" not in accept):
            return self._send(200, _as_csv(result), "text/csv")
        return self._send(200, result)


def make_server(model_dir: Path, host: str = "0.0.0.0", port: int = 8080) -> ThreadingHTTPServer:
    """A ready (not yet serving) server; port 0 picks a free port (server.server_address)."""
    handler = type("BoundHandler", (Handler,), {"holder": ModelHolder(Path(model_dir))})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def start_in_thread(
    model_dir: Path, host: str = "127.0.0.1", port: int = 0
) -> tuple[ThreadingHTTPServer, str]:
    """Serve in a background thread (tests, benchmarks, the embedded stack); returns (server, base URL)."""
    server = make_server(model_dir, host, port)
    threading.Thread(target=server.serve_forever, name="ml-serve", daemon=True).start()
    bound_host, bound_port = server.server_address[:2]
    return server, f"http://{bound_host}:{bound_port}"


def default_model_dir() -> Path:
    from ml.artifacts import DEFAULT_MODEL_DIR

    if (SAGEMAKER_MODEL_DIR / "model.cbm").exists() or (SAGEMAKER_MODEL_DIR / "manifest.json").exists():
        return SAGEMAKER_MODEL_DIR
    return Config.from_env().model_dir or DEFAULT_MODEL_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.serve", description="SageMaker-contract inference server"
    )
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve"], help="SageMaker runs the image with `serve`"
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="model directory (default /opt/ml/model, $GEMS_MODEL_DIR, the committed model)",
    )
    config = Config.from_env()
    parser.add_argument("--host", default=config.model_host)
    parser.add_argument("--port", type=int, default=config.model_port)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = make_server(args.model or default_model_dir(), args.host, args.port)
    log.info("serving on %s:%d", *server.server_address[:2])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
