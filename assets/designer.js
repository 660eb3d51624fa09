// The process designer bundle (built by scripts/vendor.sh with esbuild into web/static/vendor/designer.min.js,
// global `BpmDesigner`): a bpmn-js Modeler with the standard properties panel plus this engine's groups:
// lane = role, user-task and start forms, what a step writes to the records (the registered operator with its
// declared parameters, on service tasks and user tasks), assignee, business key and the catalog's properties
// (caseStatus…), script, condition, timer (with working_days_after), called decision / process, pre- and
// post-scripts and documentation with the regulation's §. Every element declaring an operator wears a badge on the
// canvas. Everything the engine reads is written as SpiffWorkflow extension elements (spiffworkflow:*).
import Modeler from 'bpmn-js/lib/Modeler';
import { getBusinessObject, is, isAny } from 'bpmn-js/lib/util/ModelUtil';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  useService
} from 'bpmn-js-properties-panel';
import {
  Group,
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited
} from '@bpmn-io/properties-panel';
import { jsx, jsxs } from '@bpmn-io/properties-panel/preact/jsx-runtime';

import spiffModdle from './spiffworkflow-moddle.js';
import { TEXTS, zhTranslate } from './designer-texts.js';

let T = TEXTS.zh;

// ---- moddle helpers ----------------------------------------------------------------------------------------

function extensions(bo, type) {
  const ext = bo.get('extensionElements');
  return ext ? ext.get('values').filter((v) => is(v, type)) : [];
}

function command(element, moddleElement, properties) {
  return { cmd: 'element.updateModdleProperties', context: { element, moddleElement, properties } };
}

// Find or create bo.extensionElements and the one extension element of `type`; commands go into `commands`.
function ensureExtension(element, bo, type, moddle, commands, attrs) {
  let ext = bo.get('extensionElements');
  if (!ext) {
    ext = moddle.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    commands.push(command(element, bo, { extensionElements: ext }));
  }
  let item = ext.get('values').find((v) => is(v, type));
  if (!item) {
    item = moddle.create(type, attrs || {});
    item.$parent = ext;
    commands.push(command(element, ext, { values: [...ext.get('values'), item] }));
  }
  return { ext, item };
}

function removeExtension(element, bo, type, commands) {
  const ext = bo.get('extensionElements');
  if (ext && ext.get('values').some((v) => is(v, type))) {
    commands.push(command(element, ext, { values: ext.get('values').filter((v) => !is(v, type)) }));
  }
}

function run(injector, commands) {
  if (commands.length) {
    injector.get('commandStack').execute('properties-panel.multi-command-executor', commands);
  }
}

export function getSpiffProperty(element, name) {
  const [props] = extensions(getBusinessObject(element), 'spiffworkflow:Properties');
  const found = props && props.get('values').find((p) => p.name === name);
  return found ? found.value || '' : '';
}

export function setSpiffProperty(element, name, value, injector) {
  const bo = getBusinessObject(element);
  const moddle = injector.get('moddle');
  const commands = [];
  const { item: props } = ensureExtension(element, bo, 'spiffworkflow:Properties', moddle, commands, { values: [] });
  const found = props.get('values').find((p) => p.name === name);
  if (!value) {
    if (found) commands.push(command(element, props, { values: props.get('values').filter((p) => p !== found) }));
  } else if (found) {
    commands.push(command(element, found, { value }));
  } else {
    const prop = moddle.create('spiffworkflow:Property', { name, value });
    prop.$parent = props;
    commands.push(command(element, props, { values: [...props.get('values'), prop] }));
  }
  run(injector, commands);
}

function getBody(element, type) {
  const [item] = extensions(getBusinessObject(element), type);
  return item ? item.value || '' : '';
}

function setBody(element, type, value, injector) {
  const bo = getBusinessObject(element);
  const commands = [];
  if (!value) {
    removeExtension(element, bo, type, commands);
  } else {
    const { item } = ensureExtension(element, bo, type, injector.get('moddle'), commands);
    commands.push(command(element, item, { value }));
  }
  run(injector, commands);
}

