"""Profile validation: every error names the file and the dotted key."""

from __future__ import annotations

import pytest

from incident.errors import ProfileError
from incident.profiles import Directory, parse_profile
from tests.unit.builders import PROFILE, profile_doc


def test_a_valid_profile_parses_with_a_content_reference() -> None:
    p = parse_profile(PROFILE, source="acme.toml", expected_id="acme")
    assert p.dpo.email == "dpo@acme.example" and p.authority.language == "fr"
    assert p.system_for("acme-crm-db") is not None and p.ref.startswith("acme@")
    assert parse_profile(profile_doc(name="ACME SA"), source="x").ref != p.ref


@pytest.mark.parametrize(("doc", "key", "message"), [
    (profile_doc(colour="blue"), "colour", "unknown key"),
    (profile_doc(dpo={"name": "DPO", "is_dpo": True}), "dpo.email", "is required"),
    (profile_doc(dpo={"name": "DPO", "email": "a@b.c\r\nBcc: x@y", "is_dpo": True}), "dpo.email", "single e-mail"),
    (profile_doc(languages=["de"]), "languages[0]", "not one of"),
    (profile_doc(timezone="CET+1"), "timezone", "IANA"),
    (profile_doc(systems=[{**PROFILE["systems"][0], "data_categories": ["contact", "dna"]}]),
     "systems[0].data_categories[1]", "'dna' is not one of"),
    (profile_doc(systems=[]), "systems", "non-empty"),
    (profile_doc(systems=[PROFILE["systems"][0], PROFILE["systems"][0]]), "systems[1].id", "duplicate"),
    (profile_doc(authority={**PROFILE["authority"], "language": "es"}), "authority.language", "not one of"),
])
def test_invalid_profiles_name_file_and_key(doc: dict[str, object], key: str, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(doc, source="deploy/profiles/acme.toml")
    assert caught.value.source == "deploy/profiles/acme.toml"
    assert caught.value.key == key
    assert message in caught.value.message


def test_the_id_must_match_the_file_name() -> None:
    with pytest.raises(ProfileError, match="must equal the file name"):
        parse_profile(PROFILE, source="other.toml", expected_id="other")


def test_two_profiles_cannot_claim_one_asset() -> None:
    other = profile_doc(id="beta")
    with pytest.raises(ProfileError, match="already declared"):
        Directory.of([parse_profile(PROFILE, source="a"), parse_profile(other, source="b")])
