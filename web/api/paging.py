"""Paged list answers: the page in the body, the total in X-Total-Count and the neighbour pages in Link (RFC 8288)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import request
from werkzeug.wrappers import Response

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500


def paged(response: Response, *, total: int, page: int, per_page: int) -> Response:
    """Add X-Total-Count and a Link header (first, prev, next, last) to a page of a list."""
    last = max(1, -(-total // per_page))
    links = {"first": 1, "last": last}
    if page > 1:
        links["prev"] = min(page - 1, last)
    if page < last:
        links["next"] = page + 1
    response.headers["X-Total-Count"] = str(total)
    response.headers["Link"] = ", ".join(f'<{_url(number, per_page)}>; rel="{rel}"' for rel, number in links.items())
    return response


def _url(page: int, per_page: int) -> str:
    args = {**request.args.to_dict(), "page": str(page), "per_page": str(per_page)}
    return f"{request.path}?{urlencode(args)}"