// ---- operator parameters: one per line, "name: type = expression" ------------------------------------------

function operatorOf(element) {
  return extensions(getBusinessObject(element), 'spiffworkflow:ServiceTaskOperator')[0];
}

function parametersText(operator) {
  const list = operator && operator.parameterList ? operator.parameterList.get('parameters') : [];
  return list.map((p) => `${p.id}: ${p.type || 'str'} = ${p.value || ''}`).join('\n');
}

export function parseParameters(text) {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const match = /^([A-Za-z_][\w]*)\s*(?::\s*([\w.]+))?\s*=\s*(.+)$/.exec(line);
    return match ? { id: match[1], type: match[2] || 'str', value: match[3].trim() } : { error: line };
  });
}

function createParameters(moddle, item, parameters) {
  const list = moddle.create('spiffworkflow:Parameters', { parameters: [] });
  list.$parent = item;
  list.parameters = parameters.map((p) => {
    const param = moddle.create('spiffworkflow:Parameter', p);
    param.$parent = list;
    return param;
  });
  return list.parameters.length ? list : undefined;
}

function setOperator(element, changes, injector) {
  const bo = getBusinessObject(element);
  const moddle = injector.get('moddle');
  const commands = [];
  const { item } = ensureExtension(element, bo, 'spiffworkflow:ServiceTaskOperator', moddle, commands);
  if ('parameters' in changes) {
    commands.push(command(element, item, { parameterList: createParameters(moddle, item, changes.parameters) }));
  } else {
    commands.push(command(element, item, changes));
  }
  run(injector, commands);
}

function currentParameters(element) {
  const operator = operatorOf(element);
  const list = operator && operator.parameterList ? operator.parameterList.get('parameters') : [];
  return list.map((p) => ({ id: p.id, type: p.type, value: p.value }));
}

// Pick an operator: its declared parameters are prefilled (name -> the task-data variable of the same name, or the
// value the model had for it); undeclared ones go. None removes the binding altogether.
export function pickOperator(element, name, injector, spec) {
  const bo = getBusinessObject(element);
  const commands = [];
  if (!name) {
    removeExtension(element, bo, 'spiffworkflow:ServiceTaskOperator', commands);
    run(injector, commands);
    return;
  }
  const moddle = injector.get('moddle');
  const had = Object.fromEntries(currentParameters(element).map((p) => [p.id, p]));
  const params = spec && spec.params ? spec.params.map((p) => ({
    id: p.name, type: p.type || 'any', value: (had[p.name] && had[p.name].value) || p.name
  })) : Object.values(had);
  const { item } = ensureExtension(element, bo, 'spiffworkflow:ServiceTaskOperator', moddle, commands);
  commands.push(command(element, item, { id: name, parameterList: createParameters(moddle, item, params) }));
  run(injector, commands);
}

// One declared parameter's expression; emptied, the parameter goes (the deploy check then names a required one).
function setParameter(element, param, value, injector) {
  const params = currentParameters(element);
  const others = params.filter((p) => p.id !== param.name);
  const found = params.find((p) => p.id === param.name);
  const next = !value ? others : found ? params.map((p) => (p === found ? { ...p, value } : p))
    : [...params, { id: param.name, type: param.type || 'any', value }];
  setOperator(element, { parameters: next }, injector);
}

// ---- entries -----------------------------------------------------------------------------------------------

function options(values, current, labels) {
  const list = [{ value: '', label: T.none }];
  values.forEach((v) => list.push({ value: v, label: labels && labels[v] ? `${labels[v]} (${v})` : v }));
  if (current && !values.includes(current)) list.push({ value: current, label: `${current} ${T.unknown}` });
  return list;
}

