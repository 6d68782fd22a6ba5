"""The command signer: HMAC over the exact record bytes, key ids, rotation, refusals."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path

import pytest

from incident.commands import ActOnObligation, AttachSignal, RecordAwareness, Tick
from streams.kafka import codec
from streams.kafka.command_signing import (
    HEADER,
    HUMAN_DECISIONS,
    Keyring,
    Refused,
    command_keys,
    embedded_keys,
    local_keys,
    needs_signature,
    new_key,
)
from streams.settings import Settings, SettingsError, load_settings

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
K1 = base64.b64encode(b"1" * 32).decode()
K2 = base64.b64encode(b"2" * 32).decode()
APPROVE = ActOnObligation(incident_id="i-1", obligation="gdpr:art33", action="approve", by="user:dpo", role="dpo",
                          at=AT)


def test_the_signature_is_hmac_sha256_of_the_encoded_command_under_the_first_key() -> None:
    keys = Keyring.parse(f"k2:{K2},k1:{K1}")
    value = codec.encode(APPROVE)
    header = keys.sign(value)
    assert header == b"k2:" + hmac.new(b"2" * 32, value, hashlib.sha256).hexdigest().encode()
    assert keys.headers(value) == [(HEADER, header)]
    assert keys.verify(value, keys.headers(value)) == "k2"


def test_the_encoding_signed_is_stable_for_one_command() -> None:
    """The sender signs codec.encode's bytes and the worker checks the bytes it reads: the same
    command must encode the same way every time (field order, ISO datetimes)."""
    again = dataclasses.replace(APPROVE)
    assert codec.encode(again) == codec.encode(APPROVE)
    assert codec.decode(codec.encode(APPROVE)) == APPROVE


def test_any_key_of_the_list_verifies_so_keys_rotate() -> None:
    old = Keyring.parse(f"k1:{K1}")
    rotated = Keyring.parse(f"k2:{K2},k1:{K1}")
    value = codec.encode(APPROVE)
    assert rotated.verify(value, old.headers(value)) == "k1"  # sent before the rotation
    assert rotated.verify(value, rotated.headers(value)) == "k2"
    with pytest.raises(Refused, match="unknown key id 'k2'"):
        old.verify(value, rotated.headers(value))  # a worker not yet given the new key


def test_a_changed_command_does_not_verify() -> None:
    keys = Keyring.parse(f"k1:{K1}")
    signed = keys.headers(codec.encode(APPROVE))
    forged = codec.encode(dataclasses.replace(APPROVE, by="user:mallory"))
    with pytest.raises(Refused, match="bad signature for key 'k1'"):
        keys.verify(forged, signed)
    flipped = bytearray(codec.encode(APPROVE))
    flipped[-2] ^= 1
    with pytest.raises(Refused, match="bad signature"):
        keys.verify(bytes(flipped), signed)


@pytest.mark.parametrize(("headers", "reason"), [
    (None, "unsigned"),
    ([], "unsigned"),
    ([("other", b"x")], "unsigned"),
    ([(HEADER, b"no-colon")], "malformed"),
    ([(HEADER, b"k9:00")], "unknown key id 'k9'"),
    ([(HEADER, b"k1:00")], "bad signature"),
    ([(HEADER, "k1:é".encode())], "bad signature"),  # not hex, not even ASCII: refused, not an error
    ([(HEADER, b"\xff\xfe:00")], r"unknown key id \(not a key id\)"),
])
def test_missing_or_malformed_signatures_are_refused(headers: list[tuple[str, bytes]] | None, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        Keyring.parse(f"k1:{K1}").verify(codec.encode(APPROVE), headers)


def test_two_signature_headers_are_refused() -> None:
    keys = Keyring.parse(f"k1:{K1}")
    value = codec.encode(APPROVE)
    with pytest.raises(Refused, match="more than one"):
        keys.verify(value, [*keys.headers(value), (HEADER, b"k1:00")])


@pytest.mark.parametrize(("spec", "message"), [
    ("", "is empty"),
    ("k1", "ID:BASE64"),
    ("k 1:" + K1, "ID:BASE64"),
    ("k1:not-base64!", "not valid base64"),
    ("k1:" + base64.b64encode(b"short").decode(), "5 bytes"),
    (f"k1:{K1},k1:{K2}", "appears twice"),
])
def test_a_bad_key_list_is_refused_naming_the_variable_not_the_key(spec: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        Keyring.parse(spec)
    assert str(caught.value).startswith("BREACH_COMMAND_KEYS")
    assert K1 not in str(caught.value) and K2 not in str(caught.value)


def test_the_setting_is_checked_at_load() -> None:
    assert load_settings({"BREACH_COMMAND_KEYS": f"k2:{K2}, k1:{K1}"}).command_keys == f"k2:{K2}, k1:{K1}"
    with pytest.raises(SettingsError, match="BREACH_COMMAND_KEYS"):
        load_settings({"BREACH_COMMAND_KEYS": "k1:c2hvcnQ="})


def test_without_the_setting_workers_and_console_refuse() -> None:
    with pytest.raises(SettingsError, match="BREACH_COMMAND_KEYS is not set"):
        command_keys(load_settings({}))


def test_the_embedded_stack_makes_its_key_once_and_the_cli_beside_it_uses_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(SettingsError, match="BREACH_COMMAND_KEYS is not set"):
        local_keys(settings)  # no `breach up` has run here
    made = embedded_keys(settings)
    assert embedded_keys(settings) == made  # kept, not remade
    assert (tmp_path / "command-key").stat().st_mode & 0o777 == 0o600
    assert local_keys(settings) == Keyring.parse(made)
    given = Settings(data_dir=tmp_path, command_keys=f"k1:{K1}")
    assert embedded_keys(given) == f"k1:{K1}" and local_keys(given).signing_id == "k1"


def test_new_keys_are_random_and_valid() -> None:
    first, second = Keyring.parse(new_key("a")), Keyring.parse(new_key("a"))
    assert first.signing_id == "a" and len(first.keys[0][1]) == 32 and first != second


def test_only_human_decisions_need_a_signature() -> None:
    evidence_free = Tick(incident_id="i-1", at=AT)
    assert needs_signature(APPROVE) and needs_signature(RecordAwareness(incident_id="i", aware_at=AT, by="u",
                                                                        evidence=()))
    assert not needs_signature(evidence_free)
    assert AttachSignal not in HUMAN_DECISIONS
    # Every command whose fields name a person is in the list.
    from incident.commands import COMMANDS
    personal = {c for c in COMMANDS if {"by", "role"} & {f.name for f in dataclasses.fields(c)}}
    assert personal <= set(HUMAN_DECISIONS)
