/* Aftersales BPM — small progressive enhancements; every page works without this file. */
(function () {
  "use strict";

  // Forms marked data-once: disable the submit buttons after the first submit (no double completion).
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });

  // Character counters under text areas with a maxlength.
  document.querySelectorAll("textarea[data-counter][maxlength]").forEach(function (area) {
    var max = parseInt(area.getAttribute("maxlength"), 10);
    var out = document.createElement("span");
    out.className = "counter";
    out.setAttribute("aria-hidden", "true");
    var help = area.nextElementSibling;
    if (help && help.classList.contains("help")) { help.prepend(out); } else { area.insertAdjacentElement("afterend", out); }
    function update() {
      out.textContent = area.value.length + " / " + max;
      out.classList.toggle("near", area.value.length > max * 0.9);
    }
    area.addEventListener("input", update);
    update();
  });

  // Registration: the SO# is required only for a quality complaint (§4.2).
  var kind = document.querySelector("select[data-kind-select]");
  if (kind) {
    var marks = document.querySelectorAll("[data-required-for]");
    var sync = function () {
      marks.forEach(function (m) { m.classList.toggle("is-off", m.getAttribute("data-required-for") !== kind.value); });
    };
    kind.addEventListener("change", sync);
    sync();
  }

  // Repeatable rows (task forms): the page already has numbered spare rows, so this only hides the spare ones
  // beyond the first blank row and offers "add row", which shows a hidden row or appends a renumbered copy.
  document.querySelectorAll("table[data-rows]").forEach(function (table) {
    var body = table.tBodies[0];
    var button = table.closest("fieldset").querySelector("[data-add-row]");
    var max = parseInt(table.getAttribute("data-max"), 10) || 200;
    var template = table.getAttribute("data-row-label") || "#N: #C";
    function rows() { return Array.prototype.slice.call(body.querySelectorAll("tr[data-row]")); }
    function blank(row) {
      return Array.prototype.every.call(row.querySelectorAll("input, select"), function (el) {
        return el.type === "checkbox" ? !el.checked : el.value.trim() === "";
      });
    }
    var keptBlank = false;
    rows().forEach(function (row) {
      if (!blank(row) || row.classList.contains("row-error")) { return; }
      if (keptBlank) { row.hidden = true; } else { keptBlank = true; }
    });
    function sync() { button.disabled = rows().filter(function (r) { return !r.hidden; }).length >= max; }
    button.hidden = false;
    sync();
    button.addEventListener("click", function () {
      var all = rows();
      var hidden = all.filter(function (r) { return r.hidden; })[0];
      var row = hidden;
      if (!row) {
        if (all.length >= max) { return; }
        var last = all[all.length - 1];
        var index = all.length;
        row = last.cloneNode(true);
        row.classList.remove("row-error");
        row.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
        row.querySelector("[data-row-no]").textContent = String(index + 1);
        row.querySelectorAll("td").forEach(function (td) {
          td.classList.remove("has-error");
          td.querySelectorAll("input, select").forEach(function (el) {
            el.name = el.name.replace(/-\d+(-\w+)?$/, "-" + index + "$1");
            el.id = el.name;
            el.removeAttribute("aria-invalid");
            el.removeAttribute("aria-describedby");
            el.setAttribute("aria-label", template.replace("#N", index + 1).replace("#C", td.getAttribute("data-col")));
            if (el.type === "checkbox") { el.checked = false; } else { el.value = ""; }
          });
        });
        body.appendChild(row);
      }
      row.hidden = false;
      sync();
      var first = row.querySelector("input, select");
      if (first) { first.focus(); }
    });
  });

  // Printable pages: a print button (the page prints without it through the browser's own command).
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  // After a failed submit, bring the error summary into view for keyboard and screen-reader users.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  // Tables that become cards on a phone: each cell carries its column's name, shown before it below 600 px.
  document.querySelectorAll("table.cards").forEach(function (table) {
    var names = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.replace(/[▲▼]/g, "").trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (names[i] && !cell.hasAttribute("data-label")) { cell.setAttribute("data-label", names[i]); }
      });
    });
  });

  // Panels marked data-fold-on-phone start folded below 600 px (the list comes first; the summary opens them).
  if (window.matchMedia) {
    var phone = window.matchMedia("(max-width: 600px)");
    var fold = function () {
      document.querySelectorAll("details[data-fold-on-phone]").forEach(function (d) { d.open = !phone.matches; });
    };
    if (phone.matches) { fold(); }
    phone.addEventListener("change", fold);  // wider again (a rotated phone): the panels show, as their summary hides
  }

  // A folded "More" menu closes when the user taps elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.nav-more[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.open = false; }
    });
  });
  // Part numbers come from the parts master (issue 11 item 2): every part_no cell of a row table, rows added later
  // included, suggests the master's numbers (the engine refuses others).
  var partsList = document.getElementById("parts-master");
  if (partsList) {
    var linkParts = function (input) { if (/-part_no$/.test(input.name || "")) { input.setAttribute("list", "parts-master"); } };
    document.querySelectorAll("input").forEach(linkParts);
    document.addEventListener("focusin", function (event) { if (event.target.tagName === "INPUT") { linkParts(event.target); } });
  }
  // Registration (issue 11 item 2): once the customer is known, its sales orders and their serials are offered for
  // the SO# (§4.2) and serial fields; picking an SO offers its serials.
  var register = document.querySelector("form[data-so-lookup]");
  if (register) {
    var orders = [];
    var fill = function (id, values) {
      var list = document.getElementById(id);
      list.textContent = "";
      values.forEach(function (v) {
        var option = document.createElement("option");
        option.value = v[0];
        option.textContent = v[1];
        list.appendChild(option);
      });
    };
    var serials = function () {
      var so = register.querySelector("#origin_so_no").value.trim();
      var rows = [];
      orders.forEach(function (o) {
        if (!so || o.so_no === so) {
          o.lines.forEach(function (l) { if (l.serial_no) { rows.push([l.serial_no, o.so_no + " · " + (l.product_code || "")]); } });
        }
      });
      fill("serial-list", rows);
    };
    var load = function () {
      var code = register.querySelector("#customer_code").value.trim();
      if (!code) { return; }
      fetch(register.getAttribute("data-so-lookup") + "?customer=" + encodeURIComponent(code), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (data) {
          orders = data;
          fill("so-list", data.map(function (o) { return [o.so_no, o.sale_date]; }));
          serials();
        });
    };
    register.querySelector("#customer_code").addEventListener("change", load);
    register.querySelector("#origin_so_no").addEventListener("change", serials);
    load();
  }
})();
