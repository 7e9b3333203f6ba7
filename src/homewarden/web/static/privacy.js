// Privacy (owner): donations and their withdrawal, standing donation rules, notices, and the access log.
import { ApiError, api, busy, capitalize, confirmAction, currentUser, formatDateTime, h, showFormError, toast } from "/static/app.js";

const ACTIVE = ["preparing", "ready", "donated"];
const STATUS_WORDS = {
  preparing: "being prepared",
  ready: "waiting for your decision",
  donated: "donated",
  refused: "refused by screening",
  withdrawn: "withdrawn",
  flagged: "flagged by a reviewer",
  expired: "expired",
  failed: "failed",
};
const STATUS_BADGES = {
  preparing: "badge-live",
  ready: "badge-live",
  donated: "badge-online",
  refused: "badge-alarm",
  flagged: "badge-alarm",
  failed: "badge-alarm",
};
const ROLE_WORDS = { owner: "Owner", member: "Member", reviewer: "Reviewer", admin: "Admin", hub: "The hub", link: "Someone with a link" };
// The access log's actions in plain words; a refused attempt reads "tried to …" instead.
const ACTION_WORDS = {
  view_clip: "watched a clip",
  view_snapshot: "looked at a snapshot",
  view_live: "watched live",
  review_view: "reviewer watched a donated copy",
  // Receipts from Homewarden Cloud, signed by the review program and checked by this hub.
  "review.received": "received a donated copy in Homewarden Cloud",
  "review.screened": "screened a donated copy in Homewarden Cloud",
  "review.refused": "refused a donated copy at the cloud's screening",
  "review.queued": "queued a donated copy for review",
  "review.view": "watched a donated copy",
  "review.label": "labelled a donated copy",
  "review.flag": "flagged a donated copy as inappropriate",
  "review.withdrawn": "deleted a withdrawn donated copy and its labels",
  "review.expired": "deleted an expired donated copy",
  "review.deleted": "deleted a donated copy",
  "review.model_replaced": "replaced a model that learned from a donated copy",
  review_program_moved: "moved donated copies to Homewarden Cloud",
  refused: "refused attempt",
  event_deleted: "deleted an event and its footage",
  key_unlocked: "unlocked the home key",
  export: "exported footage",
  donation_started: "started a donation",
  donation_prepared: "made the redacted copy",
  donation_preview: "watched the redacted copy before donating",
  donation_refused: "refused a copy at screening",
  donated: "donated a redacted copy",
  donation_withdrawn: "withdrew a donation",
  donation_flagged: "flagged a donated copy as inappropriate",
  donation_expired: "deleted an expired donated copy",
  rule_created: "created a standing rule",
  rule_deleted: "deleted a standing rule",
  download_clip: "downloaded a clip",
  share_created: "made a share link",
  share_revoked: "revoked a share link",
  view_shared_clip: "watched a clip through a share link",
};
// What a refused attempt tried to do.
const ATTEMPT_WORDS = {
  view_clip: "watch a clip",
  view_snapshot: "look at a snapshot",
  view_live: "watch live",
  key_unlocked: "unlock the home key",
};
const TRIGGER_WORDS = { false_alarm: "false alarm" };

let donationsById = new Map();
let cameraNames = [];

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

// Donations ----------------------------------------------------------------------------------------------------

function donationDates(donation) {
  return [
    donation.donated_at ? `donated ${formatDateTime(donation.donated_at)}` : `started ${formatDateTime(donation.created_at)}`,
    donation.expires_at && ACTIVE.includes(donation.status) ? `expires ${formatDateTime(donation.expires_at)}` : "",
  ].filter(Boolean);
}

function donationFacts(donation) {
  return [
    donation.status === "donated" || donation.reviewer_views
      ? `watched by reviewers ${plural(donation.reviewer_views, "time")}`
      : "",
    donation.mask_people ? "faces blurred, people masked" : "faces blurred",
    donation.status === "donated" && !donation.sent_at ? "on its way to Homewarden Cloud" : "",
  ].filter(Boolean);
}

