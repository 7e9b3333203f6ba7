// Privacy (owner): donations and their withdrawal, standing donation rules, notices, and the access log.
import {
  ApiError,
  api,
  busy,
  capitalize,
  confirmAction,
  currentUser,
  formatDateTime,
  h,
  labelName,
  showFormError,
  t,
  tn,
  toast,
} from "/static/app.js";

const ACTIVE = ["preparing", "ready", "donated"];
const STATUS_WORDS = {
  preparing: t("being prepared"),
  ready: t("waiting for your decision"),
  donated: t("donated"),
  refused: t("refused by screening"),
  withdrawn: t(t("withdrawn")),
  flagged: t("flagged by a reviewer"),
  expired: t("expired"),
  failed: t("failed"),
};
const STATUS_BADGES = {
  preparing: "badge-live",
  ready: "badge-live",
  donated: "badge-online",
  refused: "badge-alarm",
  flagged: "badge-alarm",
  failed: "badge-alarm",
};
const ROLE_WORDS = { owner: t("Owner"), member: t("Member"), reviewer: t("Reviewer"), admin: t("Admin"), hub: t("The hub"), link: t("Someone with a link") };
// The access log's actions in plain words; a refused attempt reads "tried to …" instead.
const ACTION_WORDS = {
  view_clip: t("watched a clip"),
  view_snapshot: t("looked at a snapshot"),
  view_live: t("watched live"),
  review_view: t("reviewer watched a donated copy"),
  // Receipts from Homewarden Cloud, signed by the review program and checked by this hub.
  "review.received": t("received a donated copy in Homewarden Cloud"),
  "review.screened": t("screened a donated copy in Homewarden Cloud"),
  "review.refused": t("refused a donated copy at the cloud's screening"),
  "review.queued": t("queued a donated copy for review"),
  "review.view": t("watched a donated copy"),
  "review.label": t("labelled a donated copy"),
  "review.flag": t("flagged a donated copy as inappropriate"),
  "review.withdrawn": t("deleted a withdrawn donated copy and its labels"),
  "review.expired": t("deleted an expired donated copy"),
  "review.deleted": t("deleted a donated copy"),
  "review.model_replaced": t("replaced a model that learned from a donated copy"),
  review_program_moved: t("moved donated copies to Homewarden Cloud"),
  refused: t("refused attempt"),
  event_deleted: t("deleted an event and its footage"),
  key_unlocked: t("unlocked the home key"),
  export: t("exported footage"),
  donation_started: t("started a donation"),
  donation_prepared: t("made the redacted copy"),
  donation_preview: t("watched the redacted copy before donating"),
  donation_refused: t("refused a copy at screening"),
  donated: t("donated a redacted copy"),
  donation_withdrawn: t("withdrew a donation"),
  donation_flagged: t("flagged a donated copy as inappropriate"),
  donation_expired: t("deleted an expired donated copy"),
  rule_created: t("created a standing rule"),
  rule_deleted: t("deleted a standing rule"),
  download_clip: t("downloaded a clip"),
  share_created: t("made a share link"),
  share_revoked: t("revoked a share link"),
  view_shared_clip: t("watched a clip through a share link"),
};
// What a refused attempt tried to do.
const ATTEMPT_WORDS = {
  view_clip: t("refused attempt to watch a clip"),
  view_snapshot: t("refused attempt to look at a snapshot"),
  view_live: t("refused attempt to watch live"),
  key_unlocked: t("refused attempt to unlock the home key"),
};

let donationsById = new Map();
let cameraNames = [];

// Donations ----------------------------------------------------------------------------------------------------

function donationDates(donation) {
  return [
    donation.donated_at ? t("donated {time}", { time: formatDateTime(donation.donated_at) }) : t("started {time}", { time: formatDateTime(donation.created_at) }),
    donation.expires_at && ACTIVE.includes(donation.status) ? t("expires {time}", { time: formatDateTime(donation.expires_at) }) : "",
  ].filter(Boolean);
}

function donationFacts(donation) {
  return [
    donation.status === "donated" || donation.reviewer_views
      ? tn("watched by reviewers {count} time", "watched by reviewers {count} times", donation.reviewer_views)
      : "",
    donation.mask_people ? t("faces blurred, people masked") : t("faces blurred"),
    donation.status === "donated" && !donation.sent_at ? t("on its way to Homewarden Cloud") : "",
  ].filter(Boolean);
}

