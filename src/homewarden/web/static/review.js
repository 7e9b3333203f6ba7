// The reviewer's workbench: one clip at a time from the queue, played from memory (each media link works once),
// a verdict, boxes drawn on paused frames, and the "inappropriate content" flag. No list, no search, no download.
import { ApiError, api, busy, capitalize, confirmAction, formatDuration, h, loginUrl, showFormError, toast } from "/static/app.js";

const BOX_CLASSES = ["person", "cat", "dog", "car", "bird", "bicycle", "truck", "other"];
const STEP_SECONDS = 0.2;
// A box is shown on the frames within this many seconds of the moment it was drawn at.
const BOX_SHOWN_FOR = 0.25;
// Smaller than this fraction of the frame on either side: a stray click, not a box.
const MIN_BOX = 0.01;

const nextButton = document.getElementById("review-next");
const quotaLine = document.getElementById("review-quota");
const section = document.getElementById("review-assignment");
const stage = document.getElementById("review-stage");
const video = document.getElementById("review-video");
const canvas = document.getElementById("review-canvas");
const videoMessage = document.getElementById("review-video-message");
const playButton = document.getElementById("review-play");
const timeLine = document.getElementById("review-time");
const seekBar = document.getElementById("review-seek");
const form = document.getElementById("review-labels");
const errorBox = document.getElementById("review-error");
const classSelect = document.getElementById("review-class");
const causeField = document.getElementById("review-cause-field");
const boxList = document.getElementById("review-boxes");
const NOTICES = ["review-quota-reached", "review-empty", "review-flagged", "review-saved"];

let assignment = null;
let objectUrl = null;
let boxes = [];
let drawing = null;
let seeking = false;

// Quota and notices --------------------------------------------------------------------------------------------

function showNotice(id) {
  for (const notice of NOTICES) document.getElementById(notice).hidden = notice !== id;
}

function showQuota(status) {
  quotaLine.textContent = `${status.used_today} of ${status.quota} clips today · ${status.remaining} left`;
  quotaLine.dataset.remaining = String(status.remaining);
}

async function refreshStatus() {
  const status = await api("GET", "/api/review/status");
  showQuota(status);
  return status;
}

// The clip -----------------------------------------------------------------------------------------------------

function setVideoMessage(text) {
  videoMessage.textContent = text || "";
  videoMessage.hidden = !text;
}

function releaseClip() {
  video.pause();
  video.removeAttribute("src");
  video.load();
  if (objectUrl) URL.revokeObjectURL(objectUrl);
  objectUrl = null;
}

/** Fetch a fresh single-use link and play the clip from memory. */
async function loadClip() {
  if (!assignment) return;
  const current = assignment;
  releaseClip();
  setVideoMessage("Loading the clip…");
  let link;
  try {
    link = await api("POST", `/api/review/assignments/${current.id}/media`, undefined, { expect: [404, 410] });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status === 0) throw error;
    clipGone(error.detail);
    return;
  }
  let response;
  try {
    response = await fetch(link.url, { credentials: "same-origin", cache: "no-store" });
  } catch {
    setVideoMessage("The hub cannot be reached. Check your connection, then press Replay.");
    return;
  }
  if (response.status === 401) {
    location.assign(loginUrl());
    return;
  }
  if (!response.ok) {
    const payload = await response.json().catch(() => null);
    setVideoMessage(`${capitalize((payload && payload.detail) || response.statusText)}. Press Replay for a new link.`);
    return;
  }
  const blob = await response.blob();
  if (assignment !== current) return;
  objectUrl = URL.createObjectURL(blob);
  video.src = objectUrl;
  setVideoMessage("");
}

/** The clip was withdrawn, flagged or expired while it was assigned: nothing more to do with it. */
function clipGone(detail) {
  endAssignment();
  toast(`This clip is no longer available (${detail}).`, "info");
}

// Drawing boxes ------------------------------------------------------------------------------------------------

/** Where the picture sits inside the video element (it is letterboxed to keep its shape). */
function pictureRect() {
  const width = stage.clientWidth;
  const height = stage.clientHeight;
  const sourceWidth = video.videoWidth || (assignment && assignment.width) || 16;
  const sourceHeight = video.videoHeight || (assignment && assignment.height) || 9;
  const scale = Math.min(width / sourceWidth, height / sourceHeight);
  const w = sourceWidth * scale;
  const h2 = sourceHeight * scale;
  return { x: (width - w) / 2, y: (height - h2) / 2, w, h: h2 };
}

function toFraction(event) {
  const bounds = stage.getBoundingClientRect();
  const picture = pictureRect();
  const clamp = (value) => Math.min(1, Math.max(0, value));
  return {
    x: clamp((event.clientX - bounds.left - picture.x) / picture.w),
    y: clamp((event.clientY - bounds.top - picture.y) / picture.h),
  };
}

function sizeCanvas() {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(stage.clientWidth * ratio);
  canvas.height = Math.round(stage.clientHeight * ratio);
  redraw();
}

