"""The documentation's relative links lead to files that exist, and to headings that exist there."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# [text](target) and ![alt](target); a target ends at whitespace (an optional "title" follows) or the bracket.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`(?:[^`\n]|\n(?!\n))*`")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def documentation_files(root: Path) -> list[Path]:
    """List README.md, SECURITY.md, CHANGELOG.md and every Markdown file under docs/."""
    top = [root / name for name in ("README.md", "SECURITY.md", "CHANGELOG.md") if (root / name).is_file()]
    return top + sorted((root / "docs").rglob("*.md"))


def prose_lines(text: str, keep_inline_code: bool = False) -> list[tuple[int, str]]:
    """Return the numbered lines outside code blocks, inline code removed unless kept (headings may hold it)."""
    kept: list[str] = []
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            line = ""
        # An indented line is a code block in these docs (shell examples): no prose line starts with four spaces.
        kept.append("" if fenced or line.startswith("    ") else line)
    prose = "\n".join(kept)
    if not keep_inline_code:
        # A code span may run over a line break (never over a blank line); it is blanked out, its line breaks kept.
        prose = INLINE_CODE.sub(lambda code: "\n" * code.group(0).count("\n"), prose)
    return [(number, line) for number, line in enumerate(prose.split("\n"), start=1) if line]


def slug(heading: str) -> str:
    """Turn a heading into its anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    text = INLINE_CODE.sub(lambda code: code.group(0).strip("`"), heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = unicodedata.normalize("NFC", text).lower()
    kept = "".join(char for char in text if char.isalnum() or char in " -_")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Return every heading anchor of a Markdown file, numbered as GitHub numbers repeated headings."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for _, line in prose_lines(path.read_text(encoding="utf-8"), keep_inline_code=True):
        match = HEADING.match(line)
        if match is None:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(path: Path, root: Path) -> list[str]:
    """Return each relative link in a Markdown file whose file or heading does not exist, as 'file:line: target'."""
    problems: list[str] = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                continue  # http:, https:, mailto:: not checked offline
            file_part, _, fragment = target.partition("#")
            destination = (path.parent / file_part).resolve() if file_part else path
            where = f"{path.relative_to(root)}:{number}: {target}"
            if not destination.exists():
                problems.append(f"{where} (no such file)")
            elif not destination.is_relative_to(root):
                problems.append(f"{where} (outside the repository)")
            elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
                problems.append(f"{where} (no heading with that anchor)")
    return problems


def test_every_relative_link_in_the_docs_resolves() -> None:
    problems = [problem for path in documentation_files(ROOT) for problem in broken_links(path, ROOT)]
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_a_missing_file_or_heading_is_reported(tmp_path: Path) -> None:
    (tmp_path / "docs" / "de").mkdir(parents=True)
    (tmp_path / "docs" / "hub.md").write_text("# Running the hub\n\n## The `status` command\n", encoding="utf-8")
    (tmp_path / "docs" / "de" / "hub.md").write_text(
        "# Der Hub\n\n## Übersicht\n\n"
        "[English](../hub.md), [status](../hub.md#the-status-command), [oben](#übersicht)\n"
        "[gone](../gone.md), [no anchor](../hub.md#nothing-here), `[in code](../nowhere.md)`, `a span\n"
        "[over a line break](../nowhere.md)`\n"
        "```\n[in a block](../nowhere.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(tmp_path / "docs" / "de" / "hub.md", tmp_path) == [
        "docs/de/hub.md:6: ../gone.md (no such file)",
        "docs/de/hub.md:6: ../hub.md#nothing-here (no heading with that anchor)",
    ]


@pytest.mark.parametrize("page", sorted((ROOT / "docs" / "de").glob("*.md")), ids=lambda page: page.name)
def test_each_german_page_links_its_english_original(page: Path) -> None:
    original = "../../README.md" if page.name == "README.md" else f"../{page.name}"
    lines = prose_lines(page.read_text(encoding="utf-8"))
    targets = {target.partition("#")[0] for _, line in lines for target in LINK.findall(line)}
    assert original in targets
    assert (page.parent / original).is_file()


def test_the_readme_links_the_german_docs() -> None:
    assert "(docs/de/README.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
