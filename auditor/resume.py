"""Find the interrupted run to resume, for ``auditor crawl --resume`` and ``auditor manifest``.

A run killed outright (SIGKILL, power loss) is left ``running``, one stopped by Ctrl-C
``interrupted``; either can be resumed, but only with the configuration and packs it started
with, since its checkpoint (``run_checkpoints``, written with every batch of records) holds
rule outcome counts that other rules or another declaration would not have produced.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from auditor.aggregates import DatasetTally
from auditor.errors import UsageError
from auditor.evaluator import RuleEvaluator
from auditor.store import Checkpoint, RunRow, Store

__all__ = ["RunProgress", "reopen_unfinished"]


@dataclass
class RunProgress:
    """The running state a checkpoint holds: rule outcome counts, dataset tally, counters.

    ``counts`` names the run's counter dataclasses (image counts, page counts, row counts);
    they are updated in place by whoever counts, and :meth:`restore` sets them in place too, so
    every holder of a reference sees the resumed values. A run moves this state only inside a
    writer unit, together with the records it counts, so a checkpoint matches what is stored.
    """

    evaluator: RuleEvaluator
    tally: DatasetTally
    counts: dict[str, Any]
    finished: bool = False

    def checkpoint(self, *, last_key: str | None, rows: int) -> dict[str, Any]:
        """Return the ``run_checkpoints`` columns for the state as it is now."""
        state = {
            "evaluator": self.evaluator.state(),
            "tally": self.tally.state(),
            **{name: asdict(counts) for name, counts in self.counts.items()},
            "finished": self.finished,
        }
        return {
            "last_key": last_key,
            "rows": rows,
            "state_json": json.dumps(state, sort_keys=True, separators=(",", ":")),
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Continue from a checkpoint's state."""
        self.evaluator.restore(state["evaluator"])
        self.tally.restore(state["tally"])
        for name, counts in self.counts.items():
            for field in fields(counts):
                setattr(counts, field.name, state[name][field.name])
        self.finished = bool(state["finished"])


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
