// Storage (owner): how much the recordings use against the cap, how long events are kept, what goes next.
import {
  ApiError,
  api,
  busy,
  confirmAction,
  formatBytes,
  formatDateTime,
  formatDuration,
  h,
  labelName,
  locale,
  showFormError,
  t,
  tn,
  toast,
} from "/static/app.js";

const percentFormat = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

function days(count) {
  if (count === null || count === undefined) return t("until space runs out");
  return tn("{count} day", "{count} days", count);
}

function deletionRow(item) {
  if (typeof item !== "object" || item === null) return h("li", { class: "row", "data-testid": "storage-next-row" }, String(item));
  const id = item.event_id ?? item.id;
  const when = item.due || item.delete_at || item.at;
  const started = item.started_at;
  const title = item.title || [item.label ? labelName(item.label) : t("Event"), item.camera].filter(Boolean).join(" · ");
  const facts = [
    started ? t("recorded {time}", { time: formatDateTime(started) }) : "",
    when ? t("due {time}", { time: formatDateTime(when) }) : t("due now"),
    item.bytes !== undefined ? formatBytes(item.bytes) : "",
  ].filter(Boolean);
  // The reason is the hub's sentence ("7 days after recording"), kept apart from the page's own words.
  const reason = item.reason ? [" · ", h("span", { "data-testid": "storage-next-reason" }, item.reason)] : [];
  const main = h("div", { class: "row-main" }, h("strong", {}, title), h("span", { class: "muted small" }, facts.join(" · "), ...reason));
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
  problem.textContent = storage.problem
    ? t("Recording is at risk: {problem}. Free some space or lower the cap; recording resumes on its own once there is room.", { problem: storage.problem })
    : "";
  const used = Number(storage.used_bytes) || 0;
  const cap = Number(storage.cap_bytes) || 0;
  document.getElementById("storage-used").textContent = formatBytes(used);
  document.getElementById("storage-cap").textContent = cap ? formatBytes(cap) : t("used, no cap set");
  document.getElementById("storage-of").hidden = !cap;
  const bar = document.getElementById("storage-bar");
  bar.hidden = !cap;
  const percent = cap ? Math.min(100, (used / cap) * 100) : 0;
  bar.value = percent;
  bar.classList.toggle("is-full", percent >= 90);
  bar.setAttribute("aria-valuetext", cap ? t("{percent} % used", { percent: percent.toFixed(0) }) : t("no cap"));
  document.getElementById("storage-percent").textContent = cap ? t("{percent} % of the cap is used.", { percent: percentFormat.format(percent) }) : "";
  document.getElementById("storage-events").textContent = String(storage.events ?? "—");
  document.getElementById("storage-alarm-days").textContent = days(storage.alarm_days);
  document.getElementById("storage-other-days").textContent = days(storage.other_days);
  const next = Array.isArray(storage.next_deletions) ? storage.next_deletions : [];
  const list = document.getElementById("storage-next");
  list.replaceChildren(
    ...(next.length ? next.map(deletionRow) : [h("li", { class: "row muted", "data-testid": "storage-next-empty" }, t("Nothing is due for deletion."))]),
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
  const label = !offsite.paired ? t("not paired") : offsite.stuck ? t("stuck") : offsite.waiting ? t("sending") : t("up to date");
  state.textContent = label;
  state.className = `badge ${!offsite.paired ? "" : offsite.stuck ? "badge-alarm" : "badge-online"}`;
  document.getElementById("offsite-pair").hidden = offsite.paired;
  document.getElementById("offsite-unpair").hidden = !offsite.paired;
  document.getElementById("offsite-figures").hidden = !offsite.paired;
  const stuck = document.getElementById("offsite-stuck");
  stuck.hidden = !offsite.stuck;
  stuck.textContent = offsite.stuck
    ? tn("Nothing has reached the cloud for {time} while {count} item waits: {error}.", "Nothing has reached the cloud for {time} while {count} items wait: {error}.", offsite.waiting, {
        time: formatDuration(offsite.lag_seconds),
        error: offsite.last_error || t("no answer"),
      })
    : "";
  const reviewProblem = document.getElementById("offsite-review-problem");
  reviewProblem.hidden = !offsite.paired || !offsite.review_problem;
  reviewProblem.textContent = offsite.review_problem ? t("Review program: {problem}.", { problem: offsite.review_problem }) : "";
  const errorLine = document.getElementById("offsite-error");
  errorLine.hidden = !offsite.paired || !offsite.last_error;
  errorLine.textContent = !offsite.last_error
    ? ""
    : offsite.last_error_at
      ? t("Last error ({time}): {error}", { time: formatDateTime(offsite.last_error_at), error: offsite.last_error })
      : t("Last error: {error}", { error: offsite.last_error });
  if (!offsite.paired) return;
  show("offsite-cloud", offsite.cloud_url || "—");
  show("offsite-waiting", offsite.failed ? t("{waiting} ({refused} refused)", { waiting: offsite.waiting, refused: offsite.failed }) : String(offsite.waiting));
  show("offsite-lag", offsite.waiting ? formatDuration(offsite.lag_seconds) : t("nothing waits"));
  show("offsite-last-success", offsite.last_success_at ? formatDateTime(offsite.last_success_at) : t("never"));
  const usage = offsite.usage;
  const stored = usage ? tn("{count} object, {size}", "{count} objects, {size}", usage.objects, { size: formatBytes(usage.bytes) }) : "";
  show("offsite-usage", !usage ? t("not known yet") : usage.quota_bytes ? t("{stored} of {quota}", { stored, quota: formatBytes(usage.quota_bytes) }) : stored);
  show("offsite-retention", usage && usage.retention_days ? days(usage.retention_days) : t("as long as you keep them"));
}

function wireOffsite() {
  const form = document.getElementById("offsite-pair");
  const errorBox = document.getElementById("offsite-pair-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormError(errorBox, "");
    const body = { cloud_url: form.cloud_url.value.trim(), code: form.code.value.trim() };
    if (!body.cloud_url || !body.code) {
      showFormError(errorBox, t("Enter the cloud's address and the pairing code."));
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
      t("Unpair from the cloud?"),
      t("The hub stops sending off-site copies and the cloud refuses it from now on. What the cloud holds stays there until you delete it in the cloud account."),
      "Unpair",
    );
    if (!confirmed) return;
    let done;
    try {
      done = await api("DELETE", "/api/offsite/pairing", null, { expect: [409] });
    } catch (error) {
      if (error.status !== 409) throw error;
      // Withdrawals wait for a cloud that does not answer: the owner decides, knowing what stays unconfirmed.
      const anyway = await confirmAction(t("Withdrawals are waiting"), error.detail, t("Unpair anyway"));
      if (!anyway) return;
      done = await api("DELETE", "/api/offsite/pairing?force=true");
    }
    toast(done.detail || t("Unpaired"), "success");
    loadOffsite();
  });
}

load();
wireOffsite();
loadOffsite();
setInterval(loadOffsite, 10000);
