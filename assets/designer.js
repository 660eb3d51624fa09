// The process designer bundle (built by scripts/vendor.sh with esbuild into web/static/vendor/designer.min.js,
// global `BpmDesigner`): a bpmn-js Modeler with the standard properties panel plus this engine's groups:
// lane = role, user-task form, service-task operator, script, condition, timer (with working_days_after),
// called decision / process, pre- and post-scripts and documentation with the regulation's §.
// Everything the engine reads is written as SpiffWorkflow extension elements (spiffworkflow:*).
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

function setOperator(element, changes, injector) {
  const bo = getBusinessObject(element);
  const moddle = injector.get('moddle');
  const commands = [];
  const { item } = ensureExtension(element, bo, 'spiffworkflow:ServiceTaskOperator', moddle, commands);
  if ('parameters' in changes) {
    const list = moddle.create('spiffworkflow:Parameters', { parameters: [] });
    list.$parent = item;
    list.parameters = changes.parameters.map((p) => {
      const param = moddle.create('spiffworkflow:Parameter', p);
      param.$parent = list;
      return param;
    });
    commands.push(command(element, item, { parameterList: list.parameters.length ? list : undefined }));
  } else {
    commands.push(command(element, item, changes));
  }
  run(injector, commands);
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
    if (is(element, 'bpmn:FlowNode') && !is(element, 'bpmn:Lane')) {
      groups.push(group('as-lane', T.laneGroup, [entry('as-lane-info', '', LaneInfo, () => true)]));
    }
    if (is(element, 'bpmn:UserTask')) {
      groups.push(group('as-form', T.formGroup, [
        entry('as-form-schema', T.formSchema, (p) => select(p, (el) => getSpiffProperty(el, 'formJsonSchemaFilename'),
          (el, v, inj) => setSpiffProperty(el, 'formJsonSchemaFilename', v, inj), () => c.forms(), null,
          T.formHelp), isSelectEntryEdited),
        entry('as-form-ui', T.formUi, (p) => select(p, (el) => getSpiffProperty(el, 'formUiSchemaFilename'),
          (el, v, inj) => setSpiffProperty(el, 'formUiSchemaFilename', v, inj), () => c.uiForms()),
        isSelectEntryEdited),
        entry('as-form-buttons', '', FormButtons)
      ]));
    }
    if (is(element, 'bpmn:ServiceTask')) {
      groups.push(group('as-service', T.serviceGroup, [
        entry('as-operator', T.operator, (p) => select(p, (el) => (operatorOf(el) || {}).id,
          (el, v, inj) => setOperator(el, { id: v || undefined }, inj), () => c.operators, null, T.operatorHelp),
        isSelectEntryEdited),
        entry('as-result', T.resultVariable, (p) => text(p, (el) => (operatorOf(el) || {}).resultVariable,
          (el, v, inj) => setOperator(el, { resultVariable: v || undefined }, inj)), isTextFieldEntryEdited),
        entry('as-params', T.parameters, (p) => area(p, (el) => parametersText(operatorOf(el)),
          (el, v, inj) => setOperator(el, { parameters: parseParameters(v).filter((x) => !x.error) }, inj),
          { description: T.parametersHelp, validate: validateParameters }), isTextAreaEntryEdited)
      ]));
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
    children: [current ? button(T.editForm, 'edit', true) : null, button(T.newForm, 'new', !current)]
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
const OPEN_GROUPS = Object.fromEntries(['general', 'as-role', 'as-lane', 'as-form', 'as-service', 'as-script',
  'as-condition', 'as-timer', 'as-decision', 'as-call', 'as-doc'].map((id) => [id, { open: true }]));

const AftersalesPanelModule = {
  __init__: ['aftersalesPropertiesProvider'],
  aftersalesPropertiesProvider: ['type', AftersalesProvider]
};

// ---- public API --------------------------------------------------------------------------------------------

/**
 * Create the modeler. options: container, propertiesParent, lang ('zh' | 'en'), roles, roleLabels, operators,
 * decisions, processes, forms() and uiForms() (functions: the page adds new forms while editing).
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
      operators: options.operators || [],
      decisions: options.decisions || [],
      processes: options.processes || [],
      forms: options.forms || (() => []),
      uiForms: options.uiForms || (() => [])
    }
  });
}

export { getBusinessObject, is };
