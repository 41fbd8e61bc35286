// Swagger UI request-snippet generators for Python (requests) and JavaScript (fetch), beside its own curl:
// Swagger UI calls `requestSnippetGenerator_<name>(request)` with the request as executed (an Immutable map).
(function () {
  "use strict";
  function parts(request) {
    var headers = {};
    var raw = request.get("headers");
    if (raw && raw.forEach) { raw.forEach(function (value, name) { headers[name] = value; }); }
    var body = request.get("body");
    if (body && typeof body !== "string" && body.toJS) { body = JSON.stringify(body.toJS()); }
    var url = request.get("url");
    return { method: request.get("method"), url: new URL(url, window.location.href).href, headers: headers,
             body: body === undefined || body === null ? null : String(body) };
  }

  function isJson(p) {
    var type = p.headers["Content-Type"] || p.headers["content-type"] || "";
    if (type.indexOf("json") === -1 || p.body === null) { return false; }
    try { JSON.parse(p.body); return true; } catch (e) { return false; }
  }

  function python(request) {
    var p = parts(request);
    var lines = ["import requests", "", "response = requests.request(",
                 "    " + JSON.stringify(p.method) + ",", "    " + JSON.stringify(p.url) + ",",
                 "    headers=" + JSON.stringify(p.headers, null, 4).replace(/\n/g, "\n    ") + ","];
    if (p.body !== null) {
      lines.push(isJson(p) ? "    json=" + JSON.stringify(JSON.parse(p.body), null, 4)
        .replace(/\n/g, "\n    ").replace(/\btrue\b/g, "True").replace(/\bfalse\b/g, "False").replace(/\bnull\b/g, "None") + ","
        : "    data=" + JSON.stringify(p.body) + ",");
    }
    lines.push("    timeout=10,", ")", "print(response.status_code, response.text)");
    return lines.join("\n");
  }

  function javascript(request) {
    var p = parts(request);
    var options = { method: p.method, headers: p.headers };
    var text = JSON.stringify(options, null, 2);
    if (p.body !== null) {
      var body = isJson(p) ? "JSON.stringify(" + JSON.stringify(JSON.parse(p.body), null, 2).replace(/\n/g, "\n  ") + ")"
        : JSON.stringify(p.body);
      text = text.replace(/\n}$/, ",\n  \"body\": " + body + "\n}");
    }
    return "const response = await fetch(" + JSON.stringify(p.url) + ", " + text + ");\n" +
      "console.log(response.status, await response.text());";
  }

  window.SandboxSnippets = {
    plugin: function () {
      return { fn: { requestSnippetGenerator_python_requests: python, requestSnippetGenerator_javascript_fetch: javascript } };
    },
    config: { generators: {
      curl_bash: { title: "curl", syntax: "bash" },
      python_requests: { title: "Python (requests)", syntax: "python" },
      javascript_fetch: { title: "JavaScript (fetch)", syntax: "javascript" }
    }, defaultExpanded: true }
  };
})();