function donationRow(donation) {
  const title = `${capitalize(donation.label)} · ${donation.camera_name || donation.camera}`;
  const badge = h(
    "span",
    { class: `badge ${STATUS_BADGES[donation.status] || ""}`, "data-testid": "donation-status", "data-status": donation.status },
    STATUS_WORDS[donation.status] || donation.status,
  );
  const reason =
    donation.reason && !ACTIVE.includes(donation.status)
      ? h("span", { class: "donation-reason small", "data-testid": "donation-reason" }, capitalize(donation.reason))
      : null;
  // "withdrawn — confirmed by Homewarden Cloud at T" only once the cloud acknowledged; before, it says it waits.
  const withdrawal = donation.withdrawal
    ? h(
        "span",
        { class: "donation-withdrawal small", "data-testid": "donation-withdrawal" },
        capitalize(donation.withdrawal.replace(/at (\S+)$/, (_, at) => `at ${formatDateTime(at)}`)),
      )
    : null;
  const main = h(
    "div",
    { class: "row-main" },
    h(
      "span",
      { class: "donation-title" },
      h("a", { href: `/events/${encodeURIComponent(donation.event_id)}`, "data-testid": "donation-event" }, title),
      " ",
      badge,
      donation.from_rule ? h("span", { class: "chip" }, "by your rule") : null,
    ),
    h("span", { class: "muted small", "data-testid": "donation-dates" }, donationDates(donation).join(" · ")),
    h("span", { class: "muted small", "data-testid": "donation-facts" }, donationFacts(donation).join(" · ")),
    reason,
    withdrawal,
  );
  const actions = [];
  if (donation.status === "ready") {
    actions.push(
      h("a", { class: "btn btn-small", href: `/events/${encodeURIComponent(donation.event_id)}/donate`, "data-testid": "donation-finish" }, "Watch and decide"),
    );
  }
  if (ACTIVE.includes(donation.status)) {
    const withdraw = h(
      "button",
      { type: "button", class: "btn btn-small btn-danger-text", "data-testid": "donation-withdraw", "aria-label": `Withdraw the donation of ${title}` },
      "Withdraw",
    );
    withdraw.addEventListener("click", () => withdrawDonation(donation, title));
    actions.push(withdraw);
  }
  return h(
    "li",
    { class: "row row-wrap donation-row", "data-testid": "donation-row", "data-donation-id": donation.id, "data-status": donation.status },
    main,
    actions.length ? h("div", { class: "button-row" }, actions) : null,
  );
}

async function withdrawDonation(donation, title) {
  const confirmed = await confirmAction(
    "Withdraw this donation?",
    `The donated copy of "${title}" and every label made from it are deleted, and no reviewer can see it again. Your original clip stays as it is.`,
    "Withdraw",
  );
  if (!confirmed) return;
  const answer = await api("DELETE", `/api/donations/${encodeURIComponent(donation.id)}`);
  const confirmation = document.getElementById("withdraw-confirmation");
  confirmation.textContent = capitalize(answer.detail || "withdrawn");
  confirmation.hidden = false;
  await Promise.all([loadDonations(), loadAccessLog()]);
}

async function loadDonations() {
  const donations = await api("GET", "/api/donations");
  donationsById = new Map(donations.map((donation) => [donation.id, donation]));
  const list = document.getElementById("donations-list");
  list.removeAttribute("aria-busy");
  list.replaceChildren(
    ...(donations.length
      ? donations.map(donationRow)
      : [h("li", { class: "row muted", "data-testid": "donations-empty" }, "You have not donated anything. To donate a clip, open its event and press “Donate to help improve detection”.")]),
  );
}

// Standing rules -----------------------------------------------------------------------------------------------

function ruleText(rule) {
  const what = rule.trigger === "label" ? `every event detected as “${rule.label}”` : `every event marked a ${TRIGGER_WORDS.false_alarm}`;
  const where = rule.camera ? `from ${rule.camera}` : "from any camera";
  return `Donate ${what} ${where}`;
}

function ruleRow(rule) {
  const remove = h(
    "button",
    { type: "button", class: "btn btn-ghost btn-small btn-danger-text", "data-testid": "rule-delete", "aria-label": `Delete rule: ${ruleText(rule)}` },
    "Delete",
  );
  remove.addEventListener("click", async () => {
    remove.disabled = true;
    try {
      await api("DELETE", `/api/privacy/rules/${encodeURIComponent(rule.id)}`);
    } finally {
      remove.disabled = false;
    }
    toast("Rule deleted. Donations it made stay until you withdraw them.", "success");
    loadRules();
  });
  const facts = [rule.mask_people ? "faces blurred, people masked" : "faces blurred", `created ${formatDateTime(rule.created_at)}`];
  return h(
    "li",
    { class: "row", "data-testid": "rule-row", "data-rule-id": rule.id },
    h("div", { class: "row-main" }, h("strong", { "data-testid": "rule-text" }, ruleText(rule)), h("span", { class: "muted small" }, facts.join(" · "))),
    remove,
  );
}

