// The event page's review flow (issue 17): previous/next with keys, the event on the scrub bar, the box on the
// snapshot, the reviewed mark, the clip's download and, for owners, share links. event.js calls these.
import { ApiError, api, copyText, formatDateTime, h, showStatus, t } from "/static/app.js";

/** Link "Newer" and "Older" to the events beside this one, and let j/k and the arrow keys follow them. */
export async function wireNeighbours(eventId, onReviewKey) {
  const newer = document.getElementById("event-newer");
  const older = document.getElementById("event-older");
  const around = await api("GET", `/api/events/${encodeURIComponent(eventId)}/neighbours`);
  for (const [link, id] of [[newer, around.newer], [older, around.older]]) {
    if (id) {
      link.href = `/events/${encodeURIComponent(id)}`;
      link.removeAttribute("aria-disabled");
    }
  }
  document.addEventListener("keydown", (key) => {
    if (key.altKey || key.ctrlKey || key.metaKey || key.shiftKey) return;
    const target = key.target;
    // Typing in a field, or the arrow keys on the player (they seek), are not for us.
    if (target.closest && target.closest("input, select, textarea, [contenteditable], video, dialog")) return;
    const go = { j: older, ArrowRight: older, k: newer, ArrowLeft: newer }[key.key];
    if (go && go.href) {
      key.preventDefault();
      location.assign(go.href);
    } else if (key.key === "r" && onReviewKey) {
      key.preventDefault();
      onReviewKey();
    }
  });
}

/** Return an ISO time from the API as Unix seconds, or null. */
function seconds(value) {
  const date = value ? new Date(value) : null;
  return date && !Number.isNaN(date.getTime()) ? date.getTime() / 1000 : null;
}

/** Mark on the scrub bar under the player the span of the clip in which the object was seen; click to seek. */
export function markScrubBar(video, event) {
  const bar = document.getElementById("event-scrub");
  const mark = document.getElementById("event-scrub-mark");
  const head = document.getElementById("event-scrub-head");
  let span = null;
  const follow = () => {
    if (video.duration > 0) head.style.left = `${(100 * video.currentTime) / video.duration}%`;
  };
  video.addEventListener("timeupdate", follow);
  video.addEventListener("seeked", follow);
  bar.addEventListener("click", (click) => {
    const box = bar.getBoundingClientRect();
    if (video.duration > 0) video.currentTime = ((click.clientX - box.left) / box.width) * video.duration;
  });
  return {
    /** Show the event's span within ``clip`` (clip times are Unix seconds for a live camera). */
    show(clip) {
      const start = seconds(event.started_at);
      const end = seconds(event.ended_at);
      const length = clip.end - clip.start;
      if (start === null || end === null || !(length > 0)) {
        bar.hidden = true;
        return;
      }
      const from = Math.min(1, Math.max(0, (start - clip.start) / length));
      const to = Math.min(1, Math.max(from, (end - clip.start) / length));
      span = { from, to };
      mark.style.left = `${100 * from}%`;
      mark.style.width = `${Math.max(0.5, 100 * (to - from))}%`;
      mark.dataset.from = from.toFixed(3);
      mark.dataset.to = to.toFixed(3);
      head.style.left = "0%";
      bar.hidden = false;
    },
    get span() {
      return span;
    },
  };
}

/** Draw the object's box (snapshot pixels) over the snapshot, whatever size the picture is shown at. */
export function drawBox(image, box) {
  const outline = document.getElementById("event-box");
  if (!Array.isArray(box) || box.length !== 4) return;
  const place = () => {
    const width = image.naturalWidth;
    const height = image.naturalHeight;
    const [x1, y1, x2, y2] = box;
    if (!width || !height || x2 <= x1 || y2 <= y1) return;
    // The frame takes the picture's own shape, so percentages of it are percentages of the picture.
    image.parentElement.style.aspectRatio = `${width} / ${height}`;
    outline.style.left = `${(100 * x1) / width}%`;
    outline.style.top = `${(100 * y1) / height}%`;
    outline.style.width = `${(100 * (x2 - x1)) / width}%`;
    outline.style.height = `${(100 * (y2 - y1)) / height}%`;
    outline.hidden = false;
  };
  if (image.complete && image.naturalWidth) place();
  else image.addEventListener("load", place, { once: true });
}