function strokeBox(context, picture, box, style) {
  const x = picture.x + Math.min(box.x1, box.x2) * picture.w;
  const y = picture.y + Math.min(box.y1, box.y2) * picture.h;
  const w = Math.abs(box.x2 - box.x1) * picture.w;
  const hgt = Math.abs(box.y2 - box.y1) * picture.h;
  context.setLineDash(style.dash || []);
  context.lineWidth = 2;
  context.strokeStyle = style.color;
  context.strokeRect(x, y, w, hgt);
  if (style.text) {
    context.font = "600 12px system-ui, sans-serif";
    const textWidth = context.measureText(style.text).width;
    context.fillStyle = style.color;
    context.fillRect(x, Math.max(0, y - 18), textWidth + 8, 18);
    context.fillStyle = "#0b1020";
    context.fillText(style.text, x + 4, Math.max(13, y - 5));
  }
}

function redraw() {
  const context = canvas.getContext("2d");
  const ratio = window.devicePixelRatio || 1;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, canvas.width, canvas.height);
  const picture = pictureRect();
  const now = video.currentTime || 0;
  boxes.forEach((box, index) => {
    if (Math.abs(box.t - now) <= BOX_SHOWN_FOR) strokeBox(context, picture, box, { color: "#ffd23f", text: `${index + 1} ${box.label}` });
  });
  if (drawing) strokeBox(context, picture, drawing, { color: "#ffffff", dash: [6, 4] });
}

function canDraw() {
  return Boolean(assignment) && video.paused && video.readyState >= 2;
}

canvas.addEventListener("pointerdown", (event) => {
  if (!canDraw() || event.button !== 0) return;
  event.preventDefault();
  try {
    // Keep receiving the drag when it leaves the picture, so a box can reach the frame's edge.
    canvas.setPointerCapture(event.pointerId);
  } catch {
    // A pointer the browser no longer tracks: the box ends where the pointer leaves.
  }
  const start = toFraction(event);
  drawing = { x1: start.x, y1: start.y, x2: start.x, y2: start.y };
  redraw();
});

canvas.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  const point = toFraction(event);
  drawing.x2 = point.x;
  drawing.y2 = point.y;
  redraw();
});

function finishDrawing(event) {
  if (!drawing) return;
  if (event.type === "pointerup") {
    const point = toFraction(event);
    drawing.x2 = point.x;
    drawing.y2 = point.y;
  }
  const box = {
    t: Math.round((video.currentTime || 0) * 1000) / 1000,
    x1: Math.min(drawing.x1, drawing.x2),
    y1: Math.min(drawing.y1, drawing.y2),
    x2: Math.max(drawing.x1, drawing.x2),
    y2: Math.max(drawing.y1, drawing.y2),
    label: classSelect.value,
  };
  drawing = null;
  if (event.type === "pointerup" && box.x2 - box.x1 >= MIN_BOX && box.y2 - box.y1 >= MIN_BOX) {
    boxes.push(box);
    renderBoxes();
  }
  redraw();
}

canvas.addEventListener("pointerup", finishDrawing);
canvas.addEventListener("pointercancel", finishDrawing);

function boxRow(box, index) {
  const label = h(
    "select",
    { class: "review-box-label", "data-testid": "review-box-label", "aria-label": `What box ${index + 1} holds` },
    BOX_CLASSES.map((name) => h("option", { value: name, selected: name === box.label }, name)),
  );
  label.addEventListener("change", () => {
    box.label = label.value;
    redraw();
  });
  const seek = h("button", { type: "button", class: "btn btn-ghost btn-small", "data-testid": "review-box-seek", title: "Show this moment" }, `#${index + 1} at ${box.t.toFixed(1)} s`);
  seek.addEventListener("click", () => {
    video.pause();
    video.currentTime = box.t;
  });
  const remove = h("button", { type: "button", class: "btn btn-ghost btn-small btn-danger-text", "data-testid": "review-box-remove", "aria-label": `Remove box ${index + 1}` }, "Remove");
  remove.addEventListener("click", () => {
    boxes.splice(index, 1);
    renderBoxes();
    redraw();
  });
  return h("li", { class: "row review-box", "data-testid": "review-box" }, seek, label, h("span", { class: "spacer" }), remove);
}

function renderBoxes() {
  boxList.replaceChildren(...boxes.map(boxRow));
  document.getElementById("review-box-count").textContent = boxes.length ? `(${boxes.length})` : "(none: pause and drag on the picture)";
}

// Playback controls --------------------------------------------------------------------------------------------

function syncPlayback() {
  stage.classList.toggle("is-paused", video.paused);
  playButton.textContent = video.paused ? "Play" : "Pause";
  const known = Number.isFinite(video.duration);
  const duration = known ? ` / ${video.duration.toFixed(1)} s` : "";
  timeLine.textContent = `${(video.currentTime || 0).toFixed(1)} s${duration}`;
  seekBar.max = known ? String(video.duration) : "0";
  if (!seeking) seekBar.value = String(video.currentTime || 0);
  redraw();
}

