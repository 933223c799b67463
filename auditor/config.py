"""``audit.yaml``: the crawler declaration, the targets and the crawl settings (DESIGN 4.1).

The declaration describes the *audited* crawler, not the auditor. Every declaration field
defaults to ``None`` (or an empty list), which the policy engine reads as "not provided": a
missing field can make a rule fail or need data, never pass. Unknown keys are errors with a
did-you-mean suggestion, located by file and line.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
)

from auditor import PRODUCT_TOKEN
from auditor.errors import ConfigError, Problem
from auditor.manifest.mapping import ManifestSettings
from auditor.yamlsrc import load_yaml, problems_from_validation

Purpose = Literal[
    "ai-train",
    "genai-train",
    "facial-recognition",
    "biometric-identification",
    "search",
    "research",
    "tdm",
    "dataset-resale",
    "safety",
    "other",
]
LawfulBasis = Literal[
    "consent",
    "contract",
    "legal-obligation",
    "vital-interests",
    "public-task",
    "legitimate-interests",
    "none",
]
Mechanism = Literal[
    "robots.txt",
    "x-robots-tag",
    "meta-robots",
    "tdmrep",
    "content-usage",
    "content-signal",
    "ai.txt",
    "iptc-datamining",
    "c2pa",
]
Customer = Literal["internal", "law-enforcement", "private", "public"]
SiteCategory = Literal[
    "health",
    "adult",
    "religion",
    "politics",
    "sexuality",
    "children",
    "trade-union",
    "social-media",
    "news",
    "stock-photo",
    "ecommerce",
    "government",
    "education",
    "other",
]
#: Site categories whose images reveal or invite inferences about special-category data (GDPR
#: Art 9) or concern children: the CNIL's scraping sheet expects them excluded by default.
SENSITIVE_SITE_CATEGORIES = ("health", "adult", "religion", "politics", "sexuality", "children",
                             "trade-union")  # fmt: skip
Jurisdiction = Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z]{2})?$")]
ScopeMode = Literal["host", "prefix"]


def _lawful_basis_form(value: Any) -> str:
    return "map" if isinstance(value, dict) else "one"


#: One basis for every market, or one per jurisdiction. The discriminator picks the branch from
#: the shape of the input, so a mistake is reported once, against the form the user wrote.
LawfulBasisDeclaration = Annotated[
    Annotated[LawfulBasis, Tag("one")] | Annotated[dict[Jurisdiction, LawfulBasis], Tag("map")],
    Discriminator(_lawful_basis_form),
]


class _Strict(BaseModel):
    """Base for config models: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CrawlerDeclaration(_Strict):
    """What the audited crawler is and does; every field documented in docs/configuration.md."""

    name: str = "undeclared-crawler"
    operator: str | None = None
    user_agent: str | None = None
    robots_tokens: tuple[str, ...] = ()
    purposes: tuple[Purpose, ...] = ()
    collection: Literal["targeted", "untargeted"] | None = None
    lawful_basis: LawfulBasisDeclaration | None = None
    legitimate_interests_assessment: str | None = None
    special_category_condition: str | None = None
    retention_days: Annotated[int, Field(ge=0)] | None = None
    dpia: str | None = None
    privacy_notice: str | None = None
    optout_channel: str | None = None
    optout_requires_photo: bool | None = None
    honours: tuple[Mechanism, ...] = ()
    markets: tuple[Jurisdiction, ...] = ()
    sells_access: bool | None = None
    customers: tuple[Customer, ...] = ()
    targeting_criteria: str | None = None
    gpai_provider: bool | None = None
    copyright_policy: str | None = None
    training_summary: str | None = None
    rightholder_contact: str | None = None
    crawler_info_url: str | None = None
    # -- where the controller is and who represents it (GDPR Arts 3 and 27)
    establishments: tuple[Jurisdiction, ...] = ()
    uk_representative: str | None = None
    eu_representative: str | None = None
    # -- biometric processing (Art 9, DPA 2018 Sch. 1, BIPA, CUBI, APP 3.3, PIPEDA)
    face_templates: bool | None = None
    template_retention_days: Annotated[int, Field(ge=0)] | None = None
    consent_flow: str | None = None
    dpa2018_sch1_condition: str | None = None
    appropriate_policy_document: str | None = None
    # -- transparency, governance and rights
    art14_5b_reliance: bool | None = None
    art14_5b_assessment: str | None = None
    dpia_covers_biometrics: bool | None = None
    ropa: str | None = None
    security_measures: str | None = None
    accuracy_testing: str | None = None
    necessity_assessment: str | None = None
    complaints_process: str | None = None
    erasure_sla_days: Annotated[int, Field(ge=0)] | None = None
    processing_locations: tuple[Jurisdiction, ...] = ()
    # -- collection safeguards (CNIL 2025 scraping sheet, EDPB Opinion 28/2024, APP 3.5)
    excluded_site_categories: tuple[SiteCategory, ...] = ()
    sensitive_sites_justification: str | None = None
    irrelevant_data_deletion_days: Annotated[int, Field(ge=0)] | None = None
    bypasses_access_controls: bool | None = None
    # -- United States (BIPA, CUBI, CCPA/CPRA)
    bipa_policy: str | None = None
    bipa_written_release: str | None = None
    cubi_consent: str | None = None
    ccpa_business: bool | None = None
    claims_public_information: bool | None = None
    limit_use_mechanism: str | None = None
    sale_optout: str | None = None
    risk_assessment: str | None = None
    data_broker_registration: str | None = None
    # -- how images of unknown jurisdiction are judged (law.md 4: unknown means strictest)
    unknown_jurisdiction_default: Literal["strictest", "baseline"] | None = None

    @field_validator("robots_tokens")
    @classmethod
    def _tokens_are_product_tokens(cls, tokens: tuple[str, ...]) -> tuple[str, ...]:
        """Reject values that robots.txt group matching can never select (RFC 9309 2.2.1)."""
        bad = [t for t in tokens if not t or any(ch.isspace() or ch in "/:" for ch in t)]
        if bad:
            names = ", ".join(repr(token) for token in bad)
            msg = f"robots tokens {names} must be bare product tokens such as 'AcmeImageBot'"
            raise ValueError(msg)
        return tokens


