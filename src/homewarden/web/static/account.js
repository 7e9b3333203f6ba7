// Account: password, two-factor sign-in, API tokens, notifications on this browser, sign out everywhere and, for
// owners, the home key and the webhooks.
import {
  ApiError,
  api,
  busy,
  clearFieldErrors,
  confirmAction,
  copyText,
  currentUser,
  formatDateTime,
  h,
  setCsrfToken,
  showAtField,
  showFieldErrors,
  showFormError,
  svgDataUrl,
  t,
  tn,
  toast,
} from "/static/app.js";

const household = currentUser.role === "owner" || currentUser.role === "member";

// Home key (owner) ---------------------------------------------------------------------------------------------

async function loadHomeKey() {
  const status = document.getElementById("home-key-status");
  if (!status) return;
  const home = await api("GET", "/api/home");
  status.textContent = home.unlocked ? t("unlocked") : t("locked");
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
    toast(t("Recordings unlocked"), "success");
    loadHomeKey();
  });
  document.getElementById("home-lock").addEventListener("click", async () => {
    const confirmed = await confirmAction(
      t("Lock the recordings?"),
      t("Nobody can play clips or see snapshots until you sign in again or unlock them here. Recording goes on."),
      "Lock",
    );
    if (!confirmed) return;
    await api("POST", "/api/home/lock");
    toast(t("Recordings locked"), "success");
    loadHomeKey();
  });
}

// Password -----------------------------------------------------------------------------------------------------

function wirePassword() {
  const form = document.getElementById("password-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const current = form.current_password.value;
    const next = form.new_password.value;
    if (!current) return showAtField(form, "current_password", t("Enter your current password."));
    if (next.length < 12) return showAtField(form, "new_password", t("The new password needs at least 12 characters."));
    if (next !== form.new_password_confirm.value) return showAtField(form, "new_password_confirm", t("The two new passwords differ."));
    const revokeTokens = Boolean(form.revoke_tokens && form.revoke_tokens.checked);
    let answer;
    try {
      answer = await busy(form, () =>
        api(
          "POST",
          "/api/me/password",
          { current_password: current, new_password: next, revoke_tokens: revokeTokens },
          { expect: [400, 403, 422, 429] },
        ),
      );
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showFieldErrors(form, error);
      return;
    }
    // This browser's session goes on under a new cookie and CSRF token; every other one was signed out.
    setCsrfToken(answer.csrf_token);
    form.reset();
    toast(tn("Password changed; {count} other session signed out", "Password changed; {count} other sessions signed out", answer.sessions_ended), "success");
    if (revokeTokens && household) loadTokens();
  });
}

// Two-factor sign-in -------------------------------------------------------------------------------------------

function showTotp(enabled) {
  const status = document.getElementById("totp-status");
  status.textContent = enabled ? t("on") : t("off");
  status.className = `badge ${enabled ? "badge-online" : ""}`;
  const start = document.getElementById("totp-start-form");
  start.hidden = false;
  // Moving two-factor sign-in to a new app needs a code from the one in use, so a stolen session alone cannot.
  document.getElementById("totp-start-code-field").hidden = !enabled;
  document.getElementById("totp-start").textContent = enabled ? t("Move to a new authenticator app") : t("Turn on two-factor sign-in");
  document.getElementById("totp-enrol").hidden = true;
  const disable = document.getElementById("totp-disable-form");
  if (disable) disable.hidden = !enabled;
}

