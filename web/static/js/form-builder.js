/* The visual form editor (issue 11 item 8): add, reorder and edit the fields of a task form — type, required,
   options with Chinese and English labels, help, widget — and it writes the JSON Schema and the UI schema into the
   form editor's two text boxes (which stay the source of truth and feed the server-rendered live preview).

   Why our own palette and not bpmn.io's form-js editor: form-js edits its own form JSON, not JSON Schema + UI
   schema, so every form would need a converter both ways, and its bundle would more than double the designer's
   download; the forms here are flat lists of typed fields, which a small editor covers. Keys the editor does not
   know (maxLength, minimum, pattern, row tables…) are kept as they are: it changes the parsed schema in place. */
(function () {
  "use strict";

  var EN = (document.documentElement.lang || "").indexOf("en") === 0;
  var T = EN ? {
    title: "Fields", formTitle: "Form title (Chinese)", formTitleEn: "Form title (English)", add: "Add field",
    key: "Field key", label: "Label (Chinese)", labelEn: "Label (English)", type: "Type", required: "Required",
    help: "Help (Chinese)", helpEn: "Help (English)", options: "Options: one per line, value | Chinese | English",
    widget: "Show as", auto: "automatic", radio: "radio buttons", select: "drop-down list", up: "Move up",
    down: "Move down", remove: "Remove", advanced: "This field is edited in the JSON below.", badKey:
    "Keys use lower-case letters, digits and _ (starting with a letter) and must be unique.", json: "JSON (advanced)",
    empty: "No fields yet."
  } : {
    title: "字段", formTitle: "表单标题（中文）", formTitleEn: "表单标题（英文）", add: "添加字段",
    key: "字段键", label: "标签（中文）", labelEn: "标签（英文）", type: "类型", required: "必填",
    help: "帮助（中文）", helpEn: "帮助（英文）", options: "选项：每行一个，值 | 中文 | 英文",
    widget: "显示为", auto: "自动", radio: "单选按钮", select: "下拉列表", up: "上移", down: "下移",
    remove: "删除", advanced: "此字段请在下方 JSON 中编辑。", badKey: "字段键只能用小写字母、数字和 _（以字母开头），且不能重复。",
    json: "JSON（高级）", empty: "还没有字段。"
  };
  var TYPES = EN ? [
    ["text", "Short text"], ["textarea", "Long text"], ["integer", "Whole number"], ["number", "Number"],
    ["date", "Date"], ["datetime", "Date and time"], ["email", "E-mail"], ["boolean", "Yes / no"],
    ["choice", "One of a list"], ["multi", "Several of a list"]
  ] : [
    ["text", "短文本"], ["textarea", "长文本"], ["integer", "整数"], ["number", "数字"], ["date", "日期"],
    ["datetime", "日期时间"], ["email", "电子邮箱"], ["boolean", "是 / 否"], ["choice", "单选"], ["multi", "多选"]
  ];
  var KEY = /^[a-z][a-z0-9_]{0,63}$/;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function en(node) {
    node["x-i18n"] = node["x-i18n"] || {};
    node["x-i18n"].en = node["x-i18n"].en || {};
    return node["x-i18n"].en;
  }

  function prune(node) {  // drop empty English texts so the files stay as a designer would write them
    var texts = node["x-i18n"] && node["x-i18n"].en;
    if (!texts) { return; }
    Object.keys(texts).forEach(function (k) { if (texts[k] === "" || texts[k] == null) { delete texts[k]; } });
    if (!Object.keys(texts).length) { delete node["x-i18n"].en; }
    if (!Object.keys(node["x-i18n"]).length) { delete node["x-i18n"]; }
  }

  /** The editor's type of a schema property, or "" when it is something only the JSON can say (row tables…). */
  function kindOf(node, ui) {
    if (node.type === "boolean") { return "boolean"; }
    if (node.type === "array") { return node.items && node.items.enum ? "multi" : ""; }
    if (node.enum) { return "choice"; }
    if (node.type === "integer") { return "integer"; }
    if (node.type === "number") { return "number"; }
    if (node.type === "string") {
      if (node.format === "date") { return "date"; }
      if (node.format === "date-time") { return "datetime"; }
      if (node.format === "email") { return "email"; }
      return ui && ui["ui:widget"] === "textarea" ? "textarea" : "text";
    }
    return "";
  }

  /** Options of a choice field as [value, zh, en] rows. */
  function optionsOf(node) {
    var holder = node.type === "array" ? (node.items || {}) : node;
    var names = holder["x-enumNames"] || [];
    var english = (holder["x-i18n"] && holder["x-i18n"].en && holder["x-i18n"].en.enumNames) ||
      (node["x-i18n"] && node["x-i18n"].en && node["x-i18n"].en.enumNames) || [];
    return (holder.enum || []).map(function (value, i) { return [String(value), names[i] || "", english[i] || ""]; });
  }

  function setOptions(node, text) {
    var rows = text.split("\n").map(function (line) { return line.split("|").map(function (s) { return s.trim(); }); })
      .filter(function (row) { return row[0]; });
    var holder = node.type === "array" ? node.items : node;
    holder.enum = rows.map(function (row) { return row[0]; });
    holder["x-enumNames"] = rows.map(function (row) { return row[1] || row[0]; });
    var english = rows.map(function (row) { return row[2] || row[1] || row[0]; });
    if (node.type === "array") { en(node).enumNames = english; } else { en(node).enumNames = english; }
  }

  /** Rewrite a property for a new editor type, keeping its texts. */
  function retype(node, kind, ui) {
    var keep = { title: node.title, description: node.description, "x-i18n": node["x-i18n"] };
    var options = optionsOf(node);
    Object.keys(node).forEach(function (k) { delete node[k]; });
    Object.keys(keep).forEach(function (k) { if (keep[k] !== undefined) { node[k] = keep[k]; } });
    if (node["x-i18n"] && node["x-i18n"].en) { delete node["x-i18n"].en.enumNames; }
    delete ui["ui:widget"];
    if (kind === "text") { node.type = "string"; node.maxLength = 200; }
    if (kind === "textarea") { node.type = "string"; node.maxLength = 4000; ui["ui:widget"] = "textarea"; }
    if (kind === "integer" || kind === "number") { node.type = kind; }
    if (kind === "date") { node.type = "string"; node.format = "date"; }
    if (kind === "datetime") { node.type = "string"; node.format = "date-time"; }
    if (kind === "email") { node.type = "string"; node.format = "email"; node.maxLength = 320; }
    if (kind === "boolean") { node.type = "boolean"; }
    if (kind === "choice" || kind === "multi") {
      if (kind === "multi") { node.type = "array"; node.uniqueItems = true; node.items = { type: "string" }; }
      else { node.type = "string"; }
      var rows = options.length ? options : [["a", "A", "A"], ["b", "B", "B"]];
      setOptions(node, rows.map(function (r) { return r.join(" | "); }).join("\n"));
    }
    prune(node);
  }

  function Builder(box) {
    this.box = box;
    this.schemaEl = box.querySelector("[data-form-schema]");
    this.uiEl = box.querySelector("[data-form-ui]");
    this.host = box.querySelector("[data-form-visual]");
    var self = this;
    box.addEventListener("form-open", function () { self.load(); self.render(); });
    this.schemaEl.addEventListener("input", function (event) { if (!event.fromBuilder) { self.load(); self.render(); } });
    this.uiEl.addEventListener("input", function (event) { if (!event.fromBuilder) { self.load(); self.render(); } });
  }

  Builder.prototype.load = function () {
    try {
      this.schema = JSON.parse(this.schemaEl.value || "{}");
      this.ui = JSON.parse(this.uiEl.value || "{}");
      this.broken = false;
    } catch (err) {
      this.broken = true;  // the JSON is being typed: the field list waits until it parses again
    }
  };

  Builder.prototype.order = function () {
    var props = Object.keys(this.schema.properties || {});
    var listed = (this.ui["ui:order"] || []).filter(function (k) { return props.indexOf(k) >= 0; });
    return listed.concat(props.filter(function (k) { return listed.indexOf(k) < 0; }));
  };

  /** Write both texts back and let the form editor see the change (dirty flag, live preview). */
  Builder.prototype.write = function () {
    this.ui["ui:order"] = this.order();
    var pairs = [[this.schemaEl, this.schema], [this.uiEl, this.ui]];
    pairs.forEach(function (pair) {
      pair[0].value = JSON.stringify(pair[1], null, 2) + "\n";
      var event = new Event("input", { bubbles: true });
      event.fromBuilder = true;
      pair[0].dispatchEvent(event);
    });
  };

  Builder.prototype.render = function () {
    var host = this.host;
    host.textContent = "";
    if (this.broken || this.schemaEl.disabled) { return; }
    var self = this;
    var head = el("div", { class: "fb-head" });
    head.appendChild(this.text("fb-form-title", T.formTitle, this.schema.title || "", function (v) { self.schema.title = v; }));
    head.appendChild(this.text("fb-form-title-en", T.formTitleEn, (this.schema["x-i18n"] || {}).en ?
      this.schema["x-i18n"].en.title || "" : "", function (v) { en(self.schema).title = v; prune(self.schema); }));
    host.appendChild(head);
    host.appendChild(el("h3", { class: "fb-title" }, T.title));
    var list = el("ol", { class: "fb-fields", "data-fb-fields": "" });
    var order = this.order();
    if (!order.length) { host.appendChild(el("p", { class: "muted" }, T.empty)); }
    order.forEach(function (key, index) { list.appendChild(self.card(key, index, order.length)); });
    host.appendChild(list);
    var row = el("div", { class: "fb-add" });
    var keyId = "fb-new-key-" + Math.random().toString(36).slice(2, 8);
    row.appendChild(el("label", { class: "label", for: keyId }, T.key));
    var keyInput = el("input", { id: keyId, type: "text", "data-fb-new-key": "", spellcheck: "false",
      placeholder: "field_" + (order.length + 1), maxlength: "64" });
    var add = el("button", { type: "button", class: "btn btn-sm", "data-fb-add": "" }, "+ " + T.add);
    var problem = el("p", { class: "field-error", "data-fb-key-error": "", role: "alert" });
    problem.hidden = true;
    add.addEventListener("click", function () { self.add(keyInput.value || keyInput.placeholder, problem); });
    keyInput.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); add.click(); }
    });
    row.appendChild(keyInput);
    row.appendChild(add);
    row.appendChild(problem);
    host.appendChild(row);
  };

  Builder.prototype.text = function (id, label, value, set, multiline) {
    var wrap = el("div", { class: "fb-field" });
    var uid = id + "-" + Math.random().toString(36).slice(2, 8);
    wrap.appendChild(el("label", { class: "label", for: uid }, label));
    var input = el(multiline ? "textarea" : "input", multiline ? { id: uid, rows: "3" } : { id: uid, type: "text" });
    input.value = value;
    input.setAttribute("data-fb", id);
    var self = this;
    input.addEventListener("input", function () { set(input.value); self.write(); });
    wrap.appendChild(input);
    return wrap;
  };

  Builder.prototype.card = function (key, index, count) {
    var self = this;
    var node = this.schema.properties[key];
    var ui = this.ui[key] = this.ui[key] || {};
    var kind = kindOf(node, ui);
    var required = (this.schema.required || []).indexOf(key) >= 0;
    var card = el("li", { class: "fb-card", "data-fb-key": key });
    var bar = el("div", { class: "fb-bar" });
    bar.appendChild(el("code", {}, key));
    [["↑", T.up, index > 0, -1], ["↓", T.down, index < count - 1, 1]].forEach(function (b) {
      var button = el("button", { type: "button", class: "btn btn-ghost btn-sm", title: b[1], "aria-label": b[1] + " " + key }, b[0]);
      button.disabled = !b[2];
      button.addEventListener("click", function () { self.move(key, b[3]); });
      bar.appendChild(button);
    });
    var remove = el("button", { type: "button", class: "btn btn-ghost btn-sm", "aria-label": T.remove + " " + key,
      "data-fb-remove": key }, T.remove);
    remove.addEventListener("click", function () { self.remove(key); });
    bar.appendChild(remove);
    card.appendChild(bar);
    if (!kind) { card.appendChild(el("p", { class: "muted small" }, T.advanced)); return card; }
    var grid = el("div", { class: "fb-grid" });
    grid.appendChild(this.text("label", T.label, node.title || "", function (v) { node.title = v; }));
    grid.appendChild(this.text("label-en", T.labelEn, (node["x-i18n"] || {}).en ? node["x-i18n"].en.title || "" : "",
      function (v) { en(node).title = v; prune(node); }));
    var typeWrap = el("div", { class: "fb-field" });
    var typeId = "fb-type-" + key;
    typeWrap.appendChild(el("label", { class: "label", for: typeId }, T.type));
    var select = el("select", { id: typeId, "data-fb": "type" });
    TYPES.forEach(function (t) {
      var option = el("option", { value: t[0] }, t[1]);
      if (t[0] === kind) { option.selected = true; }
      select.appendChild(option);
    });
    select.addEventListener("change", function () { retype(node, select.value, ui); self.write(); self.render(); });
    typeWrap.appendChild(select);
    grid.appendChild(typeWrap);
    var reqWrap = el("label", { class: "choice fb-required" });
    var box = el("input", { type: "checkbox", "data-fb": "required" });
    box.checked = required;
    box.addEventListener("change", function () { self.require(key, box.checked); });
    reqWrap.appendChild(box);
    reqWrap.appendChild(document.createTextNode(" " + T.required));
    grid.appendChild(reqWrap);
    grid.appendChild(this.text("help", T.help, ui["ui:help"] || "", function (v) {
      if (v) { ui["ui:help"] = v; } else { delete ui["ui:help"]; }
    }));
    grid.appendChild(this.text("help-en", T.helpEn, (ui["x-i18n"] || {}).en ? ui["x-i18n"].en["ui:help"] || "" : "",
      function (v) { en(ui)["ui:help"] = v; prune(ui); }));
    if (kind === "choice" || kind === "multi") {
      var lines = optionsOf(node).map(function (r) { return r.join(" | "); }).join("\n");
      var options = this.text("options", T.options, lines, function (v) { setOptions(node, v); }, true);
      options.classList.add("fb-wide");
      grid.appendChild(options);
      if (kind === "choice") {
        var widgetWrap = el("div", { class: "fb-field" });
        var widgetId = "fb-widget-" + key;
        widgetWrap.appendChild(el("label", { class: "label", for: widgetId }, T.widget));
        var widget = el("select", { id: widgetId, "data-fb": "widget" });
        [["", T.auto], ["radio", T.radio], ["select", T.select]].forEach(function (w) {
          var option = el("option", { value: w[0] }, w[1]);
          if ((ui["ui:widget"] || "") === w[0]) { option.selected = true; }
          widget.appendChild(option);
        });
        widget.addEventListener("change", function () {
          if (widget.value) { ui["ui:widget"] = widget.value; } else { delete ui["ui:widget"]; }
          self.write();
        });
        widgetWrap.appendChild(widget);
        grid.appendChild(widgetWrap);
      }
    }
    card.appendChild(grid);
    return card;
  };

  Builder.prototype.require = function (key, on) {
    var list = (this.schema.required || []).filter(function (k) { return k !== key; });
    if (on) { list.push(key); }
    if (list.length) { this.schema.required = list; } else { delete this.schema.required; }
    this.write();
  };

  Builder.prototype.move = function (key, step) {
    var order = this.order();
    var at = order.indexOf(key);
    order.splice(at, 1);
    order.splice(at + step, 0, key);
    this.ui["ui:order"] = order;
    this.write();
    this.render();
  };

  Builder.prototype.remove = function (key) {
    delete this.schema.properties[key];
    delete this.ui[key];
    this.require(key, false);
    this.render();
  };

  Builder.prototype.add = function (raw, problem) {
    var taken = this.schema.properties = this.schema.properties || {};
    var key = String(raw || "").trim();
    if (!KEY.test(key) || taken[key]) { problem.textContent = T.badKey; problem.hidden = false; return; }
    taken[key] = { type: "string", maxLength: 200, title: key };
    this.write();
    this.render();
    var label = this.host.querySelector('[data-fb-key="' + key + '"] [data-fb="label"]');
    if (label) { label.focus(); label.select(); }
  };

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-form-editor]"), function (box) {
      if (box.querySelector("[data-form-visual]")) { box.formBuilder = new Builder(box); }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
