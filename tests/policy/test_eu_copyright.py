from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from auditor.errors import PolicyError
from auditor.model import Outcome
from auditor.policy import evaluate_rule, load_packs
from auditor.yamlsrc import load_yaml

ROOT = Path(__file__).resolve().parents[2]
EU_COPYRIGHT_RULES = {
    "EU-DSM-A04-3-TDM-RESERVATION",
    "EU-DSM-A04-2-TDM-RETENTION",
    "EU-GPAI-COP-CR-M1-3-RESERVATIONS",
    "EU-GPAI-COP-CR-M1-5-COMPLAINTS",
}


def test_eu_copyright_has_the_required_rules_and_fixture_kinds() -> None:
    (pack,) = load_packs(["eu-copyright"]).packs
    assert {r.id for r in pack.rules} >= EU_COPYRIGHT_RULES
    assert pack.jurisdiction == "EU"
    assert pack.status == "in_force"
    assert all(r.references and r.remediation for r in pack.rules)
    doc = load_yaml(ROOT / "policies" / "eu-copyright.tests.yaml", error=PolicyError)
    kinds: dict[str, set[str]] = defaultdict(set)
    for case in doc.data["cases"]:
        kinds[case["rule"]].add(case["expect"])
    for rule_id in EU_COPYRIGHT_RULES:
        assert kinds[rule_id] & {"fail", "review"}, rule_id
        assert kinds[rule_id] & {"pass", "not_applicable"}, rule_id
        assert "insufficient_data" in kinds[rule_id], rule_id


def test_tdm_reservation_never_passes_when_a_signals_fact_is_missing() -> None:
    rules = load_packs(["eu-copyright"]).rules
    (tdm,) = [r for r in rules if r.id == "EU-DSM-A04-3-TDM-RESERVATION"]
    full = {
        "image.url": "https://presse.example.de/1.jpg",
        "jurisdiction.EU": 0.9,
        "crawler.purposes": ["ai-train"],
        "signals.reserving": [],
        "signals.heuristic_reserving": [],
        "signals.not_evaluated": [],
    }
    assert evaluate_rule(tdm, full).outcome == Outcome.PASS
    for missing in ("signals.reserving", "signals.heuristic_reserving", "signals.not_evaluated"):
        facts = {k: v for k, v in full.items() if k != missing}
        assert evaluate_rule(tdm, facts).outcome == Outcome.INSUFFICIENT_DATA, missing
