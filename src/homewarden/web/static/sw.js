// The service worker: shows the hub's push notifications (alarms, doorbell) and opens the event on a click.
// The push message carries URLs only; the snapshot is fetched here from the hub with the user's cookie, so no image
// ever passes through the push service.

function bytesToBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (let index = 0; index < bytes.length; index += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  }
  return btoa(text);
}

async function snapshotDataUrl(path) {
  // Same origin only: a payload naming another site's URL is ignored.
  const url = new URL(path, self.location.origin);
  if (url.origin !== self.location.origin) return undefined;
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    const kind = response.headers.get("content-type") || "";
    if (!response.ok || !kind.startsWith("image/")) return undefined;
    return `data:${kind};base64,${bytesToBase64(await response.arrayBuffer())}`;
  } catch {
    return undefined; // signed out, recordings locked or the snapshot not written yet: the text is enough
  }
}

function sameOriginPath(path) {
  const url = new URL(path || "/", self.location.origin);
  return url.origin === self.location.origin ? url.pathname + url.search : "/";
}

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = { title: "Homewarden", body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    (async () => {
      const image = message.snapshot ? await snapshotDataUrl(message.snapshot) : undefined;
      await self.registration.showNotification(message.title || "Homewarden", {
        body: message.body || "",
        tag: message.tag || undefined,
        renotify: Boolean(message.tag),
        icon: "/static/favicon.svg",
        image,
        data: { url: sameOriginPath(message.url) },
      });
    })(),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if (client.url === target && "focus" in client) return client.focus();
      }
      return self.clients.openWindow(target);
    })(),
  );
});
