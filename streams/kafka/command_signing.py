"""Signed commands: a human decision on ``incident-commands`` is taken only from a sender that
holds the shared key (the console, the CLI), not from anyone able to write to the topic.

The signature is HMAC-SHA256 over the record value exactly as sent (streams.kafka.codec's bytes: no
second canonical form that could disagree with what the worker decodes), carried in the record
header ``breach-signature: <key id>:<hex>``. BREACH_COMMAND_KEYS holds ``id:base64`` pairs: the
first signs, every one verifies, so a key is rotated by putting the new one first everywhere,
then dropping the old one once no unprocessed command can carry it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from incident.commands import (
    AcknowledgePage,
    ActOnObligation,
    AddNote,
    AssignOwner,
    CheckTask,
    ClassifyIncident,
    CorrectFacts,
    DismissIncident,
    LinkIncidents,
    OverrideRisk,
    RecordAwareness,
    RecordFormAnswers,
    RecordMeasures,
    RecordSubjects,
    ReopenIncident,
    SendSubjectNotice,
    SetTitle,
    SettleProposal,
    StartTriage,
    TagIncident,
)
from streams.settings import Settings, SettingsError

HEADER = "breach-signature"
VARIABLE = "BREACH_COMMAND_KEYS"
MIN_KEY_BYTES = 16  # 128 bits; `new_key` makes 32
# Commands that carry a person's decision (their ``by``/``role`` is what the domain trusts). The
# workers' own commands (AttachSignal, MergeIncident, AbsorbIncident, Tick, RecordDelivery,
# RecordDeliveryProgress) may come unsigned: the worker principal can write any topic anyway.
HUMAN_DECISIONS: tuple[type, ...] = (RecordAwareness, CorrectFacts, OverrideRisk, StartTriage, ClassifyIncident,
                                     ActOnObligation, RecordSubjects, SendSubjectNotice, RecordMeasures,
                                     RecordFormAnswers, DismissIncident, ReopenIncident, AssignOwner, AddNote,
                                     SetTitle, AcknowledgePage, CheckTask, TagIncident, LinkIncidents,
                                     SettleProposal)
EMBEDDED_KEY_FILE = "command-key"
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")


class Refused(ValueError):
    """Why a record's signature does not verify (safe to log and to dead-letter: no key, no body)."""


@dataclass(frozen=True, slots=True)
class Keyring:
    """The keys of BREACH_COMMAND_KEYS, in order: ``keys[0]`` signs."""

    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        """``"k2:<base64>,k1:<base64>"``; a bad spec raises SettingsError naming the variable
        (and never quoting the key)."""
        keys: list[tuple[str, bytes]] = []
        for item in (i.strip() for i in spec.split(",")):
            if not item:
                continue
            key_id, sep, encoded = item.partition(":")
            if not sep or not _KEY_ID.fullmatch(key_id):
                raise SettingsError(f"{VARIABLE}: each key is ID:BASE64 with an ID of letters, digits, '.', '_' "
                                    f"or '-' (item {len(keys) + 1} is not)")
            try:
                secret = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise SettingsError(f"{VARIABLE}: key {key_id!r} is not valid base64") from None
            if len(secret) < MIN_KEY_BYTES:
                raise SettingsError(f"{VARIABLE}: key {key_id!r} has {len(secret)} bytes; at least "
                                    f"{MIN_KEY_BYTES} are needed")
            if any(key_id == known for known, _ in keys):
                raise SettingsError(f"{VARIABLE}: key id {key_id!r} appears twice")
            keys.append((key_id, secret))
        if not keys:
            raise SettingsError(f"{VARIABLE} is empty")
        return cls(tuple(keys))

    @property
    def signing_id(self) -> str:
        return self.keys[0][0]

    def sign(self, value: bytes) -> bytes:
        """The header value for a record whose value is ``value``."""
        key_id, secret = self.keys[0]
        return f"{key_id}:{_mac(secret, value)}".encode()

    def headers(self, value: bytes) -> list[tuple[str, bytes]]:
        return [(HEADER, self.sign(value))]

    def verify(self, value: bytes, headers: Iterable[tuple[str, bytes]] | None) -> str:
        """The id of the key that signed ``value``; raises Refused with the reason otherwise."""
        found = [v for k, v in (headers or ()) if k == HEADER]
        if not found:
            raise Refused("unsigned: no breach-signature header")
        if len(found) > 1:
            raise Refused("more than one breach-signature header")
        raw_id, sep, digest = bytes(found[0]).partition(b":")
        if not sep:
            raise Refused("malformed breach-signature header")
        key_id = raw_id.decode("ascii", "replace")
        secret = dict(self.keys).get(key_id)
        if secret is None:
            # The id is the sender's text: quoted only when it has the shape of one of ours.
            shown = repr(key_id) if _KEY_ID.fullmatch(key_id) else "(not a key id)"
            raise Refused(f"signed with an unknown key id {shown}")
        if not hmac.compare_digest(_mac(secret, value).encode(), digest):  # bytes: any header is comparable
            raise Refused(f"bad signature for key {key_id!r}")
        return key_id


def _mac(secret: bytes, value: bytes) -> str:
    return hmac.new(secret, value, hashlib.sha256).hexdigest()


def needs_signature(command: object) -> bool:
    return isinstance(command, HUMAN_DECISIONS)


def new_key(key_id: str = "k1") -> str:
    """One ``id:base64`` entry of BREACH_COMMAND_KEYS with 32 random bytes."""
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def command_keys(settings: Settings) -> Keyring:
    """The worker's and the console's keys: BREACH_COMMAND_KEYS, required (outside `breach up`,
    which sets it; see ``embedded_keys``)."""
    if not settings.command_keys.strip():
        raise SettingsError(f"{VARIABLE} is not set: commands carrying a person's decision are signed with it and "
                            "the worker refuses unsigned ones. Give the workers, the console and the CLI the same "
                            f"value, e.g. {VARIABLE}=k1:$(openssl rand -base64 32) (docs/deploy.md)")
    return Keyring.parse(settings.command_keys)


def embedded_keys(settings: Settings) -> str:
    """BREACH_COMMAND_KEYS for `breach up`: the setting if given, else a key made once and kept in
    ``<data_dir>/command-key`` (0600), so the embedded stack needs nothing configured."""
    if settings.command_keys.strip():
        return settings.command_keys
    path = settings.data_dir / EMBEDDED_KEY_FILE
    if not path.exists():
        _write_new(path, new_key("embedded"))
    return path.read_text(encoding="utf-8").strip()


def local_keys(settings: Settings) -> Keyring:
    """The CLI's keys: BREACH_COMMAND_KEYS, or the key `breach up` made in the data dir (the CLI
    beside `make up`); neither → the same refusal as the worker's."""
    path = settings.data_dir / EMBEDDED_KEY_FILE
    if not settings.command_keys.strip() and path.exists():
        return Keyring.parse(path.read_text(encoding="utf-8").strip())
    return command_keys(settings)


def _write_new(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: theirs is the key
        return
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text + "\n")
