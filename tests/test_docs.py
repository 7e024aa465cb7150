"""The docs a user reads hold together: every link leads somewhere in the repository, no doc
sends the reader outside it, and docs/rules.md explains every rule code the hub cites, pointing
at code and tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted(
    [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "plugins").glob("*/README.md")]
)
RULES = ROOT / "docs" / "rules.md"
CODES = [
    *(f"R{n}" for n in range(1, 7)),
    *(f"A{n}" for n in range(1, 7)),
    *(f"C{n}" for n in range(1, 6)),
    *(f"D{n}" for n in range(1, 5)),
    *(f"G{n}" for n in range(1, 7)),
]

#: A Markdown link or image: [text](target) / ![alt](target).
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
#: What would send a reader outside the repository.
OUTSIDE = re.compile(
    r"DOMAIN\.md|ARCHITECTURE\.md|(?<![\w$])shared/(specs|reference|seeds)|\.\./shared\b"
    r"|/work/|/home/|/Users/"
)


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _links(path: Path) -> list[str]:
    """Link targets outside fenced code blocks (a code sample is not a link)."""
    return LINK.findall(FENCE.sub("", path.read_text(encoding="utf-8")))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        if m := re.match(r"#{1,6}\s+(.*)", line):
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return found


@pytest.mark.parametrize("doc", DOCS, ids=_name)
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(doc: Path) -> None:
    broken = []
    for target in _links(doc):
        if re.match(r"[a-z]+:", target) or target.startswith("/"):
            continue  # a web address, or a path the console serves
        file, _, anchor = target.partition("#")
        where = (doc.parent / file).resolve() if file else doc
        if not where.exists():
            broken.append(f"{target}: no such file")
        elif not where.is_relative_to(ROOT):
            broken.append(f"{target}: outside the repository")
        elif anchor and where.suffix == ".md" and anchor not in anchors(where):
            broken.append(f"{target}: no heading #{anchor} in {_name(where)}")
    assert not broken, f"{_name(doc)} has broken links: {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=_name)
def test_no_doc_points_outside_the_repository(doc: Path) -> None:
    lines = [
        f"line {n}: {line.strip()}"
        for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not lines, f"{_name(doc)} points outside the repository: {lines}"


def test_the_code_points_no_user_at_a_doc_outside_the_repository() -> None:
    found = [
        f"{_name(path)}:{n}"
        for top in ("hub", "plugins")
        for path in (ROOT / top).rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"DOMAIN\.md|ARCHITECTURE\.md|\.\./shared\b", line)
    ]
    assert not found, f"mentions of docs outside the repository: {found}"


def test_rules_md_explains_every_rule_code_under_its_own_heading() -> None:
    headings = anchors(RULES)
    missing = [code for code in CODES if code.lower() not in headings]
    assert not missing, f"docs/rules.md has no '### CODE' heading for {missing}"


def _references(kind: str) -> list[tuple[Path, str]]:
    """(file, name) for every name in backticks after a link on rules.md's '**kind:**' lines."""
    found = []
    for line in RULES.read_text(encoding="utf-8").splitlines():
        if not line.startswith(f"- **{kind}:**"):
            continue
        for part in re.split(r";\s*", line.removeprefix(f"- **{kind}:**")):
            link = re.search(r"\]\(\.\./([^)#]+)\)", part)
            assert link, f"docs/rules.md: a {kind} entry without a link: {part!r}"
            path = ROOT / link.group(1)
            _, _, names = part.partition("):")
            found += [(path, name) for name in re.findall(r"`([\w.]+)`", names)]
    return found


@pytest.mark.parametrize("kind", ["Code", "Tests"])
def test_rules_md_names_code_and_tests_that_exist(kind: str) -> None:
    references = _references(kind)
    assert len(references) > 30
    missing = []
    for path, name in references:
        if not path.exists():
            missing.append(f"{_name(path)} (no such file)")
            continue
        last = name.split(".")[-1]
        text = path.read_text(encoding="utf-8")
        if not re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{last}\b|^{last}\b.*=", text, re.M):
            missing.append(f"{_name(path)}: {name}")
    assert not missing, f"docs/rules.md names what does not exist: {missing}"


def test_docs_citing_rule_codes_link_to_rules_md() -> None:
    code = re.compile(r"\b[RACDG][1-6]\b")
    unlinked = [
        _name(doc)
        for doc in DOCS
        if doc != RULES
        and code.search(FENCE.sub("", doc.read_text(encoding="utf-8")))
        and not any(t.split("#")[0].endswith("rules.md") for t in _links(doc))
    ]
    assert not unlinked, f"these docs cite rule codes without linking docs/rules.md: {unlinked}"
