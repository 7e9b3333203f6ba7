// The web app's shared module: the API helper, toasts, a confirm dialog, DOM and formatting helpers.
// Page scripts import from here; loading it also wires the header (sign-out) for every page.

// Language ----------------------------------------------------------------------------------------------------

/** The page's language (its <html lang>): the account's choice, else the browser's, as the hub chose it. */
export const language = document.documentElement.lang || "en";
/** The locale dates and numbers are written in: the browser's own variant of the page's language (en-GB, de-AT), else the language. */
export const locale = (navigator.languages || []).find((tag) => tag.split("-")[0].toLowerCase() === language) || language;
// The scripts' messages in the page's language, embedded by base.html as a JSON data block (no inline code, so
// the CSP holds): English id -> text, or for a plural (keyed by the singular) its forms.
const catalogElement = document.getElementById("messages");
const messages = catalogElement ? JSON.parse(catalogElement.textContent || "{}") : {};
const pluralRules = new Intl.PluralRules(locale);

function fill(text, values) {
  if (!values) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** Translate a message and fill its {name} placeholders: t("Camera {name} is offline", {name}). */
export function t(message, values) {
  const translated = messages[message];
  return fill(typeof translated === "string" && translated ? translated : message, values);
}

/** Translate the form of a message for `count` ({count} is filled in): tn("{count} event", "{count} events", n). */
export function tn(singular, plural, count, values) {
  const forms = messages[singular];
  const one = pluralRules.select(count) === "one";
  const text = Array.isArray(forms) && forms.length ? (one ? forms[0] : forms[forms.length - 1]) : one ? singular : plural;
  return fill(text, { count, ...values });
}

const csrfMeta = document.querySelector('meta[name="csrf-token"]');
let csrfToken = csrfMeta ? csrfMeta.content : "";

/** Use the CSRF token a sign-in or setup answer returned for the requests that follow. */
export function setCsrfToken(token) {
  csrfToken = token || "";
  if (csrfMeta) csrfMeta.content = csrfToken;
}

/** An error answer of the API: its status and its `detail` message. */
export class ApiError extends Error {
  constructor(status, detail, response) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.response = response;
    this.shown = false;
  }
}

function detailOf(payload, response) {
  const detail = payload && payload.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    // FastAPI's validation errors: name the field, say what is wrong with it.
    return detail
      .map((item) => {
        const where = Array.isArray(item.loc) ? item.loc.filter((part) => part !== "body").join(".") : "";
        return where ? `${where}: ${item.msg}` : item.msg;
      })
      .join("; ");
  }
  return `${response.status} ${response.statusText || "error"}`;
}

/** Where a signed-out visitor goes: the sign-in page, coming back here afterwards. */
export function loginUrl() {
  const here = location.pathname + location.search;
  return `/login?next=${encodeURIComponent(here)}`;
}

/**
 * Call the REST API with the session cookie and the CSRF token.
 *
 * `body` is sent as JSON, or as multipart when it is a FormData. A 401 sends the visitor to the sign-in page.
 * Other errors are shown (at the fields of `options.form` when given, else in the status region) and thrown as
 * ApiError, unless their status is listed in `options.expect`: the caller then handles them itself. Resolves to the parsed JSON, null for an empty answer, or the Response
 * for anything else.
 */
export async function api(method, path, body, options = {}) {
  const expect = options.expect || [];
  const headers = { Accept: "application/json" };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined && body !== null) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  if (options.form) clearFieldErrors(options.form);

  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  } catch (networkError) {
    const error = new ApiError(0, t("The hub cannot be reached. Check your connection and try again."), null);
    toast(error.detail, "error");
    error.shown = true;
    throw error;
  }

  const type = response.headers.get("content-type") || "";
  const parsed = type.includes("application/json") ? await response.json().catch(() => null) : null;
  if (response.ok) {
    if (response.status === 204) return null;
    return type.includes("application/json") ? parsed : response;
  }

  const error = new ApiError(response.status, detailOf(parsed, response), response);
  error.payload = parsed;
  if (expect.includes(response.status)) throw error;
  if (response.status === 401 && !options.noRedirect) {
    error.shown = true;
    location.assign(loginUrl());
    throw error;
  }
  if (options.form) showFieldErrors(options.form, error);
  else showStatus(error.detail, "error");
  error.shown = true;
  throw error;
}