function wireTotp() {
  const startForm = document.getElementById("totp-start-form");
  startForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const password = startForm.password.value;
    if (!password) return toast(t("Enter your password."), "error");
    const replacing = !document.getElementById("totp-start-code-field").hidden;
    const code = startForm.code.value.replace(/\s+/g, "");
    if (replacing && !/^\d{6}$/.test(code)) return toast(t("Enter the six-digit code from your current authenticator app."), "error");
    const answer = await busy(startForm, () => api("POST", "/api/me/totp", replacing ? { password, code } : { password }));
    startForm.reset();
    document.getElementById("totp-qr").src = svgDataUrl(answer.qr_svg);
    document.getElementById("totp-secret").textContent = answer.secret;
    startForm.hidden = true;
    const disable = document.getElementById("totp-disable-form");
    if (disable) disable.hidden = true;
    document.getElementById("totp-enrol").hidden = false;
    document.getElementById("totp-code").focus();
  });
  const confirmForm = document.getElementById("totp-confirm-form");
  confirmForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = confirmForm.code.value.replace(/\s+/g, "");
    if (!/^\d{6}$/.test(code)) {
      toast(t("Enter the six-digit code from your authenticator app."), "error");
      return;
    }
    await busy(confirmForm, () => api("POST", "/api/me/totp/confirm", { code }));
    confirmForm.reset();
    toast(t("Two-factor sign-in is on"), "success");
    showTotp(true);
  });
  const disableForm = document.getElementById("totp-disable-form");
  if (disableForm) {
    disableForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const password = disableForm.password.value;
      const code = disableForm.code.value.replace(/\s+/g, "");
      if (!password) return toast(t("Enter your password."), "error");
      if (!/^\d{6}$/.test(code)) {
        toast(t("Enter the six-digit code from your authenticator app."), "error");
        return;
      }
      await busy(disableForm, () => api("DELETE", "/api/me/totp", { password, code }));
      disableForm.reset();
      toast(t("Two-factor sign-in is off"), "success");
      showTotp(false);
    });
  }
}

// API tokens ---------------------------------------------------------------------------------------------------

