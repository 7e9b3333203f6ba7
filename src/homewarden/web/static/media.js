// Media that may be locked: snapshots and clips answer 423 while the home key is locked. An <img> or <video>
// cannot see a status code, so when one fails to load its URL is asked once more to tell "locked" from "missing".
import { ApiError, api, currentUser, loginUrl, t } from "/static/app.js";

/** Ask for the first byte of `url`: its status tells "locked" (423) and "gone" (404) from "there" (206). */
export async function mediaStatus(url) {
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Range: "bytes=0-0" } });
    if (response.body) response.body.cancel().catch(() => {});
    return response.status;
  } catch {
    return 0;
  }
}

/** The words a placeholder shows (app.css puts them in its ::after): in the player a sentence, on a card a word. */
function placeholderText(holder, kind) {
  if (kind !== "locked") return t("No snapshot");
  if (!holder.classList.contains("player")) return t("Locked");
  return currentUser.role === "owner"
    ? t("Recordings are locked: unlock them on your account page")
    : t("Recordings are locked until the owner unlocks them");
}

/** Watch images and videos on a page; show `notice` and lock placeholders when the footage is locked. */
export function watchLockedMedia(notice) {
  let locked = false;
  const failed = new Set();

  function markLocked() {
    if (locked) return;
    locked = true;
    if (notice) notice.hidden = false;
    for (const element of failed) showPlaceholder(element, "locked");
  }

  function showPlaceholder(element, kind) {
    const holder = element.parentElement;
    element.classList.add("is-broken");
    if (holder) {
      holder.classList.remove("media-missing", "media-locked");
      holder.classList.add(kind === "locked" ? "media-locked" : "media-missing");
      holder.dataset.placeholder = placeholderText(holder, kind);
    }
  }

  async function explainFailure(element, url) {
    failed.add(element);
    if (locked) {
      showPlaceholder(element, "locked");
      return "locked";
    }
    const status = await mediaStatus(url);
    if (status === 401) {
      location.assign(loginUrl());
      return "signed-out";
    }
    if (status === 423) {
      markLocked();
      showPlaceholder(element, "locked");
      return "locked";
    }
    showPlaceholder(element, "missing");
    return "missing";
  }

  // Ask up front too, so the notice shows before any image has failed.
  api("GET", "/api/home", undefined, { expect: [403, 404] })
    .then((home) => {
      if (home && home.unlocked === false) markLocked();
    })
    .catch((error) => {
      if (!(error instanceof ApiError)) throw error;
    });

  return {
    get locked() {
      return locked;
    },
    /** Explain an image that fails to load. */
    watchImage(image) {
      image.addEventListener("error", () => explainFailure(image, image.currentSrc || image.src), { once: true });
    },
    /** Explain a video whose source fails; resolves to "locked", "missing" or "signed-out". */
    explain(element, url) {
      return explainFailure(element, url);
    },
  };
}
