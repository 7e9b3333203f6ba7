// The timeline's review flow (issue 17): reviewed cards, preview scrubbing on a card, picking several cards to mark
// reviewed or (owners) delete. timeline.js calls decorateCard for each card and wireBulkActions once.
import { api, confirmAction, currentUser, h, showStatus, t, tn } from "/static/app.js";

const picked = new Set(); // event ids
const pickBoxes = new Set(); // { box, ids }: every box on screen, so an intrusion's box and its people's agree
let afterChange = () => {};

/**
 * Mark a reviewed card, let a pointer scrub through its clip, and add a box for picking it; returns what to put in
 * the grid (the card with its box beside it: a checkbox may not sit inside a link). ``events`` are the card's: one
 * for an event's card, its people's for an intrusion's, which is reviewed when all of them are and picks them all.
 */
export function decorateCard(card, events, title) {
  const ids = events.map((event) => event.id);
  if (events.every((event) => event.reviewed)) {
    card.classList.add("is-reviewed");
    card.dataset.reviewed = "true";
    card.querySelector(".event-card-meta").append(h("span", { class: "reviewed-mark", "data-testid": "reviewed-mark" }, "Reviewed"));
  }
  const withClip = events.find((event) => event.clips && event.clips.length > 0);
  if (withClip) previewOnHover(card.querySelector(".thumb"), withClip.clips[0].url);
  const pick = h("input", { type: "checkbox", class: "card-pick", "aria-label": t("Pick: {title}", { title }), "data-testid": "card-pick" });
  const entry = { box: pick, ids };
  pickBoxes.add(entry);
  showPick(entry);
  pick.addEventListener("change", () => {
    for (const id of ids) {
      if (pick.checked) picked.add(id);
      else picked.delete(id);
    }
    showBulkBar();
  });
  return h("div", { class: "event-card-wrap" }, card, pick);
}

/** Tick a box when all its events are picked, half-tick it when some are. */
function showPick({ box, ids }) {
  const count = ids.filter((id) => picked.has(id)).length;
  box.checked = count > 0 && count === ids.length;
  box.indeterminate = count > 0 && count < ids.length;
}

/**
 * Scrub through the clip as the pointer moves over the card's picture (a mouse, not a finger: on a phone a touch
 * opens the event). The clip is loaded only when the pointer first comes over the card.
 */
function previewOnHover(thumb, url) {
  let video = null;
  let head = null;
  thumb.addEventListener("pointermove", (move) => {
    if (move.pointerType !== "mouse") return;
    if (!video) {
      video = h("video", { class: "preview", muted: true, playsinline: true, preload: "auto", "data-testid": "card-preview", src: url });
      video.muted = true;
      head = h("div", { class: "preview-head" });
      thumb.append(video, head);
    }
    const box = thumb.getBoundingClientRect();
    const fraction = Math.min(1, Math.max(0, (move.clientX - box.left) / box.width));
    head.style.width = `${100 * fraction}%`;
    if (video.duration > 0) video.currentTime = fraction * video.duration;
  });
  thumb.addEventListener("pointerleave", () => {
    if (!video) return;
    video.removeAttribute("src");
    video.load();
    video.remove();
    head.remove();
    video = null;
  });
}

function showBulkBar() {
  for (const entry of pickBoxes) {
    if (entry.box.isConnected) showPick(entry);
    else pickBoxes.delete(entry); // its card was rendered away
  }
  const bar = document.getElementById("bulk-bar");
  document.getElementById("bulk-count").textContent = t("{count} picked", { count: picked.size }); // events: an intrusion picks its people
  bar.hidden = picked.size === 0;
}

/** Wire the bar that acts on picked cards; ``reload`` shows the timeline again afterwards. */
export function wireBulkActions(reload) {
  afterChange = reload;
  const remove = document.getElementById("bulk-delete");
  if (currentUser.role !== "owner") remove.remove();
  document.getElementById("bulk-reviewed").addEventListener("click", async () => {
    const ids = [...picked];
    await api("PUT", "/api/events/reviewed", { event_ids: ids, reviewed: true });
    showStatus(tn("{count} event marked reviewed.", "{count} events marked reviewed.", ids.length), "success");
    clearPicks();
  });
  if (currentUser.role === "owner") {
    remove.addEventListener("click", async () => {
      const ids = [...picked];
      const confirmed = await confirmAction(
        tn("Delete {count} event?", "Delete {count} events?", ids.length),
        t("Their clips and snapshots are destroyed for good: the keys that open them are erased, so no backup can bring them back."),
        "Delete",
      );
      if (!confirmed) return;
      await api("POST", "/api/events/delete", { event_ids: ids });
      showStatus(tn("{count} event deleted.", "{count} events deleted.", ids.length), "success");
      clearPicks();
    });
  }
  document.getElementById("bulk-clear").addEventListener("click", () => clearPicks());
}

function clearPicks() {
  picked.clear();
  showBulkBar();
  afterChange();
}