function tokenRow(token) {
  const revoke = h("button", { type: "button", class: "btn btn-ghost btn-small btn-danger-text", "data-testid": "token-revoke", "aria-label": t("Revoke {name}", { name: token.name }) }, t("Revoke"));
  revoke.addEventListener("click", async () => {
    const confirmed = await confirmAction(t("Revoke “{name}”?", { name: token.name }), t("Programs using it are signed out at once."), t("Revoke"));
    if (!confirmed) return;
    await api("DELETE", `/api/tokens/${encodeURIComponent(token.id)}`);
    toast(t("Token revoked"), "success");
    loadTokens();
  });
  const facts = [
    (token.scopes || []).join(", "),
    token.created_at ? t("created {time}", { time: formatDateTime(token.created_at) }) : "",
    token.last_used_at ? t("last used {time}", { time: formatDateTime(token.last_used_at) }) : t("never used"),
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
  list.replaceChildren(...(tokens.length ? tokens.map(tokenRow) : [h("li", { class: "row muted", "data-testid": "tokens-empty" }, t("No tokens."))]));
}

function wireTokens() {
  const form = document.getElementById("token-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = form.name.value.trim();
    const scopes = [...form.querySelectorAll('input[name="scopes"]:checked')].map((input) => input.value);
    if (!name) return toast(t("Give the token a name."), "error");
    if (scopes.length === 0) return toast(t("Tick at least one scope."), "error");
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

// Notifications on this browser ----------------------------------------------------------------------------------

function urlBase64ToBytes(text) {
  const padded = (text + "=".repeat((4 - (text.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
}

function pushSupported() {
  return window.isSecureContext && "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

async function currentPushSubscription() {
  const registration = await navigator.serviceWorker.getRegistration("/");
  return registration ? registration.pushManager.getSubscription() : null;
}

function showPush(subscribed) {
  const status = document.getElementById("push-status");
  const blocked = Notification.permission === "denied";
  status.textContent = subscribed ? t("on") : blocked ? t("blocked") : t("off");
  status.className = `badge ${subscribed ? "badge-online" : ""}`;
  document.getElementById("push-enable").hidden = subscribed || blocked;
  document.getElementById("push-disable").hidden = !subscribed;
}

async function loadPush() {
  if (!document.getElementById("push")) return;
  if (!pushSupported()) {
    document.getElementById("push-status").textContent = t("unavailable");
    document.getElementById("push-unsupported").hidden = false;
    return;
  }
  showPush(Boolean(await currentPushSubscription()));
}

function wirePush() {
  const enable = document.getElementById("push-enable");
  if (!enable || !pushSupported()) return;
  enable.addEventListener("click", async () => {
    enable.disabled = true;
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        toast(t("Notifications are blocked for this site in your browser's settings."), "error");
        return;
      }
      const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      await navigator.serviceWorker.ready;
      const { public_key: key } = await api("GET", "/api/push/key");
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: urlBase64ToBytes(key),
      });
      const { endpoint, keys } = subscription.toJSON();
      await api("POST", "/api/push/subscriptions", { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } });
      toast(t("Notifications are on for this browser"), "success");
    } catch (error) {
      if (!(error instanceof ApiError)) toast(t("This browser could not subscribe: {error}", { error: error.message }), "error");
    } finally {
      enable.disabled = false;
      loadPush();
    }
  });
  document.getElementById("push-disable").addEventListener("click", async () => {
    const subscription = await currentPushSubscription();
    if (subscription) {
      await api("DELETE", "/api/push/subscriptions", { endpoint: subscription.endpoint });
      await subscription.unsubscribe();
    }
    toast(t("Notifications are off for this browser"), "success");
    loadPush();
  });
}

// Webhooks (owner) -----------------------------------------------------------------------------------------------

const KIND_NAMES = {
  event_start: t("event start"),
  event_update: t("event update"),
  event_end: t("event end"),
  alarm: t("alarm"),
  doorbell: t("doorbell"),
  arming: t("arming"),
  motion: t("motion"),
  camera_status: t("camera state"),
  camera_offline: t("camera offline"),
  storage_problem: t("storage full"),
};

const DELIVERY_STATES = { delivered: t("delivered"), pending: t("pending"), failed: t("failed") };

function deliveryRow(delivery) {
  const badge = { delivered: "badge-online", pending: "", failed: "badge-alarm" }[delivery.state];
  const last = delivery.status_code ? `HTTP ${delivery.status_code}` : delivery.error || t("not sent yet");
  const facts = [
    formatDateTime(delivery.created_at),
    tn("{count} attempt", "{count} attempts", delivery.attempts),
    last,
    delivery.next_attempt_at ? t("next try {time}", { time: formatDateTime(delivery.next_attempt_at) }) : "",
  ].filter(Boolean);
  return h(
    "li",
    { class: "row", "data-testid": "webhook-delivery", "data-delivery-id": delivery.id },
    h(
      "div",
      { class: "row-main" },
      h("strong", {}, KIND_NAMES[delivery.kind] || delivery.kind),
      h("span", { class: "muted small" }, facts.join(" · ")),
    ),
    h("span", { class: `badge ${badge}`, "data-testid": "webhook-delivery-state" }, DELIVERY_STATES[delivery.state] || delivery.state),
  );
}

async function showDeliveries(webhook) {
  const deliveries = await api("GET", `/api/webhooks/${encodeURIComponent(webhook.id)}/deliveries`);
  const log = document.getElementById("webhook-log");
  document.getElementById("webhook-log-title").textContent = t("Deliveries to {url}", { url: webhook.url });
  document.getElementById("webhook-log-list").replaceChildren(
    ...(deliveries.length ? deliveries.map(deliveryRow) : [h("li", { class: "row muted", "data-testid": "webhook-log-empty" }, t("Nothing sent yet."))]),
  );
  log.hidden = false;
}

function webhookRow(webhook) {
  const button = (label, testid, onClick, extra = "") => {
    const element = h("button", { type: "button", class: `btn btn-ghost btn-small ${extra}`, "data-testid": testid }, label);
    element.addEventListener("click", onClick);
    return element;
  };
  const test = button(t("Send test"), "webhook-test", async () => {
    await api("POST", `/api/webhooks/${encodeURIComponent(webhook.id)}/test`);
    toast(t("Test message queued"), "success");
    setTimeout(() => showDeliveries(webhook), 3000);
  });
  const deliveries = button(t("Deliveries"), "webhook-deliveries", () => showDeliveries(webhook));
  const remove = button(
    "Delete",
    "webhook-delete",
    async () => {
      const confirmed = await confirmAction(t("Delete this webhook?"), t("{url} gets nothing more; its delivery log goes too.", { url: webhook.url }), t("Delete"));
      if (!confirmed) return;
      await api("DELETE", `/api/webhooks/${encodeURIComponent(webhook.id)}`);
      document.getElementById("webhook-log").hidden = true;
      toast(t("Webhook deleted"), "success");
      loadWebhooks();
    },
    "btn-danger-text",
  );
  return h(
    "li",
    { class: "row", "data-testid": "webhook-row", "data-webhook-id": webhook.id },
    h(
      "div",
      { class: "row-main" },
      h("strong", {}, webhook.url),
      h("span", { class: "muted small" }, webhook.events.map((kind) => KIND_NAMES[kind] || kind).join(", ")),
    ),
    test,
    deliveries,
    remove,
  );
}

async function loadWebhooks() {
  const list = document.getElementById("webhook-list");
  if (!list) return;
  const webhooks = await api("GET", "/api/webhooks");
  list.replaceChildren(...(webhooks.length ? webhooks.map(webhookRow) : [h("li", { class: "row muted", "data-testid": "webhook-empty" }, t("No webhooks."))]));
}

function wireWebhooks() {
  const form = document.getElementById("webhook-form");
  if (!form) return;
  const errorBox = document.getElementById("webhook-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormError(errorBox, "");
    const url = form.url.value.trim();
    const events = [...form.querySelectorAll('input[name="events"]:checked')].map((input) => input.value);
    if (!/^https?:\/\/\S+$/i.test(url)) return showFormError(errorBox, t("Enter an http:// or https:// URL."));
    if (events.length === 0) return showFormError(errorBox, t("Tick at least one kind of message."));
    let answer;
    try {
      answer = await busy(form, () => api("POST", "/api/webhooks", { url, events }, { expect: [422] }));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showFormError(errorBox, error.detail);
      return;
    }
    document.getElementById("webhook-secret").textContent = answer.secret;
    document.getElementById("webhook-created").hidden = false;
    form.reset();
    loadWebhooks();
  });
  document.getElementById("webhook-secret-copy").addEventListener("click", () => {
    const element = document.getElementById("webhook-secret");
    copyText(element.textContent, element);
  });
}

// Sessions -----------------------------------------------------------------------------------------------------

document.getElementById("sign-out-everywhere").addEventListener("click", async () => {
  const confirmed = await confirmAction(t("Sign out everywhere?"), t("Every browser and phone signed in as you is signed out, this one too. API tokens keep working."), t("Sign out everywhere"));
  if (!confirmed) return;
  await api("POST", "/api/auth/logout-everywhere");
  location.assign("/login");
});

// Language -----------------------------------------------------------------------------------------------------

function wireLanguage() {
  const form = document.getElementById("language-form");
  const select = form.language;
  select.addEventListener("change", async () => {
    await busy(form, () => api("PATCH", "/api/me", { language: select.value || null }, { form }));
    // The answer set (or cleared) the language cookie: the page comes back in the chosen language.
    location.reload();
  });
}

async function init() {
  wireLanguage();
  wireHomeKey();
  wirePassword();
  wireTotp();
  wireTokens();
  wirePush();
  wireWebhooks();
  const me = await api("GET", "/api/me");
  showTotp(Boolean(me.totp_enabled));
  await Promise.all([loadHomeKey(), household ? loadTokens() : null, household ? loadPush() : null, loadWebhooks()]);
}

init();
