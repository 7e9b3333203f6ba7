// Arming: the current mode with one button per mode, and the weekly schedule (owners edit it).
import { ApiError, MODE_NAMES, api, busy, currentUser, formatDateTime, h, t, toast } from "/static/app.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_NAMES = { mon: t("Mon"), tue: t("Tue"), wed: t("Wed"), thu: t("Thu"), fri: t("Fri"), sat: t("Sat"), sun: t("Sun") };
const MODES = Object.keys(MODE_NAMES);

const modeName = document.getElementById("current-mode");
const manualText = document.getElementById("arming-manual");
const modeButtons = document.querySelectorAll(".mode-btn");
const rows = document.getElementById("schedule-rows");
const emptyText = document.getElementById("schedule-empty");
const form = document.getElementById("schedule-form");
const timezoneNote = document.getElementById("schedule-timezone-note");
const editButton = document.getElementById("schedule-edit");
const canEdit = currentUser.role === "owner" && editButton !== null;

let state = null;
// The schedule's days come back as names ("mon") or numbers (0 = Monday); saving answers in the same form.
let dayStyle = "name";

function dayKey(day) {
  if (typeof day === "number") {
    dayStyle = "number";
    return DAYS[((day % 7) + 7) % 7];
  }
  return String(day).slice(0, 3).toLowerCase();
}

function dayValue(key) {
  return dayStyle === "number" ? DAYS.indexOf(key) : key;
}

function scheduleEntries(schedule) {
  const entries = Array.isArray(schedule) ? schedule : (schedule && schedule.entries) || [];
  return entries.map((entry) => ({
    days: (entry.days || []).map(dayKey),
    at: String(entry.at || "").slice(0, 5),
    mode: entry.mode,
  }));
}

function describeDays(days) {
  const set = new Set(days);
  if (set.size === 7) return t("Every day");
  if (set.size === 5 && DAYS.slice(0, 5).every((day) => set.has(day))) return t("Weekdays");
  if (set.size === 2 && set.has("sat") && set.has("sun")) return t("Weekends");
  return DAYS.filter((day) => set.has(day)).map((day) => DAY_NAMES[day]).join(", ");
}

function describeNextChange(at, mode) {
  if (!at) return "";
  const when = formatDateTime(at);
  return mode ? t("{mode} at {time}", { mode: MODE_NAMES[mode] || mode, time: when }) : when;
}

function renderMode() {
  modeName.textContent = MODE_NAMES[state.mode] || state.mode;
  modeName.dataset.mode = state.mode;
  modeButtons.forEach((button) => {
    const active = button.dataset.mode === state.mode;
    button.setAttribute("aria-pressed", String(active));
    button.classList.toggle("is-active", active);
  });
  const next = describeNextChange(state.next_change, state.next_mode);
  if (state.manual) {
    const by = state.set_by;
    manualText.textContent = next
      ? by
        ? t("Set by hand by {name}, until the schedule's next change: {next}.", { name: by, next })
        : t("Set by hand, until the schedule's next change: {next}.", { next })
      : by
        ? t("Set by hand by {name}; no scheduled change follows.", { name: by })
        : t("Set by hand; no scheduled change follows.");
  } else {
    manualText.textContent = followingText(next);
  }
}

// "Following the schedule" only when there is one: without it, the mode stays until someone changes it.
function followingText(next) {
  if (scheduleEntries(state.schedule).length === 0) return t("No schedule: the mode stays until someone changes it.");
  return next ? t("Following the schedule. Next change: {next}.", { next }) : t("Following the schedule.");
}

function readOnlyRow(entry) {
  return h(
    "tr",
    { "data-testid": "schedule-row" },
    h("td", {}, describeDays(entry.days)),
    h("td", {}, entry.at),
    h("td", {}, h("span", { class: `mode-chip mode-${entry.mode}` }, MODE_NAMES[entry.mode] || entry.mode)),
    h("td", { class: "edit-only" }),
  );
}

let rowCounter = 0;