function select(props, get, set, values, labels, description) {
  const { element, id } = props;
  const injector = useService('injector');
  return SelectEntry({
    element, id, label: props.label, description,
    getValue: () => get(element) || '',
    setValue: (value) => set(element, value, injector),
    getOptions: () => options(values(), get(element), labels)
  });
}

function area(props, get, set, extra) {
  const { element, id } = props;
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  return TextAreaEntry({
    element, id, label: props.label, debounce, monospace: true, autoResize: true, rows: 2,
    getValue: () => get(element) || '',
    setValue: (value) => set(element, (value || '').trim() ? value : '', injector),
    ...extra
  });
}

function text(props, get, set, extra) {
  const { element, id } = props;
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  return TextFieldEntry({
    element, id, label: props.label, debounce,
    getValue: () => get(element) || '',
    setValue: (value) => set(element, (value || '').trim(), injector),
    ...extra
  });
}

// ---- bilingual models: the English name of an element, kept in the foreign attribute i18n:name-en ---------------

const I18N_NS = 'https://aftersales-bpm.org/schema/i18n';
const NAME_EN = 'i18n:name-en';

function englishName(element) {
  return getBusinessObject(element).$attrs[NAME_EN] || '';
}

function setEnglishName(element, value, injector) {
  const definitions = injector.get('bpmnjs').getDefinitions();
  if (value && !definitions.$attrs['xmlns:i18n']) {
    definitions.$attrs['xmlns:i18n'] = I18N_NS; // declared once, so the saved XML stays well-formed
  }
  injector.get('modeling').updateProperties(element, { [NAME_EN]: value || undefined });
}

function entry(id, label, component, isEdited) {
  return { id, label, component, isEdited };
}

function group(id, label, entries) {
  return { id, label, entries, component: Group };
}

// ---- groups ------------------------------------------------------------------------------------------------

class AftersalesProvider {
  constructor(propertiesPanel, injector, config) {
    this._injector = injector;
    this._config = config;
    this.getGroups = this.getGroups.bind(this);
    propertiesPanel.registerProvider(500, this); // after getGroups exists (else: "does not implement #getGroups")
  }

  getGroups(element) {
    return (groups) => {
      const ours = this.groupsFor(element).filter((g) => g.entries.length);
      const kept = groups.filter((g) => g.id !== 'timer' && g.id !== 'documentation');
      const general = kept.findIndex((g) => g.id === 'general');
      kept.splice(general + 1, 0, ...ours);
      return kept;
    };
  }

