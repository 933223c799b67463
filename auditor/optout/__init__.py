"""The opt-out list: people's objections and erasure requests, and the matcher audits run.

- :mod:`auditor.optout.listfile`: the list's own SQLite file (``auditor optout add|remove|list``);
- :mod:`auditor.optout.targets`: what a request names (photo, URL, domain) and its stored key;
- :mod:`auditor.optout.index`: the Hamming-distance index over the listed photos' hashes;
- :mod:`auditor.optout.matcher`: :class:`~auditor.optout.matcher.DbOptOutList`, the
  ``OptOutMatcher`` (:mod:`auditor.signals.optout_list`) that crawl and manifest audits use;
- :mod:`auditor.optout.record`: how a match is written into its evidence record and read back.

This module holds only the defaults, so the command line can show them without importing
SQLAlchemy or Pillow.
"""

from __future__ import annotations

__all__ = ["DEFAULT_HAMMING_THRESHOLD", "DEFAULT_LIST_FILE", "DEFAULT_NEAR_BAND"]

#: Largest perceptual-hash distance (of 64 bits) that counts as the listed photo.
DEFAULT_HAMMING_THRESHOLD = 6
#: Distances up to this many bits beyond the threshold are near matches, for review.
DEFAULT_NEAR_BAND = 4
#: Where ``auditor optout`` keeps the list unless told otherwise.
DEFAULT_LIST_FILE = "optout.db"
