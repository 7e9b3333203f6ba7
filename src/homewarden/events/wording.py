"""Events in plain words: the one place that turns an event into the sentence the household reads.

The API's serialiser, the notifications and the pages all show this sentence ("Unfamiliar person at the front door",
"Anna at the front door", "Cat in the living room"), so it is written once, here, in the language of the moment.

German does not put the camera's name into the sentence: the name is written by the owner ("Haustür", "Garten",
"Kinderzimmer", "CAM 2", "Front door"), and a preposition and article would have to agree with a word whose gender
and case nobody knows ("an der Haustür", "im Garten", "bei CAM 2"). The title names the subject, a dash and the camera
as written: "Unbekannte Person – Haustür", "Anna – Haustür", "Katze – Wohnzimmer". ``place`` is what follows the
subject in both languages ("at the front door", "– Haustür"), so a title is always ``subject + " " + place``.
"""

from __future__ import annotations

from collections.abc import Mapping

from homewarden.config.model import HomewardenConfig
from homewarden.events.alarm import STRANGER
from homewarden.faces.gallery import UNKNOWN
from homewarden.i18n import ENGLISH, N_, _, current_language

# Places one is "in" rather than "at"; the last word of the camera's name decides ("living room" -> "in").
INSIDE_WORDS = frozenset(
    {
        "room",
        "kitchen",
        "hall",
        "hallway",
        "corridor",
        "garden",
        "yard",
        "backyard",
        "garage",
        "basement",
        "cellar",
        "attic",
        "office",
        "bedroom",
        "nursery",
        "bathroom",
        "stairs",
        "stairwell",
        "driveway",
        "shed",
        "workshop",
        "lobby",
        "study",
        "loft",
        "pantry",
        "conservatory",
        "courtyard",
        "street",
    }
)

# How a label reads at the start of a sentence, translated where shown; labels not listed are shown capitalised.
LABEL_WORDS = {
    "person": N_("Person"),
    "bicycle": N_("Bicycle"),
    "car": N_("Car"),
    "motorcycle": N_("Motorbike"),
    "bus": N_("Bus"),
    "truck": N_("Truck"),
    "train": N_("Train"),
    "boat": N_("Boat"),
    "airplane": N_("Airplane"),
    "bird": N_("Bird"),
    "cat": N_("Cat"),
    "dog": N_("Dog"),
    "horse": N_("Horse"),
    "sheep": N_("Sheep"),
    "cow": N_("Cow"),
    "bear": N_("Bear"),
    "backpack": N_("Backpack"),
    "umbrella": N_("Umbrella"),
    "handbag": N_("Handbag"),
    "suitcase": N_("Suitcase"),
}


def camera_display_name(camera_id: str, configured: str | None = None) -> str:
    """Return a camera's display name: the configured one, or its id in words ("front_door" -> "Front door")."""
    if configured:
        return configured
    words = " ".join(camera_id.replace("_", " ").replace("-", " ").split())
    return words[:1].upper() + words[1:] if words else camera_id


def camera_names(config: HomewardenConfig) -> dict[str, str]:
    """Return every configured camera's display name by id."""
    return {camera_id: camera_display_name(camera_id, camera.name) for camera_id, camera in config.cameras.items()}


def place(camera_name: str) -> str:
    """Return where a camera looks, as a title ends: "at the front door", "in the living room", "– Haustür"."""
    words = camera_name.split()
    if not words:
        return ""
    if current_language() != ENGLISH:
        # The camera's name as the owner wrote it, after a dash: no article or case has to agree with it.
        return _("at {camera}").format(camera=camera_name)
    preposition = "in" if words[-1].lower() in INSIDE_WORDS else "at"
    # A name that is not a common noun phrase ("Anna's desk", "CAM 2") keeps its spelling and takes no article.
    if words[0][:1].isupper() and words[0][1:].islower() and "'" not in words[0]:
        return f"{preposition} the {words[0].lower()} {' '.join(words[1:])}".rstrip()
    return f"{preposition} {camera_name}"


def subject(label: str, sub_label: str | None) -> str:
    """Return who or what an event is about: a member's name, "Unfamiliar person", "Person", "Cat"."""
    if label == "person":
        if sub_label is None:
            return _(LABEL_WORDS["person"])
        if sub_label in (UNKNOWN, STRANGER):
            return _("Unfamiliar person")
        return sub_label
    if label in LABEL_WORDS:
        return _(LABEL_WORDS[label])
    words = label.replace("_", " ")
    return words[:1].upper() + words[1:]


def event_sentence(label: str, sub_label: str | None, camera_name: str) -> str:
    """Return the event in plain words: "Unfamiliar person at the front door", "Unbekannte Person – Haustür"."""
    return f"{subject(label, sub_label)} {place(camera_name)}".strip()


def name_of(camera_id: str, names: Mapping[str, str]) -> str:
    """Return the display name of ``camera_id`` from ``names``, or its id in words for a camera no longer there."""
    return names.get(camera_id) or camera_display_name(camera_id)
