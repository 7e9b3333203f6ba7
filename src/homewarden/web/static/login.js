// The sign-in page: user name and password, then a two-factor code when the account asks for one.
import { ApiError, api, busy, setCsrfToken, showFormError, t } from "/static/app.js";

const form = document.getElementById("login-form");
const totpField = document.getElementById("login-totp-field");
const totpInput = document.getElementById("login-totp");
const errorBox = document.getElementById("login-error");
const submit = document.getElementById("login-submit");
let retryTimer = null;

/** Where to go after signing in: the `next` query parameter when it is a path on this site, else the timeline. */
function nextPath() {
  const next = new URLSearchParams(location.search).get("next") || "/";
  // Only same-site relative paths: "/x" but not "//host", "/\host" or "https://host".
  if (!next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  const target = new URL(next, location.origin);
  if (target.origin !== location.origin || target.pathname.startsWith("/login")) return "/";
  return target.pathname + target.search + target.hash;
}

function waitBeforeRetry(seconds) {
  window.clearInterval(retryTimer);
  let left = seconds;
  const tick = () => {
    if (left <= 0) {
      window.clearInterval(retryTimer);
      submit.disabled = false;
      showFormError(errorBox, "");
      return;
    }
    submit.disabled = true;
    showFormError(errorBox, t("Too many attempts, try again in {seconds} s.", { seconds: left }));
    left -= 1;
  };
  tick();
  retryTimer = window.setInterval(tick, 1000);
}

function askForCode() {
  totpField.hidden = false;
  totpInput.required = true;
  totpInput.focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showFormError(errorBox, "");
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    showFormError(errorBox, t("Enter your user name and password."));
    return;
  }
  const body = { username, password };
  if (!totpField.hidden) {
    const code = totpInput.value.replace(/\s+/g, "");
    if (!/^\d{6}$/.test(code)) {
      showFormError(errorBox, t("Enter the six-digit code from your authenticator app."));
      totpInput.focus();
      return;
    }
    body.totp_code = code;
  }
  try {
    const answer = await busy(form, () => api("POST", "/api/auth/login", body, { expect: [401, 403, 422, 429] }));
    setCsrfToken(answer && answer.csrf_token);
    location.assign(nextPath());
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401 && error.detail === "totp_required") {
      askForCode();
      showFormError(errorBox, totpInput.value ? "" : t("This account asks for a code from your authenticator app."));
    } else if (error.status === 401) {
      showFormError(errorBox, error.detail === "Unauthorized" || !error.detail ? t("Wrong user name or password.") : error.detail);
      if (!totpField.hidden) totpInput.value = "";
    } else if (error.status === 403 || error.status === 422) {
      showFormError(errorBox, error.detail);
    } else if (error.status === 429) {
      const seconds = parseInt(error.response.headers.get("Retry-After") || "60", 10);
      waitBeforeRetry(Number.isFinite(seconds) ? seconds : 60);
    }
  }
});

document.getElementById("login-username").focus();
