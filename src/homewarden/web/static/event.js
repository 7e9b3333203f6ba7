// One event: its clip player (several clips when the event was long), snapshot, details and, for owners, delete.
import { ApiError, api, confirmAction, formatDateTime, formatDuration, h, labelName, t, toast } from "/static/app.js";
import { mediaStatus, watchLockedMedia } from "/static/media.js";
import { drawBox, markScrubBar, showDownload, wireNeighbours, wireReviewed, wireSharing } from "/static/event_review.js";

const main = document.getElementById("main");
const eventId = main.dataset.eventId;
const video = document.getElementById("event-video");
const clipList = document.getElementById("clip-list");
const snapshot = document.getElementById("event-snapshot");
const lockedMedia = watchLockedMedia(document.getElementById("locked-notice"));
const copyOffer = document.getElementById("h264-offer");
const copyOfferText = document.getElementById("h264-offer-text");
const copyButton = document.getElementById("h264-play");
// Clips keep the camera's codec. Browsers without an H.265 decoder (Firefox; Chromium without a hardware decoder)
// fail to load an H.265 clip, or play its sound with no picture: the hub then makes an H.264 copy on demand.
const H265_TYPE = 'video/mp4; codecs="hvc1.1.6.L93.B0"';
const playsH265 = video.canPlayType(H265_TYPE) !== "";
let current = { clip: null, button: null, copy: false };
// Once the owner chose the H.264 copy, the event's other clips (same camera, same codec) play as copies too.
let useCopies = false;
// The event's span on the scrub bar, shown again for each clip played (set once the event is read).
let scrubBar = null;
// The moment of the snapshot and its box on the clips' clock (box_at): its clip starts there, not at pre-roll.
let bestView = null;

/** A clip's place in the event, in seconds from its start: "1:05". */
function formatOffset(seconds) {
  const total = Math.max(0, Math.round(Number(seconds) || 0));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}

function detail(term, value) {
  if (value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) return [];
  return [h("dt", {}, term), h("dd", {}, value)];
}

function playClip(clip, button, copy = false) {
  current = { clip, button, copy };
  copyOffer.hidden = true;
  video.hidden = false;
  video.src = copy ? clip.h264_url : clip.url;
  video.load();
  startAtBestView(clip);
  if (scrubBar) scrubBar.show(clip);
  showDownload(clip);
  clipList.querySelectorAll("button").forEach((other) => other.setAttribute("aria-current", "false"));
  if (button) button.setAttribute("aria-current", "true");
}

/** Seek ``clip`` to the event's best view once it is loaded, when that moment falls inside it. */
function startAtBestView(clip) {
  const offset = bestView === null ? NaN : bestView - clip.start;
  if (!(offset > 0 && offset < clip.end - clip.start)) return;
  const source = video.src;
  // Only this clip: another one picked before this one loaded does not jump.
  video.addEventListener("loadedmetadata", () => video.src === source && (video.currentTime = offset), { once: true });
}

/** Say that this browser cannot show the clip's picture, and offer the H.264 copy. */
function offerCopy() {
  copyOfferText.textContent = playsH265
    ? t("This browser cannot show this clip's picture.")
    : t("This clip is H.265 (HEVC) video, as the camera recorded it, which this browser cannot play.");
  copyButton.disabled = false;
  copyButton.textContent = t("Play an H.264 copy");
  copyOffer.hidden = false;
}

copyButton.addEventListener("click", () => {
  const { clip, button } = current;
  if (!clip) return;
  useCopies = true;
  playClip(clip, button, true);
  // Converting takes a few seconds (longer for long clips): say so until the copy starts to load.
  copyOffer.hidden = false;
  copyOfferText.textContent = t("Making an H.264 copy of this clip…");
  copyButton.disabled = true;
  video.addEventListener("loadeddata", () => (copyOffer.hidden = true), { once: true });
});

async function explainVideoError() {
  const source = video.currentSrc || video.src;
  if (!source) return;
  const unplayable = video.error && [MediaError.MEDIA_ERR_DECODE, MediaError.MEDIA_ERR_SRC_NOT_SUPPORTED];
  if (!current.copy && unplayable && unplayable.includes(video.error.code)) {
    // The clip is there (the hub answers with its bytes) yet the browser refuses it: its codec, not the hub.
    const status = await mediaStatus(source);
    if (status === 200 || status === 206) {
      offerCopy();
      return;
    }
  }
  if (current.copy) copyOffer.hidden = true;
  lockedMedia.explain(video, source);
}

