"""The command line: the only package that parses arguments, prints, draws progress or exits.

Data goes to stdout (reports, exports, summaries); progress, logs and errors go to stderr, so
``auditor export ... > images.jsonl`` is always clean. Errors are one line per problem with no
traceback; exit codes follow DESIGN 4.2 (0 clean, 1 findings over the threshold, 2 usage, config
or policy error, 3 the audit could not complete).

One module per group of commands; every command is registered below, explicitly, in the order
``auditor --help`` lists them.
"""

from __future__ import annotations

import atexit
import gc
import importlib.util
import sys

from auditor.cli.app import app, err, optout_app, policies_app
from auditor.cli.audit_cmds import crawl, manifest
from auditor.cli.check_cmd import check
from auditor.cli.optout_cmds import optout_add, optout_list_entries, optout_remove
from auditor.cli.policy_cmds import (
    policies_explain,
    policies_list,
    policies_test,
    policies_validate,
    schema,
)
from auditor.cli.store_cmds import export, report
from auditor.errors import AuditorError

__all__ = ["app", "main"]

app.command()(crawl)
app.command()(manifest)
app.command()(check)
app.command()(report)
app.command()(export)
app.command()(schema)
policies_app.command("list")(policies_list)
policies_app.command("validate")(policies_validate)
policies_app.command("explain")(policies_explain)
policies_app.command("test")(policies_test)
optout_app.command("add")(optout_add)
optout_app.command("remove")(optout_remove)
optout_app.command("list")(optout_list_entries)


def _print_error(exc: AuditorError) -> None:
    problems = getattr(exc, "problems", None)
    if problems:
        for problem in problems:
            err.print(f"error: {problem}", markup=False)
    else:
        err.print(f"error: {exc}", markup=False)


def main() -> None:
    """Entry point of the ``auditor`` console script and ``python -m auditor``.

    Typer handles usage errors itself (exit 2, with the usage line); every deliberate error of
    the core arrives here as an :class:`AuditorError` and leaves as one line per problem.
    """
    _declare_main_module()
    _skip_exit_collections()
    try:
        app(prog_name="auditor")
    except AuditorError as exc:
        _print_error(exc)
        sys.exit(exc.exit_code)


def _skip_exit_collections() -> None:
    """Freeze the surviving objects at exit, so Python's finalization does not walk them.

    Finalization runs full cyclic garbage collections over every object still alive; after a
    small crawl (about 170,000 tracked objects: SQLAlchemy, pydantic, the policy packs) they
    took 0.3-0.5 s of the command's time, with nothing left to gain from them: the store is
    closed and flushed before the command returns, and the operating system reclaims the memory.
    A crawl of 10 images took 2.9 s instead of 2.3 s, one of 1,000 about 4 % longer
    (bench/README.md). Registered here, by the entry point, not at import, so a program that
    calls the CLI in process keeps its own collections until it exits too.
    """
    atexit.unregister(gc.freeze)  # once, however often main() runs in one process
    atexit.register(gc.freeze)


def _declare_main_module() -> None:
    """Name the console script as the module it stands for, ``auditor.__main__``.

    Worker processes started by ``multiprocessing`` (forkserver, spawn) import the parent's
    main script again before running their job, unless it is a package's ``__main__`` module.
    For the console script that import is the whole CLI: about a second of CPU for every worker
    the crawl starts (measured; workers are replaced every 2,000 jobs). ``python -m auditor``
    runs the same entry point with this name already set, and its workers skip the import.
    """
    script = sys.modules.get("__main__")
    if script is not None and getattr(script, "__spec__", None) is None:
        script.__spec__ = importlib.util.find_spec("auditor.__main__")
