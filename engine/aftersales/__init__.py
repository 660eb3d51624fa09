"""The after-sales application: the regulation (../shared/seed/) as operators, properties and bindings on the
general engine, one package per feature (intake, review, dispatch, visits, claims, training, returns, cases,
archives, policies), each with the same module names: service.py (use cases), operators.py (what models bind),
read.py."""

from __future__ import annotations

from engine.platform.registry import Registry


def register(registry: Registry) -> None:
    """Register every feature's operators, properties, bindings and step hooks."""
    from engine.aftersales import bindings
    from engine.aftersales.cases import operators as cases
    from engine.aftersales.claims import operators as claims
    from engine.aftersales.dispatch import operators as dispatch
    from engine.aftersales.returns import operators as returns
    from engine.aftersales.review import operators as review
    from engine.aftersales.training import operators as training
    from engine.aftersales.visits import operators as visits

    for feature in (cases, review, dispatch, visits, claims, training, returns, bindings):
        feature.register(registry)
