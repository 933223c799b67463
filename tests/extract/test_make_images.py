"""The fixture generator: deterministic, small, and in step with the committed files."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from types import ModuleType

from . import FIXTURE_IMAGES


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_images", FIXTURE_IMAGES / "make_images.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_is_deterministic_and_small() -> None:
    build: Callable[[], dict[str, bytes]] = load_generator().build
    first, second = build(), build()
    assert first == second
    assert all(len(data) < 60_000 for data in first.values())
    assert sum(len(data) for data in first.values()) < 600_000


def test_every_generated_file_is_committed() -> None:
    names = set(load_generator().build())
    on_disk = {path.name for path in FIXTURE_IMAGES.iterdir() if path.suffix != ".py"}
    assert names <= on_disk
    assert all((FIXTURE_IMAGES / name).stat().st_size < 60_000 for name in names)