function donationRow(donation) {
  const title = `${labelName(donation.label)} · ${donation.camera_name || donation.camera}`;
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
        capitalize(donation.withdrawal.replace(/at (\S+)$/, (_, at) => t("at {time}", { time: formatDateTime(at) }))),
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
      donation.from_rule ? h("span", { class: "chip" }, t("by your rule")) : null,
    ),
    h("span", { class: "muted small", "data-testid": "donation-dates" }, donationDates(donation).join(" · ")),
    h("span", { class: "muted small", "data-testid": "donation-facts" }, donationFacts(donation).join(" · ")),
    reason,
    withdrawal,
  );
  const actions = [];
  if (donation.status === "ready") {
    actions.push(
      h("a", { class: "btn btn-small", href: `/events/${encodeURIComponent(donation.event_id)}/donate`, "data-testid": "donation-finish" }, t("Watch and decide")),
    );
  }
  if (ACTIVE.includes(donation.status)) {
    const withdraw = h(
      "button",
      { type: "button", class: "btn btn-small btn-danger-text", "data-testid": "donation-withdraw", "aria-label": t("Withdraw the donation of {title}", { title }) },
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
    t("Withdraw this donation?"),
    t("The donated copy of “{title}” and every label made from it are deleted, and no reviewer can see it again. Your original clip stays as it is.", { title }),
    "Withdraw",
  );
  if (!confirmed) return;
  const answer = await api("DELETE", `/api/donations/${encodeURIComponent(donation.id)}`);
  const confirmation = document.getElementById("withdraw-confirmation");
  confirmation.textContent = capitalize(answer.detail || t("withdrawn"));
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
      : [h("li", { class: "row muted", "data-testid": "donations-empty" }, t("You have not donated anything. To donate a clip, open its event and press “Donate to help improve detection”."))]),
  );
}

// Standing rules -----------------------------------------------------------------------------------------------

function ruleText(rule) {
  if (rule.trigger === "label") {
    return rule.camera
      ? t("Donate every event detected as “{label}” from {camera}", { label: labelName(rule.label), camera: rule.camera })
      : t("Donate every event detected as “{label}” from any camera", { label: labelName(rule.label) });
  }
  return rule.camera
    ? t("Donate every event marked a false alarm from {camera}", { camera: rule.camera })
    : t("Donate every event marked a false alarm from any camera");
}

function ruleRow(rule) {
  const remove = h(
    "button",
    { type: "button", class: "btn btn-ghost btn-small btn-danger-text", "data-testid": "rule-delete", "aria-label": t("Delete rule: {rule}", { rule: ruleText(rule) }) },
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
  const facts = [rule.mask_people ? t("faces blurred, people masked") : t("faces blurred"), t("created {time}", { time: formatDateTime(rule.created_at) })];
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
    ...(rules.length ? rules.map(ruleRow) : [h("li", { class: "row muted", "data-testid": "rules-empty" }, t("No rules: nothing is donated unless you donate it yourself."))]),
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
    if (trigger.value === "label" && !label) return showFormError(errorBox, t("Say what was detected, such as cat."));
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
  select.replaceChildren(h("option", { value: "" }, t("any camera")), ...cameraNames.map((name) => h("option", { value: name }, name)));
}

// Notices ------------------------------------------------------------------------------------------------------

const NOTICE_BADGES = { screening: ["badge-alarm", t("refused")], flagged: ["badge-alarm", t("flagged")], expired: ["", t("expired")] };

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
        donation ? h("a", { href: `/events/${encodeURIComponent(donation.event_id)}` }, `${labelName(donation.label)} · ${donation.camera_name || donation.camera}`) : "",
      ),
    ),
  );
}

async function loadNotices() {
  const notices = await api("GET", "/api/privacy/notices");
  const list = document.getElementById("notices-list");
  list.removeAttribute("aria-busy");
  list.replaceChildren(
    ...(notices.length ? notices.map(noticeRow) : [h("li", { class: "row muted", "data-testid": "notices-empty" }, t("Nothing to tell you."))]),
  );
}

// The access log -----------------------------------------------------------------------------------------------

function actionWords(entry) {
  const words = ACTION_WORDS[entry.action] || entry.action.replaceAll("_", " ");
  if (entry.outcome !== "refused" || entry.action === "refused" || entry.action === "donation_refused") return words;
  return ATTEMPT_WORDS[entry.action] || t("refused attempt: {what}", { what: words });
}

