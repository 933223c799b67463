"""AI-specific evidence from robots.txt: ``DisallowAITraining`` records and AI crawler groups.

Two mechanisms, both reading the robots.txt of the image's own origin:

``robots.disallow_ai_training``
    ``DisallowAITraining`` / ``AllowAITraining`` records (draft-canel-robots-ai-control, expired,
    seen in the wild; optout-signals.md 6.4) of the group selected for the declared token, matched
    exactly like Allow/Disallow: longest pattern wins, ``AllowAITraining`` wins ties, an empty
    pattern matches nothing. The deciding record gives ai-train disallowed/allowed. The source is
    always marked ``non_standard``. These records are not gated on crawlability: the draft makes
    them independent of Allow/Disallow.

``robots.ai_tokens`` (note ``heuristic``)
    Published studies read "this site blocks GPTBot" as an AI-training opt-out (1.5, 9.2). When
    the declared crawler's own group lets it fetch the image, and the path is disallowed for one
    or more of :data:`TRAINING_TOKENS` in groups that name that token, the record says ai-train
    disallowed; when it is disallowed only for :data:`SEARCH_TOKENS`, ai-input disallowed. Only
    named groups count (``*`` is a fallback for everyone, not a statement about AI), and a group
    names a token when one of its User-agent values equals it as a whole, trimmed, compared
    case-insensitively (1.5). A declared token that is itself on a list is skipped: its group is
    the crawler's own and is judged by the ``robots`` mechanism. A distinct mechanism name keeps
    ``robots`` records about the crawl verdict of the declared tokens only.

Neither mechanism produces anything when robots.txt was not parsed (unavailable or unreachable).
"""

from __future__ import annotations

from auditor.crawl.robots import (
    RobotsAvailability,
    RobotsFile,
    RobotsGroup,
    RobotsRule,
    normalise_path,
    path_and_query,
)
from auditor.model import Purpose, SignalRecord, Verdict
from auditor.signals.evidence import ImageEvidence
from auditor.signals.robots_ext import FALLBACK_TOKEN, robots_base_notes, robots_origin_record

__all__ = [
    "AI_TOKENS_MECHANISM",
    "DISALLOW_AI_TRAINING_MECHANISM",
    "SEARCH_TOKENS",
    "TRAINING_TOKENS",
    "disallow_ai_training_signals",
    "robots_ai_token_signals",
]

DISALLOW_AI_TRAINING_MECHANISM = "robots.disallow_ai_training"
AI_TOKENS_MECHANISM = "robots.ai_tokens"
_DISALLOW_FIELD = "disallowaitraining"  # record keys as lower-cased by the robots parser
_ALLOW_FIELD = "allowaitraining"
_FIELD_NAMES = {_DISALLOW_FIELD: "DisallowAITraining", _ALLOW_FIELD: "AllowAITraining"}
_WS = " \t\v\f"

#: Training crawlers and control tokens (optout-signals.md 1.5), in the operators' spelling.
TRAINING_TOKENS: tuple[str, ...] = (
    "GPTBot",
    "ClaudeBot",
    "anthropic-ai",
    "CCBot",
    "Google-Extended",
    "Applebot-Extended",
    "meta-externalagent",
    "FacebookBot",
    "Bytespider",
    "cohere-training-data-crawler",
    "AI2Bot",
    "Ai2Bot-Dolma",
    "DeepSeekBot",
    "Amazonbot",
    "PanguBot",
    "Timpibot",
    "ImagesiftBot",
    "img2dataset",
    "LAIONDownloader",
    "laion-huggingface-processor",
)

#: Search and assistant fetchers (optout-signals.md 1.5), in the operators' spelling.
SEARCH_TOKENS: tuple[str, ...] = (
    "OAI-SearchBot",
    "ChatGPT-User",
    "Claude-SearchBot",
    "Claude-User",
    "PerplexityBot",
    "Perplexity-User",
    "GoogleOther",
)


