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


def _system(**changes: object) -> dict[str, object]:
    return {**PROFILE["systems"][0], **changes}


def test_a_system_names_itself_and_its_people_per_language() -> None:
    """Issue 16: a French notice never quotes the English name the profile also gives."""
    doc = profile_doc(languages=["fr", "en"], systems=[_system(
        name={"en": "Customer database", "fr": "Base clients"},
        data_subjects=[{"en": "newsletter subscribers", "fr": "abonnés à la newsletter"}, "customers",
                       {"fr": "candidats"}])])
    system = parse_profile(doc, source="acme.toml").systems[0]
    assert system.name == "Customer database"  # as given: the English, for the API and the logs
    assert (system.name_in("fr", "fr"), system.name_in("en", "fr")) == ("Base clients", "Customer database")
    assert system.name_in("pt-BR", "fr") == "Base clients"  # not given in Portuguese: the profile's own
    assert system.data_subjects == ("newsletter subscribers", "customers", "candidats")
    assert system.subjects_in("fr", "fr") == ("abonnés à la newsletter", "customers", "candidats")
    assert system.subjects_in("en", "fr") == ("newsletter subscribers", "customers", "candidats")
    # A code the notices word in every language stays a code for a language the profile lacks.
    assert system.subjects_in("pt-BR", "fr", {"newsletter subscribers"}) == (
        "newsletter subscribers", "customers", "candidats")


def test_plain_strings_are_read_as_before() -> None:
    system = parse_profile(PROFILE, source="acme.toml").systems[0]
    assert system.name_in("fr", "fr") == system.name
    assert system.subjects_in("fr", "fr") == system.data_subjects


@pytest.mark.parametrize(("system", "key", "message"), [
    (_system(name={"en": "CRM", "de": "Kundendatenbank"}), "systems[0].name.de", "'de' is not one of fr, en"),
    (_system(name={"en": "CRM", "fr": "  "}), "systems[0].name.fr", "non-empty string"),
    (_system(name={}), "systems[0].name", "table of it by language"),
    (_system(name=["CRM"]), "systems[0].name", "table of it by language"),
    (_system(data_subjects=["customers", {"en": "prospects", "fr": 3}]), "systems[0].data_subjects[1].fr",
     "non-empty string"),
    (_system(data_subjects=["customers", {"es": "clientes"}]), "systems[0].data_subjects[1].es", "not one of"),
    (_system(data_subjects=[]), "systems[0].data_subjects", "non-empty list"),
    (_system(data_subjects="customers"), "systems[0].data_subjects", "non-empty list"),
])
def test_a_text_per_language_is_checked_key_by_key(system: dict[str, object], key: str, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(profile_doc(systems=[system]), source="deploy/profiles/acme.toml")
    assert (caught.value.source, caught.value.key) == ("deploy/profiles/acme.toml", key)
    assert message in caught.value.message


def test_the_controller_its_street_and_its_contact_may_be_named_per_language() -> None:
    """The Publisher's policy names none of them: its placeholders say so in each language."""
    doc = profile_doc(name={"en": "Publisher (unnamed)", "fr": "Éditeur (non nommé)"},
                      address={"street": {"en": "Not stated", "fr": "Non indiqué"}, "country": "FR"},
                      dpo={"name": {"en": "Not stated", "fr": "Non indiqué"}, "email": "x@example.invalid",
                           "is_dpo": False})
    p = parse_profile(doc, source="acme.toml")
    assert (p.name, p.name_in("fr"), p.name_in("en"), p.name_in("pt-BR")) == (
        "Publisher (unnamed)", "Éditeur (non nommé)", "Publisher (unnamed)", "Éditeur (non nommé)")
    assert (p.address, p.address_in("fr")) == ("Not stated, FR", "Non indiqué, FR")
    assert (p.dpo.name, p.dpo.name_in("fr", "fr")) == ("Not stated", "Non indiqué")
    plain = parse_profile(PROFILE, source="acme.toml")
    assert (plain.name_in("fr"), plain.address_in("en")) == (plain.name, plain.address)
    with pytest.raises(ProfileError) as caught:
        parse_profile(profile_doc(address={"street": {"it": "Via"}, "country": "FR"}), source="acme.toml")
    assert caught.value.key == "address.street.it"
    with pytest.raises(ProfileError) as caught:
        parse_profile(profile_doc(name={"fr": ""}), source="acme.toml")
    assert caught.value.key == "name.fr"
