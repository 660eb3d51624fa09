/* Process designer pages: load the BPMN modeler (BpmDesigner bundle), the DMN editor (DmnJS) or the form editor,
   validate the edits against the engine (problems pinned on the canvas), deploy them as a new version and show the
   deploy's notes. */
(function () {
  "use strict";

  var root = document.getElementById("designer");
  if (!root) { return; }
  var config = JSON.parse(root.getAttribute("data-config"));
  var EN = config.lang === "en";
  var W = EN ? {
    loading: "Loading…", ready: "Ready", imported: "Opened with %n import warning(s)", importFailed: "Cannot open this file: ",
    validating: "Validating…", valid: "No problems: the engine can run this.", problems: "%n problem(s) found",
    deploying: "Deploying…", deployed: "Deployed: ", unchanged: "Nothing changed: no new version.",
    failed: "Request failed: ", line: "line", edited: "edited", noFile: "Give the file a name first (e.g. my_process.bpmn).",
    badName: "Form names use letters, digits, _ and - only.", exists: "A form with this name exists already.",
    history: "history", unsaved: "You have changes that are not deployed.",
    retired: "%p is retired: its file no longer declares it (running instances finish)."
  } : {
    loading: "加载中…", ready: "就绪", imported: "已打开，导入警告 %n 条", importFailed: "无法打开此文件：",
    validating: "校验中…", valid: "没有问题：引擎可以运行。", problems: "发现 %n 个问题",
    deploying: "部署中…", deployed: "已部署：", unchanged: "内容没有变化：未生成新版本。",
    failed: "请求失败：", line: "行", edited: "已修改", noFile: "请先填写文件名（如 my_process.bpmn）。",
    badName: "表单名称只能包含字母、数字、_ 和 -。", exists: "已有同名表单。",
    history: "版本历史", unsaved: "有尚未部署的修改。",
    retired: "%p 已停用：文件中已不再声明该流程（运行中的实例继续完成）。"
  };
  var BLANK = '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" ' +
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" ' +
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="definitions" ' +
    'targetNamespace="http://bpmn.io/schema/bpmn">\n' +
    '  <bpmn:process id="new_process" name="新流程" isExecutable="true">\n' +
    '    <bpmn:startEvent id="start" name="开始" />\n  </bpmn:process>\n' +
    '  <bpmndi:BPMNDiagram id="diagram"><bpmndi:BPMNPlane id="plane" bpmnElement="new_process">\n' +
    '    <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="180" y="160" width="36" height="36" />' +
    '</bpmndi:BPMNShape>\n  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>\n</bpmn:definitions>\n';

  var statusEl = root.querySelector("[data-status]");
  var dirty = false;

  function say(text, kind) {
    statusEl.textContent = text;
    statusEl.className = "designer-status" + (kind ? " status-" + kind : "");
  }

  function fill(template, n) { return template.replace("%n", String(n)); }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": config.csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  function getText(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(r.status + " " + url); }
      return r.text();
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function baseName(name) { return name.split("/").pop(); }

  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = W.unsaved; }
  });

  // ---- the form editor (modeler "Forms" tab and the standalone form page) ----------------------------------

  function FormEditor(box) {
    this.box = box;
    this.texts = {};  // name -> {schema, ui, uiName, edited, isNew}
    this.current = null;
    this.timer = null;
    this.names = (config.forms || []).slice();
    this.uiNames = (config.uiForms || []).slice();
    var imported = config.importedForms || {};  // forms made by an import, not deployed yet
    Object.keys(imported).forEach(function (name) {
      var uiName = name.replace(/\.schema\.json$/, ".ui.json");
      this.texts[name] = { schema: imported[name].schema, ui: imported[name].ui, uiName: uiName, edited: true, uiEdited: true, isNew: true };
      if (this.names.indexOf(name) < 0) { this.names.push(name); }
      if (this.uiNames.indexOf(uiName) < 0) { this.uiNames.push(uiName); }
    }, this);
    this.schemaEl = box.querySelector("[data-form-schema]");
    this.uiEl = box.querySelector("[data-form-ui]");
    this.previewEl = box.querySelector("[data-form-preview]");
    this.errorEl = box.querySelector("[data-form-error]");
    var self = this;
    this.schemaEl.addEventListener("input", function () { self.changed("schema", self.schemaEl.value); });
    this.uiEl.addEventListener("input", function () { self.changed("ui", self.uiEl.value); });
    box.querySelector("[data-form-new]").addEventListener("submit", function (event) {
      event.preventDefault();
      var input = event.target.querySelector("input");
      if (self.create(input.value, "")) { input.value = ""; }
    });
    this.renderList();
  }

  FormEditor.prototype.uiNameOf = function (name) { return name.replace(/\.schema\.json$/, ".ui.json"); };

  FormEditor.prototype.renderList = function () {
    var self = this;
    var used = config.forms_used || [];
    [["[data-form-list-used]", used], ["[data-form-list]", this.names.filter(function (n) { return used.indexOf(n) < 0; })]]
      .forEach(function (pair) {
        var list = self.box.querySelector(pair[0]);
        list.textContent = "";
        pair[1].forEach(function (name) {
          var item = el("li");
          var button = el("button", "form-file" + (name === self.current ? " active" : ""), name.replace(/\.schema\.json$/, ""));
          button.type = "button";
          button.title = name;
          button.setAttribute("data-form-file", name);
          if (self.texts[name] && self.texts[name].edited) { button.appendChild(el("span", "form-file-dirty", "●")); }
          button.addEventListener("click", function () { self.open(name); });
          item.appendChild(button);
          list.appendChild(item);
        });
      });
    this.box.querySelector("[data-form-used-head]").hidden = !used.length;
    this.box.querySelector("[data-form-list-used]").hidden = !used.length;
    var count = document.querySelector("[data-forms-count]");
    if (count) {
      var edited = this.editedNames().length;
      count.hidden = !edited;
      count.textContent = String(edited);
    }
  };

  FormEditor.prototype.editedNames = function () {
    var self = this;
    return Object.keys(this.texts).filter(function (n) { return self.texts[n].edited; });
  };

  FormEditor.prototype.load = function (name) {
    var self = this;
    if (this.texts[name]) { return Promise.resolve(this.texts[name]); }
    var uiName = this.uiNameOf(name);
    var url = function (n) { return config.formUrl.replace("__NAME__", encodeURIComponent(n)); };
    var ui = this.uiNames.indexOf(uiName) >= 0 ? getText(url(uiName)) : Promise.resolve("{}");
    return Promise.all([getText(url(name)), ui]).then(function (texts) {
      self.texts[name] = { schema: texts[0], ui: texts[1], uiName: uiName, edited: false, uiEdited: false };
      return self.texts[name];
    });
  };

  FormEditor.prototype.open = function (name) {
    var self = this;
    return this.load(name).then(function (entry) {
      self.current = name;
      self.box.querySelector("[data-form-name]").textContent = name;
      self.box.querySelector("[data-form-ui-name]").textContent = entry.uiName;
      self.box.querySelector("[data-form-dirty]").hidden = !entry.edited;
      self.schemaEl.disabled = false;
      self.uiEl.disabled = false;
      self.schemaEl.value = entry.schema;
      self.uiEl.value = entry.ui;
      self.renderList();
      self.preview();
      self.box.dispatchEvent(new CustomEvent("form-open"));  // the visual editor (form-builder.js) reads the texts
      root.setAttribute("data-form-open", name);
    }).catch(function (err) { say(W.failed + err.message, "error"); });
  };

  FormEditor.prototype.create = function (raw, title) {
    var stem = String(raw || "").trim().replace(/\.schema\.json$/, "").replace(/\.json$/, "");
    if (!/^[A-Za-z0-9_-]+$/.test(stem)) { say(W.badName, "error"); return null; }
    var name = stem + ".schema.json";
    if (this.names.indexOf(name) >= 0) {
      this.open(name);
      return name;
    }
    var schema = {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      title: title || stem,
      type: "object",
      additionalProperties: false,
      required: ["note"],
      properties: { note: { type: "string", maxLength: 2000, title: EN ? "Note" : "说明" } }
    };
    this.texts[name] = {
      schema: JSON.stringify(schema, null, 2) + "\n", ui: JSON.stringify({ "ui:order": ["note"] }, null, 2) + "\n",
      uiName: this.uiNameOf(name), edited: true, uiEdited: true, isNew: true
    };
    this.names.push(name);
    this.names.sort();
    this.uiNames.push(this.uiNameOf(name));
    dirty = true;
    this.open(name);
    return name;
  };

  FormEditor.prototype.changed = function (which, value) {
    var entry = this.texts[this.current];
    if (!entry) { return; }
    entry[which] = value;
    entry.edited = true;
    if (which === "ui") { entry.uiEdited = true; }
    dirty = true;
    this.box.querySelector("[data-form-dirty]").hidden = false;
    this.renderList();
    var self = this;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () { self.preview(); }, 250);
  };

  FormEditor.prototype.preview = function () {
    var entry = this.texts[this.current];
    var self = this;
    if (!entry) { return Promise.resolve(); }
    return post(config.previewUrl, { schema: entry.schema, ui: entry.ui }).then(function (result) {
      if (result.status === 200) {
        self.errorEl.hidden = true;
        self.previewEl.innerHTML = result.data.html;  // server-rendered by Jinja (escaped), same as the task page
        root.setAttribute("data-preview-fields", (result.data.fields || []).join(","));
      } else {
        self.errorEl.hidden = false;
        self.errorEl.textContent = result.data.message || ("HTTP " + result.status);
      }
    });
  };

  FormEditor.prototype.files = function () {
    var files = {};
    var self = this;
    this.editedNames().forEach(function (name) {
      var entry = self.texts[name];
      files[name] = entry.schema;
      if (entry.uiEdited) { files[entry.uiName] = entry.ui; }
    });
    return files;
  };

  FormEditor.prototype.saved = function () {
    var self = this;
    Object.keys(this.texts).forEach(function (name) { self.texts[name].edited = false; self.texts[name].uiEdited = false; });
    var flag = this.box.querySelector("[data-form-dirty]");
    if (flag) { flag.hidden = true; }
    this.renderList();
  };

  // ---- problems: the list and the pins on the canvas ---------------------------------------------------------

  var problemsBox = root.querySelector("[data-problems]");

  function showProblems(problems, editor) {
    var list = problemsBox.querySelector("[data-problems-list]");
    list.textContent = "";
    problemsBox.hidden = !problems.length;
    problemsBox.querySelector("[data-problems-title]").textContent = fill(W.problems, problems.length);
    problems.forEach(function (p) {
      var item = el("li", "problem");
      var where = el("button", "problem-where");
      where.type = "button";
      where.textContent = baseName(p.file) + (p.line ? ":" + p.line : "") + (p.element_id ? " · " + p.element_id : "");
      where.addEventListener("click", function () { editor.reveal(p); });
      item.appendChild(where);
      item.appendChild(el("span", "problem-message", p.message));
      list.appendChild(item);
    });
    editor.pin(problems);
  }

  // ---- notes of the last deploy: who may start it, processes retired, files that deployed nothing -----------

  var notesBox = root.querySelector("[data-deploy-notes]");

  function showNotes(data) {
    var notes = (data.notes || []).slice();
    (data.retired || []).forEach(function (pid) { notes.push(W.retired.replace("%p", pid)); });
    var list = notesBox.querySelector("[data-deploy-notes-list]");
    list.textContent = "";
    notes.forEach(function (note) { list.appendChild(el("li", "", note)); });
    notesBox.hidden = !notes.length;
    root.setAttribute("data-deploy-note-count", String(notes.length));
  }

  // ---- the toolbar: validate and deploy ----------------------------------------------------------------------

  function wire(editor) {
    var dialog = root.querySelector("[data-deploy-dialog]");
    root.querySelector("[data-action=validate]").addEventListener("click", function () { validate(editor); });
    root.querySelector("[data-action=deploy]").addEventListener("click", function () {
      dialog.querySelector("[data-deploy-note]").value = "";
      dialog.showModal();
    });
    dialog.addEventListener("close", function () {
      if (dialog.returnValue === "deploy") { deploy(editor, dialog.querySelector("[data-deploy-note]").value); }
    });
  }

  function validate(editor) {
    say(W.validating, "busy");
    root.removeAttribute("data-validated");
    return editor.collect().then(function (files) {
      if (!files) { return null; }
      return post(config.validateUrl, { files: files }).then(function (result) {
        var problems = result.data.problems || [];
        if (result.status === 200) {
          say(W.valid, "ok");
        } else if (result.status === 422 && problems.length) {
          say(fill(W.problems, problems.length), "error");
        } else {
          say(W.failed + (result.data.message || result.status), "error");
        }
        showProblems(problems, editor);
        root.setAttribute("data-validated", result.status === 200 ? "ok" : "problems");
        return result;
      });
    });
  }

  function deploy(editor, note) {
    say(W.deploying, "busy");
    root.removeAttribute("data-deployed");
    showNotes({});
    return editor.collect().then(function (files) {
      if (!files) { return null; }
      return post(config.deployUrl, { files: files, note: note }).then(function (result) {
        var data = result.data;
        if (result.status === 201 || result.status === 200) {
          showProblems([], editor);
          var created = (data.created || []).map(function (v) { return v.process_id + " v" + v.version; });
          say(created.length ? W.deployed + created.join(", ") : W.unchanged, "ok");
          (data.created || []).forEach(function (v, index) {
            if (v.process_id === config.process_id || (!config.process_id && index === 0)) {
              var badge = root.querySelector("[data-version-badge]");
              if (badge) { badge.textContent = "v" + v.version; }
              var link = el("a", "status-link", W.history);
              link.href = v.history_url;
              statusEl.appendChild(document.createTextNode(" · "));
              statusEl.appendChild(link);
            }
          });
          showNotes(data);
          dirty = false;
          editor.saved();
          root.setAttribute("data-deployed", JSON.stringify(data.created || []));
        } else {
          say(data.problems ? fill(W.problems, data.problems.length) : W.failed + (data.message || result.status), "error");
          showProblems(data.problems || [], editor);
          root.setAttribute("data-deployed", "failed");
        }
        return result;
      });
    });
  }

  // ---- tabs --------------------------------------------------------------------------------------------------

  function showTab(name) {
    root.querySelectorAll("[data-tab]").forEach(function (tab) {
      var on = tab.getAttribute("data-tab") === name;
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", on ? "true" : "false");
    });
    root.querySelectorAll("[data-pane]").forEach(function (pane) { pane.hidden = pane.getAttribute("data-pane") !== name; });
  }
  root.querySelectorAll("[data-tab]").forEach(function (tab) {
    tab.addEventListener("click", function () { showTab(tab.getAttribute("data-tab")); });
  });

  // ---- BPMN modeler --------------------------------------------------------------------------------------------

  function BpmnEditor() {
    var self = this;
    var box = root.querySelector("[data-form-editor]");
    this.forms = new FormEditor(box);
    this.fileInput = root.querySelector("[data-file-name]");
    this.modeler = window.BpmDesigner.createModeler({
      container: root.querySelector("[data-canvas]"),
      propertiesParent: root.querySelector("[data-properties]"),
      lang: config.lang,
      roles: config.roles,
      roleLabels: config.roleLabels,
      operatorSpecs: config.operatorSpecs,
      properties: config.properties,
      valueLabels: config.valueLabels,
      decisions: config.decisions,
      processes: config.processes,
      forms: function () { return self.forms.names; },
      uiForms: function () { return self.forms.uiNames; }
    });
    this.modeler.on("commandStack.changed", function () { dirty = true; });
    var canvasBox = root.querySelector("[data-canvas]");
    this.modeler.on("canvas.viewbox.changed", function (event) {  // zoomed out: pins show only their count
      canvasBox.classList.toggle("zoomed-out", event.viewbox.scale < 0.75);
    });
    this.modeler.on("aftersales.form", function (event) { self.formAction(event); });
    var open = root.querySelector("[data-open-file]");
    open.addEventListener("change", function () { if (open.files[0]) { self.openFile(open.files[0]); } });
  }

  BpmnEditor.prototype.start = function () {
    var self = this;
    say(W.loading, "busy");
    var source = config.sourceText ? Promise.resolve(config.sourceText)  // an import, not deployed yet
      : config.source ? getText(config.source) : Promise.resolve(BLANK);
    return source.then(function (xml) { return self.load(xml); })
      .then(function () { if (config.sourceText) { dirty = true; } })
      .catch(function (err) { say(W.importFailed + err.message, "error"); });
  };

  BpmnEditor.prototype.load = function (xml) {
    var modeler = this.modeler;
    return modeler.importXML(xml).then(function (result) {
      fitBesidePalette(modeler.get("canvas"));
      var warnings = (result && result.warnings) || [];
      say(warnings.length ? fill(W.imported, warnings.length) : W.ready, warnings.length ? "warn" : "");
      showProblems([], editorOf());
      root.setAttribute("data-ready", "1");
    }).catch(function (err) {
      say(W.importFailed + err.message, "error");
      root.setAttribute("data-ready", "error");
    });
  };

  // Fit the diagram, then keep its left edge clear of the palette (zooming around the right edge, which stays put).
  function fitBesidePalette(canvas) {
    canvas.zoom("fit-viewport", "auto");
    var box = canvas.viewbox();
    var clear = 120;
    if (!box.inner.width || (box.inner.x - box.x) * box.scale >= clear) { return; }
    var factor = Math.max(0.5, (box.outer.width - clear) / box.outer.width);
    var right = { x: (box.inner.x + box.inner.width - box.x) * box.scale, y: box.outer.height / 2 };  // on screen
    canvas.zoom(box.scale * factor, right);
  }

  BpmnEditor.prototype.openFile = function (file) {
    var self = this;
    var reader = new FileReader();
    root.removeAttribute("data-ready");  // not ready from the choice on: reading the file is asynchronous
    reader.onload = function () {
      if (self.fileInput) { self.fileInput.value = file.name.replace(/\.xml$/, ".bpmn"); }
      self.load(String(reader.result)).then(function () { dirty = true; });
    };
    reader.readAsText(file);
  };

  BpmnEditor.prototype.fileName = function () {
    if (config.file) { return config.file; }
    var typed = this.fileInput ? this.fileInput.value.trim() : "";
    if (typed) { return /\.bpmn$/.test(typed) ? typed : typed + ".bpmn"; }
    var process = (this.modeler.getDefinitions().get("rootElements") || []).filter(function (e) {
      return e.$type === "bpmn:Process";
    })[0];
    return process ? process.id + ".bpmn" : "";
  };

  BpmnEditor.prototype.collect = function () {
    var name = this.fileName();
    if (!name) { say(W.noFile, "error"); return Promise.resolve(null); }
    var forms = this.forms.files();
    Object.keys(config.extraFiles || {}).forEach(function (n) { forms[n] = config.extraFiles[n]; });  // e.g. imported DMN
    return this.modeler.saveXML({ format: true }).then(function (result) {
      forms[name] = result.xml;
      return forms;
    });
  };

  BpmnEditor.prototype.pin = function (problems) {
    var registry = this.modeler.get("elementRegistry");
    var canvas = this.modeler.get("canvas");
    var overlays = this.modeler.get("overlays");
    overlays.remove({ type: "problem" });
    (this.pinned || []).forEach(function (id) { if (registry.get(id)) { canvas.removeMarker(id, "has-problem"); } });
    this.pinned = [];
    var mine = baseName(this.fileName() || "");
    var byElement = {};
    problems.forEach(function (p) {
      if (p.element_id && baseName(p.file) === mine && registry.get(p.element_id) &&
          registry.get(p.element_id) !== canvas.getRootElement()) {
        (byElement[p.element_id] = byElement[p.element_id] || []).push(p.message);
      }
    });
    var self = this;
    Object.keys(byElement).forEach(function (id) {
      canvas.addMarker(id, "has-problem");
      self.pinned.push(id);
      var note = el("div", "problem-overlay");
      note.setAttribute("data-problem-for", id);
      note.appendChild(el("span", "problem-count", String(byElement[id].length)));
      note.appendChild(el("span", "problem-text", byElement[id][0]));
      note.title = byElement[id].join("\n");
      overlays.add(id, "problem", { position: { top: -14, left: 4 }, html: note });
    });
  };

  BpmnEditor.prototype.reveal = function (problem) {
    var registry = this.modeler.get("elementRegistry");
    var element = problem.element_id ? registry.get(problem.element_id) : null;
    if (element && baseName(problem.file) === baseName(this.fileName() || "")) {
      showTab("diagram");
      this.modeler.get("selection").select(element);
      this.modeler.get("canvas").scrollToElement(element, { top: 120, bottom: 120, left: 120, right: 400 });
    } else if (/\.json$/.test(problem.file)) {
      showTab("forms");
      this.forms.open(baseName(problem.file));
    }
  };

  BpmnEditor.prototype.formAction = function (event) {
    var name = event.name;
    if (event.action === "new") {
      var bo = event.element.businessObject;
      name = this.forms.create(bo.id, bo.name || bo.id);
      if (!name) { return; }
      window.BpmDesigner.setSpiffProperty(event.element, "formJsonSchemaFilename", name, this.modeler.get("injector"));
      window.BpmDesigner.setSpiffProperty(event.element, "formUiSchemaFilename", this.forms.uiNameOf(name),
        this.modeler.get("injector"));
    }
    if (name) {
      showTab("forms");
      this.forms.open(name);
    }
  };

  BpmnEditor.prototype.saved = function () { this.forms.saved(); };

  // ---- DMN editor --------------------------------------------------------------------------------------------

  function DmnEditor() {
    this.modeler = new window.DmnJS({ container: root.querySelector("[data-dmn]") });
    this.modeler.on("views.changed", function () { root.setAttribute("data-view", "table"); });
  }

  DmnEditor.prototype.start = function () {
    var modeler = this.modeler;
    say(W.loading, "busy");
    return getText(config.source).then(function (xml) { return modeler.importXML(xml); }).then(function () {
      var table = modeler.getViews().filter(function (v) { return v.type === "decisionTable"; })[0];
      if (table) { modeler.open(table); }
      modeler.getActiveViewer().get("eventBus").on("elements.changed", function () { dirty = true; });
      say(W.ready, "");
      root.setAttribute("data-ready", "1");
    }).catch(function (err) { say(W.importFailed + err.message, "error"); });
  };

  DmnEditor.prototype.collect = function () {
    return this.modeler.saveXML({ format: true }).then(function (result) {
      var files = {};
      files[config.file] = result.xml;
      return files;
    });
  };

  DmnEditor.prototype.pin = function (problems) {
    root.querySelectorAll(".has-problem").forEach(function (cell) { cell.classList.remove("has-problem"); });
    problems.forEach(function (p) {
      if (!p.element_id) { return; }
      root.querySelectorAll('[data-row-id="' + CSS.escape(p.element_id) + '"], [data-col-id="' +
        CSS.escape(p.element_id) + '"]').forEach(function (cell) { cell.classList.add("has-problem"); });
    });
  };

  DmnEditor.prototype.reveal = function (problem) {
    var cell = problem.element_id ? root.querySelector('[data-row-id="' + CSS.escape(problem.element_id) + '"]') : null;
    if (cell) { cell.scrollIntoView({ block: "center" }); }
  };

  DmnEditor.prototype.saved = function () {};

  // ---- form page ---------------------------------------------------------------------------------------------

  function FormPage() {
    this.forms = new FormEditor(root.querySelector("[data-form-editor]"));
  }

  FormPage.prototype.start = function () {
    var name = config.file;
    var self = this;
    var open = this.forms.names.indexOf(name) >= 0 ? this.forms.open(name) : Promise.resolve(this.forms.create(name, ""));
    return open.then(function () { root.setAttribute("data-ready", "1"); self.forms.renderList(); });
  };

  FormPage.prototype.collect = function () {
    var files = this.forms.files();
    if (!Object.keys(files).length && this.forms.current) {
      files[this.forms.current] = this.forms.texts[this.forms.current].schema;
    }
    return Promise.resolve(files);
  };

  FormPage.prototype.pin = function () {};
  FormPage.prototype.reveal = function (problem) { this.forms.open(baseName(problem.file)); };
  FormPage.prototype.saved = function () { this.forms.saved(); };

  // ---- start -------------------------------------------------------------------------------------------------

  var editor = config.mode === "bpmn" ? new BpmnEditor() : config.mode === "dmn" ? new DmnEditor() : new FormPage();
  function editorOf() { return editor; }
  window.aftersalesDesigner = editor;  // for the browser tests and the console
  wire(editor);
  editor.start();
}());
