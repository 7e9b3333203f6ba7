"""The review program's pages: the reviewers' workbench and the admins' counts, one static page and script each.

Everything they show comes from the JSON API with the staff session's bearer token (kept in the tab's session
storage only). The clip is fetched once through its single-use link and played from memory (a blob: URL revoked
when the next clip comes); there is no download control and no address to share.
"""

from __future__ import annotations

import json

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from homewarden.cloud.api.deps import public
from homewarden.cloud.api.pages import SECURITY_HEADERS

router = APIRouter(tags=["pages"])

# The workbench plays the clip from a blob: URL made by its own script; nothing else may be loaded from elsewhere.
WORKBENCH_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": (
        "default-src 'self'; media-src blob:; script-src 'self'; style-src 'self' 'unsafe-inline'"
    ),
    "Cache-Control": "no-store",
}

SIGN_IN = """<section id="signin"><h2>Sign in</h2><form id="signin-form">
<p><label>User name <input name="username" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><label>Code from your authenticator <input name="code" inputmode="numeric" autocomplete="one-time-code"
 pattern="[0-9 ]{6,8}" required></label></p>
<p><button>Sign in</button></p></form></section>"""

STYLE = """<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}
section{margin:1.5rem 0}[hidden]{display:none}video{width:100%;background:#000}table{border-collapse:collapse}
td,th{padding:.2rem .6rem;border-bottom:1px solid #ccc;text-align:left}
#stage{position:relative}#stage video{display:block}
#overlay{position:absolute;left:0;top:0;width:100%;height:100%;cursor:crosshair;touch-action:none}</style>"""

# The verifier's classes (labels.CLASSES) as the reviewer reads them.
CLASS_NAMES = {
    "person": "person",
    "cat": "cat",
    "dog": "dog",
    "animal": "other animal",
    "vehicle": "vehicle",
    "nothing": "nothing / false alarm",
}
CLASS_OPTIONS = "".join(f'<option value="{value}">{name}</option>' for value, name in CLASS_NAMES.items())

WORKBENCH_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Review workbench</title>{STYLE}</head>
<body><h1>Review workbench</h1>
<p>One clip at a time. Every view, label and flag is reported to the household that donated the clip, under your
pseudonym. Your pseudonym and the time are burned into the picture.</p>
{SIGN_IN}
<section id="bench" hidden><p id="day"></p>
<p><button id="next">Next clip</button> <button id="signout">Sign out</button></p>
<div id="clip" hidden><p id="about"></p>
<div id="stage">
<video id="player" controls controlslist="nodownload noplaybackrate" disablepictureinpicture playsinline></video>
<canvas id="overlay" hidden></canvas></div>
<form id="labels-form"><fieldset><legend>Boxes</legend>
<p>Pause on a frame and drag a box around each thing you see; each box keeps its class and the clip's time.</p>
<p><label>Box class <select id="box-class">{CLASS_OPTIONS}</select></label>
<button type="button" id="draw">Pause and draw boxes</button>
<button type="button" id="done-drawing" hidden>Done drawing</button></p>
<ol id="boxes"></ol></fieldset>
<fieldset><legend>Verdict</legend>
<label><input type="radio" name="verdict" value="real_event" required> Real event</label>
<label><input type="radio" name="verdict" value="false_alarm"> False alarm</label>
<label>Cause <select name="cause"><option value="">(real event)</option><option>pet</option>
<option value="shadow_or_light">shadow or light</option><option>insect</option><option>weather</option>
<option>vehicle</option><option>other</option></select></label>
<label>What is it <select name="label" required><option value="">(choose)</option>{CLASS_OPTIONS}</select></label>
</fieldset>
<p><button>Save labels</button> <button type="button" id="flag">Inappropriate content</button></p></form></div>
</section>
<p id="message" role="status"></p>
<script src="/review/workbench.js"></script></body></html>
"""

COMMON_SCRIPT = """'use strict';
const $ = (id) => document.getElementById(id);
const KEY = 'hw-review-token';
let token = sessionStorage.getItem(KEY);
async function call(method, path, body) {
  const headers = {'Content-Type': 'application/json'};
  if (token) headers.Authorization = 'Bearer ' + token;
  const answer = await fetch(path, {method, headers, body: body ? JSON.stringify(body) : undefined,
                                    cache: 'no-store'});
  if (answer.status === 204) return null;
  const data = await answer.json();
  if (answer.status === 401) { token = null; sessionStorage.removeItem(KEY); }
  if (!answer.ok) throw new Error(data.detail || answer.statusText);
  return data;
}
function say(text) { $('message').textContent = text; }
$('signin-form').onsubmit = async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const session = await call('POST', '/api/v1/staff/session',
      {username: form.get('username'), password: form.get('password'), code: form.get('code')});
    token = session.token; sessionStorage.setItem(KEY, token); event.target.reset(); say(''); show();
  } catch (error) { say(error.message); }
};
$('signout').onclick = async () => {
  try { await call('DELETE', '/api/v1/staff/session'); } finally {
    token = null; sessionStorage.removeItem(KEY); show();
  }
};
"""

WORKBENCH_SCRIPT = (
    COMMON_SCRIPT
    + f"const CLASS_NAMES = {json.dumps(CLASS_NAMES)};\n"
    + """
