// Faces (owner): the enrolled household members, enrolment from photos, removal.
import {
  ApiError,
  api,
  apiUpload,
  busy,
  clearFieldErrors,
  confirmAction,
  formatDateTime,
  h,
  showAtField,
  showFieldErrors,
  showStatus,
  t,
  tn,
  toast,
} from "/static/app.js";

const list = document.getElementById("faces-list");
const form = document.getElementById("faces-enroll");
const photos = document.getElementById("faces-enroll-photos");
const previews = document.getElementById("faces-previews");
const progress = document.getElementById("faces-progress");
const progressBar = document.getElementById("faces-progress-bar");
const progressText = document.getElementById("faces-progress-text");
let previewUrls = [];

function faceRow(face) {
  const remove = h("button", { type: "button", class: "btn btn-ghost btn-small btn-danger-text", "data-testid": "face-remove", "aria-label": t("Remove {name}", { name: face.name }) }, t("Remove"));
  remove.addEventListener("click", async () => {
    const confirmed = await confirmAction(
      t("Remove {name}?", { name: face.name }),
      t("Their photos and face data are deleted. Past events keep the name they were given."),
      "Remove",
    );
    if (!confirmed) return;
    await api("DELETE", `/api/faces/${encodeURIComponent(face.name)}`);
    toast(t("{name} removed", { name: face.name }), "success");
    load();
  });
  const count = Array.isArray(face.photos) ? face.photos.length : Number(face.photos) || 0;
  const photosText = tn("{count} photo", "{count} photos", count);
  const since = face.enrolled_at ? " · " + t("enrolled {time}", { time: formatDateTime(face.enrolled_at) }) : "";
  return h(
    "li",
    { class: "row", "data-testid": "face-row", "data-name": face.name },
    h("span", { class: "avatar", "aria-hidden": "true" }, face.name.slice(0, 1).toUpperCase()),
    h("div", { class: "row-main" }, h("strong", { "data-testid": "face-name" }, face.name), h("span", { class: "muted small", "data-testid": "face-photos" }, photosText + since)),
    remove,
  );
}

async function load() {
  const faces = await api("GET", "/api/faces");
  list.removeAttribute("aria-busy");
  if (faces.length === 0) {
    list.replaceChildren(h("li", { class: "row muted", "data-testid": "faces-empty" }, t("Nobody is enrolled yet. Everyone the cameras see is a stranger.")));
    return;
  }
  list.replaceChildren(...faces.map(faceRow));
}

function showPreviews() {
  previewUrls.forEach((url) => URL.revokeObjectURL(url));
  previewUrls = [...photos.files].slice(0, 12).map((file) => URL.createObjectURL(file));
  previews.replaceChildren(...previewUrls.map((url) => h("img", { src: url, alt: "" })));
}

photos.addEventListener("change", showPreviews);

/** Say how far enrolling has come: the upload's share, then the hub finding the faces (no known end). */
function showProgress(fraction, count) {
  progress.hidden = false;
  if (fraction === null) {
    progressBar.removeAttribute("value");
    progressText.textContent = tn("Finding the face in {count} photo…", "Finding the face in {count} photos…", count);
  } else {
    progressBar.value = fraction;
    progressText.textContent = tn("Uploading {count} photo: {percent} %", "Uploading {count} photos: {percent} %", count, { percent: Math.round(fraction * 100) });
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFieldErrors(form);
  const name = form.name.value.trim();
  if (!name) return showAtField(form, "name", t("Enter the person's name."));
  if (photos.files.length === 0) return showAtField(form, "photos", t("Choose at least one photo."));
  const body = new FormData();
  body.append("name", name);
  for (const file of photos.files) body.append("photos", file, file.name);
  const count = photos.files.length;
  try {
    const answer = await busy(form, () => apiUpload("POST", "/api/faces", body, (fraction) => showProgress(fraction, count)));
    showStatus(answer && answer.detail ? answer.detail : t("{name} enrolled", { name }), "success");
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 413) error.detail = t("The photos are too large together. Send fewer or smaller ones.");
    // A refusal that names one of the photos ("grey.jpg: no face found") belongs to the photos field.
    if (error.status === 413 || /^\S+\.(jpe?g|png|webp|bmp)\b/i.test(error.detail)) {
      clearFieldErrors(form);
      showAtField(form, "photos", error.detail);
    } else {
      showFieldErrors(form, error);
    }
    return;
  } finally {
    progress.hidden = true;
  }
  form.reset();
  showPreviews();
  load();
});

load();
