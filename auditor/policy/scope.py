"""The jurisdiction scope gate: whether a pack's rule reaches a subject at all (law.md 4).

Every rule of a pack with a jurisdiction (``UK``, ``EU``, ``US-IL`` ...) passes this gate before
its own ``applies_when``; packs of jurisdiction ``GLOBAL`` have none. The gate is three-valued,
like conditions:

1. **Declared markets and establishments override per-image guesses** (law.md 4.4): when
   ``crawler.markets`` or ``crawler.establishments`` names the pack's jurisdiction (``GB``
   counts as ``UK``, an EU or EEA state as ``EU``; ``US`` covers ``US-IL``, ``US-TX`` and
   ``US-CA``), the rule is in scope for every subject.
2. **Likelihood against a per-severity threshold** (law.md 4.2): an image or site is in scope
   when ``jurisdiction.<CODE>`` reaches the threshold for the rule's severity (defaults:
   critical 0.05, high 0.1, medium/low/info 0.25; configurable as ``jurisdiction_thresholds`` in
   audit.yaml). A dataset is in scope when ``dataset.jurisdiction.<CODE>`` does.
3. **Unknown means strictest** (law.md 4.3): with no evidence at all (no likelihoods, or a
   declaration without markets) the gate is UNKNOWN, so the rule is evaluated and its findings say
   ``"applicability": "unknown"``; unless the declaration chose
   ``unknown_jurisdiction_default: baseline``, which leaves unknown subjects to the global pack.

Everything else is out of scope (``not_applicable``). The reason is kept as evidence, so a
finding says why it applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from auditor.model import Severity, Subject

__all__ = [
    "DEFAULT_THRESHOLDS",
    "GLOBAL",
    "ScopeDecision",
    "ScopeSettings",
    "SubjectScope",
    "scope_of",
]

GLOBAL = "GLOBAL"
"""The jurisdiction of packs that apply everywhere (no scope gate)."""

DEFAULT_THRESHOLDS: Mapping[Severity, float] = MappingProxyType(
    {
        Severity.CRITICAL: 0.05,
        Severity.HIGH: 0.1,
        Severity.MEDIUM: 0.25,
        Severity.LOW: 0.25,
        Severity.INFO: 0.25,
    }
)

_EU_MEMBER_STATES = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
)  # fmt: skip
#: The EEA states outside the EU, where the GDPR applies too (jurisdiction.py maps them to EU).
_EEA_STATES = ("IS", "LI", "NO")
#: Declared codes that stand for a pack jurisdiction: GB is the UK; EEA states count as the EU.
_ALIASES: Mapping[str, str] = MappingProxyType(
    {"GB": "UK"} | dict.fromkeys(_EU_MEMBER_STATES + _EEA_STATES, "EU")
)


@dataclass(frozen=True)
class ScopeSettings:
    """The likelihood each severity needs before a pack's rules apply (audit.yaml)."""

    thresholds: Mapping[Severity, float] = field(default_factory=lambda: DEFAULT_THRESHOLDS)

    def threshold(self, severity: Severity) -> float:
        """Threshold for rules of ``severity`` (the rule's base severity, before escalation)."""
        return self.thresholds.get(severity, DEFAULT_THRESHOLDS[severity])


@dataclass(frozen=True)
class ScopeDecision:
    """TRUE (in scope), FALSE (not applicable) or None (unknown: evaluate anyway), and why."""

    in_scope: bool | None
    reason: str


def _covers(declared: str, code: str) -> bool:
    declared = _ALIASES.get(declared, declared)
    return declared == code or code.startswith(declared + "-")


def _declared(facts: Mapping[str, object], code: str) -> str | None:
    for name in ("crawler.markets", "crawler.establishments"):
        values = facts.get(name)
        if isinstance(values, list | tuple):
            hit = next((v for v in values if isinstance(v, str) and _covers(v, code)), None)
            if hit is not None:
                kind = "market" if name.endswith("markets") else "establishment"
                return f"declared {kind} {hit}"
    return None


def _unknown(facts: Mapping[str, object], what: str) -> ScopeDecision:
    if facts.get("crawler.unknown_jurisdiction_default") == "baseline":
        return ScopeDecision(False, f"{what}; the declaration leaves unknown to the global pack")
    return ScopeDecision(None, f"{what}; unknown jurisdiction is judged by the strictest pack")


def scope_of(
    code: str,
    subject: Subject,
    severity: Severity,
    facts: Mapping[str, object],
    settings: ScopeSettings,
) -> ScopeDecision:
    """Decide whether a rule of a ``code`` pack reaches the subject described by ``facts``."""
    return SubjectScope(subject, facts, settings).decide(code, severity)


class SubjectScope:
    """The scope gate for one subject, each decision made once.

    A subject meets every gated rule of every pack, but a decision depends only on the pack's
    jurisdiction and the rule's base severity, and the declared markets and likelihood it reads
    only on the jurisdiction: so each jurisdiction's standing is looked up once and each
    (jurisdiction, severity) decided once. On the benchmark's images the gate had been a fifth
    of the rules' evaluation time.
    """

    def __init__(
        self, subject: Subject, facts: Mapping[str, object], settings: ScopeSettings
    ) -> None:
        self._subject = subject
        self._facts = facts
        self._settings = settings
        self._prefix = "dataset.jurisdiction." if subject is Subject.DATASET else "jurisdiction."
        self._standing: dict[str, ScopeDecision | float] = {}
        self._decisions: dict[tuple[str, Severity], ScopeDecision] = {}

    def decide(self, code: str, severity: Severity) -> ScopeDecision:
        """Decide whether a rule of a ``code`` pack with base ``severity`` reaches the subject."""
        key = (code, severity)
        decision = self._decisions.get(key)
        if decision is None:
            standing = self._standing.get(code)
            if standing is None:
                standing = self._standing[code] = self._standing_of(code)
            decision = self._decisions[key] = self._against_threshold(code, standing, severity)
        return decision

    def _standing_of(self, code: str) -> ScopeDecision | float:
        """Return the decision when the severity does not matter, else the subject's likelihood."""
        facts = self._facts
        if code == GLOBAL:
            return ScopeDecision(True, "global pack")
        declared = _declared(facts, code)
        if declared is not None:
            return ScopeDecision(True, declared)
        if self._subject is Subject.DECLARATION:
            if not facts.get("crawler.markets"):
                return _unknown(facts, "no markets declared")
            return ScopeDecision(False, f"{code} is not a declared market")
        likelihood = facts.get(self._prefix + code)
        if not isinstance(likelihood, int | float) or isinstance(likelihood, bool):
            return _unknown(facts, "no jurisdiction evidence")
        return likelihood

    def _against_threshold(
        self, code: str, standing: ScopeDecision | float, severity: Severity
    ) -> ScopeDecision:
        if isinstance(standing, ScopeDecision):
            return standing
        threshold = self._settings.threshold(severity)
        fact = f"{self._prefix}{code} {standing:g}"
        if standing >= threshold:
            return ScopeDecision(True, f"{fact} >= {threshold:g}")
        return ScopeDecision(False, f"{fact} < {threshold:g}")
