// Every form of these pages is sent by the page's own script (a deferred module). Pressed before it has run (a slow
// phone, a busy hub), a form would be sent by the browser itself: a GET to the same page with what was typed,
// passwords included, in the address, and the page reloaded empty. This classic script runs before the page is
// parsed: it stops that, and sends a form pressed early again once the page's script has run.
let scriptsRan = false;
let pressedEarly = null;

document.addEventListener(
  "submit",
  (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method === "dialog") return;
    event.preventDefault();
    if (!scriptsRan) pressedEarly = form;
  },
  true,
);

// Deferred modules have run when DOMContentLoaded fires.
document.addEventListener("DOMContentLoaded", () => {
  scriptsRan = true;
  const form = pressedEarly;
  pressedEarly = null;
  if (form && form.isConnected) form.requestSubmit();
});
