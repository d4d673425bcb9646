"""Calibrated site probabilities: temperature scaling fit on out-of-fold predictions.

One number, T, divides the log-probabilities before they are normalised again: T < 1 sharpens an
underconfident model, T > 1 softens an overconfident one. The ranking of the sites never changes,
so accuracy and macro-F1 stay exactly where they were. T is fit (least negative log-likelihood)
on predictions for patients the model was not fit on: training's held-out split. The calibration
error reported for it is cross-fitted (T fit on the other folds of those patients), so it is not
measured on the rows T was fit to.

`confident` marks a prediction whose calibrated top probability is at least CONFIDENT (fixed, not
tuned); training measures how many patients reach it and how often their top site is right.
Pure numpy; the plot imports matplotlib when asked for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CONFIDENT = 0.9
BINS = 10
FOLDS = 5
_LOG_T = (-3.0, 3.0)  # T between 0.05 and 20


def apply(probabilities, temperature: float) -> np.ndarray:
    """Rows of class probabilities, recalibrated by `temperature` (1.0: unchanged)."""
    p = np.asarray(probabilities, dtype=float)
    if temperature == 1.0 or p.size == 0:
        return p
    logits = np.log(np.clip(p, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def nll(probabilities, truth: np.ndarray, temperature: float) -> float:
    p = apply(probabilities, temperature)
    return float(-np.mean(np.log(np.clip(p[np.arange(len(truth)), truth], 1e-12, 1.0))))


def fit_temperature(probabilities, truth) -> float:
    """The T that minimises the negative log-likelihood of the true classes (golden-section
    search over log T; the NLL is unimodal in T)."""
    truth = np.asarray(truth)
    lo, hi = _LOG_T
    ratio = (np.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(probabilities, truth, np.exp(a)), nll(probabilities, truth, np.exp(b))
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(probabilities, truth, np.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(probabilities, truth, np.exp(b))
    return round(float(np.exp((lo + hi) / 2)), 4)


def reliability(probabilities, truth, bins: int = BINS) -> list[dict]:
    """Per bin of top probability: rows, mean top probability, share whose top class is right."""
    p = np.asarray(probabilities, dtype=float)
    top, right = p.max(axis=1), p.argmax(axis=1) == np.asarray(truth)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(top, edges[1:-1], right=False), 0, bins - 1)
    out = []
    for k in range(bins):
        mask = which == k
        if mask.any():
            out.append(
                {
                    "bin": [round(float(edges[k]), 2), round(float(edges[k + 1]), 2)],
                    "n": int(mask.sum()),
                    "confidence": round(float(top[mask].mean()), 4),
                    "accuracy": round(float(right[mask].mean()), 4),
                }
            )
    return out


def ece(probabilities, truth, bins: int = BINS) -> float:
    """Expected calibration error of the top class: the rows-weighted mean |accuracy - confidence|."""
    rows = reliability(probabilities, truth, bins)
    n = sum(r["n"] for r in rows)
    return round(sum(r["n"] * abs(r["accuracy"] - r["confidence"]) for r in rows) / max(n, 1), 4)


def confident_share(probabilities, truth, threshold: float = CONFIDENT) -> dict:
    """How many rows reach `threshold`, and how often their top class is right."""
    p = np.asarray(probabilities, dtype=float)
    mask = p.max(axis=1) >= threshold
    right = p.argmax(axis=1) == np.asarray(truth)
    return {
        "threshold": threshold,
        "coverage": round(float(mask.mean()), 4) if len(p) else 0.0,
        "accuracy": round(float(right[mask].mean()), 4) if mask.any() else None,
        "n": int(mask.sum()),
    }


def cross_fitted(probabilities, truth, groups, folds: int = FOLDS) -> np.ndarray:
    """Each row recalibrated by a T fit on the other folds (grouped: a patient's rows together)."""
    from sklearn.model_selection import GroupKFold

    p = np.asarray(probabilities, dtype=float)
    truth = np.asarray(truth)
    out = np.empty_like(p)
    for fit_idx, score_idx in GroupKFold(folds).split(p, truth, groups):
        out[score_idx] = apply(p[score_idx], fit_temperature(p[fit_idx], truth[fit_idx]))
    return out


def report(probabilities, truth, groups, sources: list[str]) -> tuple[dict, dict]:
    """(calibration for config.json, measurements for metrics.json) from held-out predictions."""
    p = np.asarray(probabilities, dtype=float)
    truth = np.asarray(truth)
    temperature = fit_temperature(p, truth)
    fitted = cross_fitted(p, truth, groups)
    measured: dict = {"temperature": temperature, "bins": BINS, "by_source": {}}
    for source in [*sorted(set(sources)), "all"]:
        mask = np.array([source in ("all", s) for s in sources])
        measured["by_source"][source] = {
            "n": int(mask.sum()),
            "ece_raw": ece(p[mask], truth[mask]),
            "ece_calibrated": ece(fitted[mask], truth[mask]),
            "confident_raw": confident_share(p[mask], truth[mask]),
            "confident": confident_share(fitted[mask], truth[mask]),
            "reliability_raw": reliability(p[mask], truth[mask]),
            "reliability": reliability(fitted[mask], truth[mask]),
        }
    config = {
        "method": "temperature",
        "temperature": temperature,
        "confident_threshold": CONFIDENT,
        "fit_on": f"{len(p)} held-out rows of the training split",
    }
    return config, measured


def plot(measured: dict, path: Path) -> None:
    """Reliability diagram per source: before and after calibration, against the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(s, m) for s, m in measured["by_source"].items() if s != "all"]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 5), squeeze=False)
    for ax, (source, m) in zip(axes[0], panels, strict=True):
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
        for key, label, style in (
            ("reliability_raw", f"raw (ECE {m['ece_raw']:.3f})", "o--"),
            ("reliability", f"calibrated (ECE {m['ece_calibrated']:.3f})", "s-"),
        ):
            rows = m[key]
            ax.plot([r["confidence"] for r in rows], [r["accuracy"] for r in rows], style, label=label)
        ax.axvline(CONFIDENT, color="black", linewidth=0.6)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("top probability (bin mean)")
        ax.set_ylabel("share whose top site is right")
        ax.set_title(f"{source} (n={m['n']}, T={measured['temperature']})")
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
