"""JUEL from Camunda/Flowable models becomes sandbox Python, or is refused with the reason."""

from __future__ import annotations

import pytest

from engine.bpmn.juel import JuelError
from engine.bpmn.juel import translate
from engine.bpmn.sandbox import compile_source

TABLE = [
    ("${approved}", "approved"),
    ("${!approved}", "not approved"),
    ("${not approved}", "not approved"),
    ("#{approved}", "approved"),
    ("${amount > 1000}", "amount > 1000"),
    ("${amount gt 1000}", "amount > 1000"),
    ("${amount >= 1000 && amount <= 5000}", "amount >= 1000 and amount <= 5000"),
    ("${amount ge 1000 and amount le 5000}", "amount >= 1000 and amount <= 5000"),
    ("${a lt 1 || b > 2}", "a < 1 or b > 2"),
    ("${a or b}", "a or b"),
    ("${category == 'Misc'}", "category == 'Misc'"),
    ('${category eq "Misc"}', "category == 'Misc'"),
    ("${category != 'Misc'}", "category != 'Misc'"),
    ("${category ne 'Misc'}", "category != 'Misc'"),
    ("${vacationApproved == 'true'}", "vacationApproved == 'true'"),
    ("${approved == true}", "approved == True"),
    ("${approved == false}", "approved == False"),
    ("${manager == null}", "manager == None"),
    ("${empty comment}", "not comment"),
    ("${!empty comment}", "not not comment"),
    ("${'it\\'s'}", '"it\'s"'),
    ("${(a || b) && c}", "(a or b) and c"),
    ("${!(a && b)}", "not (a and b)"),
    ("${!a == b}", "(not a) == b"),
    ("${a < b == true}", "(a < b) == True"),
    ("${days * 2 + 1 > limit}", "days * 2 + 1 > limit"),
    ("${total div 2 mod 3}", "total / 2 % 3"),
    ("${-amount < 0}", "-amount < 0"),
    ("${1.5e3}", "1500.0"),
    ("${urgent ? 'PT1H' : 'P1D'}", "'PT1H' if urgent else 'P1D'"),
    ("  ${ approved }  ", "approved"),
]

REFUSED = [
    ("${execution.getVariable('approved')}", "execution.getVariable"),
    ("${myBean.isValid(order)}", "myBean.isValid"),
    ("${order.total > 10}", "property order.total"),
    ("${fn:length(items)}", "fn:length"),
    ("${items[0]}", "indexes"),
    ("${dateTime()}", "function dateTime"),
    ("${a} and ${b}", "several expressions"),
    ("approved", "not a single"),
    ("${class}", "cannot be a variable name"),
    ("${_secret}", "cannot be a variable name"),
    ("${a instanceof b}", "unexpected 'instanceof'"),
    ("${a +}", "unexpected"),
    ("${a @ b}", "cannot read"),
]


@pytest.mark.parametrize(("juel", "python"), TABLE)
def test_simple_juel_becomes_the_same_python_expression(juel, python):
    assert translate(juel) == python
    compile_source(python, "eval")  # what the deploy lint and the engine will do with it


@pytest.mark.parametrize(("juel", "reason"), REFUSED)
def test_juel_that_needs_the_other_engine_is_refused_with_the_reason(juel, reason):
    with pytest.raises(JuelError, match=reason.replace("(", r"\(").replace("[", r"\[")):
        translate(juel)


def test_translated_comparisons_keep_el_precedence_when_evaluated():
    namespace = {"a": 1, "b": 2}
    assert eval(translate("${a < b == true}"), {}, namespace) is True
    assert eval(translate("${!a == false}"), {}, namespace) is True