function editableRow(entry) {
  rowCounter += 1;
  const id = `schedule-${rowCounter}`;
  const days = h(
    "fieldset",
    { class: "day-picks" },
    h("legend", { class: "visually-hidden" }, t("Days")),
    DAYS.map((day) =>
      h(
        "label",
        { class: "day-pick" },
        h("input", { type: "checkbox", value: day, checked: entry.days.includes(day), "data-testid": `schedule-day-${day}` }),
        h("span", {}, DAY_NAMES[day]),
      ),
    ),
  );
  const time = h("input", { type: "time", id: `${id}-at`, value: entry.at || "07:00", required: true, "data-testid": "schedule-time" });
  const mode = h(
    "select",
    { id: `${id}-mode`, "data-testid": "schedule-mode" },
    MODES.map((name) => h("option", { value: name, selected: name === entry.mode }, MODE_NAMES[name])),
  );
  const remove = h("button", { type: "button", class: "btn btn-ghost btn-small", "data-testid": "schedule-remove-row", "aria-label": t("Remove this change") }, t("Remove"));
  const row = h(
    "tr",
    { "data-testid": "schedule-row", class: "is-editing" },
    h("td", {}, days),
    h("td", {}, h("label", { class: "visually-hidden", for: `${id}-at` }, t("At")), time),
    h("td", {}, h("label", { class: "visually-hidden", for: `${id}-mode` }, t("Mode")), mode),
    h("td", { class: "edit-only" }, remove),
  );
  remove.addEventListener("click", () => {
    row.remove();
    emptyText.hidden = rows.children.length > 0;
  });
  return row;
}

function renderSchedule(editing) {
  const entries = scheduleEntries(state.schedule);
  form.classList.toggle("is-editing", editing);
  rows.replaceChildren(...entries.map(editing ? editableRow : readOnlyRow));
  emptyText.hidden = entries.length > 0 || editing;
  form.querySelector("table").classList.toggle("is-empty", entries.length === 0 && !editing);
  timezoneNote.textContent = state.timezone ? t("Times are in the home's time zone, {zone}.", { zone: state.timezone }) : "";
  if (editButton) editButton.hidden = editing;
  if (editing) {
    document.getElementById("schedule-timezone").value = state.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone;
  }
}

async function load() {
  state = await api("GET", "/api/arming");
  renderMode();
  renderSchedule(false);
}

modeButtons.forEach((button) => {
  button.addEventListener("click", async () => {
    const mode = button.dataset.mode;
    modeButtons.forEach((other) => {
      other.disabled = true;
    });
    try {
      const answer = await api("PUT", "/api/arming", { mode });
      state = answer && answer.mode ? { ...state, ...answer } : { ...state, mode, manual: true };
      renderMode();
      toast(t("Mode set to {mode}", { mode: MODE_NAMES[mode] }), "success");
    } finally {
      modeButtons.forEach((other) => {
        other.disabled = false;
      });
    }
  });
});

if (canEdit) {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  document.getElementById("timezones").replaceChildren(...zones.map((zone) => h("option", { value: zone })));
  editButton.addEventListener("click", () => renderSchedule(true));
  document.getElementById("schedule-cancel").addEventListener("click", () => renderSchedule(false));
  document.getElementById("schedule-add-row").addEventListener("click", () => {
    rows.append(editableRow({ days: DAYS.slice(0, 5), at: "08:00", mode: "away" }));
    emptyText.hidden = true;
    form.querySelector("table").classList.remove("is-empty");
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const entries = [...rows.querySelectorAll("tr")].map((row) => ({
      days: [...row.querySelectorAll(".day-picks input:checked")].map((input) => dayValue(input.value)),
      at: row.querySelector('input[type="time"]').value,
      mode: row.querySelector("select").value,
    }));
    const incomplete = entries.findIndex((entry) => entry.days.length === 0 || !entry.at);
    if (incomplete >= 0) {
      toast(t("Change {number} needs at least one day and a time.", { number: incomplete + 1 }), "error");
      return;
    }
    const timezone = document.getElementById("schedule-timezone").value.trim() || state.timezone;
    try {
      const answer = await busy(form, () => api("PUT", "/api/arming/schedule", { entries, timezone }));
      if (answer && answer.mode) state = { ...state, ...answer };
      else state = { ...state, schedule: entries, timezone };
      toast(t("Schedule saved"), "success");
      await load();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
    }
  });
}

load();
