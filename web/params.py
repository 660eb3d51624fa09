"""Whole numbers from URLs and query strings, bounded so no id or page reaches the database as a 500.

SQLite stores 64-bit integers and refuses bigger Python ints with an OverflowError; PostgreSQL refuses them as out of
range. An id that cannot exist is a 404; a page number or size out of range is a 422 naming the parameter.
"""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map
from werkzeug.routing import ValidationError

from engine.errors import InvalidInputError
from engine.errors import NotFoundError

MAX_ID = 2**63 - 1
MAX_PAGE = 1_000_000


class IdConverter(IntegerConverter):
    """`<int:…>` bounded to 1…2^63 - 1: anything else is a 404 whichever method was used.

    A plain ValidationError would let Werkzeug try the route's other methods and answer 405; an id that cannot exist
    names nothing, so the converter answers 404 itself.
    """

    def __init__(
        self,
        url_map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> Any:
        """The id, or 404 when it is out of range."""
        try:
            return super().to_python(value)
        except ValidationError:
            raise NotFound() from None


def whole_number(raw: str | None) -> int | None:
    """The number written in ASCII digits only (no sign, no spaces, no '²'), or None."""
    if raw is None or not raw.isascii() or not raw.isdigit():
        return None
    return int(raw)


def int_arg(raw: str | None, name: str, default: int, *, maximum: int = MAX_PAGE) -> int:
    """A query parameter such as `page` or `page_size`: `default` when absent, else 1…`maximum` (empty is refused).

    :raises InvalidInputError: not a whole number in range (422, the field named).
    """
    if raw is None:
        return default
    value = whole_number(raw)
    if value is None or not 1 <= value <= maximum:
        raise InvalidInputError(f"bad {name}", {name: f"must be a whole number from 1 to {maximum}"})
    return value


def id_arg(raw: str | None, name: str) -> int | None:
    """A query parameter that names a record by id (None when absent; empty is refused).

    :raises InvalidInputError: not a whole number from 1 to 2^63 - 1 (422, the field named).
    """
    if raw is None:
        return None
    value = whole_number(raw)
    if value is None or not 1 <= value <= MAX_ID:
        raise InvalidInputError(f"bad {name}", {name: "must be an id (a whole number)"})
    return value


def version_arg(raw: str | None, what: str = "version") -> int | None:
    """A version number in the query string (None when absent).

    :raises NotFoundError: a value that cannot name a version (404, like an unknown version).
    """
    if raw is None or raw == "":
        return None
    value = whole_number(raw)
    if value is None or not 1 <= value <= MAX_ID:
        raise NotFoundError(f"no {what} {raw[:20]!r}")
    return value


def install(url_map: Any) -> None:
    """Make `<int:…>` bounded for every route registered afterwards."""
    url_map.converters["int"] = IdConverter
