"""Every document the README, the package, the notebooks and the benchmarks cite is in the
repository: repo paths (``docs/laws.md``, ``data/…``, ``benchmarks/….py``) exist, and
``laws.md §N`` references name a section that docs/laws.md has.  The checker itself is
tested on made-up references, so that it cannot pass by finding nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# A path inside the repository: a top-level folder, then path characters, ending in a word
# character and not followed by more path (so "run-<run>.csv" templates and globs are skipped);
# not inside a URL or a git revision ("c316e1a:scaling_fit/old.py" names history, not the tree).
PATH = re.compile(
    r"(?<![\w./:-])((?:docs|data|benchmarks|notebooks|scaling_fit|tests)/[\w./-]*\w)"
    r"(?![\w./<*{-])"
)
# "laws.md §4.2", "docs/laws.md §3, §8", "laws.md §1.2/§1.5": the document and its sections.
SECTIONS = re.compile(r"([\w-]+\.md)((?:(?:\s*(?:,|/|and)?\s*)§\s*\d+(?:\.\d+)*)+)")
SECTION = re.compile(r"§\s*(\d+(?:\.\d+)*)")
# A bare Markdown file name (no folder): must be at the root or in docs/.
BARE_MD = re.compile(r"(?<![\w./-])([\w-]+\.md)\b")
GENERIC = {"README.md", "SOURCE.md"}  # "each folder's SOURCE.md": a kind of file, not a path
# Files a user's clone never has.
OUTSIDE = re.compile(r"(?:\.\./shared|/work/shared|\bshared/(?:docs|data))[\w./-]*")


@dataclass(frozen=True)
class Reference:
    where: str  # file that cites it
    text: str  # what it cites


def references(text: str, where: str) -> list[Reference]:
    """Every path, section and outside reference that ``text`` cites."""
    found = [Reference(where, m) for m in PATH.findall(text)]
    for document, sections in SECTIONS.findall(text):
        found += [Reference(where, f"{document} §{s}") for s in SECTION.findall(sections)]
    found += [Reference(where, m) for m in BARE_MD.findall(text) if m not in GENERIC]
    found += [Reference(where, m.group(0)) for m in OUTSIDE.finditer(text)]
    return found


def headings(markdown: str) -> set[str]:
    """Section numbers of a Markdown document: '## 4. Title' → '4', '### 4.2 Title' → '4.2'."""
    return set(re.findall(r"^#{2,4}\s+(\d+(?:\.\d+)*)\.?\s", markdown, re.MULTILINE))


def _document(name: str, root: Path) -> Path | None:
    for candidate in (root / name, root / "docs" / name):
        if candidate.is_file():
            return candidate
    return None


def broken(reference: Reference, root: Path = ROOT) -> str | None:
    """Why ``reference`` does not resolve in the repository at ``root``, or None."""
    text = reference.text
    if OUTSIDE.fullmatch(text):
        return "points outside the repository"
    if "§" in text:
        name, section = text.split(" §")
        document = _document(Path(name).name, root)
        if document is None:
            return f"no {name} in the repository (expected docs/{Path(name).name})"
        if section not in headings(document.read_text(encoding="utf-8")):
            return f"{document.relative_to(root)} has no section {section}"
        return None
    if "/" not in text:
        return None if _document(text, root) else f"no {text} at the root or in docs/"
    return None if (root / text).exists() else "no such file or folder"


def cited_texts(root: Path = ROOT) -> dict[str, str]:
    """What a user reads: README, package source (docstrings, messages), notebooks' cells,
    the benchmarks' README and scripts, and docs/.  (The data's SOURCE.md files are left
    out: they cite paths in the upstream repositories the data came from.)"""
    files = [
        root / "README.md",
        root / "benchmarks" / "README.md",
        *sorted((root / "scaling_fit").rglob("*.py")),
        *sorted((root / "benchmarks").glob("*.py")),
        *sorted((root / "docs").glob("*.md")),
    ]
    texts = {str(f.relative_to(root)): f.read_text(encoding="utf-8") for f in files}
    for notebook in sorted((root / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        texts[str(notebook.relative_to(root))] = "\n".join("".join(c["source"]) for c in cells)
    return texts


def test_every_cited_document_exists() -> None:
    texts = cited_texts()
    assert "README.md" in texts and any(k.endswith(".ipynb") for k in texts)
    cited = [r for where, text in texts.items() for r in references(text, where)]
    assert len(cited) > 30  # README and code cite docs/laws.md and data/ many times
    problems = sorted({f"{r.where}: {r.text!r}: {why}" for r in cited if (why := broken(r))})
    assert problems == [], "\n".join(problems)


def test_docs_laws_has_the_sections_the_code_cites() -> None:
    sections = headings((ROOT / "docs" / "laws.md").read_text(encoding="utf-8"))
    assert {"1.3", "3.2", "4.2", "4.4", "5.2", "8.1", "9.3", "9.5", "10"} <= sections


# ------------------------------------------------------------------------ the checker itself
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see docs/laws.md §4.2.", ["docs/laws.md", "laws.md §4.2"]),
        ("(laws.md §3, §8)", ["laws.md §3", "laws.md §8", "laws.md"]),
        ("laws.md §1.2/§1.5", ["laws.md §1.2", "laws.md §1.5", "laws.md"]),
        ("in `data/examples/runs.csv`.", ["data/examples/runs.csv"]),
        ("benchmarks/bench_x.py, tests/test_x.py", ["benchmarks/bench_x.py", "tests/test_x.py"]),
        ("data/examples/tensorboard/run-<run>-tag-<tag>.csv", []),
        ("glob data/*/SOURCE.md and github.com/a/data/x.csv", []),
        ("see ../shared/docs/laws.md", ["../shared/docs/laws.md"]),
        ("git show c316e1a:scaling_fit/old.py", []),
        ("design.md §5", ["design.md §5", "design.md"]),
        ("each folder's SOURCE.md; Hoffmann et al. §3.1", []),
    ],
)
def test_references_found(text: str, expected: list[str]) -> None:
    assert sorted(r.text for r in references(text, "x")) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("docs/nope.md", "no such file or folder"),
        ("data/missing/x.csv", "no such file or folder"),
        ("benchmarks/bench_made_up.py", "no such file or folder"),
        ("laws.md §42", "docs/laws.md has no section 42"),
        ("laws.md §4.9", "docs/laws.md has no section 4.9"),
        ("design.md §5", "no design.md in the repository (expected docs/design.md)"),
        ("design.md", "no design.md at the root or in docs/"),
        ("../shared/docs/laws.md", "points outside the repository"),
    ],
)
def test_made_up_references_are_broken(text: str, why: str) -> None:
    assert broken(Reference("x", text)) == (None if why is None else why)


@pytest.mark.parametrize(
    "text", ["docs/laws.md", "laws.md §4.2", "laws.md §10", "data/examples/runs.csv", "laws.md"]
)
def test_real_references_resolve(text: str) -> None:
    assert broken(Reference("x", text)) is None


def test_checker_on_a_made_up_repository(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("# Guide\n\n## 1. Start\n\n### 1.1 More\n")
    good, bad = "guide.md §1.1 and docs/guide.md", "guide.md §2 and docs/other.md"
    assert [broken(r, tmp_path) for r in references(good, "x")] == [None, None, None]
    assert [broken(r, tmp_path) for r in references(bad, "x")] == [
        "no such file or folder",
        "docs/guide.md has no section 2",
        None,
    ]


# ------------------------------------------------------------- Markdown links and anchors
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """The anchors of a Markdown page's headings (a repeated heading gets -1, -2, ...)."""
    seen: dict[str, int] = {}
    found = set()
    for line in FENCE.sub("", markdown).splitlines():
        match = re.match(r"#{1,6}\s+(.*)", line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def link_problems(page: Path, root: Path = ROOT) -> list[str]:
    """Links of ``page`` whose file or anchor does not exist (web links are not checked)."""
    problems = []
    for target in LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        where = f"{page.relative_to(root)}: ({target})"
        if not file.exists():
            problems.append(f"{where}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text("utf-8")):
            problems.append(f"{where}: {file.name} has no heading #{anchor}")
    return problems


def pages(root: Path = ROOT) -> list[Path]:
    """README.md and every docs/*.md page."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def test_every_link_and_anchor_of_every_page_resolves() -> None:
    checked = pages()
    assert len(checked) >= 18  # README, the guides, the references, validation
    links = sum(len(LINK.findall(p.read_text(encoding="utf-8"))) for p in checked)
    assert links > 60
    problems = [problem for page in checked for problem in link_problems(page)]
    assert problems == [], "\n".join(problems)


def test_link_checker_on_made_up_pages(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    guide = tmp_path / "docs" / "guide.md"
    guide.write_text(
        "# Guide\n\n## Two words: here\n\n## Two words: here\n\n```\n# not a heading\n```\n"
    )
    assert anchors(guide.read_text()) == {"guide", "two-words-here", "two-words-here-1"}
    readme = tmp_path / "README.md"
    readme.write_text(
        "[a](docs/guide.md#two-words-here) [b](docs/guide.md#not-a-heading) "
        "[c](docs/missing.md) [d](#guide) [e](https://example.org/x#y) [f](docs/guide.md)"
    )
    assert link_problems(readme, tmp_path) == [
        "README.md: (docs/guide.md#not-a-heading): guide.md has no heading #not-a-heading",
        "README.md: (docs/missing.md): no such file",
        "README.md: (#guide): README.md has no heading #guide",
    ]
