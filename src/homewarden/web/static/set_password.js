// A one-time link's page: the token is after '#', so it never reaches a server log; the member chooses a password.
import { ApiError, api, busy, formatDateTime, h, showFormError, t } from "/static/app.js";

const token = decodeURIComponent(location.hash.slice(1));
const intro = document.getElementById("set-password-intro");
const form = document.getElementById("set-password-form");
const errorBox = document.getElementById("set-password-error");
const done = document.getElementById("set-password-done");

function signInLink() {
  return h("a", { href: "/login", "data-testid": "set-password-sign-in" }, t("Sign in"));
}

async function check() {
  if (!token) {
    intro.textContent = t("This page needs the whole link you were given, with the part after #.");
    return;
  }
  try {
    const link = await api("POST", "/api/password-links/check", { token }, { expect: [404, 422] });
    const who =
      link.purpose === "invite"
        ? t("{owner} invited you to their home as {username}.", { owner: link.invited_by, username: link.username })
        : t("{owner} made this link for {username}.", { owner: link.invited_by, username: link.username });
    intro.textContent = who + " " + t("Choose your password (the link works once, until {time}).", { time: formatDateTime(link.expires_at) });
    form.username.value = link.username;
    form.hidden = false;
    form.password.focus();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    intro.textContent = `${error.detail.charAt(0).toUpperCase()}${error.detail.slice(1)}. ` + t("Ask the owner for a new link.");
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showFormError(errorBox, "");
  const password = form.password.value;
  if (password.length < 12) return showFormError(errorBox, t("The password needs at least 12 characters."));
  if (password !== form.password_confirm.value) return showFormError(errorBox, t("The two passwords differ."));
  try {
    await busy(form, () => api("POST", "/api/password-links/use", { token, password }, { expect: [400, 404, 422] }));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showFormError(errorBox, error.detail);
    return;
  }
  form.hidden = true;
  intro.hidden = true;
  done.replaceChildren(t("Your password is set, {username}.", { username: form.username.value }) + " ", signInLink());
  done.hidden = false;
});

check();
