"""The uploaded model carried between the steps of the designer's import page, packed into one form field.

Compressed so that a model of a few hundred KB stays under the form-field size limit; unpacking is capped, so
a forged field cannot inflate beyond the size an upload may have.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib

from engine.errors import InvalidInputError


def pack_sources(sources: dict[str, bytes]) -> str:
    """File name -> content, as compressed base64 text for a hidden form field."""
    plain = json.dumps({name: data.decode("utf-8", "replace") for name, data in sources.items()})
    return base64.b64encode(zlib.compress(plain.encode("utf-8"), 9)).decode("ascii")


def unpack_sources(packed: str, limit: int) -> dict[str, bytes]:
    """The files of `pack_sources`, refusing more than ten times `limit` bytes in all.

    :raises InvalidInputError: the field is not what `pack_sources` wrote.
    """
    if not packed:
        return {}
    try:
        inflater = zlib.decompressobj()
        plain = inflater.decompress(base64.b64decode(packed, validate=True), 10 * limit)
        if inflater.unconsumed_tail:
            raise ValueError("too large")
        files = json.loads(plain.decode("utf-8"))
        return {str(name): str(text).encode("utf-8") for name, text in dict(files).items()}
    except (ValueError, TypeError, zlib.error, binascii.Error) as exc:
        raise InvalidInputError("the import's files were damaged: upload them again", {"file": "again"}) from exc
