// Storage (owner): how much the recordings use against the cap, how long events are kept, what goes next.
import { ApiError, api, busy, capitalize, confirmAction, formatBytes, formatDateTime, formatDuration, h, showFormError, toast } from "/static/app.js";

function days(count) {
  if (count === null || count === undefined) return "until space runs out";
  return `${count} day${count === 1 ? "" : "s"}`;
}

function deletionRow(item) {
  if (typeof item !== "object" || item === null) return h("li", { class: "row", "data-testid": "storage-next-row" }, String(item));
  const id = item.event_id ?? item.id;
  const when = item.due || item.delete_at || item.at;
  const started = item.started_at;
  const title = item.title || [capitalize(item.label || "Event"), item.camera].filter(Boolean).join(" · ");
  const facts = [
    started ? `recorded ${formatDateTime(started)}` : "",
    when ? `due ${formatDateTime(when)}` : "due now",
    item.reason || "",
    item.bytes !== undefined ? formatBytes(item.bytes) : "",
  ].filter(Boolean);
  const main = h("div", { class: "row-main" }, h("strong", {}, title), h("span", { class: "muted small" }, facts.join(" · ")));
  return h(
    "li",
    { class: "row", "data-testid": "storage-next-row" },
    id !== undefined ? h("a", { class: "row-link", href: `/events/${encodeURIComponent(id)}` }, main) : main,
  );
}

async function load() {
  const storage = await api("GET", "/api/storage");
  const problem = document.getElementById("storage-problem");
  problem.hidden = !storage.problem;
  problem.textContent = storage.problem ? `Recording is at risk: ${storage.problem}. Free some space or lower the cap; recording resumes on its own once there is room.` : "";
  const used = Number(storage.used_bytes) || 0;
  const cap = Number(storage.cap_bytes) || 0;
  document.getElementById("storage-used").textContent = formatBytes(used);
  document.getElementById("storage-cap").textContent = cap ? formatBytes(cap) : "used, no cap set";
  document.getElementById("storage-of").hidden = !cap;
  const bar = document.getElementById("storage-bar");
  bar.hidden = !cap;
  const percent = cap ? Math.min(100, (used / cap) * 100) : 0;
  bar.value = percent;
  bar.classList.toggle("is-full", percent >= 90);
  bar.setAttribute("aria-valuetext", cap ? `${percent.toFixed(0)} % used` : "no cap");
  document.getElementById("storage-percent").textContent = cap ? `${percent.toFixed(1)} % of the cap is used.` : "";
  document.getElementById("storage-events").textContent = String(storage.events ?? "—");
  document.getElementById("storage-alarm-days").textContent = days(storage.alarm_days);
  document.getElementById("storage-other-days").textContent = days(storage.other_days);
  const next = Array.isArray(storage.next_deletions) ? storage.next_deletions : [];
  const list = document.getElementById("storage-next");
  list.replaceChildren(
    ...(next.length ? next.map(deletionRow) : [h("li", { class: "row muted", "data-testid": "storage-next-empty" }, "Nothing is due for deletion.")]),
  );
}

// Off-site copies ----------------------------------------------------------------------------------------------

function show(id, text) {
  document.getElementById(id).textContent = text;
}

async function loadOffsite() {
  let offsite;
  try {
    offsite = await api("GET", "/api/offsite", undefined, { expect: [404] });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      document.querySelector("[data-testid=offsite]").hidden = true;
      return;
    }
    throw error;
  }
  const state = document.getElementById("offsite-state");
  const label = !offsite.paired ? "not paired" : offsite.stuck ? "stuck" : offsite.waiting ? "sending" : "up to date";
  state.textContent = label;
  state.className = `badge ${!offsite.paired ? "" : offsite.stuck ? "badge-alarm" : "badge-online"}`;
  document.getElementById("offsite-pair").hidden = offsite.paired;
  document.getElementById("offsite-unpair").hidden = !offsite.paired;
  document.getElementById("offsite-figures").hidden = !offsite.paired;
  const stuck = document.getElementById("offsite-stuck");
  stuck.hidden = !offsite.stuck;
  stuck.textContent = offsite.stuck ? `Nothing has reached the cloud for ${formatDuration(offsite.lag_seconds)} while ${offsite.waiting} item(s) wait: ${offsite.last_error || "no answer"}.` : "";
  const reviewProblem = document.getElementById("offsite-review-problem");
  reviewProblem.hidden = !offsite.paired || !offsite.review_problem;
  reviewProblem.textContent = offsite.review_problem ? `Review program: ${offsite.review_problem}.` : "";
  const errorLine = document.getElementById("offsite-error");
  errorLine.hidden = !offsite.paired || !offsite.last_error;
  errorLine.textContent = offsite.last_error ? `Last error${offsite.last_error_at ? ` (${formatDateTime(offsite.last_error_at)})` : ""}: ${offsite.last_error}` : "";
  if (!offsite.paired) return;
  show("offsite-cloud", offsite.cloud_url || "—");
  show("offsite-waiting", `${offsite.waiting}${offsite.failed ? ` (${offsite.failed} refused)` : ""}`);
  show("offsite-lag", offsite.waiting ? formatDuration(offsite.lag_seconds) : "nothing waits");
  show("offsite-last-success", offsite.last_success_at ? formatDateTime(offsite.last_success_at) : "never");
  const usage = offsite.usage;
  show("offsite-usage", usage ? `${usage.objects} object(s), ${formatBytes(usage.bytes)}${usage.quota_bytes ? ` of ${formatBytes(usage.quota_bytes)}` : ""}` : "not known yet");
  show("offsite-retention", usage && usage.retention_days ? days(usage.retention_days) : "as long as you keep them");
}

function wireOffsite() {
  const form = document.getElementById("offsite-pair");
  const errorBox = document.getElementById("offsite-pair-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormError(errorBox, "");
    const body = { cloud_url: form.cloud_url.value.trim(), code: form.code.value.trim() };
    if (!body.cloud_url || !body.code) {
      showFormError(errorBox, "Enter the cloud's address and the pairing code.");
      return;
    }
    try {
      await busy(form, () => api("POST", "/api/offsite/pairing", body, { expect: [400] }));
    } catch (error) {
      showFormError(errorBox, error.message);
      return;
    }
    form.reset();
    toast("Paired: off-site copies are on their way", "success");
    loadOffsite();
  });
  document.getElementById("offsite-unpair").addEventListener("click", async () => {
    const confirmed = await confirmAction(
      "Unpair from the cloud?",
      "The hub stops sending off-site copies and the cloud refuses it from now on. What the cloud holds stays there until you delete it in the cloud account.",
      "Unpair",
    );
    if (!confirmed) return;
    let done;
    try {
      done = await api("DELETE", "/api/offsite/pairing", null, { expect: [409] });
    } catch (error) {
      if (error.status !== 409) throw error;
      // Withdrawals wait for a cloud that does not answer: the owner decides, knowing what stays unconfirmed.
      const anyway = await confirmAction("Withdrawals are waiting", error.detail, "Unpair anyway");
      if (!anyway) return;
      done = await api("DELETE", "/api/offsite/pairing?force=true");
    }
    toast(done.detail || "Unpaired", "success");
    loadOffsite();
  });
}

load();
wireOffsite();
loadOffsite();
setInterval(loadOffsite, 10000);
