// Settings (owner): cameras, what they look for and how long recordings are kept, saved to the hub's config file.
// Field names are the config file's keys, so the hub's answer puts each problem at its field.
import {
  ApiError,
  api,
  busy,
  clearFieldErrors,
  confirmAction,
  h,
  labelName,
  showAtField,
  showFieldErrors,
  showFormError,
  t,
} from "/static/app.js";

const form = document.getElementById("settings-form");
const addForm = document.getElementById("camera-add");
const saved = document.getElementById("settings-saved");
const CAMERA_ID = /^[a-z0-9][a-z0-9_]{0,39}$/;
let loaded = null;

function cameraFields(camera) {
  const key = (name) => `cameras.${camera.id}.${name}`;
  const field = (name, label, input) =>
    h("div", { class: "field" }, h("label", { for: input.id }, label), input);
  return h(
    "fieldset",
    { class: "settings-camera", "data-testid": `settings-camera-${camera.id}` },
    h("legend", {}, `${camera.display_name} `, h("span", { class: "muted small" }, camera.source)),
    field("name", t("Name shown in the app"), h("input", { id: `cam-${camera.id}-name`, name: key("name"), type: "text", value: camera.name || "", placeholder: camera.display_name, "data-testid": `settings-name-${camera.id}` })),
    h(
      "div",
      { class: "field-check" },
      h("input", { id: `cam-${camera.id}-enabled`, name: key("enabled"), type: "checkbox", checked: camera.enabled, "data-testid": `settings-enabled-${camera.id}` }),
      h("label", { for: `cam-${camera.id}-enabled` }, t("Camera on")),
    ),
    field("threshold", t("Motion sensitivity: how different a pixel must be to count as moving (1 very sensitive, 255 hardly)"), h("input", { id: `cam-${camera.id}-threshold`, name: key("motion.threshold"), type: "number", min: 1, max: 255, step: 1, value: camera.motion_threshold, "data-testid": `settings-threshold-${camera.id}` })),
    field("contour", t("Smallest moving area that counts (pixels of the motion picture)"), h("input", { id: `cam-${camera.id}-contour`, name: key("motion.contour_area"), type: "number", min: 1, step: 1, value: camera.motion_contour_area, "data-testid": `settings-contour-${camera.id}` })),
    drawing(camera),
    h("div", { class: "button-row" }, removeButton(camera)),
  );
}

function removeButton(camera) {
  const button = h("button", { type: "button", class: "btn btn-small btn-danger", "data-testid": `settings-remove-${camera.id}` }, t("Remove this camera"));
  button.addEventListener("click", () => removeCamera(camera));
  return button;
}

async function removeCamera(camera) {
  const confirmed = await confirmAction(
    t("Remove {name}?", { name: camera.display_name }),
    t("The camera stops now and leaves the config file. Its recorded events stay until their retention ends."),
    t("Remove"),
  );
  if (!confirmed) return;
  saved.hidden = true;
  await busy(form, async () => {
    try {
      const answer = await api("DELETE", `/api/settings/cameras/${encodeURIComponent(camera.id)}`, undefined, { form, expect: [422, 404] });
      fill(answer.settings);
      say(answer.message);
    } catch (error) {
      if (error instanceof ApiError) showRefusal(form, error);
      else throw error;
    }
  });
}

// Zones and motion masks drawn on the live picture --------------------------------------------------------
// The live picture is at the detect size, so its own pixels are the config's coordinates.

const MASK_COLOUR = "rgba(220, 38, 38, 0.35)";
const ZONE_COLOUR = "rgba(37, 99, 235, 0.3)";
const POINT_COLOUR = "#facc15";

function drawPolygon(context, points, fill) {
  if (!points.length) return;
  context.beginPath();
  points.forEach(([x, y], index) => (index ? context.lineTo(x, y) : context.moveTo(x, y)));
  context.closePath();
  context.fillStyle = fill;
  context.fill();
  context.strokeStyle = fill.replace(/[\d.]+\)$/, "0.9)");
  context.lineWidth = 2;
  context.stroke();
}