def _parsed_file(evidence: ImageEvidence) -> RobotsFile | None:
    policy = evidence.origin.robots.policy
    if policy.availability is not RobotsAvailability.PARSED:
        return None
    return policy.file


def _training_rule(robots: RobotsFile, token: str, path: str) -> RobotsRule | None:
    """Return the deciding AI-training record of the token's groups for ``path``, if any.

    The records become Allow/Disallow rules of a one-group file, so the precedence is exactly
    the one :meth:`RobotsFile.decide` applies to crawling.
    """
    rules = tuple(
        RobotsRule(ext.field == _ALLOW_FIELD, ext.value, normalise_path(ext.value), ext.line)
        for ext in robots.extensions_for(token)
        if ext.field in _FIELD_NAMES
    )
    if not rules:
        return None
    shadow = RobotsFile((RobotsGroup((FALLBACK_TOKEN,), rules, ()),), (), ())
    return shadow.decide(FALLBACK_TOKEN, path).rule


def disallow_ai_training_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """Record the deciding ``DisallowAITraining``/``AllowAITraining`` line per declared token."""
    robots = _parsed_file(evidence)
    if robots is None:
        return []
    path = path_and_query(evidence.url)
    notes = ["non_standard", *robots_base_notes(evidence)]
    records = []
    for token in evidence.tokens or (FALLBACK_TOKEN,):
        rule = _training_rule(robots, token, path)
        if rule is None:
            continue
        field = _FIELD_NAMES[_ALLOW_FIELD if rule.allow else _DISALLOW_FIELD]
        verdict = Verdict.ALLOWED if rule.allow else Verdict.DISALLOWED
        records.append(
            robots_origin_record(
                evidence,
                DISALLOW_AI_TRAINING_MECHANISM,
                token,
                raw_value=f"{field}: {rule.pattern} (line {rule.line})",
                parsed=f"{field}: {rule.normalised}",
                purposes={Purpose.AI_TRAIN.value: verdict},
                notes=notes,
            )
        )
    return records


def _disallowing_rule(robots: RobotsFile, token: str, path: str) -> RobotsRule | None:
    """Return the rule of the token's own named groups that disallows ``path``, if any."""
    decision = robots.decide_whole_named(token, path)
    return decision.rule if not decision.allowed else None


def robots_ai_token_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """Heuristic AI evidence from AI crawlers' robots.txt groups, per declared token (9.2)."""
    robots = _parsed_file(evidence)
    if robots is None:
        return []
    path = path_and_query(evidence.url)
    tokens = evidence.tokens or (FALLBACK_TOKEN,)
    own = {token.casefold() for token in tokens}
    hits: dict[str, list[tuple[str, RobotsRule]]] = {"training": [], "search": []}
    for kind, candidates in (("training", TRAINING_TOKENS), ("search", SEARCH_TOKENS)):
        for candidate in candidates:
            if candidate.casefold() in own:
                continue
            rule = _disallowing_rule(robots, candidate, path)
            if rule is not None:
                hits[kind].append((candidate, rule))
    if not hits["training"] and not hits["search"]:
        return []
    notes = ["heuristic", *robots_base_notes(evidence)]
    if hits["training"]:
        purposes = {Purpose.AI_TRAIN.value: Verdict.DISALLOWED}
    else:
        purposes = {Purpose.AI_INPUT.value: Verdict.DISALLOWED}
    found = [*hits["training"], *hits["search"]]
    raw_value = "; ".join(
        f"{name}: Disallow: {rule.pattern} (line {rule.line})" for name, rule in found
    )
    parsed = "; ".join(
        f"{kind}_disallowed={','.join(name for name, _ in hits[kind]) or '-'}"
        for kind in ("training", "search")
    )
    records = []
    for token in tokens:
        if not robots.decide(token, path).allowed:
            continue  # only when the crawler's own group lets it fetch the image
        records.append(
            robots_origin_record(
                evidence,
                AI_TOKENS_MECHANISM,
                token,
                raw_value=raw_value,
                parsed=parsed,
                purposes=purposes,
                notes=notes,
            )
        )
    return records
