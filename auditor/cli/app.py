"""The Typer applications, the two consoles and the options several commands share.

The crawl, store and report stacks (httpx, SQLAlchemy, alembic) are imported inside the commands
that use them: they cost over a second, and ``--version``, ``policies`` and ``schema`` should
answer at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from auditor import __version__

if TYPE_CHECKING:
    pass


app = typer.Typer(
    name="auditor",
    help="Audit image crawling for consent signals and data-protection rules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
policies_app = typer.Typer(
    help="List, validate, explain and test policy packs.", no_args_is_help=True
)
app.add_typer(policies_app, name="policies")
optout_app = typer.Typer(
    help="Keep the opt-out list: objections and erasure requests (photos, URLs, domains).",
    no_args_is_help=True,
)
app.add_typer(optout_app, name="optout")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbOption = Annotated[
    str,
    typer.Option("--db", help="SQLite file, or a database URL such as postgresql+psycopg://..."),
]
# None: the config's ``optout`` section decides (its defaults are the measured ones).
OptOutThresholdOption = Annotated[
    int | None,
    typer.Option(
        "--optout-threshold",
        min=0,
        help="Photo hash distance that is a match (default: optout.hamming_threshold, 6 of 64).",
    ),
]
OptOutNearBandOption = Annotated[
    int | None,
    typer.Option(
        "--optout-near-band",
        min=0,
        help="Bits past the threshold that need review (default: optout.near_band, 4).",
    ),
]
LOG_INTERVAL_SECONDS = 5.0


def _version(value: bool) -> None:
    if value:
        out.print(f"auditor {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Audit image crawling for consent signals and data-protection rules."""
