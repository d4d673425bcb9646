"""The model directory: what a training run writes and what every server reads.

    model.cbm       the CatBoost model
    manifest.json   version, data checksum, git commit, created, seed
    config.json     feature spec (genes, hotspots, substitutions), feature names, hyperparameters,
                    classes, the symbols and values /predict validates against
    metrics.json    held-out metrics per caller source
    confusion.png   the held-out confusion matrices

JSON only here (no catboost): the web app reads config.json through this module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from gems.config import Config
from gems.errors import InputError

MODEL_FILE = "model.cbm"
MANIFEST = "manifest.json"
CONFIG = "config.json"
METRICS = "metrics.json"
PLOT = "confusion.png"
RELIABILITY = "reliability.png"
REQUIRED = (MODEL_FILE, MANIFEST, CONFIG)
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"


def git_commit(repo: Path | None = None) -> str:
    """HEAD's commit (with `-dirty` when tracked files differ), or "unknown" outside a checkout."""
    cwd = repo or Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "ml"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def new_version(created: datetime, seed: int) -> str:
    return f"{created:%Y%m%d-%H%M%S}-s{seed}"


def _dump(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=1, sort_keys=False) + "\n")


def write_model_dir(
    out: Path, *, save_model, manifest: dict, config: dict, metrics: dict, plot=None, extra_plots=None
) -> Path:
    """Write everything into a temporary sibling, then rename: a half-written model dir never exists."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    work.chmod(0o755)  # mkdtemp makes it private; a serving container runs as another user
    try:
        save_model(work / MODEL_FILE)
        _dump(work / CONFIG, config)
        _dump(work / METRICS, metrics)
        if plot is not None:
            plot(work / PLOT)
        for name, draw in (extra_plots or {}).items():
            draw(work / name)
        _dump(work / MANIFEST, manifest)
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out, old)
            os.replace(work, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return out


def _read_json(model_dir: Path, name: str) -> dict:
    path = Path(model_dir) / name
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"model directory {model_dir}: {name} is missing") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"model directory {model_dir}: {name} is unreadable ({exc})") from None


def read_config(model_dir: Path) -> dict:
    return _read_json(model_dir, CONFIG)


def read_manifest(model_dir: Path) -> dict:
    return _read_json(model_dir, MANIFEST)


def read_metrics(model_dir: Path) -> dict:
    return _read_json(model_dir, METRICS)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def default_model_dir() -> Path:
    """The model the embedded stack and the CLI use unless told otherwise ($GEMS_MODEL_DIR overrides)."""
    return Config.from_env().model_dir or DEFAULT_MODEL_DIR
