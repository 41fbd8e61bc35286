// The API reference: Swagger UI on this sandbox's own OpenAPI document, with the world's controls in a bar.
// The token follows the world: the page authorizes itself at load, after a reset, a clock change or a tenant
// change, when the token endpoint is executed, and when a call answers token_expired.
(function () {
  "use strict";
  var S = window.Sandbox;
  var ui;

  var panel = document.getElementById("control-output");
  function show(title, text) {
    document.getElementById("control-title").textContent = title;
    document.getElementById("control-body").textContent = text;
    panel.hidden = false;  // a fixed panel at the bottom of the window: output appears where the user is looking
    document.getElementById("control-close").focus({ preventScroll: true });
  }
  document.getElementById("control-close").addEventListener("click", function () { panel.hidden = true; });

  function authorizeWith(token) {
    ui.authActions.logout(["oauth2"]);  // one token at a time: a stale oauth2 one would be sent too
    ui.preauthorizeApiKey("bearerAuth", token);
    document.getElementById("auth-state").textContent = "Authorized (" + S.tenant() + ")";
  }

  function reauthorize(why) {
    return S.token().then(authorizeWith).then(function () {
      if (why) { document.getElementById("auth-state").textContent = "Re-authorized after " + why; }
    }).catch(function (error) { document.getElementById("auth-state").textContent = String(error); });
  }

  function pathOf(url) { return new URL(url, window.location.href).pathname; }

  // The examples tell one story: the patient resolve creates (Marie Fouda) is the one the consent, records and
  // pushes name; her consent expires 30 days after the sandbox's now (never stale); subscriptions go to the inbox.
  var STORY_KEY = "opescare-sandbox.story-health-id.";
  function tellOneStory(spec, now) {
    var resolve = spec.paths["/api/v1/connect/patients/resolve"].post.responses["201"];
    var hid = window.sessionStorage.getItem(STORY_KEY + S.tenant()) || resolve.content["application/json"].example.health_id;
    Object.keys(spec.paths).forEach(function (path) {
      var item = spec.paths[path];
      Object.keys(item).forEach(function (method) {
        (method === "parameters" ? item.parameters : (item[method].parameters || [])).forEach(function (p) {
          if (p.name === "health_id" && p.in === "path") { p.example = hid; }
        });
      });
    });
    ["EncounterPush", "LabResultPush"].forEach(function (name) {
      var schema = spec.components.schemas[name];
      if (schema && schema.properties.health_id) { schema.properties.health_id.example = hid; }
    });
    var grant = spec.paths["/api/v1/connect/patient/{health_id}/consent/grant"].post.requestBody.content["application/json"];
    grant.example = Object.assign({}, grant.example, {
      expires_at: new Date(Date.parse(now) + 30 * 86400 * 1000).toISOString().replace(/\.\d+Z$/, "Z") });
    var inbox = window.localStorage.getItem("opescare-sandbox.inbox." + S.tenant());
    var subscribe = spec.paths["/api/v1/connect/webhooks/subscriptions"].post.requestBody.content["application/json"];
    if (inbox) { subscribe.example = Object.assign({}, subscribe.example, { callback_url: window.location.origin + "/sandbox/inbox/" + inbox }); }
    return spec;
  }

  Promise.all([window.fetch("/openapi.json", { credentials: "omit" }).then(function (r) { return r.json(); }),
               S.call("GET", "/sandbox/clock")])
    .then(function (loaded) {
      start(tellOneStory(loaded[0], loaded[1].status === 200 ? loaded[1].body.now : new Date().toISOString()));
    });

  function start(spec) {
    ui = window.SwaggerUIBundle({
      spec: spec,
      dom_id: "#swagger-ui",
      deepLinking: false,  // its link inside each operation's summary button is a nested control (axe: nested-interactive)
      persistAuthorization: false,  // the token belongs to one world; the page gets a fresh one itself
      tryItOutEnabled: true,
      displayRequestDuration: false,  // the browser's round trip, not the server's time (see the dashboard's journal)
      filter: true,
      docExpansion: "list",
      presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIStandalonePreset],
      plugins: [window.SandboxSnippets.plugin],
      requestSnippetsEnabled: true,
      requestSnippets: window.SandboxSnippets.config,
      layout: "BaseLayout",
      oauth2RedirectUrl: window.location.origin + "/docs/assets/oauth2-redirect.html",
      requestInterceptor: function (request) {
        var path = pathOf(request.url || "");
        request.headers["X-Sandbox-Tenant"] = S.tenant();
        if (S.adminToken() && path.indexOf("/sandbox/") !== -1) { request.headers.Authorization = "Bearer " + S.adminToken(); }
        request.credentials = "omit";  // a Basic 401 never opens the browser's login dialog (sandbox.js)
        if (!S.confirmChange(request.method, path, request.body)) { throw new Error("cancelled"); }
        return request;
      },
      responseInterceptor: function (response) {
        var path = pathOf(response.url || "");
        var body = response.body || {};
        if (path === "/api/v1/connect/patients/resolve" && response.status < 300 && body.health_id) {
          window.sessionStorage.setItem(STORY_KEY + S.tenant(), body.health_id);  // the next load's examples name her
        }
        if (path === "/api/v1/connect/auth/token" && response.status === 200 && body.access_token) {
          setTimeout(function () { authorizeWith(body.access_token); }, 0);
        } else if (response.status < 300 && S.changesWorld(response.method || "POST", path)) {
          setTimeout(function () { reauthorize(path); }, 0);
        } else if (response.status === 401 && path.indexOf("/api/v1/connect/") === 0 &&
                   (body.error === "token_expired" || body.error === "invalid_token")) {
          setTimeout(function () { reauthorize(body.error + ": execute again"); }, 0);
        }
        return response;
      },
      onComplete: function () {
        ui.initOAuth({ clientId: S.DEMO.client_id, clientSecret: S.DEMO.client_secret });
        ui.preauthorizeBasic("openEyesBasic", "api_user", "password");  // OpenEyes' published credentials
        reauthorize();
      }
    });
    window.ui = ui;
  }
  S.bindBar();
  window.addEventListener("sandbox:world", function (event) { reauthorize(event.detail); });

  function runControl(method, path, body) {
    if (!S.confirmChange(method, path, body && JSON.stringify(body))) { return; }
    S.call(method, path, body).then(function (answer) {
      show(method + " " + path + " → " + answer.status,
           typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body, null, 2));
    }).catch(function (error) { show(method + " " + path, String(error)); });
  }

  // The fault form: POST /sandbox/faults with what it holds (docs/faults.md).
  document.querySelector("#fault-form form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var fault = { method: form.method.value, path: form.path.value.trim(), times: Number(form.times.value) };
    if (form.client_id.value.trim()) { fault.client_id = form.client_id.value.trim(); }
    if (form.kind.value === "drop") { fault.drop = true; } else { fault[form.kind.value] = Number(form.value.value); }
    runControl("POST", "/sandbox/faults", fault);
  });

  document.querySelectorAll("[data-control]").forEach(function (button) {
    button.addEventListener("click", function () {
      var parts = button.getAttribute("data-control").split(" ");
      var body = button.getAttribute("data-body");
      runControl(parts[0], parts[1], body ? JSON.parse(body) : undefined);
    });
  });
})();
