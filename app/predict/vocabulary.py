"""What /predict validates against: the gene symbols and values of the served model's config.json.

Read from the committed default model's config.json (or $GEMS_MODEL_DIR's), once per process.
Gene symbols there are every symbol the training data mentions (HGNC symbols as TCGA MAFs spell
them), so a valid gene that is not a model feature is still accepted: it counts toward the burden.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from pathlib import Path

from gems.errors import InputError, UnavailableError
from ml import artifacts, features


@dataclass(frozen=True)
class Vocabulary:
    genes: frozenset[str]
    by_upper: dict
    model_genes: tuple[str, ...]
    age_range: tuple[float, float]

    def canonical(self, symbol: str) -> str | None:
        """The symbol as the model spells it (case-insensitive match), or None if unknown."""
        if symbol in self.genes:
            return symbol
        return self.by_upper.get(symbol.upper())

    def suggest(self, symbol: str) -> str | None:
        upper = symbol.upper()
        # Most genes a model can weigh are few; prefer them when a typo is close to one of them.
        for pool in (self.model_genes, tuple(self.by_upper)):
            match = difflib.get_close_matches(upper, [g.upper() for g in pool], n=1, cutoff=0.75)
            if match:
                return self.by_upper.get(match[0], match[0])
        return None


def from_config(config: dict) -> Vocabulary:
    genes = list(config.get("known_genes") or config["spec"]["genes"])
    by_upper: dict = {}
    for gene in genes:
        by_upper.setdefault(gene.upper(), gene)
    low, high = config.get("known_values", {}).get("age_at_diagnosis", [0, 120])
    return Vocabulary(frozenset(genes), by_upper, tuple(config["spec"]["genes"]), (float(low), float(high)))


@functools.lru_cache(maxsize=4)
def load(model_dir: Path | None = None) -> Vocabulary:
    """The served model's vocabulary; 503 while its config.json is missing or unreadable.

    A missing model is the deployment's fault, not the caller's: the answer says so, and the next
    request tries again (lru_cache keeps no failure).
    """
    try:
        return from_config(artifacts.read_config(model_dir or artifacts.default_model_dir()))
    except InputError as exc:
        raise UnavailableError(f"the model is unavailable: {exc}") from exc


VARIANT_CLASSES = tuple(sorted(features.VARIANT_CLASSES))
SEXES = features.SEXES
RACES = (*features.RACES, "unknown")
