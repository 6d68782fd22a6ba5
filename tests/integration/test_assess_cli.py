"""`breach assess FILE` prints the Assessment JSON, or a clear error naming the field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from streams.settings import ROOT
from tests.unit.edpb_examples import EXAMPLES

CREDENTIAL_STUFFING = next(ex for ex in EXAMPLES if ex.number == 7)  # EDPB 01/2021 Case 07


def breach_assess(arg: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streams.cli", "assess", arg], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, timeout=60, check=False)


def test_a_facts_file_gives_the_full_assessment() -> None:
    result = breach_assess("-", json.dumps(CREDENTIAL_STUFFING.facts))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {"level", "document_internally", "notify_authority", "notify_data_subjects", "public_communication",
            "exceptions", "severity", "factors", "method_version", "policy_obligations"} <= set(out)
    assert (out["level"], out["notify_authority"], out["notify_data_subjects"]) == ("high", True, True)
    assert set(out["severity"]) == {"dpc", "ei", "cb", "score", "band"}


def test_a_case_file_with_its_facts_inside_is_read_too(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"source": CREDENTIAL_STUFFING.cite, "facts": CREDENTIAL_STUFFING.facts}))
    result = breach_assess(str(case))
    assert result.returncode == 0 and json.loads(result.stdout)["level"] == "high"


def test_a_controller_adds_its_own_promises(tmp_path: Path) -> None:
    facts = {"controller": "atometrics", "breach_types": ["confidentiality"], "data_categories": ["contact"],
             "recipients": "trusted_known", "malicious": False}
    out = json.loads(breach_assess("-", json.dumps(facts)).stdout)
    assert out["level"] == "unlikely" and not out["notify_authority"]
    promise = next(o for o in out["policy_obligations"] if o["commitment"] == "email-subjects-72h")
    assert promise["applies"] and promise["within_hours"] == 72  # stricter than the law


def test_bad_facts_are_refused_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"breach_types": ["confidentiality"], "recipients": "everyone"}))
    result = breach_assess(str(bad))
    assert result.returncode == 2 and f"{bad}: recipients: 'everyone' is not one of" in result.stderr
    assert breach_assess("-", "{nope").returncode == 2
    unknown = breach_assess("-", json.dumps({"breach_types": ["integrity"], "controller": "acme"}))
    assert unknown.returncode == 2 and "no profile 'acme'" in unknown.stderr
