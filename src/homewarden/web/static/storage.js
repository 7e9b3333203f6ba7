// Storage (owner): how much the recordings use against the cap, how long events are kept, what goes next.
import { api, capitalize, formatBytes, formatDateTime, h } from "/static/app.js";

function days(count) {
  if (count === null || count === undefined) return "until space runs out";
  return `${count} day${count === 1 ? "" : "s"}`;
}

function deletionRow(item) {
  if (typeof item !== "object" || item === null) return h("li", { class: "row", "data-testid": "storage-next-row" }, String(item));
  const id = item.event_id ?? item.id;
  const when = item.due || item.delete_at || item.at;
  const started = item.started_at;
  const title = [capitalize(item.label || "Event"), item.camera].filter(Boolean).join(" · ");
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

load();