class Target(_Strict):
    """One site to audit; the crawl stays inside its scope for pages (images go anywhere)."""

    url: Annotated[str, Field(pattern=r"(?i)^https?://[^\s/?#]+(?:[/?#]\S*)?$")]
    max_pages: Annotated[int, Field(ge=1)] | None = None
    max_depth: Annotated[int, Field(ge=0)] | None = None
    jurisdictions: tuple[Jurisdiction, ...] = ()
    categories: tuple[SiteCategory, ...] = ()
    scope: ScopeMode | None = None


class CrawlSettings(_Strict):
    """How the auditor itself crawls: politeness, limits and timeouts (docs/configuration.md)."""

    token: str = PRODUCT_TOKEN
    max_pages: Annotated[int, Field(ge=1)] = 500
    max_depth: Annotated[int, Field(ge=0)] = 5
    scope: ScopeMode = "host"
    per_host_concurrency: Annotated[int, Field(ge=1, le=64)] = 4
    delay: Annotated[float, Field(ge=0, le=60)] = 0.1
    max_page_bytes: Annotated[int, Field(ge=1024)] = 5 * 1024 * 1024
    max_image_bytes: Annotated[int, Field(ge=1024)] = 32 * 1024 * 1024
    max_redirects: Annotated[int, Field(ge=0, le=20)] = 5
    connect_timeout: Annotated[float, Field(gt=0)] = 10.0
    read_timeout: Annotated[float, Field(gt=0)] = 20.0
    total_timeout: Annotated[float, Field(gt=0)] = 60.0
    max_pixels: Annotated[int, Field(ge=1)] = 89_478_485
    allow_private_addresses: bool = False  # let any host be on a private address (docs/limits.md)
    detect_faces: bool = True  # off: image.faces is missing, so face rules never pass
    # Longest side of the face detector's decode: recall on small faces against CPU (docs/faces.md)
    face_detection_size: Annotated[int, Field(ge=128, le=960)] = 512