/**
 * Send a FormData with XMLHttpRequest, so the upload's progress can be shown: `onProgress(fraction)` while the
 * bytes go out, `onProgress(null)` once they are all sent and the hub works on them. Errors as api() throws them.
 */
export function apiUpload(method, path, body, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, path);
    request.setRequestHeader("Accept", "application/json");
    if (csrfToken) request.setRequestHeader("X-CSRF-Token", csrfToken);
    request.upload.addEventListener("progress", (progress) => {
      if (progress.lengthComputable) onProgress(progress.loaded / progress.total);
    });
    request.upload.addEventListener("load", () => onProgress(null));
    request.addEventListener("error", () => reject(new ApiError(0, t("The hub cannot be reached. Check your connection and try again."), null)));
    request.addEventListener("load", () => {
      let parsed = null;
      try {
        parsed = JSON.parse(request.responseText);
      } catch {
        parsed = null;
      }
      if (request.status >= 200 && request.status < 300) {
        resolve(parsed);
        return;
      }
      if (request.status === 401) location.assign(loginUrl());
      const error = new ApiError(request.status, detailOf(parsed, { status: request.status, statusText: request.statusText }), null);
      error.payload = parsed;
      reject(error);
    });
    request.send(body);
  });
}

/** Turn an API message into a sentence: a capital first letter and a full stop ("no such user" -> "No such user."). */
export function sentence(text) {
  const trimmed = String(text || "").trim();
  if (!trimmed) return "";
  // A message that starts with a name ("grey.jpg: no face found", "olivia's session") keeps its spelling.
  const firstWord = trimmed.split(/\s/, 1)[0];
  const capital = /^[a-z]+,?$/.test(firstWord) ? trimmed.charAt(0).toUpperCase() + trimmed.slice(1) : trimmed;
  return /[.!?…)]$/.test(capital) ? capital : `${capital}.`;
}

let statusTimer = 0;

/**
 * Say something in the page's one status region. A new message replaces the one before (nothing piles up);
 * errors stay until replaced or dismissed, other messages for 5 s.
 */
export function showStatus(message, kind = "info") {
  const area = document.getElementById("toasts");
  if (!area) {
    window.alert(message);
    return;
  }
  window.clearTimeout(statusTimer);
  const item = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status", "data-testid": "toast" });
  const text = h("span", { class: "toast-text" }, sentence(message));
  const close = h("button", { type: "button", class: "toast-close", "aria-label": t("Dismiss") }, "×");
  close.addEventListener("click", () => item.remove());
  item.append(text, close);
  area.replaceChildren(item);
  if (kind !== "error") statusTimer = window.setTimeout(() => item.remove(), 5000);
}

/** Show a message in the status region (the one region: a new message replaces the old). */
export function toast(message, kind = "info") {
  showStatus(message, kind);
}

// An error nobody caught still reaches the screen; ones already shown by api() are not shown twice.
window.addEventListener("unhandledrejection", (event) => {
  const reason = event.reason;
  if (reason instanceof ApiError && reason.shown) {
    event.preventDefault();
    return;
  }
  toast(reason && reason.message ? reason.message : String(reason), "error");
});

