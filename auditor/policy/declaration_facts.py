"""The declaration's facts (``crawler.*``, DESIGN 4.1): available on every subject."""

from __future__ import annotations

from auditor.policy.factspec import (
    LAWFUL_BASES,
    PURPOSES,
    SITE_CATEGORIES,
    FactSpec,
)
from auditor.policy.factspec import FactType as T
from auditor.policy.factspec import decl_fact as _decl

DECLARATION_FACTS: tuple[FactSpec, ...] = (
    _decl("name", T.STR, "The audited crawler's name."),
    _decl("operator", T.STR, "The controller operating the crawler."),
    _decl("user_agent", T.STR, "The User-Agent string the crawler sends."),
    _decl("robots_tokens", T.LIST, "Product tokens the crawler answers to in robots.txt."),
    _decl("purposes", T.LIST, "What the collected images are used for.", values=PURPOSES),
    _decl(
        "collection",
        T.ENUM,
        "Whether collection is targeted at chosen sources or untargeted.",
        values=("targeted", "untargeted"),
    ),
    _decl(
        "lawful_basis",
        T.ENUM,
        "The UK/EU GDPR Art. 6 basis claimed; may be given per jurisdiction "
        "({UK: ..., EU: ...}) and is then resolved with the pack's jurisdiction, a missing "
        "entry resolving to null.",
        values=LAWFUL_BASES,
        per_jurisdiction=True,
    ),
    _decl(
        "legitimate_interests_assessment",
        T.STR,
        "Reference to the legitimate interests assessment.",
    ),
    _decl(
        "special_category_condition",
        T.STR,
        "The Art. 9(2) condition claimed for special-category (biometric) data.",
    ),
    _decl("retention_days", T.INT, "Days collected images are kept; null means no limit set."),
    _decl("dpia", T.STR, "Reference to the data protection impact assessment."),
    _decl("privacy_notice", T.STR, "URL of the public privacy notice covering the crawler."),
    _decl("optout_channel", T.STR, "URL or address where people can object or opt out."),
    _decl(
        "optout_requires_photo",
        T.BOOL,
        "Whether the opt-out channel asks people for a photo of themselves.",
    ),
    _decl("honours", T.LIST, "Opt-out mechanisms the crawler honours (robots.txt, tdmrep ...)."),
    _decl("markets", T.LIST, "Jurisdictions where it operates or whose residents it targets."),
    _decl("sells_access", T.BOOL, "Whether access to the collection or its outputs is sold."),
    _decl(
        "customers",
        T.LIST,
        "Who uses the outputs (internal, law-enforcement, private, public).",
    ),
    _decl(
        "targeting_criteria",
        T.STR,
        "How a 'targeted' collection chooses its sources (a claim a person must check).",
    ),
    _decl(
        "gpai_provider",
        T.BOOL,
        "Whether the operator provides a general-purpose AI model (EU AI Act Art 53 duties).",
    ),
    _decl("copyright_policy", T.STR, "Reference to the copyright policy (AI Act Art 53(1)(c))."),
    _decl("training_summary", T.STR, "URL of the public training-content summary (Art 53(1)(d))."),
    _decl("rightholder_contact", T.STR, "Where rights holders can complain (GPAI Code M1.5)."),
    _decl("crawler_info_url", T.STR, "Public page describing the crawler and its tokens (M1.3)."),
    _decl("establishments", T.LIST, "Jurisdictions where the controller is established."),
    _decl("uk_representative", T.STR, "The controller's UK representative (UK GDPR Art 27)."),
    _decl("eu_representative", T.STR, "The controller's EU representative (GDPR Art 27)."),
    _decl(
        "face_templates",
        T.BOOL,
        "Whether face templates or embeddings are computed from collected images.",
    ),
    _decl("template_retention_days", T.INT, "Days face templates are kept; null means no limit."),
    _decl(
        "consent_flow",
        T.STR,
        "Reference to the flow that captures the people's consent before processing.",
    ),
    _decl("dpa2018_sch1_condition", T.STR, "The DPA 2018 Schedule 1 condition relied on."),
    _decl(
        "appropriate_policy_document",
        T.STR,
        "Reference to the appropriate policy document (DPA 2018 Sch. 1 Part 4).",
    ),
    _decl(
        "art14_5b_reliance",
        T.BOOL,
        "Whether the Art 14(5)(b) disproportionate-effort exemption from notice is relied on.",
    ),
    _decl("art14_5b_assessment", T.STR, "Reference to the documented Art 14(5)(b) assessment."),
    _decl("dpia_covers_biometrics", T.BOOL, "Whether the DPIA covers the biometric processing."),
    _decl("ropa", T.STR, "Reference to the record of processing activities (Art 30)."),
    _decl("security_measures", T.STR, "Reference to the documented security measures."),
    _decl("accuracy_testing", T.STR, "Reference to accuracy and bias testing of identification."),
    _decl(
        "necessity_assessment",
        T.STR,
        "Reference to the documented necessity assessment (why not licence or collect directly).",
    ),
    _decl("complaints_process", T.STR, "Reference to the data-protection complaints process."),
    _decl("erasure_sla_days", T.INT, "Days within which objections and erasure are acted on."),
    _decl("processing_locations", T.LIST, "Jurisdictions where collected images are processed."),
    _decl(
        "excluded_site_categories",
        T.LIST,
        "Site categories filtered out before collection.",
        values=SITE_CATEGORIES,
    ),
    _decl(
        "sensitive_sites_justification",
        T.STR,
        "Reference to the justification for collecting from sensitive-category sites.",
    ),
    _decl(
        "irrelevant_data_deletion_days",
        T.INT,
        "Days within which data irrelevant to the purpose is deleted after collection.",
    ),
    _decl(
        "bypasses_access_controls",
        T.BOOL,
        "Whether the crawler logs in, passes paywalls or otherwise bypasses access controls.",
    ),
    _decl("bipa_policy", T.STR, "URL of the public BIPA retention and destruction policy."),
    _decl("bipa_written_release", T.STR, "Reference to the BIPA written notice and release flow."),
    _decl("cubi_consent", T.STR, "Reference to the Texas CUBI notice and consent flow."),
    _decl("ccpa_business", T.BOOL, "Whether the operator is a 'business' under the CCPA."),
    _decl(
        "claims_public_information",
        T.BOOL,
        "Whether a 'publicly available information' exemption is relied on.",
    ),
    _decl(
        "limit_use_mechanism",
        T.STR,
        "The CCPA 'limit the use of my sensitive personal information' mechanism.",
    ),
    _decl("sale_optout", T.STR, "The CCPA 'do not sell or share' opt-out mechanism."),
    _decl("risk_assessment", T.STR, "Reference to the CPPA risk assessment."),
    _decl("data_broker_registration", T.STR, "The California data broker registration."),
    _decl(
        "unknown_jurisdiction_default",
        T.ENUM,
        "How images of unknown jurisdiction are judged: strictest (every pack) or baseline "
        "(the global pack only). Null or missing means strictest.",
        values=("strictest", "baseline"),
    ),
)
