"""The shipped controller profiles, and what a broken profile does to a worker at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from streams.profiles_loader import load_directory
from streams.settings import ROOT

PROFILES = ROOT / "deploy" / "profiles"


def test_every_seed_controller_has_a_valid_profile() -> None:
    directory = load_directory(PROFILES)
    assert set(directory.profiles) == {"ampere", "ama", "publisher-2018", "atometrics"}
    assert directory.profiles["ampere"].dpo.email == "dpo@ampere.cars"
    assert all(p.authority.id == "cnil" for p in directory.profiles.values())
    # Atometrics promises more than the law: an e-mail to each person within 72 h of any leak.
    promise = next(c for c in directory.profiles["atometrics"].commitments if c.audience == "data_subjects")
    assert promise.within_hours == 72


# AMA's policy names neither a person nor a service ("AMA a désigné un délégué à la protection des
# données", then an address and rgpd@ama.bzh): its profile keeps the title until the DPO names one.
TITLE_ONLY = {"ama"}


def test_a_contact_is_named_by_what_the_policy_says_not_by_the_title_the_notices_write() -> None:
    """The notices write "délégué à la protection des données" themselves: a profile's dpo.name that
    repeats it read "Notre délégué à la protection des données, Délégué à la protection des données"."""
    profiles = load_directory(PROFILES).profiles
    # AMPERE's policy: "its Data Protection Officer … AMPERE SAS, Direction juridique – Délégué à la
    # protection des données"; Atometrics': "Délégué à la Protection des Données … : Lukas HINTEREGGER".
    assert (profiles["ampere"].dpo.name, profiles["atometrics"].dpo.name) == ("AMPERE SAS, Direction juridique",
                                                                               "Lukas HINTEREGGER")
    for profile in profiles.values():
        if profile.id not in TITLE_ONLY:
            assert "protection des données" not in profile.dpo.name.lower(), profile.id
            assert "data protection officer" not in profile.dpo.name.lower(), profile.id


def _worker(profiles: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BREACH_PROFILES_DIR": str(profiles), "BREACH_BROKER_URL": "kafka://127.0.0.1:1"}
    return subprocess.run([sys.executable, "-m", "streams.cli", "worker"], capture_output=True, text=True,
                          env=env, timeout=60, cwd=ROOT, check=False)


def test_an_invalid_profile_stops_the_worker_naming_file_and_key(tmp_path: Path) -> None:
    text = (PROFILES / "ampere.toml").read_text().replace('email = "dpo@ampere.cars"', 'email = "not-an-address"')
    (tmp_path / "ampere.toml").write_text(text)
    result = _worker(tmp_path)
    assert result.returncode == 2
    assert f"{tmp_path / 'ampere.toml'}: dpo.email:" in result.stderr
    assert "not a single e-mail address" in result.stderr


def test_a_profile_that_is_not_toml_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text('id = "broken"\nname = \n')
    result = _worker(tmp_path)
    assert result.returncode == 2 and "broken.toml: (syntax): not valid TOML" in result.stderr
    assert "line 2" in result.stderr


def test_the_commented_example_profile_is_valid() -> None:
    from streams.profiles_loader import load_profile

    profile = load_profile(ROOT / "docs" / "example.toml")
    assert profile.id == "example" and profile.commitments[0].trigger == "any_breach"


def test_every_shipped_system_names_itself_and_its_people_in_french_and_english() -> None:
    """Issue 16: the seeds are French companies' policies; a French notice quotes French names."""
    for profile in load_directory(PROFILES).profiles.values():
        for system in profile.systems:
            assert set(system.names) == {"en", "fr"}, (profile.id, system.id)
            assert [set(t) for t in system.subject_names] == [{"en", "fr"}] * len(system.data_subjects), (
                profile.id, system.id)


def test_a_name_per_language_is_read_from_the_file_and_its_errors_name_file_and_key(tmp_path: Path) -> None:
    from incident.errors import ProfileError
    from streams.profiles_loader import load_profile

    ampere = (PROFILES / "ampere.toml").read_text(encoding="utf-8")
    marketing = load_profile(PROFILES / "ampere.toml").systems[1]
    assert marketing.name_in("fr", "fr") == "Newsletter, publicité et profilage des clients (CRM et e-mailing)"
    assert marketing.subjects_in("fr", "fr") == ("abonnés à la newsletter", "prospects", "clients")
    broken = tmp_path / "ampere.toml"
    broken.write_text(ampere.replace('fr = "Site et formulaires de contact"', 'de = "Website"'), encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile(broken)
    assert (caught.value.source, caught.value.key) == (str(broken), "systems[0].name.de")
    result = _worker(tmp_path)
    assert result.returncode == 2 and f"{broken}: systems[0].name.de:" in result.stderr