  groupsFor(element) {
    const c = this._config;
    const bo = getBusinessObject(element);
    const groups = [];
    if (is(element, 'bpmn:Lane')) {
      groups.push(group('as-role', T.roleGroup, [
        entry('as-lane-role', T.role, (p) => select(p, (el) => getBusinessObject(el).name,
          (el, v, inj) => inj.get('modeling').updateProperties(el, { name: v || undefined }),
          () => c.roles, c.roleLabels, T.roleHelp), isSelectEntryEdited)
      ]));
    }
    if (isAny(element, ['bpmn:FlowElement', 'bpmn:Participant', 'bpmn:Process'])) {
      groups.push(group('as-i18n', T.englishGroup, [
        entry('as-name-en', T.englishName, (p) => text(p, englishName, setEnglishName,
          { description: T.englishNameHelp }), isTextFieldEntryEdited)
      ]));
    }
    if (is(element, 'bpmn:FlowNode') && !is(element, 'bpmn:Lane')) {
      groups.push(group('as-lane', T.laneGroup, [entry('as-lane-info', '', LaneInfo, () => true)]));
    }
    if (is(element, 'bpmn:UserTask')) {
      groups.push(formGroup('as-form', T.formGroup, T.formHelp, FormButtons, c));
      groups.push(recordsGroup(element, c));
      groups.push(group('as-assign', T.assignGroup, [propertyEntry('as-assignee', 'assignee', T.assignee,
        T.assigneeHelp)]));
    }
    if (isProcessStart(element)) {
      const start = formGroup('as-start-form', T.startFormGroup, T.startFormHelp, StartFormButtons, c, 'as-start');
      start.entries.push(propertyEntry('as-business-key', 'businessKey', T.businessKey, T.businessKeyHelp));
      groups.push(start);
    }
    if (is(element, 'bpmn:ServiceTask')) {
      groups.push(recordsGroup(element, c));
    }
    if (is(element, 'bpmn:FlowNode')) {
      groups.push(group('as-props', T.propsGroup, c.properties.filter((spec) => !PLACED.includes(spec.name))
        .map((spec) => catalogPropertyEntry(spec, c))));
    }
    if (is(element, 'bpmn:ScriptTask')) {
      groups.push(group('as-script', T.scriptGroup, [
        entry('as-script-text', T.script, (p) => area(p, (el) => getBusinessObject(el).script,
          (el, v, inj) => inj.get('modeling').updateProperties(el, { script: v || undefined, scriptFormat: 'python' }),
          { description: T.scriptHelp, rows: 4 }), isTextAreaEntryEdited)
      ]));
    }
    if (is(element, 'bpmn:SequenceFlow') && isAny(bo.sourceRef, ['bpmn:ExclusiveGateway', 'bpmn:InclusiveGateway'])) {
      groups.push(group('as-condition', T.conditionGroup, [
        entry('as-condition-text', T.condition, (p) => area(p, conditionOf, setCondition,
          { description: T.conditionHelp }), isTextAreaEntryEdited),
        entry('as-default', T.defaultFlow, (p) => select(p, (el) => (isDefault(el) ? 'yes' : ''), setDefault,
          () => ['yes'], { yes: T.yes }, T.defaultHelp), isSelectEntryEdited)
      ]));
    }
    const timer = (bo.eventDefinitions || []).find((d) => is(d, 'bpmn:TimerEventDefinition'));
    if (timer) {
      groups.push(group('as-timer', T.timerGroup, [
        entry('as-timer-type', T.timerType, (p) => select(p, () => timerType(timer),
          (el, v, inj) => setTimer(el, timer, v, timerBody(timer), inj), () => ['timeDate', 'timeDuration', 'timeCycle'],
          { timeDate: T.timeDate, timeDuration: T.timeDuration, timeCycle: T.timeCycle }), isSelectEntryEdited),
        entry('as-timer-expr', T.timerExpr, (p) => area(p, () => timerBody(timer),
          (el, v, inj) => setTimer(el, timer, timerType(timer) || 'timeDuration', v, inj),
          { description: T.timerHelp }), isTextAreaEntryEdited)
      ]));
    }
    if (is(element, 'bpmn:BusinessRuleTask')) {
      groups.push(group('as-decision', T.decisionGroup, [
        entry('as-decision-id', T.decision, (p) => select(p, (el) => getBody(el, 'spiffworkflow:CalledDecisionId'),
          (el, v, inj) => setBody(el, 'spiffworkflow:CalledDecisionId', v, inj), () => c.decisions), isSelectEntryEdited)
      ]));
    }
    if (is(element, 'bpmn:CallActivity')) {
      groups.push(group('as-call', T.callGroup, [
        entry('as-called', T.calledProcess, (p) => select(p, (el) => getBusinessObject(el).calledElement,
          (el, v, inj) => inj.get('modeling').updateProperties(el, { calledElement: v || undefined }),
          () => c.processes), isSelectEntryEdited)
      ]));
    }
    if (isAny(element, ['bpmn:UserTask', 'bpmn:ManualTask', 'bpmn:ServiceTask', 'bpmn:BusinessRuleTask',
      'bpmn:CallActivity', 'bpmn:SubProcess', 'bpmn:SendTask', 'bpmn:ReceiveTask']) || element.type === 'bpmn:Task') {
      groups.push(group('as-scripts', T.prePostGroup, [
        entry('as-pre', T.preScript, (p) => area(p, (el) => getBody(el, 'spiffworkflow:PreScript'),
          (el, v, inj) => setBody(el, 'spiffworkflow:PreScript', v, inj)), isTextAreaEntryEdited),
        entry('as-post', T.postScript, (p) => area(p, (el) => getBody(el, 'spiffworkflow:PostScript'),
          (el, v, inj) => setBody(el, 'spiffworkflow:PostScript', v, inj), { description: T.prePostHelp }),
        isTextAreaEntryEdited)
      ]));
    }
    if (bo.$instanceOf('bpmn:BaseElement') && !is(element, 'bpmn:Label')) {
      groups.push(group('as-doc', T.docGroup, [
        entry('as-documentation', T.documentation, (p) => area(p, documentationOf, setDocumentation,
          { description: T.docHelp, monospace: false, rows: 3 }), isTextAreaEntryEdited)
      ]));
    }
    return groups;
  }
}
AftersalesProvider.$inject = ['propertiesPanel', 'injector', 'config.aftersales'];

