"""`gems model ...`: train, tune, evaluate, predict, publish, deploy-candidate, promote, rollback."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
from pathlib import Path

from gems.config import Config
from gems.errors import InputError, ValidationError
from ml import artifacts, drift

log = logging.getLogger(__name__)


def _train(args) -> int:
    from ml import train

    params = json.loads(Path(args.params).read_text()) if args.params else {}
    if args.iterations:
        params["iterations"] = args.iterations
    spec = {k: getattr(args, k) for k in train.SPEC_KEYS if getattr(args, k) is not None}
    out = train.train(
        args.data,
        args.out,
        seed=args.seed,
        params=params,
        spec_options=spec,
        refit_all=not args.no_refit,
        version=args.version,
        threads=args.threads,
    )
    metrics = artifacts.read_metrics(out)
    for source in ("Firehose", "MC3"):
        if source in metrics:
            m = metrics[source]
            print(
                f"{source}: held-out accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f} (n={m['n']})"
            )
    print(f"wrote {out} (version {artifacts.read_manifest(out)['version']})")
    return 0


def _tune(args) -> int:
    from ml import tune

    result = tune.search(
        args.data, trials=args.trials, seed=args.seed, timeout=args.timeout, threads=args.threads
    )
    _write_result(args, result)
    print(json.dumps(result, indent=1))
    return 0


def _compare(args) -> int:
    from ml import compare

    recipes = compare.read_recipes(args.recipes)
    result = compare.compare(
        args.data, recipes, count=args.inner_splits, seed=args.seed, threads=args.threads
    )
    _write_result(args, result)
    print(compare.format_table(result))
    return 0


def _write_predictions(path: Path, rows: list[list], header: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(partial, path)


def _predict(args) -> int:
    from ml import data
    from ml.predictor import Predictor

    predictor = Predictor(args.model)
    dataset = data.load(args.data, labels=False)
    probabilities = predictor.predict_patients(dataset.patients)
    header = ["patient_id", "source", "predicted_site", "confident"]
    header += [f"prob_{c}" for c in predictor.classes]
    rows = []
    for patient, probs in zip(dataset.patients, probabilities, strict=True):
        best = max(range(len(probs)), key=probs.__getitem__)
        confident = predictor.confident(probs)
        flag = "" if confident is None else str(confident).lower()  # empty: the model has no calibration
        rows.append(
            [
                patient["patient_id"],
                patient["source"],
                predictor.classes[best],
                flag,
                *(f"{p:.6f}" for p in probs),
            ]
        )
    _write_predictions(Path(args.out), rows, header)
    print(f"wrote {len(rows)} predictions to {args.out} (model {predictor.version})")
    return 0


def _evaluate(args) -> int:
    from ml import data, evaluate
    from ml.predictor import Predictor

    predictor = Predictor(args.model)
    dataset = data.load(args.data, labels=True)
    unknown = sorted(set(dataset.labels) - set(predictor.classes))
    if unknown:
        log.warning("labels the model does not know (always wrong): %s", ", ".join(unknown))
    probabilities = predictor.predict_patients(dataset.patients)
    predicted = [predictor.classes[max(range(len(p)), key=p.__getitem__)] for p in probabilities]
    classes = predictor.classes + unknown
    results = evaluate.by_source([p["source"] for p in dataset.patients], dataset.labels, predicted, classes)
    if predictor.manifest.get("data_checksum") == dataset.checksum:
        print("note: this is the data the model was trained on; see metrics.json for held-out figures")
    print(f"model {predictor.version} on {args.data}")
    print(evaluate.format_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    return 0


def _clients():
    """The configuration, its S3 client and a maker of its other clients (all from gems.aws)."""
    from gems.aws.clients import client

    config = Config.from_env()
    return config, client(config, "s3"), lambda service: client(config, service)


def _publish(args) -> int:
    from ml import registry

    config, s3, _ = _clients()
    version = registry.publish(s3, config.state_bucket, Path(args.model))
    print(f"published {version} to s3://{config.state_bucket}/{registry.PREFIX}")
    return 0


def _versions(args) -> int:
    from ml import registry

    config, s3, _ = _clients()
    state = registry.state(s3, config.state_bucket)
    for manifest in registry.versions(s3, config.state_bucket):
        version = manifest["version"]
        marks = [name for name in ("production", "candidate") if state.get(name) == version]
        marks += ["previous"] if version in state.get("previous", [])[-1:] else []
        print(
            f"{version}  {manifest.get('created', '')}  {manifest.get('git_commit', '')[:12]}  {' '.join(marks)}"
        )
    return 0


def _sagemaker_settings(args) -> dict | None:
    config = Config.from_env()
    image = args.image or config.serve_image
    role = args.role or config.sagemaker_role
    if not image and not role:
        return None
    if not (image and role):
        raise ValidationError(
            "SageMaker needs both --image (GEMS_SERVE_IMAGE) and --role (GEMS_SAGEMAKER_ROLE)",
            field="image" if not image else "role",
        )
    return {"image_uri": image, "role_arn": role, "instance_type": args.instance_type}


def _deploy_candidate(args) -> int:
    from ml import registry, sagemaker

    config, s3, make = _clients()
    settings = _sagemaker_settings(args)
    if settings is None:
        target = registry.fetch(s3, config.state_bucket, args.version, config.home / "models" / args.version)
        registry.mark_candidate(s3, config.state_bucket, args.version)
        print(
            f"candidate {args.version} unpacked in {target}; serve it with: python -m ml.serve --model {target} --port 8081"
        )
        return 0
    sm = make("sagemaker")
    names = sagemaker.deploy(
        sm,
        version=args.version,
        model_data_url=registry.tarball_url(config.state_bucket, args.version),
        endpoint_name=args.endpoint,
        **settings,
    )
    registry.mark_candidate(s3, config.state_bucket, args.version)
    print(
        f"candidate {args.version}: model {names['model']}, endpoint config {names['endpoint_config']}, endpoint {names['endpoint']} ({names['action']})"
    )
    return 0


def _promote(args, *, rollback: bool = False) -> int:
    from ml import registry, sagemaker

    config, s3, make = _clients()
    state = (
        registry.rollback(s3, config.state_bucket)
        if rollback
        else registry.promote(s3, config.state_bucket, args.version)
    )
    version = state["production"]
    if config.sagemaker_endpoint:
        sm = make("sagemaker")
        sagemaker.point_endpoint(sm, config.sagemaker_endpoint, version)
        print(f"endpoint {config.sagemaker_endpoint} now serves {version}")
    else:
        target = registry.fetch(s3, config.state_bucket, version, config.home / "models" / "production")
        print(
            f"production model {version} unpacked in {target}; restart the model server: python -m ml.serve --model {target}"
        )
    previous = state.get("previous") or []
    print(f"production: {version}; rollback target: {previous[-1] if previous else 'none'}")
    return 0


def _search_parser(sub, name: str, func, help_: str) -> argparse.ArgumentParser:
    """The options every search over the training patients takes (tune, compare)."""
    p = sub.add_parser(name, help=help_)
    p.add_argument("--data", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=-1)
    p.add_argument("--out", help="write the result JSON here")
    p.set_defaults(func=func)
    return p


def _write_result(args, result: dict) -> None:
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gems model", description="the cancer-type (primary site) model")
    sub = parser.add_subparsers(dest="command", required=True)
    default_model = str(artifacts.DEFAULT_MODEL_DIR)

    p = sub.add_parser("train", help="train, evaluate on held-out patients, write a model directory")
    p.add_argument("--data", required=True, help="directory laid out like shared/data/tcga")
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--params", help="JSON file of CatBoost hyperparameters (default: ml.train.DEFAULT_PARAMS)"
    )
    p.add_argument("--iterations", type=int, help="override the number of boosting iterations")
    p.add_argument("--n-genes", dest="n_genes", type=int)
    p.add_argument("--n-hotspots", dest="n_hotspots", type=int)
    p.add_argument("--min-hotspot-patients", dest="min_hotspot_patients", type=int)
    p.add_argument("--n-substitutions", dest="n_substitutions", type=int)
    p.add_argument("--n-codons", dest="n_codons", type=int)
    p.add_argument("--n-site-genes", dest="n_site_genes", type=int, help="genes most enriched per site")
    p.add_argument(
        "--site-scores",
        dest="site_scores",
        type=int,
        choices=(0, 1),
        help="1: naive-Bayes site scores over all genes",
    )
    p.add_argument("--version", help="version name (default: created time and seed)")
    p.add_argument(
        "--no-refit", action="store_true", help="ship the split's model instead of refitting on all patients"
    )
    p.add_argument("--threads", type=int, default=-1)
    p.set_defaults(func=_train)

    p = _search_parser(
        sub, "tune", _tune, "reproducible Optuna search (TPE, fixed seed) on training patients only"
    )
    p.add_argument("--trials", type=int, default=12)
    p.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")

    p = _search_parser(
        sub, "compare", _compare, "score whole recipes on k inner splits of the training patients"
    )
    p.add_argument("--recipes", required=True, help="JSON: name -> {params, spec}")
    p.add_argument("--inner-splits", dest="inner_splits", type=int, default=3)

    p = sub.add_parser("predict", help="predict primary sites for every patient row of a data directory")
    p.add_argument("--model", default=default_model)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True, help="predictions.csv")
    p.set_defaults(func=_predict)

    p = sub.add_parser("evaluate", help="print metrics of a model on a labelled data directory")
    p.add_argument("--model", default=default_model)
    p.add_argument("--data", required=True)
    p.add_argument("--json", help="also write the metrics as JSON here")
    p.set_defaults(func=_evaluate)

    p = sub.add_parser("publish", help="upload a model directory to the registry (S3)")
    p.add_argument("--model", default=default_model)
    p.set_defaults(func=_publish)

    p = sub.add_parser("versions", help="list the registry's versions")
    p.set_defaults(func=_versions)

    for name, func, help_ in (
        ("deploy-candidate", _deploy_candidate, "deploy a registered version to the candidate endpoint"),
        ("promote", _promote, "make a registered version the one /predict serves"),
    ):
        p = sub.add_parser(name, help=help_)
        p.add_argument("version")
        p.add_argument("--image", help="serving image URI (default $GEMS_SERVE_IMAGE)")
        p.add_argument("--role", help="SageMaker execution role ARN (default $GEMS_SAGEMAKER_ROLE)")
        p.add_argument("--instance-type", default=Config.from_env().sagemaker_instance_type)
        p.add_argument("--endpoint", default="gems-site-candidate", help="candidate endpoint name")
        p.set_defaults(func=func)
    p = sub.add_parser("rollback", help="serve the version that was in production before the last promote")
    p.set_defaults(func=lambda a: _promote(a, rollback=True))

    p = sub.add_parser("drift", help="PSI per feature: served /predict requests against the training data")
    drift.add_arguments(p)
    p.set_defaults(func=drift.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if getattr(args, "data", None) and not Path(args.data).is_dir():
        raise InputError(f"--data {args.data}: not a directory")
    return int(args.func(args) or 0)
