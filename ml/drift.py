"""Model drift: binned feature counts of served /predict requests against the training data.

What is kept is counts only: for each of the model's patient-level features (the categorical and
numeric columns of ml.features, read by the same `patient_columns` the model's rows start with) the number of
patients per fixed bin. No patient id, no mutation, no row survives. The web app appends one
small JSON histogram under `drift/served/<model_version>/<YYYY-MM-DD>/` in the state bucket for the
calls it served, merged in memory and written at most every 30 s (app.drift; one new object per
write: no read-modify-write, so concurrent Lambdas never race);
`gems model drift` adds them up and compares them with the training data's histogram using the
population stability index per feature:

    PSI = sum over bins of (served% - train%) * ln(served% / train%)

PSI < 0.10: stable; 0.10-0.25: moderate shift (watch); >= 0.25: ALERT (the served population
differs enough that held-out accuracy no longer describes it; re-evaluate or retrain).

Pure Python (the Lambda app imports it): no numpy, pandas or catboost.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import uuid

from gems.errors import ValidationError
from ml.features import CATEGORICAL, MISSING_CATEGORY, NUMERIC, RACES, SEXES, patient_columns

PREFIX = "drift/served/"
WATCH, ALERT = 0.10, 0.25
MISSING = "missing"
_COUNT_EDGES = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)
_FRACTION_EDGES = (0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)
# Lower edges: a value v falls in the last edge <= v. Fixed so any two histograms line up.
EDGES: dict[str, tuple[float, ...]] = {
    "age_at_diagnosis": (0, 30, 40, 50, 55, 60, 65, 70, 75, 80),
    **{name: _COUNT_EDGES for name in NUMERIC if name.startswith("n_")},
    **{name: _FRACTION_EDGES for name in NUMERIC if name.startswith("frac_")},
}
CATEGORIES: dict[str, tuple[str, ...]] = {
    "sex": (*SEXES, MISSING_CATEGORY),
    "race": (*RACES, MISSING_CATEGORY),
    "prior_malignancy": ("yes", "no", MISSING_CATEGORY),
}
FEATURES = list(CATEGORICAL) + list(NUMERIC)


def bins(feature: str) -> list[str]:
    if feature in CATEGORIES:
        return list(CATEGORIES[feature])
    return [f">={e:g}" for e in EDGES[feature]] + [MISSING]


def bin_of(feature: str, value) -> str:
    if feature in CATEGORIES:
        return value if value in CATEGORIES[feature] else MISSING_CATEGORY
    if value is None:
        return MISSING
    label = f">={EDGES[feature][0]:g}"  # below the first edge (negative counts cannot happen) clamps
    for edge in EDGES[feature]:
        if value >= edge:
            label = f">={edge:g}"
    return label


def histogram(patients) -> dict:
    """Counts per feature and bin for an iterable of patient dicts."""
    return histogram_of_rows(patient_columns(p)[0] for p in patients)


def histogram_of_rows(rows) -> dict:
    """The same counts from rows that start with the patient-level columns (a feature row, or
    FeatureMatrix.patient_rows), so a server that built them for the model does not build them
    again for the counts."""
    counts = {f: dict.fromkeys(bins(f), 0) for f in FEATURES}
    n = 0
    for row in rows:
        for feature, value in zip(FEATURES, row, strict=False):
            counts[feature][bin_of(feature, value)] += 1
        n += 1
    return {"n": n, "features": counts}


def merge(histograms) -> dict:
    total = {"n": 0, "features": {f: dict.fromkeys(bins(f), 0) for f in FEATURES}}
    for h in histograms:
        total["n"] += int(h.get("n", 0))
        for feature, counts in (h.get("features") or {}).items():
            if feature in total["features"]:
                for label, count in counts.items():
                    if label in total["features"][feature]:
                        total["features"][feature][label] += int(count)
    return total


def psi(expected: dict[str, int], actual: dict[str, int], floor: float = 1e-4) -> float:
    """Population stability index of two count vectors over the same bins.

    Empty bins get a small floor share so a bin seen on one side only counts heavily but finitely.
    """
    e_total, a_total = sum(expected.values()), sum(actual.values())
    if not e_total or not a_total:
        return float("nan")
    value = 0.0
    for label in expected:
        e = max(expected[label] / e_total, floor)
        a = max(actual.get(label, 0) / a_total, floor)
        value += (a - e) * math.log(a / e)
    return value


def level(value: float) -> str:
    if math.isnan(value):
        return "no data"
    return "ALERT" if value >= ALERT else "watch" if value >= WATCH else "stable"


def compare(training: dict, served: dict) -> list[dict]:
    rows = []
    for feature in FEATURES:
        value = psi(training["features"][feature], served["features"][feature])
        rows.append({"feature": feature, "psi": value, "level": level(value)})
    return rows


def format_report(rows: list[dict], training: dict, served: dict) -> str:
    lines = [
        f"training patients: {training['n']}   served patients: {served['n']}",
        f"{'feature':<20} {'PSI':>8}  level   (watch >= {WATCH}, ALERT >= {ALERT})",
    ]
    lines += [f"{r['feature']:<20} {r['psi']:>8.4f}  {r['level']}" for r in rows]
    alerts = [r["feature"] for r in rows if r["level"] == "ALERT"]
    lines.append(f"ALERT: {', '.join(alerts)}" if alerts else "no feature over the alert threshold")
    return "\n".join(lines)


# ---- served counts in S3 ---------------------------------------------------------------------
def served_key(model_version: str, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    safe = "".join(c if c.isalnum() or c in "-_.+" else "_" for c in model_version or "unknown")
    return f"{PREFIX}{safe}/{now:%Y-%m-%d}/{now:%H%M%S}-{uuid.uuid4().hex[:12]}.json"


def write(s3, bucket: str, model_version: str | None, counts: dict) -> str:
    """Append a histogram (one batch's, or several merged) to the state bucket as a new object."""
    key = served_key(model_version or "unknown")
    body = json.dumps(counts, separators=(",", ":")).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return key


def load_served(s3, bucket: str, model_version: str | None = None, since: str | None = None) -> dict:
    """Sum every served histogram (of one model version, from a date YYYY-MM-DD on)."""
    prefix = PREFIX + (f"{model_version}/" if model_version else "")
    parts = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            day = obj["Key"][len(PREFIX) :].split("/")[1] if obj["Key"].count("/") >= 4 else ""
            if since and day < since:
                continue
            parts.append(json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()))
    return merge(parts)


