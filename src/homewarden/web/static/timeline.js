// The timeline: newest first, one card per event or per intrusion (people seen together: one alarm), which opens to
// its people's events and clips; filtered by camera, label, person, alarm and date; filters live in the URL.
import {
  api,
  capitalize,
  currentUser,
  dayKey,
  formatDay,
  formatDuration,
  formatTime,
  h,
  labelName,
  parseTime,
  t,
  tn,
} from "/static/app.js";
import { watchLockedMedia } from "/static/media.js";
import { decorateCard, wireBulkActions } from "/static/timeline_review.js";

const PAGE_SIZE = 60;
const REFRESH_MS = 30000;
const FILTERS = ["camera", "label", "person", "since", "until", "alarm"];

const form = document.getElementById("filters");
const timeline = document.getElementById("timeline");
const loadMore = document.getElementById("load-more");
const toggle = document.getElementById("filters-toggle");
const filterCount = document.getElementById("filters-count");
const lockedMedia = watchLockedMedia(document.getElementById("locked-notice"));

let shown = []; // events on screen, newest first
let paged = false; // older pages loaded: the periodic refresh would drop them, so it pauses
let loading = 0; // generation counter: an answer to an outdated query is dropped

function filtersFromUrl() {
  const params = new URLSearchParams(location.search);
  const values = {};
  for (const name of FILTERS) values[name] = params.get(name) || "";
  return values;
}

function filtersFromForm() {
  return {
    camera: form.camera.value,
    label: form.label.value,
    person: form.person.value,
    since: form.since.value,
    until: form.until.value,
    alarm: form.alarm.checked ? "true" : "",
  };
}

function ensureOption(select, value, text) {
  if (!value || [...select.options].some((option) => option.value === value)) return;
  select.append(h("option", { value }, text || value));
}

function fillForm(values) {
  ensureOption(form.camera, values.camera);
  ensureOption(form.label, values.label, labelName(values.label));
  ensureOption(form.person, values.person);
  form.camera.value = values.camera;
  form.label.value = values.label;
  form.person.value = values.person;
  form.since.value = values.since;
  form.until.value = values.until;
  form.alarm.checked = values.alarm === "true";
  showFilterCount(values);
}

function showFilterCount(values) {
  const active = FILTERS.filter((name) => values[name]).length;
  filterCount.textContent = String(active);
  filterCount.hidden = active === 0;
}

function writeUrl(values) {
  const params = new URLSearchParams();
  for (const name of FILTERS) if (values[name]) params.set(name, values[name]);
  const query = params.toString();
  history.replaceState(null, "", query ? `/?${query}` : "/");
}

function eventsQuery(values, until) {
  const params = new URLSearchParams();
  if (values.camera) params.set("camera", values.camera);
  if (values.label) params.set("label", values.label);
  if (values.person) params.set("person", values.person);
  if (values.alarm) params.set("alarm", "true");
  // Dates as picked: the hub reads a date as a day of the home's calendar (until: to that day's end).
  if (values.since) params.set("since", values.since);
  if (until) params.set("until", until);
  else if (values.until) params.set("until", values.until);
  params.set("limit", String(PAGE_SIZE));
  return `/api/events?${params}`;
}

function eventCard(event) {
  const started = parseTime(event.started_at);
  const thumb = h("img", {
    src: event.snapshot_url,
    alt: event.title,
    loading: "lazy",
    decoding: "async",
    width: 320,
    height: 180,
  });
  lockedMedia.watchImage(thumb);
  const inProgress = !event.ended_at;
  const meta = [
    h("time", { datetime: event.started_at }, started ? formatTime(event.started_at) : ""),
    h("span", {}, inProgress ? t("in progress") : formatDuration(event.duration)),
  ];
  // The sentence says who and where; the one badge says what the sentence cannot: an alarm, or still running.
  const badge = event.alarm
    ? h("span", { class: "badge badge-alarm", "data-testid": "alarm-badge" }, t("Alarm"))
    : inProgress
      ? h("span", { class: "badge badge-live" }, t("Live"))
      : null;
  return h(
    "a",
    {
      class: `event-card${event.alarm ? " is-alarm" : ""}`,
      href: `/events/${encodeURIComponent(event.id)}`,
      "data-testid": "event-card",
      "data-event-id": event.id,
    },
    h("div", { class: "thumb" }, thumb, badge),
    h(
      "div",
      { class: "event-card-body" },
      h("div", { class: "event-card-title" }, h("span", { class: "event-label", "data-testid": "event-label" }, event.title)),
      h("div", { class: "event-card-meta muted" }, meta),
    ),
  );
}

// A member given no camera is told why nothing shows, and whom to ask (set once /api/home has answered).
let noCameras = null;
const homeLoaded = api("GET", "/api/home").then((home) => {
  if (home.cameras.length === 0) {
    const owners = home.owners.join(t(" or "));
    noCameras = home.owners.length
      ? t("You have no cameras yet: ask {owner} to give you access.", { owner: owners })
      : t("You have no cameras yet: ask the owner to give you access.");
  }
}).catch(() => {});

