"""Dead letters: a record we could not use, kept beside the reason (nothing is lost).

A letter can always be written: a record larger than KEEP_BYTES (a 10 MB record the broker took)
keeps its first KEEP_BYTES with its length and SHA-256, so the letter stays far below any
producer's request limit — writing it failed with MessageSizeTooLargeError before, and the
record and its batch neighbours were lost. The whole record is still on its input topic for its
retention; the digest proves which one it was.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

KEEP_BYTES = 64 * 1024  # of a record too large to keep whole
KEY_BYTES = 1024  # a dead letter's Kafka key: a longer one is replaced by its SHA-256


def dead_letter(raw: bytes, reason: str, ref: str, at: datetime, *, stage: str = "ingest") -> bytes:
    """The original bytes (UTF-8 text, or hex when they are not UTF-8), the reason, the source
    and the stage that refused it; a record over KEEP_BYTES as its prefix, length and SHA-256."""
    letter: dict[str, Any] = {"reason": reason, "source": ref, "at": at.isoformat(), "stage": stage}
    kept = raw
    if len(raw) > KEEP_BYTES:
        kept = raw[:KEEP_BYTES]
        letter.update(truncated=True, length=len(raw), sha256=hashlib.sha256(raw).hexdigest())
    letter["encoding"], letter["record"] = _text(kept, cut=len(kept) < len(raw))
    return json.dumps(letter, ensure_ascii=False).encode("utf-8", "surrogatepass")


def letter_key(key: bytes | None) -> bytes | None:
    """The input record's key, or its SHA-256 when it is too long to be a key here."""
    if key is None or len(key) <= KEY_BYTES:
        return key
    return b"sha256:" + hashlib.sha256(key).hexdigest().encode()


def _text(raw: bytes, *, cut: bool) -> tuple[str, str]:
    # A cut may fall inside a multi-byte character: up to 3 bytes are given back for that.
    for drop in range(4 if cut else 1):
        try:
            return "utf-8", raw[: len(raw) - drop].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return "hex", raw.hex()