class SpawningRegistry(_Strict):
    """The Spawning Do-Not-Train registry: consulted only when configured (it receives URLs)."""

    api_key_env: str = "SPAWNING_API_KEY"  # the key is read from this variable, never stored
    endpoint: Annotated[str, Field(pattern=r"(?i)^https?://\S+$")] = (
        "https://opts-api.spawningaiapi.com/api/v2/query/urls/"
    )
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 100


class Registries(_Strict):
    """External opt-out registries; each is off unless its section is present."""

    spawning: SpawningRegistry | None = None


Likelihood = Annotated[float, Field(ge=0.0, le=1.0)]


class JurisdictionThresholds(_Strict):
    """Likelihood at which a pack's rules of each severity apply to an image (law.md 4.2).

    Prohibitions and critical rules apply on slight evidence (precautionary union);
    documentation rules only where the jurisdiction is reasonably likely.
    """

    critical: Likelihood = 0.05
    high: Likelihood = 0.1
    medium: Likelihood = 0.25
    low: Likelihood = 0.25
    info: Likelihood = 0.25


class OptOutSettings(_Strict):
    """How perceptual hashes are matched against the opt-out list (docs/signals/optout-list.md).

    Measured on the fixtures: a resize or WebP copy is 0-2 bits away, an 8 % crop 8 bits, other
    scenes 12-14; so a match is <= 6 and 7-10 is a near match that a person reviews.
    """

    hamming_threshold: Annotated[int, Field(ge=0, le=64)] = 6
    near_band: Annotated[int, Field(ge=0, le=64)] = 4


class AuditConfig(_Strict):
    """The whole ``audit.yaml``."""

    crawler: CrawlerDeclaration = CrawlerDeclaration()
    targets: tuple[Target, ...] = ()
    policies: tuple[str, ...] | None = None
    optout_list: str | None = None
    optout: OptOutSettings = OptOutSettings()
    registries: Registries = Registries()
    crawl: CrawlSettings = CrawlSettings()
    jurisdiction_thresholds: JurisdictionThresholds = JurisdictionThresholds()
    manifest: ManifestSettings = ManifestSettings()

    @field_validator("targets", mode="before")
    @classmethod
    def _bare_urls_are_targets(cls, value: Any) -> Any:
        """Accept ``- https://site/`` as shorthand for ``- {url: https://site/}``."""
        if isinstance(value, list | tuple):
            return [{"url": item} if isinstance(item, str) else item for item in value]
        return value

    def digest(self) -> str:
        """Hash of the validated configuration, stored with each run as provenance."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def load_config(path: str | Path) -> AuditConfig:
    """Load and validate ``audit.yaml``; every problem is reported at once with file:line."""
    document = load_yaml(path, error=ConfigError)
    if document.data is None:
        return AuditConfig()
    if not isinstance(document.data, dict):
        raise ConfigError([Problem(str(path), 1, "audit.yaml must be a mapping of sections")])
    try:
        config = AuditConfig.model_validate(document.data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, document, model=AuditConfig)) from None
    if config.optout_list is not None and not Path(config.optout_list).is_absolute():
        resolved = str(Path(path).resolve().parent / config.optout_list)
        config = config.model_copy(update={"optout_list": resolved})
    return config


def config_json_schema() -> dict[str, Any]:
    """JSON Schema of ``audit.yaml`` for editors (``auditor schema audit``)."""
    schema = AuditConfig.model_json_schema()
    # ``- https://site/`` is shorthand for ``- {url: https://site/}`` (DESIGN 4.1).
    url = schema["$defs"]["Target"]["properties"]["url"]
    schema["properties"]["targets"]["items"] = {
        "anyOf": [{"$ref": "#/$defs/Target"}, {"type": "string", "pattern": url["pattern"]}]
    }
    _close_pattern_maps(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "audit.yaml"
    return schema


def _close_pattern_maps(node: Any) -> None:
    """Refuse other keys in maps keyed by a pattern (``lawful_basis``), as validation does."""
    if isinstance(node, dict):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _close_pattern_maps(value)
    elif isinstance(node, list):
        for value in node:
            _close_pattern_maps(value)