function emptyState(filtered) {
  if (noCameras && !filtered) return h("div", { class: "empty-state card", "data-testid": "timeline-empty" }, h("h2", { "data-testid": "timeline-no-cameras" }, noCameras));
  return h(
    "div",
    { class: "empty-state card", "data-testid": "timeline-empty" },
    h("h2", {}, filtered ? t("No events match these filters") : t("Nothing has happened yet")),
    h("p", { class: "muted" }, filtered ? t("Try a wider date range or clear the filters.") : t("Events appear here as soon as a camera sees something.")),
  );
}

/** Gather the events of one intrusion into one item, in the place of its newest event on this page. */
function timelineItems(events) {
  const items = [];
  const byIntrusion = new Map();
  for (const event of events) {
    if (!event.intrusion_id) {
      items.push({ event });
      continue;
    }
    let item = byIntrusion.get(event.intrusion_id);
    if (!item) {
      item = { intrusion: event.intrusion_id, events: [] };
      byIntrusion.set(event.intrusion_id, item);
      items.push(item);
    }
    item.events.push(event);
  }
  return items;
}

const STRANGERS = new Set(["unknown", "stranger"]);

function listed(parts) {
  return parts.length > 1 ? t("{list} and {last}", { list: parts.slice(0, -1).join(", "), last: parts[parts.length - 1] }) : parts[0] || "";
}

/** Say who and where, as an event's title does: "2 people in the living room", "Anna and an unfamiliar person at the front door". */
function intrusionSentence(events) {
  const names = [...new Set(events.map((event) => event.sub_label).filter((name) => name && !STRANGERS.has(name)))].sort();
  const strangers = events.filter((event) => STRANGERS.has(event.sub_label)).length;
  const unnamed = events.filter((event) => !event.sub_label).length;
  const parts = [...names];
  if (strangers) parts.push(tn("an unfamiliar person", "{count} unfamiliar people", strangers));
  if (unnamed) {
    const another = parts.length > 0;
    parts.push(another ? tn("another person", "{count} other people", unnamed) : tn("a person", "{count} people", unnamed));
  }
  const places = [...new Set(events.map((event) => event.place))];
  return capitalize(`${listed(parts)} ${listed(places)}`.trim());
}

/** Decorate an event's card for the review flow (reviewed mark, preview, picking). */
function reviewedEventCard(event) {
  return decorateCard(eventCard(event), [event], event.title);
}

function intrusionCard(item) {
  const events = item.events;
  const alarmed = events.filter((event) => event.alarm);
  const cover = alarmed[0] || events[0];
  // The events on this page, newest first: the intrusion began at the oldest one's start.
  const first = events[events.length - 1];
  const title = intrusionSentence(events);
  const thumb = h("img", {
    src: cover.snapshot_url,
    alt: title,
    loading: "lazy",
    decoding: "async",
    width: 320,
    height: 180,
  });
  lockedMedia.watchImage(thumb);
  const people = h("span", { class: "event-label", "data-testid": "intrusion-people" }, title);
  const inside = h("div", { class: "intrusion-events", "data-testid": "intrusion-events", hidden: true });
  const open = h(
    "button",
    { type: "button", class: "btn btn-ghost intrusion-open", "aria-expanded": "false", "data-testid": "intrusion-open" },
    t("Show people and clips"),
  );
  const card = h(
    "article",
    {
      class: `event-card intrusion-card${alarmed.length ? " is-alarm" : ""}`,
      "data-testid": "intrusion-card",
      "data-intrusion-id": item.intrusion,
    },
    h(
      "div",
      { class: "thumb" },
      thumb,
      // One badge, as on an event card: the words say who and where.
      alarmed.length
        ? h("span", { class: "badge badge-alarm", "data-testid": "alarm-badge" }, t("Alarm"))
        : events.some((event) => !event.ended_at)
          ? h("span", { class: "badge badge-live" }, t("Live"))
          : null,
    ),
    h(
      "div",
      { class: "event-card-body" },
      h("div", { class: "event-card-title" }, people),
      h(
        "div",
        { class: "event-card-meta muted" },
        h("time", { datetime: first.started_at }, parseTime(first.started_at) ? formatTime(first.started_at) : ""),
      ),
      open,
      inside,
    ),
  );
  open.addEventListener("click", async () => {
    const opening = inside.hidden;
    inside.hidden = !opening;
    card.classList.toggle("is-open", opening);
    // The card sits in its wrap (with its pick box): the wrap is the grid's item that spans the row.
    card.parentElement.classList.toggle("is-open", opening);
    open.setAttribute("aria-expanded", String(opening));
    open.textContent = opening ? t("Hide people") : t("Show people and clips");
    if (!opening || inside.childElementCount) return;
    // The whole intrusion, not only its events on this page: it may reach past the page or the filters.
    const intrusion = await api("GET", `/api/intrusions/${encodeURIComponent(item.intrusion)}`);
    people.textContent = intrusionSentence(intrusion.events);
    inside.replaceChildren(...intrusion.events.map(reviewedEventCard));
  });
  return decorateCard(card, events, title);
}

