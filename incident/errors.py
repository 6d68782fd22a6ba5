"""The domain's error tree.

    BreachError                 base of every error the domain raises on purpose
    ├── InvalidEvent            a security record that cannot become a SecurityEvent
    │                           (the ingest agent dead-letters it with ``reason``)
    ├── ProfileError            an invalid controller profile (names ``source`` and ``key``)
    ├── CommandRejected         a command that is illegal in the incident's current state
    │                           (the incident agent records it as a CommandRejected event)
    └── OutOfSequence           an event whose version does not follow the state's
                                (a bug or a corrupt log: the worker must stop)
"""

from __future__ import annotations


class BreachError(Exception):
    """Base class of the domain's deliberate errors."""


class InvalidEvent(BreachError):
    """A record that cannot be normalised; ``reason`` is safe to log and to dead-letter.

    ``record`` holds the offending element when it is one of several in a Kafka record (a
    batch), so the dead letter keeps that element rather than the whole batch.
    """

    def __init__(self, reason: str, *, record: bytes | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.record = record


class ProfileError(BreachError):
    """A controller profile that fails validation, located by file and dotted key."""

    def __init__(self, message: str, *, source: str, key: str) -> None:
        super().__init__(f"{source}: {key}: {message}")
        self.source = source
        self.key = key
        self.message = message


class CommandRejected(BreachError):
    """A command that the incident's current state does not allow."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OutOfSequence(BreachError):
    """An event applied to a state whose version it does not follow."""
