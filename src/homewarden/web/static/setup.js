// The first-run page: create the owner (and the home key), then show the recovery key once.
import { ApiError, api, busy, copyText, setCsrfToken, showFormError, t, tn } from "/static/app.js";

const form = document.getElementById("setup-form");
const errorBox = document.getElementById("setup-error");
const status = document.getElementById("setup-status");
const tokenField = document.getElementById("setup-token-field");
const tokenInput = document.getElementById("setup-token");
const tokenFromUrl = new URLSearchParams(location.search).get("token") || "";

// The home's time zone: the browser's by default (the hub validates the name).
const timezoneInput = document.getElementById("setup-timezone");
timezoneInput.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
if (typeof Intl.supportedValuesOf === "function") {
  const options = Intl.supportedValuesOf("timeZone").map((zone) => Object.assign(document.createElement("option"), { value: zone }));
  document.getElementById("setup-timezones").replaceChildren(...options);
}

if (!tokenFromUrl) {
  tokenField.hidden = false;
  tokenInput.required = true;
}

async function checkStatus() {
  const answer = await api("GET", "/api/setup/status", undefined, { expect: [404] }).catch(() => null);
  if (answer && answer.needs_setup === false) {
    status.textContent = t("This home is already set up.") + " ";
    status.append(Object.assign(document.createElement("a"), { href: "/login", textContent: t("Sign in") }));
    form.hidden = true;
  }
}

function showRecovery(recoveryKey) {
  document.getElementById("setup-step-account").hidden = true;
  document.getElementById("setup-step-recovery").hidden = false;
  if (recoveryKey) {
    document.getElementById("recovery-key").textContent = recoveryKey;
  } else {
    document.getElementById("setup-recovery-new").hidden = true;
    document.getElementById("setup-recovery-existing").hidden = false;
    document.getElementById("recovery-done").textContent = t("Continue");
  }
  document.getElementById("recovery-done").focus();
}

document.getElementById("recovery-key-copy").addEventListener("click", () => {
  const element = document.getElementById("recovery-key");
  copyText(element.textContent, element);
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showFormError(errorBox, "");
  const token = tokenFromUrl || tokenInput.value.trim();
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!token) return showFormError(errorBox, t("Enter the setup code that homewarden serve printed."));
  if (!username) return showFormError(errorBox, t("Choose a user name."));
  if (password.length < 12) return showFormError(errorBox, t("The password needs at least 12 characters."));
  if (password !== form.password_confirm.value) return showFormError(errorBox, t("The two passwords differ."));
  try {
    const answer = await busy(form, () =>
      api("POST", "/api/setup", { token, username, password, timezone: timezoneInput.value.trim() || null }, { expect: [400, 401, 403, 404, 409, 422] }),
    );
    setCsrfToken(answer.csrf_token);
    showRecovery(answer.recovery_key);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showFormError(errorBox, error.detail);
  }
});

// Restore from Homewarden Cloud instead of a new home: the restore runs on the hub, and this page polls it.
const restoreForm = document.getElementById("restore-form");
const restoreError = document.getElementById("restore-error");
const restoreProgress = document.getElementById("restore-progress");

function showStep(restoring) {
  document.getElementById("setup-step-account").hidden = restoring;
  document.getElementById("setup-step-restore").hidden = !restoring;
}
document.getElementById("restore-open").addEventListener("click", () => showStep(true));
document.getElementById("restore-back").addEventListener("click", () => showStep(false));

async function followRestore(restoreId) {
  for (;;) {
    const progress = await api("GET", `/api/setup/restore/${encodeURIComponent(restoreId)}`);
    restoreProgress.textContent = progress.step;
    if (progress.state === "done") {
      restoreProgress.textContent =
        t("Restored {events} and {files}. Sign in with your user name and passphrase.", {
          events: tn("{count} event", "{count} events", progress.events),
          files: tn("{count} file", "{count} files", progress.objects),
        });
      location.assign("/login");
      return;
    }
    if (progress.state === "failed") throw new ApiError(400, progress.error);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

restoreForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  showFormError(restoreError, "");
  const token = tokenFromUrl || tokenInput.value.trim();
  const body = {
    token,
    cloud_url: restoreForm.cloud_url.value.trim(),
    pairing_code: restoreForm.pairing_code.value.trim(),
    username: restoreForm.username.value.trim(),
    password: restoreForm.password.value,
    recovery_key: restoreForm.recovery_key.value.trim() || null,
  };
  if (!token) return showFormError(restoreError, t("Open the setup link that homewarden serve printed."));
  if (!body.cloud_url || !body.pairing_code) return showFormError(restoreError, t("Enter the cloud's address and a pairing code."));
  if (!body.username) return showFormError(restoreError, t("Choose the owner's user name."));
  if (body.password.length < 12) return showFormError(restoreError, t("The passphrase has at least 12 characters."));
  try {
    await busy(restoreForm, async () => {
      const started = await api("POST", "/api/setup/restore", body, { expect: [400, 403, 422] });
      restoreProgress.hidden = false;
      await followRestore(started.restore_id);
    });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    restoreProgress.hidden = true;
    showFormError(restoreError, error.detail);
  }
});

checkStatus();
