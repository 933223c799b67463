"""Consent-aware image-scraping compliance auditor.

The package is organised as a pipeline (see ``docs/architecture.md``): crawl, origin signals,
per-image extraction, usage verdicts, policy evaluation and the store. Only :mod:`auditor.cli`
prints or exits; everything else returns values or raises :class:`auditor.errors.AuditorError`.
"""

__version__ = "0.1.0"

PROJECT_URL = "https://github.com/consent-auditor/consent-auditor"
PRODUCT_TOKEN = "ConsentAuditor"
USER_AGENT = f"{PRODUCT_TOKEN}/{__version__} (+{PROJECT_URL})"

__all__ = ["PRODUCT_TOKEN", "PROJECT_URL", "USER_AGENT", "__version__"]
