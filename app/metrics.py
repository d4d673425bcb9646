"""Prometheus metrics at GET /metrics (prometheus-client, the standard exporter library).

Two kinds of figures:
- counted as requests pass: HTTP requests by route and status, their latency, predictions by
  model version. These live in this process; on Lambda each warm container has its own counts
  (see docs/interop-ops.md for the CloudWatch EMF / pushgateway route in production).
- computed at scrape from the durable records, so every replica and every cold start agrees:
  jobs and workers by state (one DescribeTags page loop plus cached S3 summaries, the same read
  as GET /job) and step durations of finished samples (each report.json read once, then cached,
  because a finished sample's report never changes). Workers expose nothing themselves.
"""

from __future__ import annotations

import logging
import time
from collections import Counter as Tally

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from app.apidoc import Answer, Operation, documented
from gems.states import JobStatus, WorkerStatus

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)
EXTENSION = "gems_metrics"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
STEP_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400)


def _finished_job(job: dict) -> bool:
    return JobStatus(job["overall_status"]).finished


class JobCollector:
    """Jobs, workers and step durations, read from the job service when Prometheus scrapes."""

    def __init__(self, app: Flask):
        self.app = app
        self._steps: dict[str, dict[str, list[float]]] = {}  # finished job -> step -> seconds

    def _step_seconds(self, jobs_service, job: dict) -> dict[str, list[float]]:
        key = job["session_key"]
        if key in self._steps:
            return self._steps[key]
        out: dict[str, list[float]] = {}
        detail = jobs_service.detail(key)
        for worker in detail["workers"]:
            for sample in (worker.get("sample_status") or {}).values():
                url = sample.get("results")
                if not url or not url.startswith("s3://"):
                    continue
                bucket, _, prefix = url[5:].partition("/")
                report = jobs_service.cache.get(jobs_service.s3, bucket, prefix.rstrip("/") + "/report.json")
                for step, entry in ((report or {}).get("steps") or {}).items():
                    if isinstance(entry, dict) and isinstance(entry.get("seconds"), int | float):
                        out.setdefault(step, []).append(float(entry["seconds"]))
        self._steps[key] = out
        return out

    def collect(self):
        jobs_service = self.app.extensions["gems"].jobs
        up = GaugeMetricFamily("gems_job_listing_up", "1 if the last scrape could read the job listing")
        try:
            jobs = jobs_service.find()
        except Exception as exc:  # noqa: BLE001 - a scrape must answer even when AWS does not
            log.warning("metrics: could not list jobs: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        by_state = Tally(j["overall_status"] for j in jobs)
        jobs_gauge = GaugeMetricFamily("gems_jobs", "Jobs by overall state", labels=["state"])
        for state in JobStatus:
            jobs_gauge.add_metric([state.value], by_state.get(state.value, 0))
        yield jobs_gauge
        workers = [w for j in jobs for w in j["workers"]]
        w_state = Tally(w["status"] for w in workers)
        w_gauge = GaugeMetricFamily("gems_workers", "Workers by state", labels=["state"])
        for w_status in WorkerStatus:
            w_gauge.add_metric([w_status.value], w_state.get(w_status.value, 0))
        yield w_gauge
        launched = CounterMetricFamily("gems_workers_launched", "Workers launched, over the kept job records")
        launched.add_metric([], len(workers))
        yield launched
        failed = CounterMetricFamily(
            "gems_workers_failed", "Workers that ended FAILED, over the kept records"
        )
        failed.add_metric([], w_state.get(WorkerStatus.FAILED.value, 0))
        yield failed
        yield self._step_histogram(jobs_service, [j for j in jobs if _finished_job(j)])

    def _step_histogram(self, jobs_service, finished: list[dict]) -> HistogramMetricFamily:
        by_step: dict[str, list[float]] = {}
        for job in finished:
            try:
                for step, seconds in self._step_seconds(jobs_service, job).items():
                    by_step.setdefault(step, []).extend(seconds)
            except Exception as exc:  # noqa: BLE001 - one unreadable job must not hide the rest
                log.warning("metrics: step durations of %s: %s", job["session_key"], exc)
        hist = HistogramMetricFamily(
            "gems_step_duration_seconds", "Pipeline step durations of finished samples", labels=["step"]
        )
        for step, values in sorted(by_step.items()):
            buckets = [(str(float(b)), sum(1 for v in values if v <= b)) for b in STEP_BUCKETS]
            buckets.append(("+Inf", len(values)))
            hist.add_metric([step], buckets, sum_value=sum(values))
        return hist


class AppMetrics:
    def __init__(self, app: Flask):
        self.registry = CollectorRegistry()  # no auto_describe: collecting reads AWS, only at scrape
        self.requests = Counter(
            "gems_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gems_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "gems_predictions",
            "Patients scored by /predict, by model version",
            ["model_version"],
            registry=self.registry,
        )
        self.registry.register(JobCollector(app))


def observe_prediction(model_version: str | None, patients: int = 1) -> None:
    """Called by the /predict view once per answered request."""
    metrics: AppMetrics | None = current_app.extensions.get(EXTENSION)
    if metrics is not None:
        metrics.predictions.labels(model_version or "unknown").inc(patients)


@bp.get("/metrics")
@documented(
    Operation(
        responses={
            200: Answer("Prometheus text exposition (format 0.0.4).", {"type": "string"}, media="text/plain")
        }
    )
)
def metrics():
    """Prometheus text exposition of the request counters and the job/worker gauges."""
    registry = current_app.extensions[EXTENSION].registry
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = AppMetrics(app)
    app.register_blueprint(bp)

    @app.before_request
    def _start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response):
        # The rule, not the path: /job/<session_key> is one route, not one series per job.
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        if route == "/metrics":
            return response
        m: AppMetrics = app.extensions[EXTENSION]
        started = g.get("metrics_started")
        m.requests.labels(request.method, route, str(response.status_code)).inc()
        if started is not None:
            m.latency.labels(request.method, route).observe(time.perf_counter() - started)
        return response
