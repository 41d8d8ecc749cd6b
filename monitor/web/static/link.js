// The owner's link page: the session starts only with this same-origin POST
// (never with the GET), so another site cannot log a browser into its app.
"use strict";
document.getElementById("btn-open").addEventListener("click", async () => {
  const err = document.getElementById("error");
  err.textContent = "";
  try {
    const r = await fetch(location.pathname, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"}, body: "{}"});
    const body = await r.json().catch(() => ({}));
    if (r.ok) location.assign(body.go || "/app");
    else err.textContent = body.error || ("error " + r.status);
  } catch (e) {
    err.textContent = "the monitoring service did not answer: " + e.message;
  }
});
