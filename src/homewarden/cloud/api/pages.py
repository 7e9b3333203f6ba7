"""The household's account page: sign in, see the home's use, get a pairing code, unpair a hub.

One static page and its script; everything it shows comes from the JSON API with the account's bearer token.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from homewarden.cloud.api.deps import public

router = APIRouter(tags=["pages"])

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Homewarden Cloud</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
section{margin:1.5rem 0}code{font-size:1.4rem;letter-spacing:.1rem}[hidden]{display:none}</style></head>
<body><h1>Homewarden Cloud</h1>
<p>Off-site copies of your hub's footage, sealed by your hub: this service cannot read them.</p>
<section id="signin"><h2>Sign in</h2><form id="signin-form">
<p><label>User name <input name="username" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button>Sign in</button></p></form>
<h2>New account</h2><form id="signup-form">
<p><label>User name <input name="username" autocomplete="username" required></label></p>
<p><label>Password (12 characters or more)
<input name="password" type="password" autocomplete="new-password" minlength="12" required></label></p>
<p><label>Invitation code <input name="invitation" autocomplete="off"></label></p>
<p><button>Make the account</button></p></form></section>
<section id="account" hidden><h2 id="who"></h2>
<p id="usage"></p>
<p><button id="pair">Get a pairing code</button> <span id="code"></span></p>
<h3>Hubs</h3><ul id="hubs"></ul>
<p><button id="signout">Sign out</button></p></section>
<p id="message" role="status"></p>
<script src="/account.js"></script></body></html>
"""

SCRIPT = """'use strict';
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('hw-cloud-token');
async function call(method, path, body) {
  const headers = {'Content-Type': 'application/json'};
  if (token) headers.Authorization = 'Bearer ' + token;
  const answer = await fetch(path, {method, headers, body: body ? JSON.stringify(body) : undefined});
  if (answer.status === 204) return null;
  const data = await answer.json();
  if (!answer.ok) throw new Error(data.detail || answer.statusText);
  return data;
}
function say(text) { $('message').textContent = text; }
function size(bytes) { return (bytes / 1048576).toFixed(1) + ' MiB'; }
async function show() {
  if (!token) { $('signin').hidden = false; $('account').hidden = true; return; }
  try {
    const account = await call('GET', '/api/v1/account');
    $('signin').hidden = true; $('account').hidden = false;
    $('who').textContent = account.username;
    const home = account.home;
    $('usage').textContent = `${home.objects} objects, ${size(home.bytes)} of ${size(home.quota_bytes)};`
      + ` kept ${home.retention_days} days; last upload ${home.last_upload_at || 'never'}.`;
    const list = $('hubs'); list.replaceChildren();
    for (const hub of account.hubs) {
      const item = document.createElement('li');
      item.textContent = `${hub.name} (paired ${hub.paired_at})` + (hub.active ? ' ' : ' — unpaired');
      if (hub.active) {
        const button = document.createElement('button');
        button.textContent = 'Unpair';
        button.onclick = async () => { await call('DELETE', '/api/v1/hubs/' + hub.hub_id); show(); };
        item.append(button);
      }
      list.append(item);
    }
  } catch (error) { token = null; sessionStorage.removeItem('hw-cloud-token'); say(error.message); show(); }
}
$('signin-form').onsubmit = async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const credentials = {username: form.get('username'), password: form.get('password')};
    token = (await call('POST', '/api/v1/session', credentials)).token;
    sessionStorage.setItem('hw-cloud-token', token); say(''); show();
  } catch (error) { say(error.message); }
};
$('signup-form').onsubmit = async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const account = {username: form.get('username'), password: form.get('password')};
  if (form.get('invitation')) account.invitation = form.get('invitation');
  try {
    await call('POST', '/api/v1/accounts', account);
    token = (await call('POST', '/api/v1/session', {username: account.username, password: account.password})).token;
    sessionStorage.setItem('hw-cloud-token', token); say(''); show();
  } catch (error) { say(error.message); }
};
$('pair').onclick = async () => {
  try {
    const code = await call('POST', '/api/v1/pairing-codes');
    $('code').innerHTML = ''; const shown = document.createElement('code'); shown.textContent = code.code;
    $('code').append(shown, ` (works once, until ${code.expires_at})`);
  } catch (error) { say(error.message); }
};
$('signout').onclick = async () => {
  try { await call('DELETE', '/api/v1/session'); } finally {
    token = null; sessionStorage.removeItem('hw-cloud-token'); show();
  }
};
show();
"""


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
@public
def account_page() -> HTMLResponse:
    """Serve the account page."""
    return HTMLResponse(PAGE, headers=SECURITY_HEADERS)


@router.get("/account.js", include_in_schema=False)
@public
def account_script() -> Response:
    """Serve the account page's script."""
    return Response(SCRIPT, media_type="text/javascript", headers=SECURITY_HEADERS)


@router.get("/healthz", include_in_schema=False)
@public
def health() -> dict[str, str]:
    """Answer that the process serves (load balancers ask)."""
    return {"status": "ok"}
