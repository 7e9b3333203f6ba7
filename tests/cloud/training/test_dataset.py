"""Datasets keep only active consents, name every sample's provenance, and refuse what cannot train."""

from __future__ import annotations

import dataclasses
import random

import pytest

from homewarden.cloud.training.dataset import DatasetError, build_dataset
from homewarden.cloud.training.features import FEATURE_NAMES
from verifier_samples import labelled_items


def test_only_active_donations_enter_and_the_manifest_names_their_provenance() -> None:
    items = labelled_items()
    dataset = build_dataset(items, lambda donation: donation != "visit-2")
    manifest = dataset.manifest()
    assert "visit-2" not in manifest["donations"]
    assert {"visit-1", "visit-3", "empty-1"} <= set(manifest["donations"])
    assert all(row["donation"] != "visit-2" for row in manifest["samples"])
    row = manifest["samples"][0]
    assert set(row) == {"sample", "donation", "consent", "home", "label", "label_source"}
    assert row["consent"] == f"consent-{row['donation']}"
    assert manifest["homes"] == 2
    assert len(dataset.samples) == sum(1 for item in items if item.donation_id != "visit-2")


def test_a_list_of_active_ids_works_like_a_predicate_and_input_order_does_not_matter() -> None:
    items = list(labelled_items())
    shuffled = items[:]
    random.Random(7).shuffle(shuffled)
    active = ["visit-1", "empty-1", "empty-3"]
    assert build_dataset(shuffled, active) == build_dataset(items, lambda d: d in active)
    assert build_dataset(shuffled, active).digest() == build_dataset(items, active).digest()


def test_without_a_donation_equals_building_without_it() -> None:
    items = labelled_items()
    everything = build_dataset(items, lambda _d: True)
    assert everything.without(["visit-3"]) == build_dataset(items, lambda d: d != "visit-3")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"label": "ghost"}, "label 'ghost' is not one of"),
        ({"features": (1.0, 2.0)}, f"2 features, nanodet-groups-bodyparts-v2 has {len(FEATURE_NAMES)}"),
        ({"features": (float("nan"),) * len(FEATURE_NAMES)}, "features must be finite numbers"),
    ],
)
def test_bad_items_are_refused_naming_the_sample(change: dict[str, object], message: str) -> None:
    bad = dataclasses.replace(labelled_items()[0], **change)  # type: ignore[arg-type]
    with pytest.raises(DatasetError, match=message) as raised:
        build_dataset([*labelled_items()[1:], bad], lambda _d: True)
    assert bad.sample_id in str(raised.value)


def test_a_sample_listed_twice_is_refused() -> None:
    first = labelled_items()[0]
    with pytest.raises(DatasetError, match="listed twice"):
        build_dataset([first, first], lambda _d: True)
