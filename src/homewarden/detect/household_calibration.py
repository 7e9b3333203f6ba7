"""The household's own calibration of the verifier: its corrections on this hub tune it here, and never leave the home.

The provider's model (detect/verifier.py) is the same for every home and is trained in the cloud on donated clips. A
household's corrections, "mark as false alarm" and "this is <member>" on an event, are kept apart from it: each
corrected person event gives one example (the verifier's features of the event's best box, computed here from its
snapshot), and a detection that looks like an example moves its person probability towards the household's verdict.
Nothing is trained in the cloud and nothing is sent: the examples are rebuilt from the home's own events, so deleting
an event deletes its correction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from homewarden.detect.base import Detection, Image
from homewarden.detect.verifier import CropScorer, detection_features
from homewarden.i18n import _, ngettext

FloatArray = npt.NDArray[np.float64]

# The event attribute the household's verdict is kept in (api/privacy.py and api/events.py write it).
VERDICT_ATTRIBUTE = "household_verdict"
FALSE_ALARM = "false_alarm"
PERSON = "person"
# How alike a detection must be to a correction: the root mean square of the feature differences (class scores are
# 0-1, the geometry shares of the frame). Up to NEAR it counts fully, from FAR not at all. Measured on the shared
# footage (docs/benchmarks.md): the aquarium's false person in its other frames is 0.04-0.075 from the first, the
# same person in the next frames 0.04-0.065, the test room's false person 0.01-0.02; people in another room are
# 0.086 and more from the aquarium's, people standing where the test room's false person was 0.11. Measured again
# with the v2 features (docs/training.md): the aquarium's other frames 0.043-0.111 (7 of 11 under NEAR), the nearest
# of 3 704 true person detections 0.098.
NEAR = 0.075
FAR = 0.095


@dataclass(frozen=True)
class Correction:
    """One event the household corrected: the verifier's features of its best box and whether it was a person."""

    event_id: str
    person: bool
    features: tuple[float, ...]


@dataclass(frozen=True)
class HouseholdCalibration:
    """Per-home adjustment of the provider's person probability, from the household's corrected events."""

    corrections: tuple[Correction, ...] = ()

    @property
    def false_alarms(self) -> int:
        """Return how many corrections say "not a person"."""
        return sum(1 for c in self.corrections if not c.person)

    @property
    def persons(self) -> int:
        """Return how many corrections say "a person"."""
        return sum(1 for c in self.corrections if c.person)

    def summary(self) -> str:
        """Describe the calibration in one line for the hub's settings."""
        if not self.corrections:
            return _("Household calibration: no corrections yet (it learns from \u201cmark as false alarm\u201d here)")
        false_alarms = ngettext("{count} false alarm", "{count} false alarms", self.false_alarms)
        persons = ngettext("{count} confirmed person", "{count} confirmed persons", self.persons)
        return _(
            "Household calibration: {false_alarms} and {persons} marked on this hub; kept here, never sent"
        ).format(false_alarms=false_alarms.format(count=self.false_alarms), persons=persons.format(count=self.persons))

    def adjust(self, features: FloatArray, person_probability: FloatArray) -> FloatArray:
        """Return the person probabilities moved towards the verdicts of the corrections each detection resembles."""
        if not self.corrections or len(features) == 0:
            return person_probability
        examples = np.array([c.features for c in self.corrections], dtype=np.float64)
        if examples.shape[1] != features.shape[1]:
            # Corrections made with another feature set (an older model's) say nothing about these features.
            return person_probability
        verdicts = np.array([1.0 if c.person else -1.0 for c in self.corrections])
        distance = np.sqrt(((features[:, None, :] - examples[None, :, :]) ** 2).mean(axis=2))
        likeness = np.clip((FAR - distance) / (FAR - NEAR), 0.0, 1.0)
        # The closest example of each verdict speaks; many copies of one false alarm do not add up to certainty.
        towards_person = np.where(verdicts > 0, likeness, 0.0).max(axis=1)
        away = np.where(verdicts < 0, likeness, 0.0).max(axis=1)
        # The household has the last word on what it corrected: a detection just like a marked false alarm is no
        # person (probability 0), one just like a confirmed person is one (1); in between, a share of the way there.
        # The provider's model is often sure of itself (0.999) exactly where it is wrong, so no bounded shift would do.
        lowered: FloatArray = person_probability * (1.0 - away)
        raised: FloatArray = lowered + (1.0 - lowered) * towards_person
        return raised


def verdict_of(attributes: dict[str, str]) -> bool | None:
    """Return what the household said of an event: True a person, False a false alarm, None nothing."""
    verdict = attributes.get(VERDICT_ATTRIBUTE)
    if verdict == FALSE_ALARM:
        return False
    if verdict == PERSON:
        return True
    return None


def correction_from_snapshot(
    event_id: str,
    person: bool,
    snapshot: Image,
    detection: Detection,
    scorer: CropScorer,
) -> Correction | None:
    """Compute a correction from an event's snapshot and best detection (None: the box is not in the picture)."""
    height, width = snapshot.shape[:2]
    x1, y1, x2, y2 = detection.box
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        return None
    features = detection_features(scorer, snapshot, detection)
    if not all(math.isfinite(value) for value in features):
        return None
    return Correction(event_id, person, tuple(float(value) for value in features))


def build_calibration(
    corrected: Iterable[tuple[str, bool, Detection]],
    read_snapshot: Callable[[str], Image | None],
    scorer: CropScorer,
) -> HouseholdCalibration:
    """Build the calibration from corrected events (id, verdict, best detection), skipping those without a snapshot."""
    corrections: list[Correction] = []
    for event_id, person, detection in corrected:
        snapshot = read_snapshot(event_id)
        if snapshot is None:
            continue
        correction = correction_from_snapshot(event_id, person, snapshot, detection, scorer)
        if correction is not None:
            corrections.append(correction)
    return HouseholdCalibration(tuple(sorted(corrections, key=lambda c: c.event_id)))


def with_correction(calibration: HouseholdCalibration, correction: Correction) -> HouseholdCalibration:
    """Return the calibration with one event's correction added or replaced."""
    kept: Sequence[Correction] = [c for c in calibration.corrections if c.event_id != correction.event_id]
    return HouseholdCalibration(tuple(sorted([*kept, correction], key=lambda c: c.event_id)))