let assignment = null;
let shown = null;
// Boxes as fractions of the frame: the video keeps the clip's aspect ratio, so its box is the frame's.
let boxes = [];
let drag = null;
$('player').addEventListener('contextmenu', (event) => event.preventDefault());
function fraction(event) {
  const r = $('overlay').getBoundingClientRect();
  const clamp = (v) => Math.min(1, Math.max(0, v));
  return [clamp((event.clientX - r.left) / r.width), clamp((event.clientY - r.top) / r.height)];
}
function paint() {
  const canvas = $('overlay'); const r = canvas.getBoundingClientRect();
  canvas.width = Math.round(r.width); canvas.height = Math.round(r.height);
  const g = canvas.getContext('2d'); const w = canvas.width; const h = canvas.height;
  g.clearRect(0, 0, w, h); g.lineWidth = 2; g.font = '14px system-ui, sans-serif';
  const now = $('player').currentTime;
  for (const b of [...boxes.filter((b) => Math.abs(b.t - now) < 0.05), ...(drag ? [drag] : [])]) {
    g.strokeStyle = '#ff0'; g.strokeRect(b.x1 * w, b.y1 * h, (b.x2 - b.x1) * w, (b.y2 - b.y1) * h);
    g.fillStyle = '#ff0'; g.fillText(CLASS_NAMES[b.label], b.x1 * w + 3, b.y1 * h + 15);
  }
}
function listBoxes() {
  const list = $('boxes'); list.replaceChildren();
  boxes.forEach((b, index) => {
    const item = document.createElement('li');
    item.textContent = `${CLASS_NAMES[b.label]} at ${b.t.toFixed(2)} s `;
    const remove = document.createElement('button');
    remove.type = 'button'; remove.textContent = 'Remove';
    remove.onclick = () => { boxes.splice(index, 1); listBoxes(); paint(); };
    item.append(remove); list.append(item);
  });
}
function drawing(on) {
  $('overlay').hidden = !on; $('draw').hidden = on; $('done-drawing').hidden = !on;
  if (on) { $('player').pause(); paint(); }
}
$('draw').onclick = () => drawing(true);
$('done-drawing').onclick = () => drawing(false);
$('overlay').onpointerdown = (event) => {
  const [x, y] = fraction(event);
  drag = {x0: x, y0: y, x1: x, y1: y, x2: x, y2: y, label: $('box-class').value};
  $('overlay').setPointerCapture(event.pointerId);
};
$('overlay').onpointermove = (event) => {
  if (!drag) return;
  const [x, y] = fraction(event);
  Object.assign(drag, {x1: Math.min(drag.x0, x), y1: Math.min(drag.y0, y), x2: Math.max(drag.x0, x),
                       y2: Math.max(drag.y0, y)});
  paint();
};
$('overlay').onpointerup = () => {
  if (!drag) return;
  const {x1, y1, x2, y2, label} = drag; drag = null;
  // A click is not a box (the server refuses sides under half a percent of the frame).
  if (x2 - x1 >= 0.01 && y2 - y1 >= 0.01) boxes.push({t: $('player').currentTime, x1, y1, x2, y2, label});
  listBoxes(); paint();
};
function forget() {
  if (shown) { URL.revokeObjectURL(shown); shown = null; }
  $('player').removeAttribute('src'); $('player').load(); $('clip').hidden = true; assignment = null;
  boxes = []; drag = null; listBoxes(); drawing(false);
}
async function show() {
  if (!token) { $('signin').hidden = false; $('bench').hidden = true; return; }
  try {
    const day = await call('GET', '/api/v1/workbench');
    $('signin').hidden = true; $('bench').hidden = false;
    $('day').textContent = `You are ${day.pseudonym}: ${day.used_today} of ${day.quota} clips today.`;
    if (day.assignment && (!assignment || assignment.id !== day.assignment.id)) await open(day.assignment);
  } catch (error) { say(error.message); if (!token) show(); }
}
async function open(next) {
  forget();
  assignment = next;
  $('about').textContent = `Clip ${next.id}: the hub saw "${next.label}"`
    + (next.duration_s ? `, ${next.duration_s.toFixed(1)} s` : '') + '.';
  const link = await call('POST', `/api/v1/workbench/assignments/${next.id}/media`);
  const answer = await fetch(link.url, {headers: {Authorization: 'Bearer ' + token}, cache: 'no-store'});
  if (!answer.ok) throw new Error((await answer.json()).detail);
  shown = URL.createObjectURL(await answer.blob());
  $('player').src = shown;
  $('clip').hidden = false;
}
$('next').onclick = async () => {
  try { say(''); await open(await call('POST', '/api/v1/workbench/next')); show(); }
  catch (error) { say(error.message); }
};
$('labels-form').onsubmit = async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const labels = {verdict: form.get('verdict'), label: form.get('label'), boxes};
  if (form.get('cause')) labels.cause = form.get('cause');
  try {
    await call('POST', `/api/v1/workbench/assignments/${assignment.id}/labels`, labels);
    event.target.reset(); forget(); say('Labels saved.'); show();
  } catch (error) { say(error.message); }
};
$('flag').onclick = async () => {
  try {
    await call('POST', `/api/v1/workbench/assignments/${assignment.id}/flag`, {reason: 'inappropriate content'});
    forget(); say('The clip was deleted; its household will be told.'); show();
  } catch (error) { say(error.message); }
};
show();
"""
)

ADMIN_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Review program admin</title>{STYLE}</head>
<body><h1>Review program admin</h1>
<p>Counts and reviewer accounts only: no clip is reachable from here.</p>
{SIGN_IN}
<section id="bench" hidden><h2>Queue</h2><table id="states"></table>
<h2>Homes (opaque ids)</h2><table id="homes"></table>
<h2>Reviewers</h2><table id="reviewers"></table>
<p><button id="signout">Sign out</button></p></section>
<p id="message" role="status"></p>
<script src="/review-admin/admin.js"></script></body></html>
"""