function render(events, values) {
  timeline.replaceChildren();
  timeline.removeAttribute("aria-busy");
  if (events.length === 0) {
    timeline.append(emptyState(FILTERS.some((name) => values[name])));
    return;
  }
  let currentDay = "";
  let grid = null;
  for (const item of timelineItems(events)) {
    const event = item.event || item.events[0];
    const started = parseTime(event.started_at);
    const day = started ? dayKey(started) : "";
    if (day !== currentDay || !grid) {
      currentDay = day;
      const section = h("section", { class: "day", "aria-label": started ? formatDay(started) : t("Unknown day") });
      section.append(h("h2", { class: "day-title" }, started ? formatDay(started) : t("Unknown day")));
      grid = h("div", { class: "event-grid" });
      section.append(grid);
      timeline.append(section);
    }
    // An intrusion of one person on this page is that person's event (as Frigate shows a lone detection).
    const lone = item.event || (item.events.length === 1 ? item.events[0] : null);
    grid.append(lone ? reviewedEventCard(lone) : intrusionCard(item));
  }
}

async function loadFirstPage({ quiet = false } = {}) {
  const generation = ++loading;
  const values = filtersFromForm();
  if (!quiet) timeline.setAttribute("aria-busy", "true");
  const [answer] = await Promise.all([api("GET", eventsQuery(values)), homeLoaded]);
  if (generation !== loading) return;
  const events = answer.events || [];
  // A quiet refresh re-renders only when something changed, so scrolling and images stay put.
  if (quiet && events.length === shown.length && events.every((event, i) => sameEvent(event, shown[i]))) return;
  shown = events;
  paged = false;
  render(shown, values);
  loadMore.hidden = events.length < PAGE_SIZE;
}

function sameEvent(a, b) {
  return (
    a.id === b.id && a.ended_at === b.ended_at && a.sub_label === b.sub_label && a.alarm === b.alarm && a.reviewed === b.reviewed
  );
}

async function loadOlder() {
  const oldest = shown[shown.length - 1];
  if (!oldest) return;
  const values = filtersFromForm();
  loadMore.disabled = true;
  try {
    const answer = await api("GET", eventsQuery(values, oldest.started_at));
    const known = new Set(shown.map((event) => event.id));
    const older = (answer.events || []).filter((event) => !known.has(event.id));
    shown = shown.concat(older);
    paged = true;
    render(shown, values);
    loadMore.hidden = older.length === 0 || (answer.events || []).length < PAGE_SIZE;
  } finally {
    loadMore.disabled = false;
  }
}

function applyFilters() {
  const values = filtersFromForm();
  writeUrl(values);
  showFilterCount(values);
  loadFirstPage();
}

async function loadFilterChoices() {
  const cameras = await api("GET", "/api/cameras");
  for (const camera of cameras) ensureOption(form.camera, camera.name, camera.display_name);
  if (currentUser.role === "owner") {
    // Members of the household, so "Who" can pick a name; only owners may list faces.
    const faces = await api("GET", "/api/faces");
    const strangerOption = form.person.querySelector('option[value="stranger"]');
    for (const face of faces) {
      if ([...form.person.options].some((option) => option.value === face.name)) continue;
      form.person.insertBefore(h("option", { value: face.name }, face.name), strangerOption);
    }
  }
  // The filters as they are now, not as the page opened: on a slow hub these answers can come after someone has
  // already changed a filter (the URL holds every change), and the page's first values would undo that change.
  fillForm(filtersFromUrl());
}

form.addEventListener("change", applyFilters);
form.addEventListener("reset", () => {
  // After the reset has cleared the fields.
  window.setTimeout(applyFilters, 0);
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  applyFilters();
});
loadMore.addEventListener("click", () => {
  loadOlder();
});
toggle.addEventListener("click", () => {
  const open = form.classList.toggle("is-open");
  toggle.setAttribute("aria-expanded", String(open));
});
window.addEventListener("popstate", () => {
  fillForm(filtersFromUrl());
  loadFirstPage();
});
window.setInterval(() => {
  // Not while the pointer scrubs a card's clip: a new event would re-render the cards under it.
  const scrubbing = timeline.querySelector(".thumb .preview");
  if (document.visibilityState === "visible" && !paged && !scrubbing) loadFirstPage({ quiet: true });
}, REFRESH_MS);

wireBulkActions(() => loadFirstPage());

fillForm(filtersFromUrl());
loadFirstPage();
loadFilterChoices();