# ---- `gems model drift` ----------------------------------------------------------------------
def add_arguments(p) -> None:
    p.add_argument("--data", help="the training data directory (laid out like shared/data/tcga)")
    p.add_argument(
        "--baseline", help="training histogram JSON: read it if it exists, else built from --data and written"
    )
    p.add_argument("--model-version", dest="model_version", help="only requests this model version served")
    p.add_argument("--since", help="only requests from this day on (YYYY-MM-DD)")
    p.add_argument("--served", help="a served-histogram JSON file instead of the state bucket")
    p.add_argument("--json", help="also write the report as JSON here")
    p.add_argument("--fail-on-alert", action="store_true", help="exit 1 when a feature is at ALERT")


def _training(args) -> dict:
    if args.baseline and os.path.exists(args.baseline):
        with open(args.baseline) as handle:
            return merge([json.load(handle)])
    if not args.data:
        raise ValidationError("give --data (the training data) or an existing --baseline", field="data")
    from ml import data

    training = histogram(data.load(args.data, labels=False).patients)
    if args.baseline:
        partial = args.baseline + ".partial"
        with open(partial, "w") as handle:
            json.dump(training, handle)
        os.replace(partial, args.baseline)
    return training


def run(args) -> int:
    training = _training(args)
    if args.served:
        with open(args.served) as handle:
            served = merge([json.load(handle)])
    else:
        from gems.aws.clients import client
        from gems.config import Config

        config = Config.from_env()
        s3 = client(config, "s3")
        served = load_served(s3, config.state_bucket, args.model_version, args.since)
    if not served["n"]:
        print("no served /predict requests recorded yet (nothing to compare)")
        return 0
    rows = compare(training, served)
    print(format_report(rows, training, served))
    if args.json:
        report = {"training_n": training["n"], "served_n": served["n"], "watch": WATCH, "alert": ALERT}
        report["features"] = [dict(r, psi=None if math.isnan(r["psi"]) else r["psi"]) for r in rows]
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=1)
    alerted = any(r["level"] == "ALERT" for r in rows)
    return 1 if alerted and args.fail_on_alert else 0