ADMIN_SCRIPT = (
    COMMON_SCRIPT
    + """
function table(id, header, rows) {
  const element = $(id); element.replaceChildren();
  for (const cells of [header, ...rows]) {
    const row = document.createElement('tr');
    for (const cell of cells) { const td = document.createElement('td'); td.textContent = cell; row.append(td); }
    element.append(row);
  }
}
async function show() {
  if (!token) { $('signin').hidden = false; $('bench').hidden = true; return; }
  try {
    const queue = await call('GET', '/api/v1/review-admin/queue');
    $('signin').hidden = true; $('bench').hidden = false;
    table('states', ['state', 'copies'], Object.entries(queue.states));
    table('homes', ['home', 'copies by state'],
      Object.entries(queue.homes).map(([home, states]) => [home, JSON.stringify(states)]));
    table('reviewers', ['reviewer', 'pseudonym', 'today', 'quota', 'disabled'],
      queue.reviewers.map((r) => [r.username, r.pseudonym, r.used_today, r.quota, r.disabled ? 'yes' : '']));
  } catch (error) { say(error.message); if (!token) show(); }
}
show();
"""
)


@router.get("/review", response_class=HTMLResponse, include_in_schema=False)
@public
def workbench_page() -> HTMLResponse:
    """Serve the reviewers' workbench page."""
    return HTMLResponse(WORKBENCH_PAGE, headers=WORKBENCH_HEADERS)


@router.get("/review/workbench.js", include_in_schema=False)
@public
def workbench_script() -> Response:
    """Serve the workbench's script."""
    return Response(WORKBENCH_SCRIPT, media_type="text/javascript", headers=WORKBENCH_HEADERS)


@router.get("/review-admin", response_class=HTMLResponse, include_in_schema=False)
@public
def admin_page() -> HTMLResponse:
    """Serve the admins' page."""
    return HTMLResponse(ADMIN_PAGE, headers=WORKBENCH_HEADERS)


@router.get("/review-admin/admin.js", include_in_schema=False)
@public
def admin_script() -> Response:
    """Serve the admins' page's script."""
    return Response(ADMIN_SCRIPT, media_type="text/javascript", headers=WORKBENCH_HEADERS)
