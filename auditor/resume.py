"""Find the interrupted run to resume, for ``auditor crawl --resume`` and ``auditor manifest``.

A run killed outright (SIGKILL, power loss) is left ``running``, one stopped by Ctrl-C
``interrupted``; either can be resumed, but only with the configuration and packs it started
with, since its checkpoint (``run_checkpoints``, written with every batch of records) holds
rule outcome counts that other rules or another declaration would not have produced.
"""

from __future__ import annotations

from collections.abc import Callable

from auditor.errors import UsageError
from auditor.store import Checkpoint, RunRow, Store

__all__ = ["reopen_unfinished"]


def reopen_unfinished(
    store: Store,
    *,
    what: str,
    matches: Callable[[RunRow], bool],
    config_hash: str,
    policy_hash: str,
) -> tuple[int, Checkpoint | None]:
    """Reopen the newest unfinished run that ``matches``; return its id and checkpoint.

    ``what`` names the audit in the one-line errors (``the crawl``, ``the manifest X``). Raises
    :class:`~auditor.errors.UsageError` when there is no such run, or when it was started with
    another configuration or other packs.
    """
    for run in store.unfinished_runs():
        if not matches(run):
            continue
        if (run.config_hash, run.policy_hash) != (config_hash, policy_hash):
            raise UsageError(
                f"run {run.id} ({what}) was interrupted, but audit.yaml or the policy packs "
                "changed since; run without --resume to start a new audit"
            )
        store.reopen_run(run.id)
        return run.id, store.checkpoint(run.id)
    raise UsageError(f"no interrupted run of {what} in {store.where}; run without --resume")
