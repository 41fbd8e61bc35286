// Shared by the playground pages: the visitor's tenant (random, kept in this browser), the admin token, calls.
// Every call omits browser credentials: a 401 with `WWW-Authenticate: Basic` then never opens the browser's
// own login dialog (Fetch only prompts when credentials are included), so the page handles the 401 itself.
(function () {
  "use strict";
  var TENANT_KEY = "opescare-sandbox.tenant";
  var ADMIN_KEY = "opescare-sandbox.admin-token";
  var DEMO = { grant_type: "client_credentials", client_id: "demo_dev_sandbox",
               client_secret: "demo_secret_sandbox_2026" };

  // 96 random bits: on a shared server the tenant name is all that keeps one visitor's world from another's.
  function randomTenant() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return "v-" + Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function tenant() {
    var name = window.localStorage.getItem(TENANT_KEY);
    if (!name) { name = randomTenant(); window.localStorage.setItem(TENANT_KEY, name); }
    return name;
  }

  function worldChanged(why) {
    window.dispatchEvent(new CustomEvent("sandbox:world", { detail: why }));
  }

  function setTenant(name) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name) || name === tenant()) { return false; }
    window.localStorage.setItem(TENANT_KEY, name);
    worldChanged("tenant");
    return true;
  }

  function adminToken() { return window.sessionStorage.getItem(ADMIN_KEY) || ""; }
  function setAdminToken(value) { window.sessionStorage.setItem(ADMIN_KEY, value || ""); }

  function headers(path, extra) {
    var h = Object.assign({ "Accept": "application/json", "X-Sandbox-Tenant": tenant() }, extra || {});
    if (adminToken() && path.indexOf("/sandbox/") !== -1 && !h.Authorization) { h.Authorization = "Bearer " + adminToken(); }
    return h;
  }

  // Requests that move the world under the page's feet: they ask first, and the token is renewed after.
  function changesWorld(method, path) {
    return method === "POST" && /\/sandbox\/(reset|clock|snapshots\/[^/]+\/restore)(\?|$)/.test(path);
  }

  function confirmChange(method, path, body) {
    if (!changesWorld(method, path)) { return true; }
    var what = path.indexOf("/clock") !== -1 ? "Move the sandbox clock (" + (body || "") + ")?"
      : "Reset this world (tenant " + tenant() + ")? Patients, consents, records and events go back to the seed.";
    return window.confirm(what + " Tokens issued before may expire; the page gets a new one.");
  }

  // One call: {status, body (parsed JSON or text), text, headers}. `extra` adds headers (e.g. Authorization).
  function call(method, path, body, extra) {
    var h = headers(path, extra);
    if (body !== undefined) { h["Content-Type"] = "application/json"; }
    return window.fetch(path, { method: method, headers: h, credentials: "omit",
                                body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) {
        return response.text().then(function (text) {
          var parsed = text;
          try { parsed = JSON.parse(text); } catch (e) { /* not JSON: keep the text */ }
          return { status: response.status, body: parsed, text: text, headers: response.headers };
        });
      })
      .then(function (answer) {
        if (answer.status < 300 && changesWorld(method, path)) { worldChanged(path); }
        return answer;
      });
  }

  // A token for the published demo client, in the current tenant.
  function token() {
    return call("POST", "/api/v1/connect/auth/token", DEMO).then(function (answer) {
      if (answer.status !== 200) { throw new Error("token: " + answer.status + " " + answer.text); }
      return answer.body.access_token;
    });
  }

  function newWorld() {
    window.localStorage.setItem(TENANT_KEY, randomTenant());
    worldChanged("tenant");
  }

  // The tenant / admin token / new world controls every page's bar has.
  function bindBar() {
    var input = document.getElementById("tenant");
    var admin = document.getElementById("admin-token");
    var fresh = document.getElementById("new-world");
    if (input) {
      input.value = tenant();
      input.addEventListener("change", function () { if (!setTenant(input.value.trim())) { input.value = tenant(); } });
      window.addEventListener("sandbox:world", function () { input.value = tenant(); });
    }
    if (admin) {
      admin.value = adminToken();
      admin.addEventListener("change", function () { setAdminToken(admin.value.trim()); });
    }
    if (fresh) {
      fresh.addEventListener("click", function () {
        if (window.confirm("Start a new, empty world under a new random tenant? This one stays on the server.")) { newWorld(); }
      });
    }
  }

  window.Sandbox = { tenant: tenant, setTenant: setTenant, newWorld: newWorld, adminToken: adminToken,
                     headers: headers, call: call, token: token, changesWorld: changesWorld,
                     confirmChange: confirmChange, bindBar: bindBar, DEMO: DEMO };
})();
