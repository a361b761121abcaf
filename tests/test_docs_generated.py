"""The generated reference pages (docs/api.md from the docstrings, docs/cli.md from the
parser) are what ``python docs/generate.py`` writes now, and they are deterministic."""

from __future__ import annotations

import argparse
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

import scaling_fit as sf

ROOT = Path(__file__).resolve().parents[1]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATE = _generator()


@pytest.mark.parametrize("page", sorted(GENERATE.PAGES))
def test_checked_in_page_is_current(page: str) -> None:
    now = GENERATE.PAGES[page]()
    checked_in = (ROOT / page).read_text(encoding="utf-8")
    assert checked_in == now, f"{page} is stale: run `python docs/generate.py` and commit it"


@pytest.mark.parametrize("page", sorted(GENERATE.PAGES))
def test_pages_are_deterministic(page: str) -> None:
    text = GENERATE.PAGES[page]()
    assert text == GENERATE.PAGES[page]()
    assert re.search(r"0x[0-9a-fA-F]{6,}", text) is None  # no memory addresses


def test_api_page_names_every_public_name() -> None:
    text = GENERATE.api_page()
    missing = [name for name in sf.__all__ if f"`sf.{name}`" not in text]
    assert missing == []
    assert "- `bootstrap`: " in text  # parameters read from the numpydoc sections


def test_cli_page_lists_every_subcommand_and_option() -> None:
    from scaling_fit.cli.main import build_parser

    text = GENERATE.cli_page()
    parser = build_parser()
    commands = next(a for a in parser._actions if hasattr(a, "choices") and a.choices).choices
    assert len(commands) >= 11
    for name, command in commands.items():
        assert f"\n## {name}\n" in text
        for action in command._actions:
            if action.help == argparse.SUPPRESS:
                continue  # a renamed flag kept hidden for one release
            for flag in action.option_strings:
                assert flag in text, (name, flag)


def test_check_mode_names_a_stale_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "api.md").write_text("old\n")
    monkeypatch.setattr(GENERATE, "ROOT", tmp_path)
    monkeypatch.setattr(GENERATE, "PAGES", {"docs/api.md": lambda: "new\n"})
    assert GENERATE.main(["--check"]) == 1
    assert (tmp_path / "docs" / "api.md").read_text() == "old\n"
    assert GENERATE.main([]) == 0 and (tmp_path / "docs" / "api.md").read_text() == "new\n"
    assert GENERATE.main(["--check"]) == 0
