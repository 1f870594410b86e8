"""Docs gates: the repository's knowledge stays in the repository, and its picture stays current.

Pure Python (and grep), no graphviz:

- docs/workflow.dot is what tools/render_workflow.py makes of statemachine/restore.asl.json, and
  docs/workflow.svg carries the hash of that DOT text (regenerate: python -m tools.render_workflow);
- the README shows the picture and points at docs/;
- no comment or doc points at a file outside the repository (a shared document, a notes file):
  knowledge the code relies on is in docs/;
- every web link in docs/ is AWS documentation; every relative link (and its #anchor) resolves.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tools import render_workflow

pytestmark = pytest.mark.gates

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SCANNED = [
    "functions",
    "layers",
    "tools",
    "tests",
    "docs",
    "bench",
    "README.md",
    "template.yaml",
    "statemachine",
    "Makefile",
]
# Built from pieces so this file does not match itself.
_SHEET = "facts" + " sheet"
_SHARED = r"\.\./" + "shared"
_OUTSIDE_DOCS = (r"backup-format\.md", "cognito-restore-" + "facts", "original-restore-" + "design")
GREP_PATTERN = "|".join([_SHEET, _SHARED, *_OUTSIDE_DOCS])
# Wider than the grep: other ways a comment has cited the outside documents.
EXTRA_PATTERNS = [
    re.compile(r"/work/"),
    re.compile(r"\bfacts (sheet|section|\d)", re.IGNORECASE),
    re.compile(r"\bdocs " + "\u00a7"),
]
# AWS documentation, and AWS's own knowledge center (re:Post) articles.
ALLOWED_LINK_PREFIX = ("https://docs.aws.amazon.com/", "https://repost.aws/knowledge-center/")


def _strip_repository_docs(path: Path, line: str) -> str:
    """The line without its references to files of docs/ (docs/x.md anywhere; x.md inside docs/)."""
    for doc in DOCS.glob("*.md"):
        line = line.replace(f"docs/{doc.name}", "")
        if path.parent == DOCS:
            line = re.sub(rf"(?<![\w/.-]){re.escape(doc.name)}", "", line)
    return line


def _outside_references() -> list[str]:
    grep = shutil.which("grep")
    assert grep, "grep is needed for this gate"
    found = subprocess.run(
        [grep, "-rnIE", GREP_PATTERN, *SCANNED], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert found.returncode in (0, 1), found.stderr
    bad = []
    for hit in found.stdout.splitlines():
        file, _, rest = hit.partition(":")
        _, _, text = rest.partition(":")
        if re.search(GREP_PATTERN, _strip_repository_docs(ROOT / file, text)):
            bad.append(hit)
    return bad


def test_workflow_picture_is_current() -> None:
    asl = json.loads(render_workflow.ASL_PATH.read_text(encoding="utf-8"))
    expected = render_workflow.to_dot(asl)
    committed = render_workflow.DOT_PATH.read_text(encoding="utf-8") if render_workflow.DOT_PATH.exists() else ""
    stale = "docs/workflow.dot and .svg are stale: run `python -m tools.render_workflow` and commit both"
    assert committed == expected, stale
    svg = render_workflow.SVG_PATH.read_text(encoding="utf-8")
    assert render_workflow.hash_comment(expected) in svg, stale


def test_every_state_is_in_the_picture() -> None:
    asl = json.loads(render_workflow.ASL_PATH.read_text(encoding="utf-8"))
    svg = render_workflow.SVG_PATH.read_text(encoding="utf-8")

    def names(states: dict) -> list[str]:
        found = []
        for name, state in states.items():
            found.append(name)
            for processor in state.get("Branches") or [state.get("ItemProcessor") or state.get("Iterator") or {}]:
                found.extend(names(processor.get("States") or {}))
        return found

    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    missing = [
        n for n in names(asl["States"]) if not any(t == n or re.match(re.escape(n) + r"\s+\(", t) for t in texts)
    ]
    assert not missing, f"states not drawn: {missing}"


def test_readme_shows_the_picture_and_points_at_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"!\[[^\]]*\]\(docs/workflow\.svg\)", readme), "README must show docs/workflow.svg"
    for doc in ("docs/backup-format.md", "docs/cognito-behaviours.md", "docs/developer-guide.md"):
        assert doc in readme, f"README must point at {doc}"


def test_no_file_points_outside_the_repository() -> None:
    bad = _outside_references()
    for top in SCANNED:
        paths = [ROOT / top] if (ROOT / top).is_file() else sorted((ROOT / top).rglob("*"))
        for path in paths:
            if not path.is_file() or path.suffix in (".pyc", ".svg") or path == Path(__file__):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if any(p.search(line) for p in EXTRA_PATTERNS):
                    bad.append(f"{path.relative_to(ROOT)}:{number}:{line.strip()}")
    assert not bad, "point these at docs/ instead:\n" + "\n".join(sorted(set(bad)))


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    for heading in re.findall(r"^#+\s+(.+?)\s*$", markdown, flags=re.MULTILINE):
        anchors.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return anchors


def test_docs_links_are_aws_documentation_or_resolve() -> None:
    bad = []
    for doc in sorted([*DOCS.glob("*.md"), ROOT / "README.md"]):
        text = doc.read_text(encoding="utf-8")
        for url in re.findall(r"https?://[^\s)>\]`\"']+", text):
            if doc.parent == DOCS and not url.startswith(ALLOWED_LINK_PREFIX):
                bad.append(f"{doc.name}: {url}")
        for target, anchor in re.findall(r"\]\((?!https?://)([^)#\s]*)(?:#([^)\s]*))?\)", text):
            path = doc.parent / target if target else doc
            if not path.exists():
                bad.append(f"{doc.name}: relative link {target} does not resolve")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path.read_text(encoding="utf-8")):
                bad.append(f"{doc.name}: no heading for #{anchor} in {path.name}")
    assert not bad, "\n".join(bad)
