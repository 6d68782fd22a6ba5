"""Dead letters: a record we could not use, kept intact beside the reason (nothing is lost)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def dead_letter(raw: bytes, reason: str, ref: str, at: datetime) -> bytes:
    """The original bytes (UTF-8 text, or hex when they are not UTF-8), the reason and the source."""
    try:
        record: Any = raw.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        record, encoding = raw.hex(), "hex"
    return json.dumps({"reason": reason, "source": ref, "at": at.isoformat(), "encoding": encoding,
                       "record": record}, ensure_ascii=False).encode()
