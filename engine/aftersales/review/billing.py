"""Check a review decision against the `service_billing` DMN proposal (§3.1 plans by product type, §3.2 billing).

Pure rules, no database: the review_csi effect passes the task data before the review (the proposal) and the
submitted form (the decision).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import InvalidInputError

BILLING_MODES = ("contract", "free", "partly_paid", "paid")
PARTS_CLAIM_PLANS = ("parts_only", "none")


def check_review_decision(proposal: Mapping[str, Any], decision: Mapping[str, Any]) -> None:
    """Refuse plans the proposal does not allow (§3.1) and a billing change without a written reason.

    `proposal` holds the DMN outputs `allowed_plans` and `proposed_billing` (and `product_category`); a key the
    proposal lacks (no DMN ran) sets no limit. `decision` holds `service_plan`, `billing` and `override_reason`.

    :raises InvalidInputError: naming `service_plan`, `billing` or `override_reason`.
    """
    problems: dict[str, str] = {}
    plan_problem = _plan_problem(proposal, decision.get("service_plan"))
    if plan_problem:
        problems["service_plan"] = plan_problem
    billing = decision.get("billing")
    proposed = proposal.get("proposed_billing")
    if billing not in BILLING_MODES:
        problems["billing"] = "must be one of: " + ", ".join(BILLING_MODES)
    elif proposed is not None and billing != proposed and not _has_text(decision.get("override_reason")):
        problems["override_reason"] = (
            f"the proposal is {proposed!r} (§3.2); the reviewer may override the proposal only with a written reason"
        )
    if problems:
        raise InvalidInputError("the review decision does not fit the billing proposal", problems)


def _plan_problem(proposal: Mapping[str, Any], plan: Any) -> str | None:
    """Why the chosen plans are not allowed, or None."""
    if not isinstance(plan, list | tuple) or not plan or not all(isinstance(p, str) for p in plan):
        return "choose at least one service plan"
    allowed = proposal.get("allowed_plans")
    if proposal.get("kind") == "parts_claim":  # §2.3: a parts claim only gets parts (or nothing), never a visit
        allowed = [p for p in (allowed or PARTS_CLAIM_PLANS) if p in PARTS_CLAIM_PLANS]
    if allowed is None:
        return None
    refused = [p for p in plan if p not in allowed]
    if not refused:
        return None
    listed = f"not allowed: {', '.join(refused)} (allowed: {', '.join(map(str, allowed))})"
    if proposal.get("kind") == "parts_claim":
        return f"§2.3: a parts claim is handled as parts only, with no other form of service; {listed}"
    if proposal.get("product_category") == "spare_part" or "field_service" in refused:
        return f"§3.1: a spare part gets return, exchange or compensation (parts only), no field service; {listed}"
    return f"§3.1: {listed}"


def _has_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
