"""Pydantic models of a pack file and its fixtures file, and the exported JSON Schema.

Validation is layered, friendliest first: YAML safety and syntax (:mod:`auditor.yamlsrc`), then
the structure below (unknown keys with suggestions, missing keys, wrong types), then the
semantic checks of :mod:`auditor.policy.compiler`. Conditions are typed ``Any`` here on purpose:
their structure is checked by the compiler, which gives one precise message per mistake instead
of a pydantic union cascade. Their JSON Schema is not written by hand either: it is assembled
from the operator table and the fact catalogue, so it cannot drift from the code.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from auditor.model import Outcome, Severity, Subject
from auditor.policy.facts import EXTRA_PATTERN, FACTS
from auditor.policy.operators import OPERATORS

__all__ = [
    "FixtureCaseSpec",
    "FixtureFileSpec",
    "PackHeader",
    "PackSpec",
    "RuleSpec",
    "policy_json_schema",
]

RULE_ID_PATTERN = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"
PACK_NAME_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"

Text = Annotated[str, Field(min_length=1)]
Url = Annotated[str, Field(pattern=r"^https?://\S+$")]
_CONDITION_MARK = "x-policy-condition"
Condition = Annotated[Any, WithJsonSchema({_CONDITION_MARK: True})]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRef(_Strict):
    """A source with its retrieval date."""

    url: Url
    retrieved: date | None = None


class EscalateSpec(_Strict):
    """Raise the severity when ``when`` holds."""

    when: Condition
    severity: Severity


class RuleSpec(_Strict):
    """One rule as written in a pack file (DESIGN 4.4)."""

    id: Annotated[str, Field(pattern=RULE_ID_PATTERN)]
    title: Text
    subject: Subject
    severity: Severity
    references: Annotated[list[Text], Field(min_length=1)]
    tags: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")]] = []
    # "jurisdiction": the pack's scope gate applies (auditor.policy.scope); "any": the law
    # defines the reach differently (e.g. AI Act Art 53 binds GPAI providers wherever training
    # happens), so only applies_when decides.
    scope: Literal["jurisdiction", "any"] = "jurisdiction"
    applies_when: Condition | None = None
    fail_when: Condition
    review_when: Condition | None = None
    pass_when: Condition | None = None
    on_missing: Literal[Outcome.INSUFFICIENT_DATA, Outcome.REVIEW] = Outcome.INSUFFICIENT_DATA
    escalate: list[EscalateSpec] = []
    message: Text
    review_message: Text | None = None
    remediation: Text


class PackHeader(_Strict):
    """A pack file with its rules still unvalidated (each rule is validated on its own)."""

    pack: Annotated[str, Field(pattern=PACK_NAME_PATTERN)]
    title: Text
    jurisdiction: Annotated[str, Field(pattern=r"^[A-Z]{2,6}(-[A-Z]{2})?$")]
    version: Text
    status: Literal["in_force", "benchmark", "proposed"]
    sources: Annotated[list[Url | SourceRef], Field(min_length=1)]
    effective_from: date | None = None
    rules: Annotated[list[Any], Field(min_length=1)]

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        if isinstance(value, float):
            raise PydanticCustomError(
                "version_quoted",
                'quote the version (version: "{value}"); unquoted it is read as a number',
                {"value": value},
            )
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


class PackSpec(PackHeader):
    """A whole pack file; used for the exported JSON Schema."""

    rules: Annotated[list[RuleSpec], Field(min_length=1)]


class FixtureCaseSpec(_Strict):
    """One fixture: facts for one rule and the outcome they must produce."""

    rule: Annotated[str, Field(pattern=RULE_ID_PATTERN)]
    name: Text
    facts: dict[str, Any] = {}
    expect: Outcome
    severity: Severity | None = None


class FixtureFileSpec(_Strict):
    """A ``<pack>.tests.yaml`` file."""

    pack: Annotated[str, Field(pattern=PACK_NAME_PATTERN)]
    cases: Annotated[list[FixtureCaseSpec], Field(min_length=1)]


def _condition_schema() -> dict[str, Any]:
    ref = {"$ref": "#/$defs/Condition"}
    branches: list[dict[str, Any]] = [
        {"type": "object", "properties": {"all": {"type": "array", "minItems": 1, "items": ref}},
         "required": ["all"], "additionalProperties": False},
        {"type": "object", "properties": {"any": {"type": "array", "minItems": 1, "items": ref}},
         "required": ["any"], "additionalProperties": False},
        {"type": "object", "properties": {"not": ref}, "required": ["not"],
         "additionalProperties": False},
    ]  # fmt: skip
    for op in OPERATORS.values():
        branches.append(
            {
                "type": "object",
                "description": f"{op.name}: {op.doc}",
                "properties": {"fact": {"$ref": "#/$defs/FactName"}, op.name: dict(op.schema)},
                "required": ["fact", op.name],
                "additionalProperties": False,
            }
        )
    return {"oneOf": branches}


def _link_conditions(node: Any) -> Any:
    """Point the placeholders of ``Condition`` fields at ``#/$defs/Condition``."""
    if isinstance(node, dict):
        if node.get(_CONDITION_MARK):
            return {"$ref": "#/$defs/Condition"}
        return {key: _link_conditions(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_link_conditions(item) for item in node]
    return node


def policy_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a pack file, for editors and ``auditor policies validate``."""
    schema = _link_conditions(PackSpec.model_json_schema())
    defs = schema.setdefault("$defs", {})
    defs["Condition"] = _condition_schema()
    defs["FactName"] = {
        "anyOf": [{"enum": list(FACTS)}, {"type": "string", "pattern": EXTRA_PATTERN}]
    }
    defs["FactRef"] = {
        "type": "object",
        "properties": {"fact": {"$ref": "#/$defs/FactName"}},
        "required": ["fact"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "consent-auditor policy pack",
        **schema,
    }
