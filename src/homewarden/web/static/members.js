// Members (owner): the household's accounts, which cameras each one sees, adding and removing them.
import {
  ApiError,
  api,
  busy,
  clearFieldErrors,
  confirmAction,
  copyText,
  formatDateTime,
  h,
  showAtField,
  showFieldErrors,
  t,
  tn,
  toast,
} from "/static/app.js";

const list = document.getElementById("members-list");
const form = document.getElementById("member-add");
const addCameras = document.getElementById("member-add-cameras");
const noCamerasYet = document.getElementById("member-add-no-cameras");
// The household reads cameras by their display names ("Front door"); the API takes their ids.
let cameras = [];

function cameraChecks(prefix, chosen, testidPrefix) {
  return cameras.map((camera) =>
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "cameras", value: camera.name, checked: chosen.includes(camera.name), "data-testid": `${testidPrefix}-${camera.name}`, id: `${prefix}-${camera.name}` }),
      ` ${camera.display_name}`,
    ),
  );
}

function checkedCameras(container) {
  return [...container.querySelectorAll('input[name="cameras"]:checked')].map((input) => input.value);
}

function memberRow(member) {
  const checks = h("div", { class: "checks", role: "group", "aria-label": t("Cameras {name} sees", { name: member.username }) }, cameraChecks(`member-${member.id}`, member.cameras, "member-camera"));
  const save = h("button", { type: "button", class: "btn btn-small", "data-testid": "member-cameras-save" }, t("Save cameras"));
  const remove = h("button", { type: "button", class: "btn btn-ghost btn-small btn-danger-text", "data-testid": "member-remove", "aria-label": t("Remove {name}", { name: member.username }) }, t("Remove"));
  save.addEventListener("click", async () => {
    save.disabled = true;
    try {
      await api("PATCH", `/api/members/${encodeURIComponent(member.id)}`, { cameras: checkedCameras(checks) });
      toast(tn("{name} now sees {count} camera", "{name} now sees {count} cameras", checkedCameras(checks).length, { name: member.username }), "success");
      load();
    } finally {
      save.disabled = false;
    }
  });
  remove.addEventListener("click", async () => {
    const confirmed = await confirmAction(t("Remove {name}?", { name: member.username }), t("Their account, sessions and API tokens end now."), t("Remove"));
    if (!confirmed) return;
    await api("DELETE", `/api/members/${encodeURIComponent(member.id)}`);
    toast(t("{name} removed", { name: member.username }), "success");
    load();
  });
  const reset = h("button", { type: "button", class: "btn btn-ghost btn-small", "data-testid": "member-reset", "aria-label": t("New password for {name}", { name: member.username }) }, t("New password link"));
  reset.addEventListener("click", () => resetPassword(member));
  const badge = member.password_set === false
    ? h("span", { class: "badge", "data-testid": "member-invited" }, t("Invited"))
    : member.totp_enabled ? h("span", { class: "badge badge-online" }, "2FA") : null;
  return h(
    "li",
    { class: "row row-wrap", "data-testid": "member-row", "data-username": member.username },
    h("span", { class: "avatar", "aria-hidden": "true" }, member.username.slice(0, 1).toUpperCase()),
    h("div", { class: "row-main" }, h("strong", { "data-testid": "member-name" }, member.username), badge),
    reset,
    remove,
    cameras.length && !member.cameras.length
      ? h("p", { class: "row-full muted small", "data-testid": "member-no-cameras" }, t("{name} sees no camera yet: tick the cameras they may watch and save.", { name: member.username }))
      : null,
    h("div", { class: "row-full" }, cameras.length ? checks : h("span", { class: "muted small" }, t("No cameras configured.")), cameras.length ? save : null),
  );
}

async function load() {
  const members = await api("GET", "/api/members");
  list.removeAttribute("aria-busy");
  const household = members.filter((member) => member.role !== "owner");
  list.replaceChildren(
    ...(household.length
      ? household.map(memberRow)
      : [h("li", { class: "row muted", "data-testid": "members-empty" }, t("No members yet. Add the people who live with you."))]),
  );
}

// A one-time link the owner passes on: the member chooses their own password on it (invitation or reset).
function showLink(text, answer) {
  const url = new URL(answer.link, location.origin).href;
  document.getElementById("member-link-text").textContent = text + " " + t("It works once, until {time}.", { time: formatDateTime(answer.expires_at) });
  document.getElementById("member-link-url").textContent = url;
  document.getElementById("member-link").hidden = false;
}

async function resetPassword(member) {
  const confirmed = await confirmAction(
    t("New password for {name}?", { name: member.username }),
    t("Their current password and every session end now; they choose a new password on the link you give them."),
    t("Make link"),
  );
  if (!confirmed) return;
  const answer = await api("POST", `/api/members/${encodeURIComponent(member.id)}/reset-link`);
  showLink(t("Give {name} this link to choose a new password.", { name: member.username }), answer);
  load();
}

document.getElementById("member-link-copy").addEventListener("click", () => {
  const element = document.getElementById("member-link-url");
  copyText(element.textContent, element);
});

// Ticking a camera and "No cameras yet" contradict each other: the latest choice wins.
addCameras.addEventListener("change", () => {
  if (checkedCameras(addCameras).length) noCamerasYet.checked = false;
});
noCamerasYet.addEventListener("change", () => {
  if (noCamerasYet.checked) addCameras.querySelectorAll('input[name="cameras"]').forEach((input) => (input.checked = false));
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFieldErrors(form);
  const username = form.username.value.trim();
  if (!username) return showAtField(form, "username", t("Choose a user name."));
  const picked = checkedCameras(addCameras);
  // Cameras are picked on purpose: a member with none sees nothing, so that takes the "No cameras yet" tick.
  if (!picked.length && !noCamerasYet.checked) {
    return showAtField(form, "confirm_no_cameras", t('Pick the cameras {name} may watch, or tick "No cameras yet".', { name: username }));
  }
  let answer;
  try {
    answer = await busy(form, () =>
      api("POST", "/api/members/invite", { username, cameras: picked, confirm_no_cameras: !picked.length }, { expect: [400, 409, 422] }),
    );
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showFieldErrors(form, error);
    return;
  }
  showLink(t("Give {name} this link to choose a password and sign in.", { name: username }), answer);
  form.reset();
  load();
});

async function init() {
  cameras = await api("GET", "/api/cameras");
  addCameras.replaceChildren(
    ...(cameras.length ? cameraChecks("member-add", [], "member-add-camera") : [h("span", { class: "muted small" }, t("No cameras configured."))]),
  );
  await load();
}

init();