// ---- forms, properties and what a step writes to the records -------------------------------------------------

const PLACED = ['assignee', 'businessKey', 'formJsonSchemaFilename', 'formUiSchemaFilename'];

function isProcessStart(element) {
  const bo = getBusinessObject(element);
  return is(element, 'bpmn:StartEvent') && is(bo.$parent, 'bpmn:Process');
}

function formGroup(id, label, help, buttons, config, prefix) {
  const p = prefix || 'as-form';
  return group(id, label, [
    entry(`${p}-schema`, T.formSchema, (props) => select(props, (el) => getSpiffProperty(el, 'formJsonSchemaFilename'),
      (el, v, inj) => setSpiffProperty(el, 'formJsonSchemaFilename', v, inj), () => config.forms(), null, help),
    isSelectEntryEdited),
    entry(`${p}-ui`, T.formUi, (props) => select(props, (el) => getSpiffProperty(el, 'formUiSchemaFilename'),
      (el, v, inj) => setSpiffProperty(el, 'formUiSchemaFilename', v, inj), () => config.uiForms()),
    isSelectEntryEdited),
    entry(`${p}-buttons`, '', buttons)
  ]);
}

function useConfig() {
  return useService('config.aftersales');
}

function propertyEntry(id, name, label, help) {
  return entry(id, label, (props) => text(props, (el) => getSpiffProperty(el, name),
    (el, v, inj) => setSpiffProperty(el, name, v, inj), { description: help }), isTextFieldEntryEdited);
}

function catalogPropertyEntry(spec, config) {
  const id = `as-prop-${spec.name}`;
  const label = T.propertyLabels[spec.name] || spec.name;
  const help = (T.propertyHelp && T.propertyHelp[spec.name]) || spec.doc;
  if (!spec.values) return propertyEntry(id, spec.name, label, help);
  return entry(id, label, (props) => select(props, (el) => getSpiffProperty(el, spec.name),
    (el, v, inj) => setSpiffProperty(el, spec.name, v, inj), () => spec.values,
    (config.valueLabels || {})[spec.name], help), isSelectEntryEdited);
}

function specsByName(config) {
  return Object.fromEntries((config.operatorSpecs || []).map((spec) => [spec.name, spec]));
}

