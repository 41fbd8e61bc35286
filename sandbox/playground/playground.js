// The playground: Swagger UI on this sandbox's own OpenAPI document, plus a bar of sandbox controls.
// Every request the page makes (Swagger "Execute" and the control buttons) carries the chosen tenant.
(function () {
  "use strict";
  var tenantInput = document.getElementById("tenant");
  var adminInput = document.getElementById("admin-token");

  function tenant() { return tenantInput.value.trim() || "default"; }

  function withSandboxHeaders(headers) {
    headers["X-Sandbox-Tenant"] = tenant();
    return headers;
  }

  var ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: true,
    displayRequestDuration: true,
    filter: true,
    docExpansion: "list",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    oauth2RedirectUrl: window.location.origin + "/docs/assets/oauth2-redirect.html",
    requestInterceptor: function (request) {
      withSandboxHeaders(request.headers);
      var url = request.url || "";
      if (adminInput.value && url.indexOf("/sandbox/") !== -1) {
        request.headers["Authorization"] = "Bearer " + adminInput.value;
      }
      return request;
    }
  });
  // Pre-fill the OAuth client-credentials dialog with the published sandbox credentials.
  ui.initOAuth({ clientId: "demo_dev_sandbox", clientSecret: "demo_secret_sandbox_2026" });
  window.ui = ui;

  var panel = document.getElementById("control-output");
  function show(title, text) {
    document.getElementById("control-title").textContent = title;
    document.getElementById("control-body").textContent = text;
    panel.hidden = false;
  }
  document.getElementById("control-close").addEventListener("click", function () { panel.hidden = true; });

  function runControl(control, body) {
    var parts = control.split(" ");
    var headers = withSandboxHeaders({ "Accept": "application/json" });
    if (body) { headers["Content-Type"] = "application/json"; }
    if (adminInput.value) { headers["Authorization"] = "Bearer " + adminInput.value; }
    fetch(parts[1], { method: parts[0], headers: headers, body: body || undefined })
      .then(function (response) {
        return response.text().then(function (text) {
          var pretty = text;
          try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON */ }
          show(parts.join(" ") + " → " + response.status, pretty);
        });
      })
      .catch(function (error) { show(parts.join(" "), String(error)); });
  }

  // The fault form: POST /sandbox/faults with what it holds (docs/faults.md).
  document.querySelector("#fault-form form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var fault = { method: form.method.value, path: form.path.value.trim(), times: Number(form.times.value) };
    if (form.client_id.value.trim()) { fault.client_id = form.client_id.value.trim(); }
    if (form.kind.value === "drop") { fault.drop = true; } else { fault[form.kind.value] = Number(form.value.value); }
    runControl("POST /sandbox/faults", JSON.stringify(fault));
  });

  document.querySelectorAll("[data-control]").forEach(function (button) {
    button.addEventListener("click", function () {
      var parts = button.getAttribute("data-control").split(" ");
      var headers = withSandboxHeaders({ "Accept": "application/json" });
      var body = button.getAttribute("data-body");
      if (body) { headers["Content-Type"] = "application/json"; }
      if (adminInput.value) { headers["Authorization"] = "Bearer " + adminInput.value; }
      fetch(parts[1], { method: parts[0], headers: headers, body: body || undefined })
        .then(function (response) {
          return response.text().then(function (text) {
            var pretty = text;
            try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON */ }
            show(parts.join(" ") + " → " + response.status, pretty);
          });
        })
        .catch(function (error) { show(parts.join(" "), String(error)); });
    });
  });
})();
