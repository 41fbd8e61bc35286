// The dashboard: the world's inbox, events and deliveries, journal, report, audit, faults and scenarios,
// each a filterable table refreshed every 5 s (only while the tab is visible).
(function () {
  "use strict";
  var S = window.Sandbox;
  var Panel = window.SandboxTables.Panel;
  var $ = function (id) { return document.getElementById(id); };
  var INBOX_KEY = "opescare-sandbox.inbox.";
  var lastEvents = [];

  function data(answer) {
    if (answer.status >= 400) { throw new Error(answer.status + " " + (answer.body.error || answer.text)); }
    return answer.body;
  }

  // -- inbox -------------------------------------------------------------------------------------------
  var inbox = new Panel($("inbox"), [
    { title: "Received", value: function (e) { return e.received_at; } },
    { title: "Event", value: function (e) { return e.body && e.body.type; } },
    { title: "Event id", value: function (e) { return e.body && e.body.id; } },
    { title: "Attempt", value: function (e) { return e.headers["X-OpesCare-Delivery-Attempt"]; } },
    { title: "signature_valid", value: function (e) { return e.signature_valid; },
      cls: function (e) { return String(e.signature_valid); } }
  ], function (e) { return e; });

  function inboxId() { return window.localStorage.getItem(INBOX_KEY + S.tenant()); }

  // Subscribes to the whole catalogue: the sandbox names it in a 422, so the page never lists it by hand.
  function subscribe(url) {
    return S.token().then(function (token) {
      var auth = { Authorization: "Bearer " + token };
      var path = "/api/v1/connect/webhooks/subscriptions";
      return S.call("POST", path, { callback_url: url, subscribed_events: ["*"] }, auth).then(function (answer) {
        var all = answer.body.allowed_events;
        if (answer.status !== 422 || !all) { return data(answer); }
        return S.call("POST", path, { callback_url: url, subscribed_events: all, description: "dashboard inbox" }, auth)
          .then(data);
      });
    });
  }

  $("inbox-create").addEventListener("click", function () {
    S.call("POST", "/sandbox/inbox").then(data).then(function (box) {
      window.localStorage.setItem(INBOX_KEY + S.tenant(), box.inbox_id);
      return subscribe(box.url);
    }).then(refreshInbox).catch(function (error) { $("inbox-url").textContent = String(error); });
  });

  function refreshInbox() {
    var id = inboxId();
    if (!id) { $("inbox-url").textContent = "No inbox in this world yet."; inbox.set([]); return Promise.resolve(); }
    return S.call("GET", "/sandbox/inbox/" + id).then(function (answer) {
      if (answer.status === 404) { window.localStorage.removeItem(INBOX_KEY + S.tenant()); return refreshInbox(); }
      var box = data(answer);
      $("inbox-url").textContent = "Subscribed: " + box.url;
      inbox.set(box.entries);
    });
  }

  // -- events and deliveries -------------------------------------------------------------------------
  function marks(d) {
    return [d.probe && "probe " + (d.probe.kind || ""), d.duplicate_of && "duplicate", d.held_until && "held",
            d.replay && "replay"].filter(Boolean).join(", ");
  }
  var events = new Panel($("events"), [
    { title: "Event", value: function (r) { return r.event.id; } },
    { title: "Type", value: function (r) { return r.event.type; } },
    { title: "Created", value: function (r) { return r.event.created_at; } },
    { title: "Delivery", value: function (r) { return r.d ? r.d.status : "no subscriber"; },
      cls: function (r) { return r.d ? r.d.status : "muted"; } },
    { title: "Attempts", value: function (r) { return r.d && r.d.attempt_count; } },
    { title: "Last answer", value: function (r) { var a = r.d && r.d.attempts[r.d.attempts.length - 1]; return a && (a.status_code || a.error); } },
    { title: "Latency ms", value: function (r) { var a = r.d && r.d.attempts[r.d.attempts.length - 1]; return a && a.latency_ms; } },
    { title: "Next retry", value: function (r) { return r.d && r.d.next_retry_at; } },
    { title: "Markers", value: function (r) { return r.d && marks(r.d); } }
  ], function (r) { return r.event; });

  function refreshEvents() {
    var status = $("delivery-status").value;
    return S.call("GET", "/sandbox/webhooks/deliveries?limit=100" + (status ? "&status=" + status : "")).then(data)
      .then(function (body) {
        lastEvents = body.data;
        var rows = [];
        body.data.forEach(function (event) {
          if (!event.deliveries.length) { rows.push({ event: event, d: null }); }
          event.deliveries.forEach(function (d) { rows.push({ event: event, d: d }); });
        });
        events.set(rows);
      });
  }
  $("delivery-status").addEventListener("change", refreshEvents);
  $("retry-pending").addEventListener("click", function () { S.call("POST", "/sandbox/webhooks/retry-pending").then(refreshAll); });

  // -- journal: a request, its bodies and the events it caused (by request id) ------------------------
  var journalEntries = [];
  function journalDetail(entry) {
    var caused = lastEvents.filter(function (e) { return e.meta && e.meta.request_id === entry.id; });
    return Object.assign({}, entry, { events_caused: caused.map(function (e) { return { id: e.id, type: e.type }; }) });
  }
  var journal = new Panel($("journal"), [
    { title: "Request", value: function (e) { return e.id; } },
    { title: "At", value: function (e) { return e.at; } },
    { title: "Method", value: function (e) { return e.method; } },
    { title: "Path", value: function (e) { return e.path + (e.query ? "?" + e.query : ""); } },
    { title: "Status", value: function (e) { return e.status; }, cls: function (e) { return e.status >= 400 ? "fail" : ""; } },
    { title: "Client", value: function (e) { return e.client_id; } },
    { title: "Server ms", value: function (e) { return e.duration_ms; } },
    { title: "Fault", value: function (e) { return e.fault && e.fault.kind; } }
  ], journalDetail);

  function refreshJournal() {
    var prefix = $("journal-controls").checked ? "" : "&path=/api/";
    return S.call("GET", "/sandbox/requests?limit=200" + prefix).then(data).then(function (body) {
      journalEntries = body.data;
      journal.set(body.data);
    });
  }
  $("journal-controls").addEventListener("change", refreshJournal);

  // -- report: evidence opens the request in the journal, or the delivery's event ----------------------
  var report = new Panel($("report"), [
    { title: "Check", value: function (c) { return c.title; } },
    { title: "Status", value: function (c) { return c.status; }, cls: function (c) { return c.status; } },
    { title: "Why", value: function (c) { return c.why; } },
    { title: "Evidence", value: function (c) { return c.evidence.join(" "); } }
  ], function (c) {
    var found = c.evidence.map(function (id) {
      var entry = journalEntries.filter(function (e) { return e.id === id; })[0];
      if (entry) { return journalDetail(entry); }
      var event = lastEvents.filter(function (e) { return e.deliveries.some(function (d) { return d.delivery_id === id; }); })[0];
      return event || { id: id, note: "no longer in the journal's window" };
    });
    journal.show({ check: c.id, evidence: found });
    return null;
  });
  report.show = function () { /* the evidence opens in the journal's detail */ };

  function refreshReport() {
    return S.call("GET", "/sandbox/report").then(data).then(function (body) {
      $("report-summary").textContent = (body.client_id || "no client yet") + ": " + body.summary.pass + " pass, " +
        body.summary.fail + " fail, " + body.summary.not_exercised + " not exercised";
      report.set(body.checks);
    });
  }

  // -- audit, faults, scenarios ----------------------------------------------------------------------
  var audit = new Panel($("audit"), [
    { title: "Action", value: function (a) { return a.action; } },
    { title: "At", value: function (a) { return a.at; } },
    { title: "Client", value: function (a) { return a.client_id; } },
    { title: "Health ID", value: function (a) { return a.health_id; } },
    { title: "Outcome", value: function (a) { return a.outcome; } }
  ], function (a) { return a; });
  var faults = new Panel($("faults"), [
    { title: "Fault", value: function (f) { return f.fault_id || f.id; } },
    { title: "Request", value: function (f) { return f.method + " " + f.path; } },
    { title: "Left", value: function (f) { return f.remaining !== undefined ? f.remaining : f.times; } },
    { title: "Effect", value: function (f) { return f.status || (f.delay_ms && f.delay_ms + " ms") || (f.drop && "drop"); } }
  ], null);
  var scenarios = new Panel($("scenarios"), [
    { title: "Scenario", value: function (s) { return s.name; } },
    { title: "Kind", value: function (s) { return s.kind; } },
    { title: "Request", value: function (s) { return s.request; } },
    { title: "Effect", value: function (s) { return s.effect; } }
  ], function (s) { return s; });

  $("fault-arm").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var fault = { method: form.method.value, path: form.path.value.trim(), times: Number(form.times.value) };
    if (form.kind.value === "drop") { fault.drop = true; } else { fault[form.kind.value] = Number(form.value.value); }
    S.call("POST", "/sandbox/faults", fault).then(function (answer) {
      $("fault-result").textContent = answer.status === 201 ? "Armed." : answer.status + " " + (answer.body.message || answer.text);
      return refreshAll();
    });
  });
  $("faults-clear").addEventListener("click", function () { S.call("DELETE", "/sandbox/faults").then(refreshAll); });

  function refreshSmall() {
    return Promise.all([
      S.call("GET", "/sandbox/audit?limit=100").then(data).then(function (b) { audit.set(b.data); }),
      S.call("GET", "/sandbox/faults").then(data).then(function (b) { faults.set(b.data); }),
      S.call("GET", "/sandbox/clock").then(data).then(function (b) { $("clock-now").textContent = b.now; })
    ]);
  }

  // -- world controls, refresh ----------------------------------------------------------------------
  $("reset").addEventListener("click", function () {
    if (S.confirmChange("POST", "/sandbox/reset")) { S.call("POST", "/sandbox/reset", {}).then(refreshAll); }
  });
  $("clock-forward").addEventListener("click", function () {
    var body = { advance_seconds: 3600 };
    if (S.confirmChange("POST", "/sandbox/clock", "+1 h")) { S.call("POST", "/sandbox/clock", body).then(refreshAll); }
  });

  function refreshAll() {
    return Promise.all([refreshEvents().then(refreshJournal).then(refreshReport), refreshInbox(), refreshSmall()])
      .catch(function (error) { $("clock-now").textContent = String(error); });
  }
  window.addEventListener("sandbox:world", refreshAll);
  S.bindBar();
  S.call("GET", "/sandbox/scenarios").then(data).then(function (b) { scenarios.set(b.data); });
  refreshAll();
  window.setInterval(function () {
    if ($("auto-refresh").checked && document.visibilityState === "visible") { refreshAll(); }
  }, 5000);
  window.SandboxDashboard = { refresh: refreshAll };
})();