function objectCell(text) {
  const [kind, id] = text.includes(":") ? [text.slice(0, text.indexOf(":")), text.slice(text.indexOf(":") + 1)] : ["", text];
  if (kind === "event") return h("a", { href: `/events/${encodeURIComponent(id)}`, title: id }, t("an event"));
  if (kind === "donation") {
    const donation = donationsById.get(id);
    return donation
      ? h("a", { href: `/events/${encodeURIComponent(donation.event_id)}`, title: id }, t("donated copy: {title}", { title: `${labelName(donation.label)} · ${donation.camera_name || donation.camera}` }))
      : h("span", { title: id }, t("a donated copy"));
  }
  if (kind === "camera") return t("camera {id}", { id });
  if (kind === "rule") return t("standing rule {id}", { id });
  if (kind === "assignment") return t("review assignment {id}", { id });
  if (text === "home key") return t("the home key");
  return text;
}

// Details that only repeat an id the "of what" column already links to are left out.
const DETAIL_HIDDEN = new Set(["donation_started", "donated"]);

// The log's own words for a few values, said plainly.
const DETAIL_WORDS = [
  [/\bcopy shredded: True\b/, t("the copy was destroyed")],
  [/\bcopy shredded: False\b/, t("no copy was stored")],
  [/\bfalse_alarm\b/g, t("false alarm")],
  [/\breal_event\b/g, t("real event")],
  [/^account page$/, t("on the account page")],
  [/^sign-in$/, t("at sign-in")],
  [/^command line$/, t("on the command line")],
  [/^snapshot$/, t("snapshot")],
  [/^redacted and screened$/, t("redacted and screened")],
  [/^labels saved$/, t("labels saved")],
  [/^the cloud was asked to delete the copy and its labels$/, t("the cloud was asked to delete the copy and its labels")],
  [/^the clip was deleted and its home will be told$/, t("the clip was deleted and its home will be told")],
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
    h("td", { "data-label": t("When") }, h("time", { datetime: entry.at }, formatDateTime(entry.at))),
    h("td", { "data-label": t("Who") }, who),
    h("td", { "data-label": t("What") }, actionWords(entry), shownDetail(entry) ? h("span", { class: "muted small access-detail" }, shownDetail(entry)) : null),
    h("td", { "data-label": t("Of what") }, objectCell(entry.object || "")),
    h("td", { "data-label": t("Outcome") }, h("span", { class: `badge ${refused ? "badge-alarm" : "badge-online"}`, "data-testid": "access-outcome" }, refused ? t("refused") : t("allowed"))),
  );
}

// The household's own views, counted: "You viewed 34 snapshots".
const VIEW_COUNTS = {
  view_snapshot: (count) => tn("{count} snapshot", "{count} snapshots", count),
  view_clip: (count) => tn("{count} clip", "{count} clips", count),
  view_live: (count) => tn("{count} live view", "{count} live views", count),
};

/** One line per person: "You viewed 34 snapshots and 2 clips", "max viewed 3 clips" (last time in the title). */
function householdLines(counts) {
  const byPerson = new Map();
  for (const count of counts) {
    const key = `${count.actor_role}:${count.actor}`;
    if (!byPerson.has(key)) byPerson.set(key, { ...count, parts: [] });
    const person = byPerson.get(key);
    const counted = VIEW_COUNTS[count.action];
    person.parts.push(counted ? counted(count.count) : `${count.count} ${count.action}`);
    if (count.last_at > person.last_at) person.last_at = count.last_at;
  }
  return [...byPerson.values()].map((person) => {
    const you = person.actor === currentUser.username;
    const parts = person.parts.length > 1 ? t("{list} and {last}", { list: person.parts.slice(0, -1).join(", "), last: person.parts.at(-1) }) : person.parts[0];
    return h(
      "li",
      { "data-testid": "household-views-line", "data-actor": person.actor },
      you ? t("You viewed {views}", { views: parts }) : t("{name} viewed {views}", { name: person.actor, views: parts }),
      h("span", { class: "muted small" }, " · " + t("last {time}", { time: formatDateTime(person.last_at) })),
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
  document.getElementById("household-views-summary").textContent = lines.length > 1 ? tn("{first}; {count} more in your household", "{first}; {count} more in your household", lines.length - 1, { first }) : first;
  document.getElementById("household-views-list").replaceChildren(...lines);
}

async function init() {
  wireRuleForm();
  document.getElementById("access-refresh").addEventListener("click", () => loadAccessLog());
  await Promise.all([loadDonations(), loadRules(), loadCameras()]);
  await Promise.all([loadNotices(), loadAccessLog()]);
}

init();
