// The owner's recovery: the recovery key sets a new passphrase (what `homewarden keys recover` does).
import { ApiError, api, busy, h, showFormError, t } from "/static/app.js";

const form = document.getElementById("recover-form");
const errorBox = document.getElementById("recover-error");
const done = document.getElementById("recover-done");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showFormError(errorBox, "");
  const recoveryKey = form.recovery_key.value.trim();
  const password = form.new_password.value;
  if (!recoveryKey) return showFormError(errorBox, t("Enter the recovery key."));
  if (password.length < 12) return showFormError(errorBox, t("The new passphrase needs at least 12 characters."));
  if (password !== form.password_confirm.value) return showFormError(errorBox, t("The two passphrases differ."));
  let answer;
  try {
    answer = await busy(form, () => api("POST", "/api/recover", { recovery_key: recoveryKey, new_password: password }, { expect: [400, 422, 429] }));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showFormError(errorBox, error.detail);
    return;
  }
  form.hidden = true;
  done.replaceChildren(`${answer.detail.charAt(0).toUpperCase()}${answer.detail.slice(1)}. `, h("a", { href: "/login", "data-testid": "recover-sign-in" }, t("Sign in")));
  done.hidden = false;
});
