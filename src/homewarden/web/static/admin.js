// The review program's admin: the queue in numbers, the reviewers, adding and removing them. No footage here.
import { ApiError, api, busy, confirmAction, copyText, h, showFormError, svgDataUrl, toast } from "/static/app.js";

const form = document.getElementById("reviewer-add");
const errorBox = document.getElementById("reviewer-add-error");

async function loadQueue() {
  const stats = await api("GET", "/api/admin/queue");
  document.querySelectorAll("#queue-stats [data-stat]").forEach((element) => {
    element.textContent = String(stats[element.dataset.stat] ?? "—");
  });
}

function reviewerRow(reviewer) {
  const remove = h(
    "button",
    { type: "button", class: "btn btn-ghost btn-small btn-danger-text", "data-testid": "reviewer-remove", "aria-label": `Remove ${reviewer.username}` },
    "Remove",
  );
  remove.addEventListener("click", async () => {
    const confirmed = await confirmAction(
      `Remove ${reviewer.username}?`,
      "Their account and sessions end now; a clip they were reviewing goes back to the queue. Labels they made stay.",
      "Remove",
    );
    if (!confirmed) return;
    await api("DELETE", `/api/admin/reviewers/${encodeURIComponent(reviewer.id)}`);
    toast(`${reviewer.username} removed`, "success");
    loadReviewers();
    loadQueue();
  });
  return h(
    "tr",
    { "data-testid": "reviewer-row", "data-username": reviewer.username },
    h("td", { "data-label": "User name" }, h("strong", {}, reviewer.username)),
    h("td", { "data-label": "Shown to owners as" }, reviewer.pseudonym || "—"),
    h("td", { "data-label": "Labelled today" }, String(reviewer.labelled_today)),
    h("td", { "data-label": "Labelled in all" }, String(reviewer.labelled_total)),
    h("td", { class: "cell-actions" }, remove),
  );
}

async function loadReviewers() {
  const reviewers = await api("GET", "/api/admin/reviewers");
  const rows = document.getElementById("reviewers-rows");
  rows.removeAttribute("aria-busy");
  rows.replaceChildren(...reviewers.map(reviewerRow));
  document.querySelector(".reviewers-table").hidden = reviewers.length === 0;
  document.getElementById("reviewers-empty").hidden = reviewers.length > 0;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showFormError(errorBox, "");
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username) return showFormError(errorBox, "Choose a user name.");
  if (password.length < 12) return showFormError(errorBox, "The password needs at least 12 characters.");
  let created;
  try {
    created = await busy(form, () => api("POST", "/api/admin/reviewers", { username, password }, { expect: [400, 409, 422] }));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status === 0) throw error;
    showFormError(errorBox, error.detail);
    return;
  }
  document.getElementById("reviewer-created-name").textContent = created.username;
  document.getElementById("reviewer-totp-secret").textContent = created.totp_secret;
  document.getElementById("reviewer-totp-qr").src = svgDataUrl(created.qr_svg);
  document.getElementById("reviewer-created").hidden = false;
  form.reset();
  toast(`${created.username} added`, "success");
  loadReviewers();
});

document.getElementById("reviewer-totp-copy").addEventListener("click", () => {
  const element = document.getElementById("reviewer-totp-secret");
  copyText(element.textContent, element);
});
document.getElementById("queue-refresh").addEventListener("click", () => loadQueue());

loadQueue();
loadReviewers();
