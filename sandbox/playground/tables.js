// The dashboard's one table component: columns, a text filter, rows that open a detail (by keyboard too).
(function () {
  "use strict";
  function text(value) {
    if (value === null || value === undefined) { return ""; }
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  // A panel: `section` holds [data-table], [data-filter] and optionally [data-detail].
  function Panel(section, columns, open) {
    this.section = section;
    this.columns = columns;  // [{title, value(row) -> text, cls(row) -> class name}]
    this.open = open;        // row -> object shown in the detail (or null: rows do not open)
    this.rows = [];
    var filter = section.querySelector("[data-filter]");
    this.filter = filter;
    if (filter) { filter.addEventListener("input", this.render.bind(this)); }
  }

  // Unchanged rows are not redrawn: a refresh must not take the keyboard focus away from a row.
  Panel.prototype.set = function (rows) {
    var key = JSON.stringify(rows);
    if (key === this.key) { return; }
    this.key = key;
    this.rows = rows;
    this.render();
  };

  Panel.prototype.render = function () {
    var self = this;
    var needle = this.filter ? this.filter.value.trim().toLowerCase() : "";
    var rows = this.rows.filter(function (row) { return !needle || text(row).toLowerCase().indexOf(needle) !== -1; });
    var table = document.createElement("table");
    var head = table.createTHead().insertRow();
    this.columns.forEach(function (column) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = column.title;
      head.appendChild(th);
    });
    var body = table.createTBody();
    rows.forEach(function (row) {
      var tr = body.insertRow();
      self.columns.forEach(function (column, index) {
        var td = tr.insertCell();
        var value = text(column.value(row));
        if (column.cls) { td.className = text(column.cls(row)); }
        if (index === 0 && self.open) {
          var button = document.createElement("button");
          button.type = "button";
          button.className = "row";
          button.textContent = value || "(open)";
          button.addEventListener("click", function () { self.show(self.open(row)); });
          td.appendChild(button);
        } else {
          td.textContent = value;
        }
      });
    });
    if (!rows.length) {
      var td = body.insertRow().insertCell();
      td.colSpan = this.columns.length;
      td.className = "muted";
      td.textContent = this.rows.length ? "No row matches the filter." : "Nothing yet.";
    }
    var holder = this.section.querySelector("[data-table]");
    holder.replaceChildren(table);
  };

  Panel.prototype.show = function (detail) {
    var pre = this.section.querySelector("[data-detail]");
    if (!pre) { return; }
    pre.textContent = typeof detail === "string" ? detail : JSON.stringify(detail, null, 2);
    pre.hidden = false;
    pre.focus();
  };

  window.SandboxTables = { Panel: Panel, text: text };
})();
