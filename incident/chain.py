"""The audit chain of one incident: each versioned event names the hash of the one before it.

``hash(vN) = SHA-256(hash(vN-1) as hex text + canonical bytes of vN)``; the first chained event of
an incident names ``GENESIS``. Editing, removing or inserting an event then shows as a link whose
content does not give its hash, or whose predecessor is not there.

Where it lives. The chain is a property of the *record*, not of the incident: the events keep
their fields, and the chain travels in the wire envelope next to them (streams/kafka/audit_chain.py
writes and reads it; the agent keeps the head in its table value next to the state). Putting a
``prev_hash`` field on every event class would have changed twenty event types, every decide()
rule and every test that builds an event, and the hash cannot be a field of what it hashes. What
the domain holds is the rule: how a link is computed and how a sequence of links is judged, pure
(hashlib only), so it is tested without a broker.

Replays. The agent publishes before it saves; after a crash it decides the same commands again
against the saved state and its head, and publishes the same versions again. Readers keep the
first copy of each version. A copy that is byte-identical gives the same hash (same predecessor,
same content): it is a replay and changes nothing. A copy whose content differs (the clock moved
between the crash and the replay, so ``at`` differs) but that chains correctly from the same
predecessor is a *fork*: the agent continues from the copy it saved, so later events may name
either branch. Forks are reported, not failed, because crashes make them; and they are reported,
not hidden, because an unkeyed chain cannot tell a crash's fork from a branch someone computed.
Nothing here is secret: the chain proves the log was not edited after the fact, not who wrote it.

Events written before chaining carry no chain fields: an incident whose events have none is "not
chained"; one whose first events have none is verified from its first chained version. An
unchained event after a chained one breaks the chain (dropping the fields must not be a way out).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

GENESIS = "0" * 64  # the predecessor named by an incident's first chained event

VERIFIED, BROKEN, NOT_CHAINED = "verified", "broken", "not chained"


def link(prev: str, body: bytes) -> str:
    """The hash of an event whose predecessor's hash is ``prev`` and whose canonical bytes are ``body``."""
    return hashlib.sha256(prev.encode("ascii", "replace") + body).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """One versioned event as read back from the log."""

    version: int
    kind: str  # the event type, for the report
    where: str  # where it was read (partition@offset), for the report
    body: bytes  # the canonical bytes of the event, chain fields excluded
    prev: str | None = None  # None: written before chaining
    hash: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    status: str  # verified | broken | not chained
    events: int  # versioned events read, duplicates included
    versions: int  # distinct versions
    chained_from: int | None = None  # the first chained version (1 unless older events predate chaining)
    replays: int = 0  # identical copies of a version (crash replays): harmless
    forks: tuple[int, ...] = ()  # versions re-published with other content that chain correctly
    broken_at: int | None = None
    kind: str = ""  # the breaking event's type and where it was read
    where: str = ""
    reason: str = ""
    expected: str = ""
    found: str = ""

    @property
    def label(self) -> str:
        """Short enough for a register column: verified / verified from v4 / broken at v7 / not chained."""
        if self.status != VERIFIED:
            return f"broken at v{self.broken_at}" if self.status == BROKEN else NOT_CHAINED
        label = VERIFIED if self.chained_from == 1 else f"{VERIFIED} from v{self.chained_from}"
        return label + (f", forked at v{self.forks[0]}" if self.forks else "")


@dataclass
class ChainCheck:
    """Judges one incident's links in log order, one at a time (the console folds as it reads)."""

    events: int = 0
    chained_from: int | None = None
    replays: int = 0
    forks: list[int] = field(default_factory=list)
    broken: Verdict | None = None
    # Version -> hashes of its valid copies, the first being the one readers keep. All kept: a
    # replay may re-publish versions well behind the newest (a whole batch of them).
    hashes: dict[int, list[str]] = field(default_factory=dict)
    last: int = 0
    unchained: set[int] = field(default_factory=set)

    def add(self, item: Link) -> None:
        self.events += 1
        if self.broken is not None:
            return  # the first break is the one to look at; later links cannot be judged against it
        duplicate = item.version in self.hashes or item.version in self.unchained
        if not duplicate and item.version != self.last + 1:
            self._break(item, f"v{self.last + 1} missing", f"v{self.last + 1}", f"v{item.version}")
            return
        if item.prev is None or item.hash is None:
            if duplicate and item.version in self.unchained:
                self.replays += 1  # an old event delivered twice: as harmless as before chaining
                return
            if self.chained_from is not None:
                self._break(item, "not chained after chaining began", "a chained event", "none")
                return
            self.unchained.add(item.version)
            self.last = max(self.last, item.version)
            return
        computed = link(item.prev, item.body)
        if computed != item.hash:
            self._break(item, "content does not give its hash", computed, item.hash)
            return
        before = self._predecessors(item.version)
        if item.prev not in before:
            self._break(item, "previous hash is not the hash of the event before", before[0], item.prev)
            return
        copies = self.hashes.setdefault(item.version, [])
        if duplicate and item.hash in copies:
            self.replays += 1
        elif duplicate:
            copies.append(item.hash)
            self.forks.append(item.version)
            if self.chained_from is None:  # an unchained event published again by an upgraded agent
                self.chained_from = item.version
        else:
            copies.append(item.hash)
            self.last = item.version
            if self.chained_from is None:
                self.chained_from = item.version

    def _predecessors(self, version: int) -> list[str]:
        """The hashes a chained event of ``version`` may name: its predecessor's valid copies, or
        GENESIS when it starts the chain (version 1, or the first after unchained events)."""
        if self.chained_from is None or version == self.chained_from:
            return [GENESIS]
        return self.hashes.get(version - 1) or [GENESIS]

    def _break(self, item: Link, reason: str, expected: str, found: str) -> None:
        self.broken = Verdict(status=BROKEN, events=self.events, versions=self.last, chained_from=self.chained_from,
                              replays=self.replays, forks=tuple(self.forks), broken_at=item.version, kind=item.kind,
                              where=item.where, reason=reason, expected=expected, found=found)

    @property
    def verdict(self) -> Verdict:
        if self.broken is not None:
            return replace(self.broken, events=self.events)  # every event read, those after the break too
        status = NOT_CHAINED if self.chained_from is None else VERIFIED
        return Verdict(status=status, events=self.events, versions=self.last, chained_from=self.chained_from,
                       replays=self.replays, forks=tuple(self.forks))


def verify(links: list[Link]) -> Verdict:
    check = ChainCheck()
    for item in links:
        check.add(item)
    return check.verdict
