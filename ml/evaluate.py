"""Held-out evaluation: a patient-grouped split and metrics per caller source.

The same patient can appear twice (Firehose and MC3 call the same tumour), so the split is made on
patient ids: both rows of a patient land on the same side, and a model cannot score by
recognising a tumour it saw through the other caller.
"""

from __future__ import annotations

from pathlib import Path

SOURCES = ("Firehose", "MC3")


def split(
    patient_ids: list[str], labels: list[str], *, seed: int, folds: int = 5
) -> tuple[list[int], list[int]]:
    """Row indices (train, test): one fold of a stratified, patient-grouped k-fold (1/folds held out)."""
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    train, test = next(splitter.split(labels, labels, patient_ids))
    return train.tolist(), test.tolist()


def metrics(y_true: list[str], y_pred: list[str], classes: list[str]) -> dict:
    """Accuracy, macro-F1 over the classes present, per-class precision/recall/F1, confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    present = [c for c in classes if c in set(y_true)]
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    return {
        "n": len(y_true),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(
            float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)), 4
        ),
        "per_class": {
            c: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(support[i]),
            }
            for i, c in enumerate(classes)
        },
        "labels": list(classes),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=classes).tolist(),
    }


def by_source(sources: list[str], y_true: list[str], y_pred: list[str], classes: list[str]) -> dict:
    """Metrics for each caller source on its own, and for all rows together."""
    out = {}
    for source in SOURCES:
        keep = [i for i, s in enumerate(sources) if s == source]
        if keep:
            out[source] = metrics([y_true[i] for i in keep], [y_pred[i] for i in keep], classes)
    out["all"] = metrics(y_true, y_pred, classes)
    return out


def format_table(results: dict) -> str:
    """A short text table: one line per source, then per-class recall."""
    lines = [f"{'source':<10} {'n':>6} {'accuracy':>9} {'macro-F1':>9}"]
    for source, m in results.items():
        lines.append(f"{source:<10} {m['n']:>6} {m['accuracy']:>9.3f} {m['macro_f1']:>9.3f}")
    first = next(iter(results.values()))
    lines.append("")
    lines.append(f"{'class':<14}" + "".join(f" {s + ' P/R':>16}" for s in results))
    for c in first["labels"]:
        cells = []
        for m in results.values():
            pc = m["per_class"][c]
            cells.append(
                f"{pc['precision']:.2f}/{pc['recall']:.2f} ({pc['support']})" if pc["support"] else "-"
            )
        lines.append(f"{c:<14}" + "".join(f" {cell:>16}" for cell in cells))
    return "\n".join(lines)


def plot_confusion(results: dict, path: Path) -> None:
    """Row-normalised confusion matrices, one panel per source, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels = [(s, m) for s, m in results.items() if s != "all"] or list(results.items())
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 6.5), squeeze=False)
    for ax, (source, m) in zip(axes[0], panels, strict=True):
        matrix = np.array(m["confusion_matrix"], dtype=float)
        rows = matrix.sum(axis=1, keepdims=True)
        normalised = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
        ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
        labels = m["labels"]
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        for i in range(len(labels)):
            for j in range(len(labels)):
                if matrix[i, j]:
                    colour = "white" if normalised[i, j] > 0.5 else "black"
                    ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=7, color=colour)
        ax.set_title(f"{source}: acc {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f} (n={m['n']})")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