function recordsGroup(element, config) {
  const operator = operatorOf(element);
  const name = operator ? operator.id || '' : '';
  const spec = specsByName(config)[name];
  const entries = [entry('as-operator', T.operator, OperatorSelect, isSelectEntryEdited)];
  if (name && spec && spec.params) {
    spec.params.forEach((param) => entries.push(parameterEntry(param)));
    const declared = spec.params.map((p) => p.name);
    const extra = currentParameters(element).filter((p) => !declared.includes(p.id));
    if (extra.length) entries.push(entry('as-param-extra', '', (props) => Warning(props, T.unknownParams, extra)));
  } else if (name) {
    entries.push(entry('as-params', T.parameters, (p) => area(p, (el) => parametersText(operatorOf(el)),
      (el, v, inj) => setOperator(el, { parameters: parseParameters(v).filter((x) => !x.error) }, inj),
      { description: T.parametersHelp, validate: validateParameters }), isTextAreaEntryEdited));
  }
  if (name) {
    entries.push(entry('as-result', T.resultVariable, (p) => text(p, (el) => (operatorOf(el) || {}).resultVariable,
      (el, v, inj) => setOperator(el, { resultVariable: v || undefined }, inj), { description: T.resultHelp }),
    isTextFieldEntryEdited));
  }
  return group('as-records', T.recordsGroup, entries);
}

function parameterEntry(param) {
  const label = `${param.name}${param.required ? ' *' : ''} (${param.type || 'any'})`;
  const description = [param.required ? T.required : '', param.doc || T.paramHelp].filter(Boolean).join(' · ');
  return entry(`as-param-${param.name}`, label, (props) => text(props,
    (el) => (currentParameters(el).find((p) => p.id === param.name) || {}).value,
    (el, v, inj) => setParameter(el, param, v, inj),
    { description, validate: (v) => (param.required && !(v || '').trim() ? T.required : null) }),
  isTextFieldEntryEdited);
}

function OperatorSelect(props) {
  const { element, id } = props;
  const injector = useService('injector');
  const config = useConfig();
  const specs = specsByName(config);
  const userTask = is(element, 'bpmn:UserTask');
  const current = (operatorOf(element) || {}).id || '';
  const offered = (config.operatorSpecs || []).filter((spec) => userTask || !spec.user_task_only);
  const list = [{ value: '', label: T.none }, ...offered.map((spec) => ({
    value: spec.name, label: spec.section ? `${spec.name} · ${spec.section}` : spec.name
  }))];
  if (current && !offered.some((spec) => spec.name === current)) {
    list.push({ value: current, label: `${current} ${T.unknown}` });
  }
  return SelectEntry({
    element, id, label: props.label,
    description: OperatorNote(element, specs[current], current),
    getValue: () => current,
    setValue: (value) => pickOperator(element, value, injector, specs[value]),
    getOptions: () => list
  });
}

function OperatorNote(element, spec, name) {
  const userTask = is(element, 'bpmn:UserTask');
  if (!name) return userTask ? T.operatorHelpUser : T.operatorHelpService;
  if (!spec) return jsx('span', { class: 'as-note-warn', children: T.operatorUnknown });
  const when = userTask ? T.runsOnComplete : T.runsOnArrival;
  return jsxs('span', {
    class: 'as-operator-note',
    'data-operator-note': spec.name,
    children: [
      spec.section ? jsx('strong', { class: 'as-section', children: spec.section }) : null,
      jsx('span', { class: 'as-doc', children: spec.doc }),
      jsx('span', { class: 'as-when', children: when }),
      spec.form_fields && spec.form_fields.length ? jsx('span', {
        class: 'as-fields', children: `${T.readsFields}: ${spec.form_fields.join(', ')}`
      }) : null,
      spec.user_task_only && !userTask ? jsx('span', { class: 'as-note-warn', children: T.operatorUserOnlyHere }) : null
    ]
  });
}

function Warning(props, message, params) {
  return jsxs('div', {
    'data-entry-id': props.id,
    class: 'bio-properties-panel-entry as-lane-info as-warn',
    children: [jsx('span', { class: 'as-note-warn', children: message }),
      jsx('div', { class: 'bio-properties-panel-description mono', children: params.map((p) => p.id).join(', ') })]
  });
}

function validateParameters(value) {
  const bad = parseParameters(value || '').find((p) => p.error);
  return bad ? `${T.badParameter}: ${bad.error}` : null;
}