async function loadRules() {
  const rules = await api("GET", "/api/privacy/rules");
  const list = document.getElementById("rules-list");
  list.removeAttribute("aria-busy");
  list.replaceChildren(
    ...(rules.length ? rules.map(ruleRow) : [h("li", { class: "row muted", "data-testid": "rules-empty" }, "No rules: nothing is donated unless you donate it yourself.")]),
  );
}

function wireRuleForm() {
  const form = document.getElementById("rule-form");
  const errorBox = document.getElementById("rule-error");
  const labelField = document.getElementById("rule-label-field");
  const trigger = form.trigger;
  const syncTrigger = () => {
    labelField.hidden = trigger.value !== "label";
  };
  trigger.addEventListener("change", syncTrigger);
  syncTrigger();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormError(errorBox, "");
    const label = form.label.value.trim().toLowerCase();
    if (trigger.value === "label" && !label) return showFormError(errorBox, "Say what was detected, such as cat.");
    const body = {
      camera: form.camera.value || null,
      trigger: trigger.value,
      label: trigger.value === "label" ? label : null,
      mask_people: form.mask_people.checked,
    };
    try {
      await busy(form, () => api("POST", "/api/privacy/rules", body, { expect: [409, 422] }));
    } catch (error) {
      if (!(error instanceof ApiError) || error.status === 0) throw error;
      showFormError(errorBox, capitalize(error.detail));
      return;
    }
    toast("Rule added", "success");
    form.reset();
    syncTrigger();
    loadRules();
  });
}

async function loadCameras() {
  const cameras = await api("GET", "/api/cameras");
  cameraNames = cameras.map((camera) => camera.name);
  const select = document.getElementById("rule-camera");
  select.replaceChildren(h("option", { value: "" }, "any camera"), ...cameraNames.map((name) => h("option", { value: name }, name)));
}

// Notices ------------------------------------------------------------------------------------------------------

const NOTICE_BADGES = { screening: ["badge-alarm", "refused"], flagged: ["badge-alarm", "flagged"], expired: ["", "expired"] };

function noticeRow(notice) {
  const [badgeClass, badgeText] = NOTICE_BADGES[notice.kind] || ["", notice.kind];
  const donation = notice.donation_id ? donationsById.get(notice.donation_id) : null;
  return h(
    "li",
    { class: "row", "data-testid": "notice-row", "data-kind": notice.kind },
    h(
      "div",
      { class: "row-main" },
      h("span", {}, h("span", { class: `badge ${badgeClass}` }, badgeText), " ", notice.text),
      h(
        "span",
        { class: "muted small" },
        formatDateTime(notice.at),
        donation ? " · " : "",
        donation ? h("a", { href: `/events/${encodeURIComponent(donation.event_id)}` }, `${capitalize(donation.label)} · ${donation.camera_name || donation.camera}`) : "",
      ),
    ),
  );
}

async function loadNotices() {
  const notices = await api("GET", "/api/privacy/notices");
  const list = document.getElementById("notices-list");
  list.removeAttribute("aria-busy");
  list.replaceChildren(
    ...(notices.length ? notices.map(noticeRow) : [h("li", { class: "row muted", "data-testid": "notices-empty" }, "Nothing to tell you.")]),
  );
}

// The access log -----------------------------------------------------------------------------------------------

function actionWords(entry) {
  const words = ACTION_WORDS[entry.action] || entry.action.replaceAll("_", " ");
  if (entry.outcome !== "refused" || entry.action === "refused" || entry.action === "donation_refused") return words;
  return ATTEMPT_WORDS[entry.action] ? `refused attempt to ${ATTEMPT_WORDS[entry.action]}` : `refused attempt: ${words}`;
}

function objectCell(text) {
  const [kind, id] = text.includes(":") ? [text.slice(0, text.indexOf(":")), text.slice(text.indexOf(":") + 1)] : ["", text];
  if (kind === "event") return h("a", { href: `/events/${encodeURIComponent(id)}`, title: id }, "an event");
  if (kind === "donation") {
    const donation = donationsById.get(id);
    return donation
      ? h("a", { href: `/events/${encodeURIComponent(donation.event_id)}`, title: id }, `donated copy: ${capitalize(donation.label)} · ${donation.camera_name || donation.camera}`)
      : h("span", { title: id }, "a donated copy");
  }
  if (kind === "camera") return `camera ${id}`;
  if (kind === "rule") return `standing rule ${id}`;
  if (kind === "assignment") return `review assignment ${id}`;
  return text;
}