for (const name of ["play", "pause", "timeupdate", "seeked", "loadeddata", "loadedmetadata", "emptied"]) {
  video.addEventListener(name, syncPlayback);
}
// No "save video as", no picture-in-picture: the clip stays in this page.
for (const element of [video, canvas, stage]) element.addEventListener("contextmenu", (event) => event.preventDefault());
video.addEventListener("loadedmetadata", sizeCanvas);

playButton.addEventListener("click", () => {
  if (video.paused) video.play().catch(() => {});
  else video.pause();
});

function step(seconds) {
  video.pause();
  const end = Number.isFinite(video.duration) ? video.duration : Infinity;
  video.currentTime = Math.min(end, Math.max(0, video.currentTime + seconds));
}

seekBar.addEventListener("input", () => {
  seeking = true;
  video.pause();
  video.currentTime = Number(seekBar.value);
});
seekBar.addEventListener("change", () => {
  seeking = false;
});

document.getElementById("review-back").addEventListener("click", () => step(-STEP_SECONDS));
document.getElementById("review-forward").addEventListener("click", () => step(STEP_SECONDS));
document.getElementById("review-replay").addEventListener("click", () => loadClip());

new ResizeObserver(sizeCanvas).observe(stage);

// The assignment -----------------------------------------------------------------------------------------------

function startAssignment(next) {
  assignment = next;
  boxes = [];
  drawing = null;
  renderBoxes();
  form.reset();
  showFormError(errorBox, "");
  causeField.hidden = true;
  if (BOX_CLASSES.includes(next.label)) classSelect.value = next.label;
  else classSelect.value = "other";
  document.getElementById("review-clip").textContent = next.clip;
  const facts = [
    `detected as ${next.label}`,
    next.duration ? formatDuration(next.duration) : "",
    next.width && next.height ? `${next.width}×${next.height}` : "",
  ].filter(Boolean);
  document.getElementById("review-clip-facts").textContent = facts.join(" · ");
  if (next.width && next.height) stage.style.aspectRatio = `${next.width} / ${next.height}`;
  section.hidden = false;
  nextButton.disabled = true;
  nextButton.title = "Label or flag this clip first";
  loadClip();
}

function endAssignment() {
  assignment = null;
  boxes = [];
  releaseClip();
  renderBoxes();
  section.hidden = true;
  nextButton.disabled = false;
  nextButton.removeAttribute("title");
  refreshStatus();
}

nextButton.addEventListener("click", async () => {
  showNotice(null);
  nextButton.disabled = true;
  let next;
  try {
    next = await api("POST", "/api/review/next", undefined, { expect: [404, 429] });
  } catch (error) {
    nextButton.disabled = false;
    if (!(error instanceof ApiError) || error.status === 0) throw error;
    if (error.status === 429) {
      document.getElementById("review-quota-reached-text").textContent = `${capitalize(error.detail)}.`;
      showNotice("review-quota-reached");
    } else {
      showNotice("review-empty");
    }
    refreshStatus();
    return;
  }
  startAssignment(next);
  refreshStatus();
});

form.addEventListener("change", (event) => {
  if (event.target.name === "verdict") causeField.hidden = form.verdict.value !== "false_alarm";
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showFormError(errorBox, "");
  if (!assignment) return;
  const verdict = form.verdict.value;
  if (!verdict) return showFormError(errorBox, "Say whether this was a real event or a false alarm.");
  const body = {
    verdict,
    cause: verdict === "false_alarm" ? form.cause.value : null,
    label: classSelect.value,
    boxes: boxes.map((box) => ({ ...box })),
  };
  try {
    await busy(form, () => api("POST", `/api/review/assignments/${assignment.id}/labels`, body, { expect: [404, 409, 422] }));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status === 0) throw error;
    if (error.status === 404) {
      clipGone(error.detail);
      return;
    }
    showFormError(errorBox, capitalize(error.detail));
    return;
  }
  endAssignment();
  showNotice("review-saved");
});

document.getElementById("review-flag").addEventListener("click", async () => {
  if (!assignment) return;
  const confirmed = await confirmAction(
    "Report inappropriate content?",
    "The copy is destroyed at once, its owner is told why, and it leaves every queue. This cannot be undone.",
    "Destroy the copy",
  );
  if (!confirmed || !assignment) return;
  video.pause();
  const reasonInput = document.getElementById("review-flag-reason");
  const reason = reasonInput.value.trim() || "inappropriate content";
  try {
    await api("POST", `/api/review/assignments/${assignment.id}/flag`, { reason }, { expect: [404] });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    clipGone(error.detail);
    return;
  }
  reasonInput.value = "";
  endAssignment();
  showNotice("review-flagged");
});

window.addEventListener("pagehide", releaseClip);

async function init() {
  renderBoxes();
  const status = await refreshStatus();
  if (status.assignment) startAssignment(status.assignment);
  else if (status.remaining === 0) showNotice("review-quota-reached");
}

init();