function LaneInfo(props) {
  const bo = getBusinessObject(props.element);
  const lane = (bo.get('lanes') || [])[0];
  const config = useService('config.aftersales');
  const name = lane ? lane.name || '' : '';
  const known = config.roles.includes(name);
  const label = known && config.roleLabels[name] ? `${config.roleLabels[name]} (${name})` : name || T.noLane;
  return jsxs('div', {
    'data-entry-id': props.id,
    class: 'bio-properties-panel-entry as-lane-info' + (known || !lane ? '' : ' as-warn'),
    children: [jsx('span', { class: 'as-lane-name', children: label }),
      jsx('div', { class: 'bio-properties-panel-description', children: known ? T.laneHelp : T.laneUnknown })]
  });
}

function FormButtons(props) {
  return FormButtonsWith(props, T.newForm);
}

function StartFormButtons(props) {
  return FormButtonsWith(props, T.newStartForm);
}

function FormButtonsWith(props, newLabel) {
  const eventBus = useService('eventBus');
  const { element } = props;
  const current = getSpiffProperty(element, 'formJsonSchemaFilename');
  const button = (label, action, primary) => jsx('button', {
    type: 'button', class: 'as-button' + (primary ? ' as-button-primary' : ''),
    onClick: () => eventBus.fire('aftersales.form', { element, action, name: current }),
    children: label
  });
  return jsxs('div', {
    'data-entry-id': props.id,
    class: 'bio-properties-panel-entry as-buttons',
    children: [current ? button(T.editForm, 'edit', true) : null, button(newLabel, 'new', !current)]
  });
}

function conditionOf(element) {
  const expression = getBusinessObject(element).conditionExpression;
  return expression ? expression.body || '' : '';
}

function setCondition(element, value, injector) {
  const moddle = injector.get('moddle');
  const expression = value ? moddle.create('bpmn:FormalExpression', { body: value }) : undefined;
  injector.get('modeling').updateProperties(element, { conditionExpression: expression });
}

function isDefault(element) {
  const bo = getBusinessObject(element);
  return bo.sourceRef && bo.sourceRef.default === bo;
}

function setDefault(element, value, injector) {
  const bo = getBusinessObject(element);
  const source = injector.get('elementRegistry').get(bo.sourceRef.id);
  injector.get('modeling').updateProperties(source, { default: value ? bo : undefined });
}

function timerType(timer) {
  return ['timeDate', 'timeDuration', 'timeCycle'].find((k) => timer.get(k)) || '';
}

function timerBody(timer) {
  const kind = timerType(timer);
  return kind ? timer.get(kind).body || '' : '';
}

function setTimer(element, timer, kind, body, injector) {
  const changes = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
  if (kind) {
    const expression = injector.get('moddle').create('bpmn:FormalExpression', { body: body || undefined });
    expression.$parent = timer;
    changes[kind] = expression;
  }
  run(injector, [command(element, timer, changes)]);
}

function documentationOf(element) {
  const docs = getBusinessObject(element).get('documentation') || [];
  return docs.length ? docs[0].text || '' : '';
}

function setDocumentation(element, value, injector) {
  const bo = getBusinessObject(element);
  const docs = bo.get('documentation') || [];
  if (docs.length) {
    run(injector, [command(element, docs[0], { text: value || undefined })]);
  } else if (value) {
    const doc = injector.get('bpmnFactory').create('bpmn:Documentation', { text: value });
    doc.$parent = bo;
    run(injector, [command(element, bo, { documentation: [doc] })]);
  }
}

// Groups shown open at first (the rest stay folded); the panel remembers what the designer opens or closes.
const OPEN_GROUPS = Object.fromEntries(['general', 'as-role', 'as-lane', 'as-form', 'as-start-form', 'as-records',
  'as-assign', 'as-props', 'as-script', 'as-condition', 'as-timer', 'as-decision', 'as-call', 'as-doc']
  .map((id) => [id, { open: true }]));

