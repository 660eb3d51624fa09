"""Words of the designer's history, diff and migration pages: fact, element-type and spec-attribute labels, and
why an instance cannot move, in the current language (registered as template helpers on the designer blueprint).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.platform.version_migration import Blocker

FACT_LABELS: dict[str, Any] = {
    "type": _l("type"),
    "name": _l("name"),
    "lane": _l("lane (role)"),
    "flow": _l("connects"),
    "condition": _l("condition"),
    "nodes": _l("elements in lane"),
    "form": _l("form"),
    "ui_form": _l("UI schema"),
    "operator": _l("operator"),
    "result_variable": _l("result variable"),
    "parameters": _l("parameters"),
    "decision": _l("decision"),
    "pre_script": _l("pre-script"),
    "post_script": _l("post-script"),
    "script": _l("script"),
    "default": _l("default flow"),
    "called": _l("called process"),
    "attached_to": _l("attached to"),
    "interrupting": _l("interrupting"),
    "timer": _l("timer"),
    "event": _l("event"),
    "multi_instance": _l("multi-instance"),
    "documentation": _l("documentation"),
    "layout": _l("diagram layout (positions only)"),
    "content": _l("content"),
    "hit_policy": _l("hit policy"),
    "inputs": _l("inputs"),
    "outputs": _l("outputs"),
    "when": _l("when"),
    "then": _l("then"),
    "note": _l("note"),
    "title": _l("title"),
    "description": _l("description"),
    "required": _l("required"),
    "enum": _l("choices"),
    "format": _l("format"),
    "minLength": _l("min. length"),
    "maxLength": _l("max. length"),
    "minimum": _l("minimum"),
    "maximum": _l("maximum"),
    "other": _l("other settings"),
    "ui": _l("UI hints"),
}
TYPE_LABELS: dict[str, Any] = {
    "userTask": _l("User task"),
    "manualTask": _l("Manual task"),
    "serviceTask": _l("Service task"),
    "scriptTask": _l("Script task"),
    "businessRuleTask": _l("Business rule task"),
    "callActivity": _l("Call activity"),
    "subProcess": _l("Subprocess"),
    "task": _l("Task"),
    "startEvent": _l("Start event"),
    "endEvent": _l("End event"),
    "boundaryEvent": _l("Boundary event"),
    "intermediateCatchEvent": _l("Intermediate event"),
    "intermediateThrowEvent": _l("Intermediate event"),
    "exclusiveGateway": _l("Exclusive gateway"),
    "inclusiveGateway": _l("Inclusive gateway"),
    "parallelGateway": _l("Parallel gateway"),
    "eventBasedGateway": _l("Event-based gateway"),
    "sequenceFlow": _l("Flow"),
    "lane": _l("Lane"),
    "field": _l("Form field"),
    "form": _l("Form"),
    "ui": _l("UI hint"),
    "rule": _l("DMN rule"),
    "decision": _l("Decision"),
    "decisionTable": _l("Decision table"),
    "layout": _l("Layout"),
    "file": _l("File"),
}
ATTRIBUTE_LABELS: dict[str, Any] = {
    "bpmn_name": _l("name"),
    "documentation": _l("documentation"),
    "lane": _l("lane"),
    "extensions": _l("form, operator or scripts"),
    "inputs": _l("incoming flows"),
    "outputs": _l("outgoing flows"),
    "cond_task_specs": _l("conditions"),
    "default_task_spec": _l("default flow"),
    "event_definition": _l("event"),
    "script": _l("script"),
    "typename": _l("element type"),
    "prescript": _l("pre-script"),
    "postscript": _l("post-script"),
    "operation_name": _l("operator"),
    "operation_params": _l("parameters"),
    "result_variable": _l("result variable"),
    "spec": _l("called process"),
}


STATUS_WORDS: dict[str, Any] = {
    "running": _l("running"),
    "completed": _l("completed"),
    "terminated": _l("terminated"),
    "suspended": _l("suspended"),
    "error": _l("stopped with an error"),
}


def blocker_text(blocker: Blocker, target: int) -> str:
    """Why a live task blocks the move, in the current language."""
    where = (
        f"{blocker.element_name} ({blocker.element_id})"
        if blocker.element_name != blocker.element_id
        else blocker.element_id
    )
    if blocker.reason == "removed":
        return str(_("%(element)s is gone in v%(version)d", element=where, version=target))
    if blocker.reason == "form_changed":
        return str(_("the form of %(element)s changed in v%(version)d", element=where, version=target))
    if blocker.reason == "process_removed":
        return str(
            _("the called process %(process)s is gone in v%(version)d", process=blocker.process_id, version=target)
        )
    changed = ", ".join(str(ATTRIBUTE_LABELS.get(a, a)) for a in blocker.attributes)
    return str(_("%(element)s changed in v%(version)d (%(what)s)", element=where, version=target, what=changed))


def problem_text(problem: str) -> str:
    """A non-diff reason ('status:suspended', 'load:…', 'error:…', 'already:3') in the current language."""
    kind, _sep, detail = problem.partition(":")
    if kind == "status":
        return str(_("the instance is %(status)s: resume or retry it first", status=STATUS_WORDS.get(detail, detail)))
    if kind == "already":
        return str(_("already on v%(version)s", version=detail))
    if kind == "load":
        return str(_("the instance could not be loaded: %(message)s", message=detail))
    return str(_("not moved: %(message)s", message=detail or problem))


def fact_value(fact: str, value: str) -> str:
    """A fact's value for display: yes/no words for the `required` flag, the text itself otherwise."""
    if fact == "required" and value in ("yes", "no"):
        return str(_("Yes") if value == "yes" else _("No"))
    return value


def install_words(bp: Blueprint) -> None:
    """Make the helpers available to the blueprint's templates."""
    bp.context_processor(_words)


def _words() -> dict[str, Any]:
    return {
        "fact_label": lambda key: str(FACT_LABELS.get(key, key.removeprefix("property "))),
        "type_label": lambda key: str(TYPE_LABELS.get(key, key)),
        "blocker_text": blocker_text,
        "problem_text": problem_text,
        "status_word": lambda status: str(STATUS_WORDS.get(status, status)),
        "fact_value": fact_value,
    }
