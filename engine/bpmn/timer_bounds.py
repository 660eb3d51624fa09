"""Timer durations are bounded before SpiffWorkflow turns them into days, so no timer value can stall a step.

SpiffWorkflow adds up a duration's years and months one calendar month at a time (`get_timedelta_from_start`):
`'P99999999Y'` ran 1.2 billion loop rounds inside the engine, where no step budget reaches, and held a server
thread for hours (found outside-in). A duration that ends past year 9999 cannot be a deadline anyway; it now fails
at once with an OverflowError, which the runtime reports as the model's error (an incident naming it) and the deploy
check as the timer's problem. Hand-written because SpiffWorkflow offers no hook for it: its two static methods are
wrapped once, when this package is first imported (engine/bpmn/__init__.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import MAXYEAR
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

_MONTHS_PER_YEAR = 12


def _check_months(parsed: dict[str, Any], room: int) -> None:
    """Refuse a duration whose years and months exceed `room` months (what is left before year 9999, or after 1)."""
    try:
        months = abs(float(parsed.get("years", 0))) * _MONTHS_PER_YEAR + abs(float(parsed.get("months", 0)))
    except (TypeError, ValueError, OverflowError):
        raise OverflowError("timer duration is not a number of years and months") from None
    if months > room:
        raise OverflowError("timer duration reaches past the years a date can hold (1 to 9999)")


def _from_start(original: Callable[..., timedelta]) -> Callable[..., timedelta]:
    def get_timedelta_from_start(parsed_duration: dict[str, Any], start: datetime | None = None) -> timedelta:
        _check_months(parsed_duration, (MAXYEAR - (start or datetime.now(UTC)).year) * _MONTHS_PER_YEAR)
        return original(parsed_duration, start)

    return get_timedelta_from_start


def _from_end(original: Callable[..., timedelta]) -> Callable[..., timedelta]:
    def get_timedelta_from_end(parsed_duration: dict[str, Any], end: datetime) -> timedelta:
        _check_months(parsed_duration, (end.year - 1) * _MONTHS_PER_YEAR)
        return original(parsed_duration, end)

    return get_timedelta_from_end


if not getattr(TimerEventDefinition, "_aftersales_bounded", False):
    TimerEventDefinition.get_timedelta_from_start = staticmethod(
        _from_start(TimerEventDefinition.get_timedelta_from_start)
    )
    TimerEventDefinition.get_timedelta_from_end = staticmethod(_from_end(TimerEventDefinition.get_timedelta_from_end))
    TimerEventDefinition._aftersales_bounded = True