// ---- the canvas: a badge on every element that declares an operator ----------------------------------------

function badgeTip(spec, name, element) {
  if (!spec) return `${name}: ${T.badgeUnknown}`;
  const when = is(element, 'bpmn:UserTask') ? T.runsOnComplete : T.runsOnArrival;
  return [spec.section, spec.doc, `(${when})`].filter(Boolean).join(' ');
}

export function operatorBadge(element, config) {
  const operator = element.type !== 'label' && element.businessObject ? operatorOf(element) : null;
  if (!operator || !operator.id) return null;
  const spec = specsByName(config)[operator.id];
  const badge = document.createElement('div');
  badge.className = 'as-operator-badge' + (spec ? '' : ' as-operator-unknown') +
    (is(element, 'bpmn:UserTask') ? ' as-operator-on-complete' : '');
  badge.setAttribute('data-operator-for', element.id);
  badge.setAttribute('data-operator', operator.id);
  badge.setAttribute('data-tip', badgeTip(spec, operator.id, element));
  badge.setAttribute('aria-label', `${operator.id}: ${badgeTip(spec, operator.id, element)}`);
  badge.textContent = `⚙ ${operator.id}`;
  badge.addEventListener('mouseenter', () => {  // open the tooltip leftwards near the canvas' right edge
    const canvas = badge.closest('.djs-container');
    const room = canvas ? canvas.getBoundingClientRect().right - badge.getBoundingClientRect().left : 1e4;
    badge.classList.toggle('as-tip-left', room < 320);
  });
  return badge;
}

class OperatorBadges {
  constructor(eventBus, overlays, elementRegistry, config) {
    const draw = (element) => {
      overlays.remove({ element, type: 'as-operator' });
      if (elementRegistry.get(element.id) !== element) return;  // deleted, or a label
      const html = operatorBadge(element, config);
      if (html) overlays.add(element, 'as-operator', { position: { bottom: 9, left: -6 }, scale: { min: 0.7 }, html });
    };
    eventBus.on('import.done', () => elementRegistry.getAll().forEach(draw));
    eventBus.on('elements.changed', (event) => event.elements.forEach(draw));
  }
}
OperatorBadges.$inject = ['eventBus', 'overlays', 'elementRegistry', 'config.aftersales'];

const AftersalesPanelModule = {
  __init__: ['aftersalesPropertiesProvider', 'aftersalesOperatorBadges'],
  aftersalesPropertiesProvider: ['type', AftersalesProvider],
  aftersalesOperatorBadges: ['type', OperatorBadges]
};

// ---- public API --------------------------------------------------------------------------------------------

/**
 * Create the modeler. options: container, propertiesParent, lang ('zh' | 'en'), roles, roleLabels, operatorSpecs
 * (name, section, doc, user_task_only, form_fields, params), properties (the catalog's: name, values, expression,
 * projected, doc), valueLabels ({property: {value: label}}), decisions, processes, forms() and uiForms() (functions:
 * the page adds new forms while editing).
 */
export function createModeler(options) {
  T = TEXTS[options.lang === 'en' ? 'en' : 'zh'];
  const modules = [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, AftersalesPanelModule];
  if (options.lang !== 'en') modules.push({ translate: ['value', zhTranslate] });
  return new Modeler({
    container: options.container,
    propertiesPanel: { parent: options.propertiesParent, layout: { groups: OPEN_GROUPS } },
    additionalModules: modules,
    moddleExtensions: { spiffworkflow: spiffModdle },
    aftersales: {
      roles: options.roles || [],
      roleLabels: options.roleLabels || {},
      operatorSpecs: options.operatorSpecs || [],
      properties: options.properties || [],
      valueLabels: options.valueLabels || {},
      decisions: options.decisions || [],
      processes: options.processes || [],
      forms: options.forms || (() => []),
      uiForms: options.uiForms || (() => [])
    }
  });
}

export { getBusinessObject, is };
