/* Monitoring diagrams: bpmn-js NavigatedViewer with element states (completed / active / error), SLA badges on
   waiting tasks and heatmap counts. Configuration comes from the holder's data-config (JSON); no inline script. */
(function () {
  "use strict";

  var MARKERS = [["completed", "highlight-done"], ["active", "highlight-active"], ["error", "highlight-error"]];

  function el(tag, className, text) {
    var node = document.createElement(tag);
    node.className = className;
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function decorate(viewer, config, spec) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    var states = spec.states || {};
    MARKERS.forEach(function (pair) {
      (states[pair[0]] || []).forEach(function (id) {
        if (registry.get(id)) { canvas.addMarker(id, pair[1]); }
      });
    });
    (config.badges || []).forEach(function (badge) {
      if (badge.process_id !== spec.process_id || !registry.get(badge.bpmn_id)) { return; }
      var node = el("span", "sla-badge sla-" + (badge.state || "ok"), badge.text);
      node.title = badge.due_at;
      overlays.add(badge.bpmn_id, "sla", { position: { bottom: 6, right: 6 }, html: node });
    });
    (config.heat || []).forEach(function (cell) {
      if (cell.process_id !== spec.process_id || !registry.get(cell.bpmn_id) || !cell.waiting) { return; }
      var node = el("span", "heat-badge heat-" + cell.level, String(cell.waiting));
      node.title = cell.name + ": " + cell.waiting;
      overlays.add(cell.bpmn_id, "heat", { position: { top: -10, right: 10 }, html: node });
      canvas.addMarker(cell.bpmn_id, "heat-level-" + cell.level);
    });
  }

  function setup(holder) {
    var config;
    try { config = JSON.parse(holder.getAttribute("data-config") || "{}"); } catch (e) { return; }
    var message = holder.querySelector("[data-viewer-message]");
    var card = holder.closest(".mon-diagram-card") || document;
    var tabs = Array.prototype.slice.call(card.querySelectorAll("[data-diagram-tab]"));
    var panes = {};
    if (typeof window.BpmnJS !== "function") {
      if (message) { message.textContent = holder.getAttribute("data-missing") || "bpmn-js is missing (scripts/vendor.sh)"; }
      return;
    }

    function open(index) {
      Object.keys(panes).forEach(function (key) { panes[key].hidden = String(index) !== key; });
      tabs.forEach(function (tab) {
        var on = tab.getAttribute("data-diagram-tab") === String(index);
        tab.classList.toggle("active", on);
        tab.setAttribute("aria-selected", on ? "true" : "false");
      });
      if (!panes[index]) { panes[index] = create(index); }
    }

    function create(index) {
      var spec = config.diagrams[index];
      var pane = el("div", "mon-canvas-pane");
      pane.setAttribute("data-process-id", spec.process_id);
      holder.appendChild(pane);
      var viewer = new window.BpmnJS({ container: pane });
      fetch(spec.url, { credentials: "same-origin", headers: { Accept: "application/xml" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (xml) { return viewer.importXML(xml); })
        .then(function () {
          viewer.get("canvas").zoom("fit-viewport", "auto");
          decorate(viewer, config, spec);
          if (message) { message.hidden = true; }
          pane.setAttribute("data-ready", "true");
        })
        .catch(function (err) {
          if (message) { message.hidden = false; message.textContent = String(err && err.message || err); }
        });
      return pane;
    }

    tabs.forEach(function (tab) {
      tab.addEventListener("click", function () { open(parseInt(tab.getAttribute("data-diagram-tab"), 10)); });
    });
    if (config.diagrams && config.diagrams.length) { open(0); }
  }

  document.querySelectorAll("[data-bpmn-viewer]").forEach(setup);

  // Heatmap: changing the version shows it at once (the form still works without this).
  document.querySelectorAll("select[data-heat-version]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