// Details that only repeat an id the "of what" column already links to are left out.
const DETAIL_HIDDEN = new Set(["donation_started", "donated"]);

// The log's own words for a few values, said plainly.
const DETAIL_WORDS = [
  [/\bcopy shredded: True\b/, "the copy was destroyed"],
  [/\bcopy shredded: False\b/, "no copy was stored"],
  [/\bfalse_alarm\b/g, "false alarm"],
  [/\breal_event\b/g, "real event"],
];

function shownDetail(entry) {
  if (!entry.detail || DETAIL_HIDDEN.has(entry.action)) return "";
  return DETAIL_WORDS.reduce((text, [pattern, words]) => text.replace(pattern, words), entry.detail);
}

function accessRow(entry) {
  const refused = entry.outcome === "refused";
  const who = [ROLE_WORDS[entry.actor_role] || capitalize(entry.actor_role), entry.actor && entry.actor !== entry.actor_role ? entry.actor : ""]
    .filter(Boolean)
    .join(" · ");
  return h(
    "tr",
    { class: refused ? "is-refused" : "", "data-testid": "access-row", "data-action": entry.action, "data-outcome": entry.outcome },
    h("td", { "data-label": "When" }, h("time", { datetime: entry.at }, formatDateTime(entry.at))),
    h("td", { "data-label": "Who" }, who),
    h("td", { "data-label": "What" }, actionWords(entry), shownDetail(entry) ? h("span", { class: "muted small access-detail" }, shownDetail(entry)) : null),
    h("td", { "data-label": "Of what" }, objectCell(entry.object || "")),
    h("td", { "data-label": "Outcome" }, h("span", { class: `badge ${refused ? "badge-alarm" : "badge-online"}`, "data-testid": "access-outcome" }, refused ? "refused" : "allowed")),
  );
}

// The household's own views, counted: "You viewed 34 snapshots".
const VIEW_NOUNS = { view_snapshot: ["snapshot", "snapshots"], view_clip: ["clip", "clips"], view_live: ["live view", "live views"] };

/** One line per person: "You viewed 34 snapshots and 2 clips", "max viewed 3 clips" (last time in the title). */
function householdLines(counts) {
  const byPerson = new Map();
  for (const count of counts) {
    const key = `${count.actor_role}:${count.actor}`;
    if (!byPerson.has(key)) byPerson.set(key, { ...count, parts: [] });
    const person = byPerson.get(key);
    const [one, many] = VIEW_NOUNS[count.action] || [count.action, count.action];
    person.parts.push(`${count.count} ${count.count === 1 ? one : many}`);
    if (count.last_at > person.last_at) person.last_at = count.last_at;
  }
  return [...byPerson.values()].map((person) => {
    const you = person.actor === currentUser.username;
    const who = you ? "You" : person.actor;
    const parts = person.parts.length > 1 ? `${person.parts.slice(0, -1).join(", ")} and ${person.parts.at(-1)}` : person.parts[0];
    return h(
      "li",
      { "data-testid": "household-views-line", "data-actor": person.actor },
      `${who} viewed ${parts}`,
      h("span", { class: "muted small" }, ` · last ${formatDateTime(person.last_at)}`),
    );
  });
}

async function loadAccessLog() {
  const summary = await api("GET", "/api/privacy/access-summary?limit=200");
  const entries = summary.others;
  const rows = document.getElementById("access-rows");
  rows.removeAttribute("aria-busy");
  rows.replaceChildren(...entries.map(accessRow));
  document.getElementById("access-empty").hidden = entries.length > 0;
  document.querySelector(".access-table").hidden = entries.length === 0;
  const folded = document.getElementById("household-views");
  const lines = householdLines(summary.household_views);
  folded.hidden = lines.length === 0;
  const first = lines.length ? lines[0].firstChild.textContent : "";
  document.getElementById("household-views-summary").textContent = lines.length > 1 ? `${first}; ${lines.length - 1} more in your household` : first;
  document.getElementById("household-views-list").replaceChildren(...lines);
}

async function init() {
  wireRuleForm();
  document.getElementById("access-refresh").addEventListener("click", () => loadAccessLog());
  await Promise.all([loadDonations(), loadRules(), loadCameras()]);
  await Promise.all([loadNotices(), loadAccessLog()]);
}

init();