/** Build an element: h("a", {href: "/", class: "x"}, "text", child). Text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Ask a yes/no question in the page's dialog; resolves to true when confirmed. */
export function confirmAction(title, text, confirmLabel = t("Confirm")) {
  const dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(window.confirm(`${title}\n\n${text}`));
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = confirmLabel;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

/** Show a form's error message next to it, as a sentence (and hide it when message is empty). */
export function showFormError(element, message) {
  if (!element) return;
  element.textContent = sentence(message);
  element.hidden = !message;
}

// Errors at the field --------------------------------------------------------------------------------------

function fieldOf(form, name) {
  const element = form.elements.namedItem(name);
  return element instanceof RadioNodeList ? element[0] : element;
}

function errorLineFor(field) {
  const holder = field.closest(".field") || field.parentElement;
  let line = holder.querySelector(":scope > .field-error");
  if (!line) {
    line = h("p", { class: "field-error", id: `${field.id || field.name}-error`, "data-testid": `field-error-${field.name}` });
    holder.append(line);
  }
  return line;
}

/** Remove every error shown at a form's fields and in its error line. */
export function clearFieldErrors(form) {
  form.querySelectorAll(".field-error").forEach((line) => {
    line.textContent = "";
    line.hidden = true;
  });
  form.querySelectorAll('[aria-invalid="true"]').forEach((field) => field.removeAttribute("aria-invalid"));
  form.querySelectorAll(".form-error").forEach((line) => showFormError(line, ""));
}

/** Put one message at one field: under it, announced with it, cleared as soon as the user changes the field. */
export function showAtField(form, name, message) {
  const field = fieldOf(form, name);
  if (!field) return false;
  const line = errorLineFor(field);
  line.textContent = sentence(message);
  line.hidden = false;
  field.setAttribute("aria-invalid", "true");
  field.setAttribute("aria-describedby", [field.getAttribute("aria-describedby"), line.id].filter(Boolean).filter((id, i, all) => all.indexOf(id) === i).join(" "));
  const clear = () => {
    line.hidden = true;
    field.removeAttribute("aria-invalid");
  };
  field.addEventListener("input", clear, { once: true });
  field.addEventListener("change", clear, { once: true });
  return true;
}

/** The fields an API message names: "password: too short", or a sentence that mentions a field's name. */
function fieldsNamed(form, message) {
  const text = message.toLowerCase();
  const names = [...form.elements].map((field) => field.name).filter(Boolean);
  const prefix = names.find((name) => text.startsWith(`${name.toLowerCase()}:`));
  if (prefix) return [prefix];
  const spoken = (name) => name.toLowerCase().replaceAll("_", " ");
  const mentioned = names.filter((name) => new RegExp(`\\b${spoken(name)}s?\\b`).test(text));
  return mentioned.slice(0, 1);
}

/**
 * Show an API error where it belongs: at each field a 422 names, at the field a message mentions, otherwise in the
 * form's error line (or the status region). Older errors of the form are cleared first.
 */
export function showFieldErrors(form, error) {
  clearFieldErrors(form);
  const detail = error.payload;
  let placed = false;
  if (detail && Array.isArray(detail.detail)) {
    for (const item of detail.detail) {
      const name = Array.isArray(item.loc) ? item.loc.filter((part) => part !== "body" && part !== "query").join(".") : "";
      placed = (name && showAtField(form, name, item.msg)) || placed;
    }
  } else {
    const [name] = fieldsNamed(form, error.detail);
    placed = Boolean(name) && showAtField(form, name, error.detail);
  }
  if (placed) {
    const first = form.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
    return;
  }
  const line = form.querySelector(".form-error");
  if (line) showFormError(line, error.detail);
  else showStatus(error.detail, "error");
}

/** Disable a form's buttons while a request runs. */
export async function busy(form, work) {
  const buttons = form.querySelectorAll("button");
  buttons.forEach((button) => {
    button.disabled = true;
  });
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    buttons.forEach((button) => {
      button.disabled = false;
    });
    form.removeAttribute("aria-busy");
  }
}

/** Copy text to the clipboard, falling back to selecting it. */
export async function copyText(text, element) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t("Copied"), "success");
  } catch {
    if (element) {
      const range = document.createRange();
      range.selectNodeContents(element);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    toast(t("Select the text and copy it by hand"), "info");
  }
}

