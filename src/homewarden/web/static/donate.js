// Donating an event's clip (owner): consent, the redacted copy made and screened in the background, the owner
// watching it, then donating it or not. Nothing is shared before "Donate this copy".
import { ApiError, api, busy, capitalize, formatDateTime, showFormError, t, toast } from "/static/app.js";

const main = document.getElementById("main");
const eventId = main.dataset.eventId;
const form = document.getElementById("donate-form");
const errorBox = document.getElementById("donate-error");
const flow = document.getElementById("donate-flow");
const statusLine = document.getElementById("donate-status");
const previewBlock = document.getElementById("donate-preview-block");
const preview = document.getElementById("donate-preview");
const confirmButton = document.getElementById("donate-confirm");
const cancelButton = document.getElementById("donate-cancel");
const POLL_MS = 1000;
const ACTIVE = ["preparing", "ready", "donated"];

let donation = null;
let pollTimer = 0;
let preparingSince = 0;

function donationPath(id, rest = "") {
  return `/api/donations/${encodeURIComponent(id)}${rest}`;
}

function show(section) {
  for (const id of ["donate-flow", "donate-refused", "donate-cancelled", "donate-done"]) {
    document.getElementById(id).hidden = id !== section;
  }
}

function lockForm(locked) {
  form.querySelectorAll("input, button").forEach((element) => {
    element.disabled = locked;
  });
}

function stopPreview() {
  preview.pause();
  preview.removeAttribute("src");
  preview.load();
}

function setRetention(days) {
  if (Number.isFinite(Number(days))) document.getElementById("donate-retention").textContent = String(days);
}

function whatIsHidden(record) {
  return record.mask_people ? t("faces blurred, whole people masked") : t("faces blurred");
}

function render(record) {
  donation = record;
  setRetention(record.retention_days);
  window.clearTimeout(pollTimer);
  if (record.status === "preparing") {
    lockForm(true);
    show("donate-flow");
    previewBlock.hidden = true;
    confirmButton.hidden = true;
    cancelButton.hidden = false;
    const seconds = preparingSince ? Math.round((Date.now() - preparingSince) / 1000) : 0;
    statusLine.textContent = t("Making the redacted copy ({hidden}, sound and metadata removed) and screening it… {seconds} s", { hidden: whatIsHidden(record), seconds });
    pollTimer = window.setTimeout(poll, POLL_MS);
    return;
  }
  preparingSince = 0;
  if (record.status === "ready") {
    lockForm(true);
    show("donate-flow");
    statusLine.textContent = t("Ready: {hidden}, sound and metadata removed, screened. Watch it, then decide.", { hidden: whatIsHidden(record) });
    const source = donationPath(record.id, "/preview.mp4");
    if (!preview.getAttribute("src")) {
      preview.src = source;
      preview.load();
    }
    previewBlock.hidden = false;
    confirmButton.hidden = false;
    cancelButton.hidden = false;
    return;
  }
  stopPreview();
  if (record.status === "donated") {
    lockForm(true);
    const expires = record.expires_at
      ? " " + t("It is kept until {time} ({days} days), then deleted.", { time: formatDateTime(record.expires_at), days: record.retention_days })
      : "";
    const leaves = record.donated_at
      ? t("It leaves for the review program in Homewarden Cloud, sealed to the program's key (donated {time}).", { time: formatDateTime(record.donated_at) })
      : t("It leaves for the review program in Homewarden Cloud, sealed to the program's key.");
    document.getElementById("donate-done-text").textContent = `${leaves}${expires}`;
    show("donate-done");
    return;
  }
  if (record.status === "refused" || record.status === "failed") {
    lockForm(false);
    document.getElementById("donate-refused-title").textContent =
      record.status === "refused" ? t("This clip was not donated") : t("The redacted copy could not be made");
    document.getElementById("donate-refused-reason").textContent = capitalize(record.reason || t("No reason was given."));
    show("donate-refused");
    return;
  }
  // Withdrawn, flagged or expired: the copy is gone and a new donation may start.
  lockForm(false);
  show("donate-cancelled");
}

async function poll() {
  if (!donation) return;
  try {
    render(await api("GET", donationPath(donation.id), undefined, { expect: [404] }));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 404) {
      donation = null;
      lockForm(false);
      show(null);
      return;
    }
    // A passing network failure: keep asking.
    pollTimer = window.setTimeout(poll, POLL_MS * 3);
  }
}

async function resumeExisting() {
  const donations = await api("GET", "/api/donations");
  if (donations.length) setRetention(donations[0].retention_days);
  const existing = donations.find((record) => record.event_id === eventId && ACTIVE.includes(record.status));
  if (existing) {
    preparingSince = Date.now();
    render(existing);
  }
  return existing;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showFormError(errorBox, "");
  let record;
  try {
    record = await busy(form, () =>
      api(
        "POST",
        `/api/events/${encodeURIComponent(eventId)}/donation`,
        { mask_people: form.mask_people.checked },
        { expect: [404, 409, 423, 503] },
      ),
    );
  } catch (error) {
    if (!(error instanceof ApiError) || error.status === 0) throw error;
    if (error.status === 409 && (await resumeExisting())) return;
    showFormError(errorBox, capitalize(error.detail));
    return;
  }
  preparingSince = Date.now();
  stopPreview();
  render(record);
  flow.scrollIntoView({ behavior: "smooth", block: "nearest" });
});

confirmButton.addEventListener("click", async () => {
  if (!donation) return;
  confirmButton.disabled = true;
  cancelButton.disabled = true;
  try {
    render(await api("POST", donationPath(donation.id, "/confirm")));
    toast(t("Donated. Thank you."), "success");
  } finally {
    confirmButton.disabled = false;
    cancelButton.disabled = false;
  }
});

cancelButton.addEventListener("click", async () => {
  if (!donation) return;
  window.clearTimeout(pollTimer);
  confirmButton.disabled = true;
  cancelButton.disabled = true;
  stopPreview();
  try {
    await api("DELETE", donationPath(donation.id));
  } finally {
    confirmButton.disabled = false;
    cancelButton.disabled = false;
  }
  donation = null;
  preparingSince = 0;
  lockForm(false);
  show("donate-cancelled");
});

async function init() {
  try {
    const record = await api("GET", `/api/events/${encodeURIComponent(eventId)}`, undefined, { expect: [404] });
    document.getElementById("donate-event").textContent = [record.title, formatDateTime(record.started_at)]
      .filter(Boolean)
      .join(" · ");
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    document.getElementById("donate").hidden = true;
    document.getElementById("event-missing").hidden = false;
    return;
  }
  await resumeExisting();
}

window.addEventListener("pagehide", () => window.clearTimeout(pollTimer));

init();
