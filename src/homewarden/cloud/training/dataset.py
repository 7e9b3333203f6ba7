"""Datasets with provenance: every sample names the donation, the consent and the source of its label."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from homewarden.cloud.training.features import FEATURE_NAMES, FEATURES
from homewarden.detect.verifier import CLASSES

DATASET_FORMAT = "homewarden-dataset/1"


class DatasetError(ValueError):
    """Labelled items that cannot make a dataset; the message names the sample."""


@dataclass(frozen=True)
class LabelledItem:
    """One labelled box of a donated clip, with where it came from."""

    sample_id: str
    donation_id: str
    consent_id: str
    home_id: str
    label: str
    label_source: str
    features: tuple[float, ...]


def canonical_json(value: Any) -> bytes:
    """Serialise the same value to the same bytes on every run (sorted keys, no spaces, shortest floats)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


@dataclass(frozen=True)
class Dataset:
    """Labelled items of active consents only, sorted by sample id so training sees them in one order."""

    samples: tuple[LabelledItem, ...]

    @property
    def donations(self) -> tuple[str, ...]:
        """Return the donation ids the dataset holds, sorted."""
        return tuple(sorted({item.donation_id for item in self.samples}))

    def digest(self) -> str:
        """Return the SHA-256 of the whole dataset, features included."""
        return hashlib.sha256(canonical_json(self.manifest(with_features=True))).hexdigest()

    def manifest(self, with_features: bool = False) -> dict[str, Any]:
        """Return the manifest: every sample's donation, consent, home, label and label source."""
        rows = []
        for item in self.samples:
            row: dict[str, Any] = {
                "sample": item.sample_id,
                "donation": item.donation_id,
                "consent": item.consent_id,
                "home": item.home_id,
                "label": item.label,
                "label_source": item.label_source,
            }
            if with_features:
                row["features"] = list(item.features)
            rows.append(row)
        return {
            "format": DATASET_FORMAT,
            "features": FEATURES,
            "donations": list(self.donations),
            "homes": len({item.home_id for item in self.samples}),
            "samples": rows,
        }

    def without(self, donation_ids: Collection[str]) -> Dataset:
        """Return the dataset without the samples of these donations (a withdrawal)."""
        return Dataset(tuple(item for item in self.samples if item.donation_id not in donation_ids))

    def matrix(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Return the features (n, d) and the class indexes (n,) in sample order."""
        features = np.array([item.features for item in self.samples], dtype=np.float64).reshape(-1, len(FEATURE_NAMES))
        labels = np.array([CLASSES.index(item.label) for item in self.samples], dtype=np.int64)
        return features, labels


def build_dataset(labelled_items: Iterable[LabelledItem], active: Callable[[str], bool] | Collection[str]) -> Dataset:
    """Make a dataset of the items whose donation is active (a predicate, or the collection of active ids)."""
    is_active = active if callable(active) else active.__contains__
    kept: dict[str, LabelledItem] = {}
    for item in labelled_items:
        if item.label not in CLASSES:
            raise DatasetError(f"sample {item.sample_id}: label {item.label!r} is not one of {list(CLASSES)}")
        if len(item.features) != len(FEATURE_NAMES):
            raise DatasetError(
                f"sample {item.sample_id}: {len(item.features)} features, {FEATURES} has {len(FEATURE_NAMES)}"
            )
        if not all(np.isfinite(item.features)):
            raise DatasetError(f"sample {item.sample_id}: features must be finite numbers")
        if item.sample_id in kept:
            raise DatasetError(f"sample {item.sample_id}: listed twice")
        if is_active(item.donation_id):
            kept[item.sample_id] = item
    return Dataset(tuple(kept[key] for key in sorted(kept)))