function renderClips(clips) {
  const noClip = document.getElementById("event-no-clip");
  if (!clips || clips.length === 0) {
    video.hidden = true;
    noClip.hidden = false;
    return;
  }
  video.addEventListener("error", () => explainVideoError());
  video.addEventListener("loadedmetadata", () => {
    // Sound without a picture: the browser decoded the AAC track but not the H.265 one.
    if (!current.copy && video.videoWidth === 0) offerCopy();
  });
  if (clips.length > 1) {
    clipList.hidden = false;
    clips.forEach((clip, position) => {
      const span = `${formatOffset(clip.start)} – ${formatOffset(clip.end)}`;
      const button = h(
        "button",
        { type: "button", class: "clip-btn", "data-testid": "clip-item", "aria-current": position === 0 ? "true" : "false" },
        h("span", { class: "clip-index" }, t("Clip {number}", { number: position + 1 })),
        span ? h("span", { class: "muted" }, span) : null,
      );
      button.addEventListener("click", () => playClip(clip, button, useCopies));
      clipList.append(h("li", {}, button));
    });
  }
  const first = Math.max(0, clips.findIndex((clip) => bestView !== null && clip.start <= bestView && bestView < clip.end));
  playClip(clips[first], clipList.querySelectorAll("button")[first] || null);
}

function render(event) {
  document.title = `${event.title} · Homewarden`;
  document.getElementById("event-title").textContent = event.title;
  document.getElementById("event-when").textContent = formatDateTime(event.started_at);
  const alarm = document.getElementById("event-alarm");
  if (event.alarm) {
    // One badge: the sentence above already says who it was.
    alarm.hidden = false;
    alarm.replaceChildren(h("span", { class: "badge badge-alarm", "data-testid": "alarm-badge" }, t("Alarm")));
  }
  const score = typeof event.score === "number" ? `${Math.round(event.score * 100)} %` : event.score;
  document.getElementById("event-details").replaceChildren(
    ...detail(t("Camera"), event.camera_name),
    ...detail(t("What"), labelName(event.label)),
    ...detail(t("Confidence"), score),
    ...detail(t("Zones"), Array.isArray(event.zones) ? event.zones.join(", ") : event.zones),
    ...detail(t("Started"), formatDateTime(event.started_at)),
    ...detail(t("Ended"), event.ended_at ? formatDateTime(event.ended_at) : t("still in progress")),
    ...detail(t("Duration"), event.ended_at ? formatDuration(event.duration) : ""),
  );
  if (event.snapshot_url) {
    lockedMedia.watchImage(snapshot);
    snapshot.src = event.snapshot_url;
    drawBox(snapshot, event.box);
  } else {
    snapshot.closest("figure").hidden = true;
  }
  scrubBar = markScrubBar(video, event);
  bestView = event.box_at; // the clips' clock: a live event's and one from a file alike
  renderClips(event.clips);
  showReviewFlow(event);
  const donate = document.getElementById("donate-open");
  if (donate && (!event.clips || event.clips.length === 0)) donate.hidden = true;
  document.getElementById("event").hidden = false;
}

/** The review flow beside the player: reviewed mark, previous/next and their keys, sharing (event_review.js). */
function showReviewFlow(event) {
  // Only person events teach the verifier's household calibration; "mark as false alarm" is its other half.
  document.getElementById("mark-person").hidden = event.label !== "person";
  const toggleReviewed = wireReviewed(event);
  wireNeighbours(event.id, toggleReviewed);
  wireSharing(event, () => current.clip || event.clips[0]);
}

async function markFalseAlarm(button) {
  button.disabled = true;
  try {
    const answer = await api("POST", `/api/events/${encodeURIComponent(eventId)}/false-alarm`);
    toast(answer && answer.detail ? answer.detail : t("marked as a false alarm"), "success");
    button.textContent = t("Marked as a false alarm");
  } catch (error) {
    button.disabled = false;
    throw error;
  }
}

async function markPerson(button) {
  button.disabled = true;
  try {
    const answer = await api("POST", `/api/events/${encodeURIComponent(eventId)}/person`, {});
    toast(answer && answer.detail ? answer.detail : "marked as a person", "success");
    button.textContent = t("Marked as a person");
  } catch (error) {
    button.disabled = false;
    throw error;
  }
}

async function deleteEvent() {
  const confirmed = await confirmAction(
    t("Delete this event?"),
    t("Its clips and snapshot are destroyed for good: the key that opens them is erased, so no backup can bring them back."),
    "Delete",
  );
  if (!confirmed) return;
  await api("DELETE", `/api/events/${encodeURIComponent(eventId)}`);
  toast(t("Event deleted"), "success");
  location.assign("/");
}

const falseAlarmButton = document.getElementById("mark-false-alarm");
falseAlarmButton.addEventListener("click", () => markFalseAlarm(falseAlarmButton));
const personButton = document.getElementById("mark-person");
personButton.addEventListener("click", () => markPerson(personButton));

const deleteButton = document.getElementById("event-delete");
if (deleteButton) deleteButton.addEventListener("click", () => deleteEvent());

try {
  render(await api("GET", `/api/events/${encodeURIComponent(eventId)}`, undefined, { expect: [404] }));
} catch (error) {
  if (!(error instanceof ApiError) || error.status !== 404) throw error;
  document.getElementById("event-missing").hidden = false;
}
