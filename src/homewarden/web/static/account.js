// Account: password, two-factor sign-in, API tokens, sign out everywhere and, for owners, the home key.
import {
  ApiError,
  api,
  busy,
  confirmAction,
  copyText,
  currentUser,
  formatDateTime,
  h,
  showFormError,
  svgDataUrl,
  toast,
} from "/static/app.js";

const household = currentUser.role === "owner" || currentUser.role === "member";

// Home key (owner) ---------------------------------------------------------------------------------------------

async function loadHomeKey() {
  const status = document.getElementById("home-key-status");
  if (!status) return;
  const home = await api("GET", "/api/home");
  status.textContent = home.unlocked ? "unlocked" : "locked";
  status.className = `badge ${home.unlocked ? "badge-online" : "badge-alarm"}`;
  document.getElementById("home-unlock").hidden = home.unlocked;
  document.getElementById("home-lock").hidden = !home.unlocked;
}

function wireHomeKey() {
  const unlock = document.getElementById("home-unlock");
  if (!unlock) return;
  unlock.addEventListener("submit", async (event) => {
    event.preventDefault();
    const passphrase = unlock.passphrase.value;
    if (!passphrase) return;
    await busy(unlock, () => api("POST", "/api/home/unlock", { passphrase }));
    unlock.reset();
    toast("Recordings unlocked", "success");
    loadHomeKey();
  });
  document.getElementById("home-lock").addEventListener("click", async () => {
    const confirmed = await confirmAction(
      "Lock the recordings?",
      "Nobody can play clips or see snapshots until you sign in again or unlock them here. Recording goes on.",
      "Lock",
    );
    if (!confirmed) return;
    await api("POST", "/api/home/lock");
    toast("Recordings locked", "success");
    loadHomeKey();
  });
}

// Password -----------------------------------------------------------------------------------------------------

function wirePassword() {
  const form = document.getElementById("password-form");
  const errorBox = document.getElementById("password-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormError(errorBox, "");
    const current = form.current_password.value;
    const next = form.new_password.value;
    if (!current) return showFormError(errorBox, "Enter your current password.");
    if (next.length < 12) return showFormError(errorBox, "The new password needs at least 12 characters.");
    if (next !== form.new_password_confirm.value) return showFormError(errorBox, "The two new passwords differ.");
    try {
      await busy(form, () =>
        api("POST", "/api/me/password", { current_password: current, new_password: next }, { expect: [400, 403, 422] }),
      );
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showFormError(errorBox, error.detail);
      return;
    }
    form.reset();
    toast("Password changed", "success");
  });
}

// Two-factor sign-in -------------------------------------------------------------------------------------------

function showTotp(enabled) {
  const status = document.getElementById("totp-status");
  status.textContent = enabled ? "on" : "off";
  status.className = `badge ${enabled ? "badge-online" : ""}`;
  document.getElementById("totp-off").hidden = enabled;
  document.getElementById("totp-enrol").hidden = true;
  const disable = document.getElementById("totp-disable-form");
  if (disable) disable.hidden = !enabled;
}

function wireTotp() {
  document.getElementById("totp-start").addEventListener("click", async () => {
    const answer = await api("POST", "/api/me/totp");
    document.getElementById("totp-qr").src = svgDataUrl(answer.qr_svg);
    document.getElementById("totp-secret").textContent = answer.secret;
    document.getElementById("totp-off").hidden = true;
    document.getElementById("totp-enrol").hidden = false;
    document.getElementById("totp-code").focus();
  });
  const confirmForm = document.getElementById("totp-confirm-form");
  confirmForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = confirmForm.code.value.replace(/\s+/g, "");
    if (!/^\d{6}$/.test(code)) {
      toast("Enter the six-digit code from your authenticator app.", "error");
      return;
    }
    await busy(confirmForm, () => api("POST", "/api/me/totp/confirm", { code }));
    confirmForm.reset();
    toast("Two-factor sign-in is on", "success");
    showTotp(true);
  });
  const disableForm = document.getElementById("totp-disable-form");
  if (disableForm) {
    disableForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const code = disableForm.code.value.replace(/\s+/g, "");
      if (!/^\d{6}$/.test(code)) {
        toast("Enter the six-digit code from your authenticator app.", "error");
        return;
      }
      await busy(disableForm, () => api("DELETE", "/api/me/totp", { code }));
      disableForm.reset();
      toast("Two-factor sign-in is off", "success");
      showTotp(false);
    });
  }
}

// API tokens ---------------------------------------------------------------------------------------------------

function tokenRow(token) {
  const revoke = h("button", { type: "button", class: "btn btn-ghost btn-small btn-danger-text", "data-testid": "token-revoke", "aria-label": `Revoke ${token.name}` }, "Revoke");
  revoke.addEventListener("click", async () => {
    const confirmed = await confirmAction(`Revoke "${token.name}"?`, "Programs using it are signed out at once.", "Revoke");
    if (!confirmed) return;
    await api("DELETE", `/api/tokens/${encodeURIComponent(token.id)}`);
    toast("Token revoked", "success");
    loadTokens();
  });
  const facts = [
    (token.scopes || []).join(", "),
    token.created_at ? `created ${formatDateTime(token.created_at)}` : "",
    token.last_used_at ? `last used ${formatDateTime(token.last_used_at)}` : "never used",
  ].filter(Boolean);
  return h(
    "li",
    { class: "row", "data-testid": "token-row", "data-token-id": token.id },
    h("div", { class: "row-main" }, h("strong", {}, token.name), h("span", { class: "muted small" }, facts.join(" · "))),
    revoke,
  );
}

async function loadTokens() {
  const tokens = await api("GET", "/api/tokens");
  const list = document.getElementById("tokens-list");
  list.replaceChildren(...(tokens.length ? tokens.map(tokenRow) : [h("li", { class: "row muted", "data-testid": "tokens-empty" }, "No tokens.")]));
}

function wireTokens() {
  const form = document.getElementById("token-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = form.name.value.trim();
    const scopes = [...form.querySelectorAll('input[name="scopes"]:checked')].map((input) => input.value);
    if (!name) return toast("Give the token a name.", "error");
    if (scopes.length === 0) return toast("Tick at least one scope.", "error");
    const answer = await busy(form, () => api("POST", "/api/tokens", { name, scopes }));
    document.getElementById("token-value").textContent = answer.token;
    document.getElementById("token-created").hidden = false;
    form.reset();
    loadTokens();
  });
  document.getElementById("token-copy").addEventListener("click", () => {
    const element = document.getElementById("token-value");
    copyText(element.textContent, element);
  });
}

// Sessions -----------------------------------------------------------------------------------------------------

document.getElementById("sign-out-everywhere").addEventListener("click", async () => {
  const confirmed = await confirmAction("Sign out everywhere?", "Every browser and phone signed in as you is signed out, this one too. API tokens keep working.", "Sign out everywhere");
  if (!confirmed) return;
  await api("POST", "/api/auth/logout-everywhere");
  location.assign("/login");
});

async function init() {
  wireHomeKey();
  wirePassword();
  wireTotp();
  wireTokens();
  const me = await api("GET", "/api/me");
  showTotp(Boolean(me.totp_enabled));
  await Promise.all([loadHomeKey(), household ? loadTokens() : null]);
}

init();