/** The reviewed mark (the caller's own): the button shows it and toggles it; returns the toggle for the "r" key. */
export function wireReviewed(event) {
  const button = document.getElementById("event-reviewed");
  let reviewed = Boolean(event.reviewed);
  const show = () => {
    button.setAttribute("aria-pressed", String(reviewed));
    button.textContent = reviewed ? t("Reviewed ✓") : t("Mark reviewed");
  };
  const toggle = async () => {
    button.disabled = true;
    try {
      await api("PUT", "/api/events/reviewed", { event_ids: [event.id], reviewed: !reviewed });
      reviewed = !reviewed;
      show();
      showStatus(reviewed ? t("Marked reviewed.") : t("Marked not reviewed."), "success");
    } finally {
      button.disabled = false;
    }
  };
  button.addEventListener("click", () => toggle());
  show();
  return toggle;
}

/** Point the download button at the clip on screen (the hub writes each download into the audit log). */
export function showDownload(clip) {
  const link = document.getElementById("event-download");
  if (!clip) {
    link.hidden = true;
    return;
  }
  link.href = clip.url.replace(/\.mp4$/, "/download");
  link.hidden = false;
}

function shareRow(share, eventId, refresh) {
  const state = share.revoked_at
    ? t("revoked")
    : share.active
      ? t("works until {time}", { time: formatDateTime(share.expires_at) })
      : t("expired");
  const row = h(
    "li",
    { class: "share-row", "data-testid": "share-row", "data-share-id": share.id },
    h("span", {}, t("Clip {number}: link made {time}, {state}", { number: share.clip + 1, time: formatDateTime(share.created_at), state })),
  );
  if (share.active) {
    const revoke = h("button", { type: "button", class: "btn btn-small btn-danger", "data-testid": "share-revoke" }, t("Revoke"));
    revoke.addEventListener("click", async () => {
      revoke.disabled = true;
      await api("DELETE", `/api/events/${encodeURIComponent(eventId)}/shares/${share.id}`);
      showStatus(t("The link no longer works."), "success");
      await refresh();
    });
    row.append(" ", revoke);
  }
  return row;
}

/** The owner's share links for the clip on screen: make one, copy it, see and revoke the event's links. */
export function wireSharing(event, currentClip) {
  const open = document.getElementById("share-open");
  const panel = document.getElementById("share-panel");
  if (!open || !panel || !event.clips || event.clips.length === 0) return;
  const form = document.getElementById("share-form");
  const list = document.getElementById("share-list");
  const fresh = document.getElementById("share-new");
  const url = document.getElementById("share-url");
  const refresh = async () => {
    const shares = await api("GET", `/api/events/${encodeURIComponent(event.id)}/shares`);
    list.replaceChildren(...shares.map((share) => shareRow(share, event.id, refresh)));
  };
  open.hidden = false;
  open.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    if (!panel.hidden) refresh();
  });
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const body = { clip: currentClip().index, hours: Number(form.hours.value) };
    try {
      const made = await api("POST", `/api/events/${encodeURIComponent(event.id)}/shares`, body, { form });
      url.value = new URL(made.url, location.origin).href;
      fresh.hidden = false;
      showStatus(t("Link made. Anyone with it can watch this clip until it expires."), "success");
      await refresh();
    } catch (error) {
      // api() has put the error at its field (or in the status region); nothing more to say here.
      if (!(error instanceof ApiError)) throw error;
    }
  });
  document.getElementById("share-copy").addEventListener("click", () => copyText(url.value, url));
}