function drawing(camera) {
  const points = [];
  const picture = h("img", { class: "settings-snapshot", alt: t("{camera} now", { camera: camera.display_name }), "data-testid": `draw-picture-${camera.id}` });
  const canvas = h("canvas", { class: "draw-canvas", "data-testid": `draw-canvas-${camera.id}` });
  const note = h("p", { class: "muted small", "data-testid": `draw-note-${camera.id}` }, t("Loading the live picture…"));
  const zoneName = h("input", { type: "text", name: `draw-zone-${camera.id}`, placeholder: t("driveway"), "aria-label": t("Zone name"), "data-testid": `draw-zone-name-${camera.id}` });
  const button = (label, testid, action) => {
    const element = h("button", { type: "button", class: "btn", "data-testid": `${testid}-${camera.id}` }, label);
    element.addEventListener("click", action);
    return element;
  };
  const redraw = () => {
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, canvas.width, canvas.height);
    camera.motion_mask.forEach((polygon) => drawPolygon(context, polygon, MASK_COLOUR));
    Object.values(camera.zones).forEach((polygon) => drawPolygon(context, polygon, ZONE_COLOUR));
    context.fillStyle = POINT_COLOUR;
    points.forEach(([x, y]) => context.fillRect(x - 4, y - 4, 8, 8));
    if (points.length > 1) {
      context.beginPath();
      points.forEach(([x, y], index) => (index ? context.lineTo(x, y) : context.moveTo(x, y)));
      context.strokeStyle = POINT_COLOUR;
      context.stroke();
    }
  };
  picture.addEventListener("load", () => {
    canvas.width = picture.naturalWidth;
    canvas.height = picture.naturalHeight;
    note.textContent = t("Click the corners of an area, then save it as a motion mask or a zone.");
    redraw();
  });
  const snapshotUrl = `/api/cameras/${encodeURIComponent(camera.id)}/snapshot.jpg`;
  picture.addEventListener("error", () => {
    note.textContent = t("There is no live picture yet: the camera is not sending, or it starts after a restart.");
    // A camera that is still starting sends its first picture within seconds: ask again while the page is open.
    setTimeout(() => {
      if (picture.isConnected) picture.src = `${snapshotUrl}?retry=${Date.now()}`;
    }, 3000);
  });
  canvas.addEventListener("click", (event) => {
    const box = canvas.getBoundingClientRect();
    const x = Math.round(((event.clientX - box.left) / box.width) * canvas.width);
    const y = Math.round(((event.clientY - box.top) / box.height) * canvas.height);
    points.push([x, y]);
    redraw();
  });
  const save = async (change) => {
    if (points.length < 3 && !change.clear) {
      showFormError(form.querySelector(".form-error"), t("Click at least three corners first."));
      return;
    }
    const body = { cameras: { [camera.id]: change.body } };
    try {
      const answer = await api("PATCH", "/api/settings", body, { form, expect: [422, 404] });
      points.length = 0;
      fill(answer.settings);
      say(answer.message);
    } catch (error) {
      if (error instanceof ApiError) showRefusal(form, error);
      else throw error;
    }
  };
  picture.src = snapshotUrl;
  return h(
    "div",
    { class: "draw" },
    h("div", { class: "draw-stage" }, picture, canvas),
    note,
    h(
      "div",
      { class: "button-row" },
      button(t("Save as motion mask"), "draw-mask", () => save({ body: { motion_mask: [...camera.motion_mask, points.slice()] } })),
      zoneName,
      button(t("Save as zone"), "draw-zone", () => {
        const name = zoneName.value.trim();
        if (!/^[a-z0-9][a-z0-9_]{0,39}$/.test(name)) {
          showFormError(form.querySelector(".form-error"), t("Give the zone a short name: lower-case letters, digits and _, such as driveway."));
          return;
        }
        return save({ body: { zones: { [name]: points.slice() } } });
      }),
      button(t("Start again"), "draw-reset", () => {
        points.length = 0;
        redraw();
      }),
      button(t("Remove every mask"), "draw-clear-masks", () => save({ clear: true, body: { motion_mask: [] } })),
    ),
  );
}

function fill(settings) {
  loaded = settings;
  document.getElementById("settings-path").textContent = settings.config_path;
  document.getElementById("settings-cameras").replaceChildren(...settings.cameras.map(cameraFields));
  form.elements.namedItem("objects.track").value = settings.track.join(", ");
  document.getElementById("settings-min-scores").replaceChildren(...scoreLabels(settings).map((label) => scoreField(label, settings)));
  form.elements.namedItem("storage.retention.alarm_days").value = settings.retention.alarm_days;
  form.elements.namedItem("storage.retention.other_days").value = settings.retention.other_days;
  const cap = settings.retention.max_gb;
  form.elements.namedItem("storage.retention.max_gb").value = cap === null ? "" : cap;
  document.getElementById("settings-household-calibration").textContent = settings.household_calibration || "";
  form.hidden = false;
}

// Object filters: one minimum score per tracked label (and per label the config already filters).
function scoreLabels(settings) {
  return [...new Set([...settings.track, ...Object.keys(settings.min_scores)])];
}

function scoreField(label, settings) {
  const id = `settings-min-score-${label}`;
  const value = settings.min_scores[label];
  return h(
    "div",
    { class: "field score-field" },
    h("label", { for: id }, labelName(label)),
    h("input", {
      id,
      name: `objects.filters.${label}.min_score`,
      type: "number",
      min: 0,
      max: 1,
      step: 0.05,
      value: value === undefined ? "" : value,
      placeholder: String(settings.default_min_score),
      "aria-describedby": "settings-min-scores-help",
      "data-testid": id,
    }),
  );
}

function number(name) {
  const text = form.elements.namedItem(name).value.trim();
  return text === "" ? null : Number(text);
}

