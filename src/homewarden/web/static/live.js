// Live view: one tile per camera showing its MJPEG stream, or a snapshot refreshed every second when the stream fails.
import { api, formatRelative, h, locale, t, tn } from "/static/app.js";

// A browser opens at most six connections to one host over HTTP/1.1, and each MJPEG stream holds one for good:
// past this many streams, tiles poll snapshots so the page's own API calls still get through.
const MAX_STREAMS = 4;
const SNAPSHOT_MS = 1000;
const STATUS_MS = 10000;
const BLANK = "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==";

const grid = document.getElementById("live-grid");
const boxesToggle = document.getElementById("live-boxes");
const note = document.getElementById("live-note");
const tiles = new Map(); // camera name -> Tile

const STATE_NAMES = { starting: t("Starting"), online: t("Online"), reconnecting: t("Reconnecting"), failed: t("Failed"), stopped: t("Stopped") };
const decimal = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const STATE_BADGES = { online: "badge-online", failed: "badge-alarm" };

// One line under the picture: why a camera is down, or how fast it is analysed when it is up.
function healthLine(camera) {
  const restarts = camera.restarts ? " · " + tn("{count} restart", "{count} restarts", camera.restarts) : "";
  if (camera.state !== "online" && camera.reason) {
    return `${camera.reason} (${formatRelative(camera.state_since)})${restarts}`;
  }
  if (camera.state !== "online") return "";
  const dropped = camera.frames_dropped ? " · " + tn("{count} frame skipped", "{count} frames skipped", camera.frames_dropped) : "";
  const rates = t("{frames} frames/s analysed · {runs} detector runs/s", { frames: decimal.format(camera.frames_per_second), runs: decimal.format(camera.detections_per_second) });
  return `${rates}${dropped}${restarts}`;
}

function boxesQuery() {
  return boxesToggle.checked ? "?boxes=true" : "";
}

class Tile {
  constructor(camera, streamAllowed) {
    this.name = camera.name;
    this.streamAllowed = streamAllowed;
    this.online = camera.online;
    this.timer = null;
    this.objectUrl = null;
    this.mode = "stopped";
    const encoded = encodeURIComponent(camera.name);
    this.streamUrl = `/api/cameras/${encoded}/stream.mjpg`;
    this.snapshotUrl = `/api/cameras/${encoded}/snapshot.jpg`;

    this.image = h("img", { alt: t("Live view of {camera}", { camera: camera.display_name }), "data-testid": "camera-stream", decoding: "async" });
    this.badge = h("span", { class: "badge", "data-testid": "camera-status" });
    this.seen = h("span", { class: "muted small", "data-testid": "camera-last-frame" });
    this.health = h("p", { class: "muted small camera-health", "data-testid": "camera-health" });
    const fullscreen = h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": t("Show {camera} full screen", { camera: camera.display_name }) }, t("Full screen"));
    fullscreen.addEventListener("click", () => this.element.requestFullscreen && this.element.requestFullscreen());
    this.element = h(
      "figure",
      { class: "camera-tile card", "data-testid": "camera-tile", "data-camera": camera.name },
      h("div", { class: "camera-view" }, this.image, h("span", { class: "camera-offline-text" }, t("Camera offline"))),
      h("figcaption", { class: "camera-caption" }, h("span", { class: "camera-name" }, camera.display_name), this.badge, this.seen, h("span", { class: "spacer" }), fullscreen),
      this.health,
    );
    this.image.addEventListener("error", () => {
      // The stream broke (or never started): fall back to snapshots, which also tell when the camera is back.
      if (this.mode === "stream") this.startSnapshots();
    });
    this.update(camera);
  }

  update(camera) {
    const wasOnline = this.online;
    this.online = camera.online;
    const state = camera.online ? "online" : camera.state === "online" ? "reconnecting" : camera.state;
    this.badge.textContent = STATE_NAMES[state] || t("Offline");
    this.badge.className = `badge ${STATE_BADGES[state] || "badge-offline"}`;
    this.seen.textContent = camera.last_frame_at ? t("last frame {time}", { time: formatRelative(camera.last_frame_at) }) : "";
    this.health.textContent = healthLine(camera);
    this.element.classList.toggle("is-offline", !camera.online);
    if (camera.online && !wasOnline && document.visibilityState === "visible") this.start();
  }

  start() {
    this.stop();
    if (this.streamAllowed) {
      this.mode = "stream";
      this.image.src = this.streamUrl + boxesQuery();
    } else {
      this.startSnapshots();
    }
  }

  startSnapshots() {
    this.stopTimer();
    this.mode = "snapshots";
    const poll = async () => {
      if (this.mode !== "snapshots") return;
      let delay = SNAPSHOT_MS;
      try {
        const response = await fetch(this.snapshotUrl + boxesQuery(), { credentials: "same-origin", cache: "no-store" });
        if (response.status === 401) {
          location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
          return;
        }
        if (response.ok) {
          const blob = await response.blob();
          if (this.mode !== "snapshots") return;
          const previous = this.objectUrl;
          this.objectUrl = URL.createObjectURL(blob);
          this.image.src = this.objectUrl;
          if (previous) URL.revokeObjectURL(previous);
        } else {
          delay = SNAPSHOT_MS * 5;
        }
      } catch {
        delay = SNAPSHOT_MS * 5;
      }
      if (this.mode === "snapshots") this.timer = window.setTimeout(poll, delay);
    };
    poll();
  }

  stopTimer() {
    window.clearTimeout(this.timer);
    this.timer = null;
  }

  stop() {
    this.mode = "stopped";
    this.stopTimer();
    // Replacing the source closes the stream's connection.
    this.image.src = BLANK;
    if (this.objectUrl) {
      URL.revokeObjectURL(this.objectUrl);
      this.objectUrl = null;
    }
  }
}

async function refreshStatus() {
  const cameras = await api("GET", "/api/cameras");
  for (const camera of cameras) {
    const tile = tiles.get(camera.name);
    if (tile) tile.update(camera);
  }
}

function startAll() {
  for (const tile of tiles.values()) tile.start();
}

function stopAll() {
  for (const tile of tiles.values()) tile.stop();
}

async function init() {
  boxesToggle.checked = new URLSearchParams(location.search).get("boxes") === "true";
  const cameras = await api("GET", "/api/cameras");
  grid.removeAttribute("aria-busy");
  if (cameras.length === 0) {
    grid.append(
      h(
        "div",
        { class: "empty-state card", "data-testid": "live-empty" },
        h("h2", {}, t("No cameras")),
        h("p", { class: "muted" }, t("Cameras appear here once they are in the hub's config and you may see them.")),
      ),
    );
    return;
  }
  grid.classList.toggle("single", cameras.length === 1);
  cameras.forEach((camera, position) => {
    const tile = new Tile(camera, position < MAX_STREAMS);
    tiles.set(camera.name, tile);
    grid.append(tile.element);
  });
  if (cameras.length > MAX_STREAMS) {
    note.hidden = false;
    note.textContent = t("The first {count} cameras stream; the others refresh every second.", { count: MAX_STREAMS });
  }
  startAll();
  window.setInterval(() => {
    if (document.visibilityState === "visible") refreshStatus();
  }, STATUS_MS);
}

boxesToggle.addEventListener("change", () => {
  const url = new URL(location.href);
  if (boxesToggle.checked) url.searchParams.set("boxes", "true");
  else url.searchParams.delete("boxes");
  history.replaceState(null, "", url.pathname + url.search);
  startAll();
});

// A hidden tab keeps no camera connections open.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") startAll();
  else stopAll();
});
window.addEventListener("pagehide", stopAll);

init();