/** Turn SVG markup (a QR code) into a data: URL an <img> can show. */
export function svgDataUrl(svg) {
  // The CSP allows data: images, and an <img> never runs an SVG's scripts. As a document of its own the SVG needs
  // its namespace, which markup made for inlining into HTML leaves out.
  const standalone = /^<svg(?![^>]*\sxmlns=)/.test(svg) ? svg.replace(/^<svg/, '<svg xmlns="http://www.w3.org/2000/svg"') : svg;
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(standalone)}`;
}

/** The signed-in user as rendered by the server. */
export const currentUser = {
  username: document.body.dataset.username || "",
  role: document.body.dataset.role || "",
};

// Formatting --------------------------------------------------------------------------------------------------

/** The home's time zone, which the page carries: every time is shown in it, wherever the browser is. */
export const homeTimeZone = document.body.dataset.timezone || undefined;
const zoned = (options) => new Intl.DateTimeFormat(locale, { ...options, timeZone: homeTimeZone });
const timeFormat = zoned({ hour: "numeric", minute: "2-digit" });
const timeSecondsFormat = zoned({ hour: "numeric", minute: "2-digit", second: "2-digit" });
const dateFormat = zoned({ weekday: "long", day: "numeric", month: "long" });
const dateYearFormat = zoned({ day: "numeric", month: "long", year: "numeric" });
const dateTimeFormat = zoned({ dateStyle: "medium", timeStyle: "short" });
const dayKeyFormat = new Intl.DateTimeFormat("en-CA", { timeZone: homeTimeZone, year: "numeric", month: "2-digit", day: "2-digit" });

/** The home's calendar day of an instant, as YYYY-MM-DD. */
export function dayKey(date) {
  return dayKeyFormat.format(date);
}

export function parseTime(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatTime(value, seconds = false) {
  const date = parseTime(value);
  if (!date) return "";
  return (seconds ? timeSecondsFormat : timeFormat).format(date);
}

export function formatDateTime(value) {
  const date = parseTime(value);
  return date ? dateTimeFormat.format(date) : "";
}

/** t("Today"), t("Yesterday"), or the date: days of the home's calendar. */
export function formatDay(date) {
  const day = dayKey(date);
  const today = dayKey(new Date());
  const days = Math.round((Date.parse(today) - Date.parse(day)) / 86400000);
  if (days === 0) return t("Today");
  if (days === 1) return t("Yesterday");
  return day.slice(0, 4) === today.slice(0, 4) ? dateFormat.format(date) : dateYearFormat.format(date);
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(Number(seconds))) return "";
  const total = Math.max(0, Math.round(Number(seconds)));
  if (total < 60) return t("{seconds} s", { seconds: total });
  const minutes = Math.floor(total / 60);
  const rest = total % 60;
  if (minutes < 60) return rest ? t("{minutes} min {seconds} s", { minutes, seconds: rest }) : t("{minutes} min", { minutes });
  const hours = Math.floor(minutes / 60);
  return t("{hours} h {minutes} min", { hours, minutes: minutes % 60 });
}

export function formatRelative(value) {
  const date = parseTime(value);
  if (!date) return "";
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  if (seconds < 5) return t("just now");
  if (seconds < 60) return t("{seconds} s ago", { seconds });
  if (seconds < 3600) return t("{minutes} min ago", { minutes: Math.floor(seconds / 60) });
  if (seconds < 86400) return t("{hours} h ago", { hours: Math.floor(seconds / 3600) });
  return formatDateTime(value);
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = value < 10 && unit > 0 ? 1 : 0;
  const number = new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
  return `${number} ${units[unit]}`;
}

export function capitalize(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
}

/** What a detector saw, in words: "person" -> "Person" (a label it has no name for stays as it is). */
export const LABEL_NAMES = {
  person: t("Person"),
  car: t("Car"),
  dog: t("Dog"),
  cat: t("Cat"),
  bird: t("Bird"),
  bicycle: t("Bicycle"),
  motorcycle: t("Motorcycle"),
  truck: t("Truck"),
  motion: t("Motion"),
};

export function labelName(label) {
  return LABEL_NAMES[label] || capitalize(label || "");
}

export const MODE_NAMES = { away: t("Away"), home: t("Home"), night: t("Night"), disarmed: t("Disarmed") };

// The header --------------------------------------------------------------------------------------------------

async function signOut() {
  try {
    await api("POST", "/api/auth/logout", undefined, { expect: [401] });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
  }
  location.assign("/login");
}

document.querySelectorAll('[data-action="sign-out"]').forEach((button) => {
  button.addEventListener("click", () => {
    signOut();
  });
});