/** The changes the form holds against what was loaded: only those are sent, so the answer names only them. */
function changes() {
  const body = {};
  for (const camera of loaded.cameras) {
    const key = (name) => `cameras.${camera.id}.${name}`;
    const change = {};
    const name = form.elements.namedItem(key("name")).value.trim();
    if (name !== (camera.name || "")) change.name = name || null;
    const enabled = form.elements.namedItem(key("enabled")).checked;
    if (enabled !== camera.enabled) change.enabled = enabled;
    const threshold = number(key("motion.threshold"));
    if (threshold !== null && threshold !== camera.motion_threshold) change.motion_threshold = threshold;
    const contour = number(key("motion.contour_area"));
    if (contour !== null && contour !== camera.motion_contour_area) change.motion_contour_area = contour;
    if (Object.keys(change).length) (body.cameras ||= {})[camera.id] = change;
  }
  const track = form.elements.namedItem("objects.track").value.split(",").map((label) => label.trim()).filter(Boolean);
  if (track.join(",") !== loaded.track.join(",")) (body.objects ||= {}).track = track;
  const scores = {};
  for (const label of scoreLabels(loaded)) {
    const score = number(`objects.filters.${label}.min_score`);
    if (score !== null && score !== loaded.min_scores[label]) scores[label] = score;
  }
  if (Object.keys(scores).length) (body.objects ||= {}).min_scores = scores;
  const retention = {};
  for (const key of ["alarm_days", "other_days"]) {
    const value = number(`storage.retention.${key}`);
    if (value !== null && value !== loaded.retention[key]) retention[key] = value;
  }
  const cap = number("storage.retention.max_gb");
  if (cap !== loaded.retention.max_gb) retention.max_gb = cap;
  if (Object.keys(retention).length) body.retention = retention;
  return body;
}

/** Put the hub's refusal at its fields ({"fields": {key: sentence}}), or where showFieldErrors finds a place. */
function showRefusal(target, error) {
  const fields = error.payload && error.payload.fields;
  if (!fields) {
    showFieldErrors(target, error);
    return;
  }
  clearFieldErrors(target);
  const unplaced = Object.entries(fields).filter(([key, message]) => !showAtField(target, key, message));
  if (unplaced.length) showFormError(target.querySelector(".form-error"), unplaced.map(([key, message]) => `${key}: ${message}`).join(" "));
  const first = target.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
}

function say(message) {
  saved.textContent = message;
  saved.hidden = false;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  saved.hidden = true;
  const body = changes();
  if (!Object.keys(body).length) {
    say(t("Nothing has changed."));
    return;
  }
  await busy(form, async () => {
    try {
      const answer = await api("PATCH", "/api/settings", body, { form, expect: [422, 404] });
      fill(answer.settings);
      say(answer.message);
    } catch (error) {
      if (error instanceof ApiError) showRefusal(form, error);
      else throw error;
    }
  });
});

document.getElementById("settings-reload").addEventListener("click", async (event) => {
  saved.hidden = true;
  await busy(event.currentTarget.parentElement, async () => {
    const answer = await api("POST", "/api/settings/reload", undefined, { expect: [409] });
    fill(answer.settings);
    say(answer.message);
  });
});

function addBody() {
  const source = addForm.elements.namedItem("source").value.trim();
  const id = addForm.elements.namedItem("id").value.trim();
  const name = addForm.elements.namedItem("name").value.trim();
  return { source, id, name: name || null };
}

function progress(message) {
  const line = document.getElementById("camera-add-progress");
  line.textContent = message;
  line.hidden = !message;
}

async function tryCamera(work) {
  clearFieldErrors(addForm);
  const body = addBody();
  if (!body.source) {
    showAtField(addForm, "source", t("Enter the camera's stream address, such as rtsp://192.168.1.20:554/stream."));
    return;
  }
  progress(t("Connecting to the camera (this can take up to ten seconds)…"));
  await busy(addForm, async () => {
    try {
      await work(body);
    } catch (error) {
      if (error instanceof ApiError) showRefusal(addForm, error);
      else throw error;
    } finally {
      progress("");
    }
  });
}

function showSnapshot(url) {
  const picture = document.getElementById("camera-add-snapshot");
  picture.src = url;
  picture.hidden = false;
}

document.getElementById("camera-add-test").addEventListener("click", () =>
  tryCamera(async ({ source }) => {
    const answer = await api("POST", "/api/settings/camera-test", { source }, { form: addForm, expect: [422] });
    showSnapshot(URL.createObjectURL(await answer.blob()));
  }),
);

addForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const { id } = addBody();
  if (!CAMERA_ID.test(id)) {
    clearFieldErrors(addForm);
    showAtField(addForm, "id", t("Use lower-case letters, digits and _ only, starting with a letter or digit, such as back_yard."));
    return;
  }
  return tryCamera(async (body) => {
    const answer = await api("POST", "/api/settings/cameras", body, { form: addForm, expect: [422] });
    showSnapshot(answer.snapshot);
    fill(answer.settings);
    say(answer.message);
    addForm.reset();
  });
});

async function load() {
  try {
    fill(await api("GET", "/api/settings", undefined, { expect: [503] }));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const problem = document.getElementById("settings-problem");
    problem.textContent = error.detail;
    problem.hidden = false;
  }
}

load();
