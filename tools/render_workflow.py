"""Render the state machine (statemachine/restore.asl.json) as a picture: docs/workflow.dot + .svg.

    python -m tools.render_workflow            # regenerate both (needs graphviz `dot` on PATH)
    python -m tools.render_workflow --dot-only # only the DOT file (pure Python)

The DOT text is built from the ASL alone, deterministically, so a gate (tests/gates/test_docs.py)
can regenerate it without graphviz and compare it with the committed file; the SVG carries the
SHA-256 of that DOT text in an XML comment, so a stale SVG is caught too. Run this after every
change to the ASL and commit the two files.

Drawing rules (readability first): state names are the labels (the state's Comment is the
tooltip); a Map's ItemProcessor is a cluster; Choice edges carry their condition; the states
reached only through a Catch form the failure path cluster; when every phase catches States.ALL
into the same state, those Catches are one dashed edge from the cluster of the phases (any other
Catch is drawn on its own, dashed); a Choice whose rules each send a redrive back to the phase
named in one variable ("Resume at the failed phase") is one dotted edge back to the phases.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
ASL_PATH = REPO_ROOT / "statemachine" / "restore.asl.json"
DOT_PATH = REPO_ROOT / "docs" / "workflow.dot"
SVG_PATH = REPO_ROOT / "docs" / "workflow.svg"
HASH_MARK = "workflow.dot sha256:"

_OPERATORS = {
    "StringEquals": "=",
    "NumericEquals": "=",
    "BooleanEquals": "=",
    "TimestampEquals": "=",
    "NumericGreaterThan": ">",
    "NumericGreaterThanEquals": "≥",
    "NumericLessThan": "<",
    "NumericLessThanEquals": "≤",
    "StringGreaterThan": ">",
    "StringGreaterThanEquals": "≥",
    "StringLessThan": "<",
    "StringLessThanEquals": "≤",
    "TimestampGreaterThan": ">",
    "TimestampGreaterThanEquals": "≥",
    "TimestampLessThan": "<",
    "TimestampLessThanEquals": "≤",
    "StringMatches": "matches",
}

_NODE_STYLE = {
    "Task": 'shape=box, style="rounded,filled", fillcolor="#e8f0fe", color="#3b6fd4"',
    "Choice": 'shape=diamond, style=filled, fillcolor="#fff4d6", color="#c79a00"',
    "Pass": 'shape=box, style="filled", fillcolor="#f1f3f4", color="#80868b"',
    "Wait": 'shape=box, style="rounded,filled,dashed", fillcolor="#f1f3f4", color="#80868b"',
    "Fail": 'shape=octagon, style=filled, fillcolor="#fce8e6", color="#c5221f"',
    "Succeed": 'shape=box, style="rounded,filled", fillcolor="#e6f4ea", color="#188038"',
    "Parallel": 'shape=box3d, style=filled, fillcolor="#e8f0fe", color="#3b6fd4"',
    "Map": 'shape=box3d, style=filled, fillcolor="#e8f0fe", color="#3b6fd4"',
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _path(value: str) -> str:
    return value.removeprefix("$.")


def condition_label(rule: dict[str, Any]) -> str:
    """A Choice rule as short text: ``dry_run = true``, ``domain.checks ≥ domain.max_checks``."""
    if "Not" in rule:
        return "not (" + condition_label(rule["Not"]) + ")"
    for combinator, word in (("And", " and "), ("Or", " or ")):
        if combinator in rule:
            return word.join(condition_label(r) for r in rule[combinator])
    if "Condition" in rule:  # JSONata
        return str(rule["Condition"]).strip("{} %")
    variable = _path(str(rule.get("Variable", "?")))
    for key, value in rule.items():
        if key in ("Variable", "Next", "Comment", "Assign", "Output"):
            continue
        if key.startswith("Is"):
            return f"{variable} {key[2:].lower()}" + ("" if value else " (not)")
        operator = key.removesuffix("Path")
        symbol = _OPERATORS.get(operator, operator)
        shown = _path(value) if key.endswith("Path") else json.dumps(value, ensure_ascii=False)
        return f"{variable} {symbol} {shown}"
    return variable


def _is_resume_choice(state: dict[str, Any]) -> bool:
    """A Choice whose every rule is ``X = "<state>" -> <state>`` (send a redrive back to a phase)."""
    rules = state.get("Choices") or []
    return (
        len(rules) > 3
        and all(rule.get("StringEquals") == rule.get("Next") and "Variable" in rule for rule in rules)
        and len({rule["Variable"] for rule in rules}) == 1
    )


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def emit(self, line: str, depth: int) -> None:
        self.lines.append("  " * depth + line)


def _node_id(scope: str, name: str) -> str:
    return f"{scope}/{name}" if scope else name


def _processors(state: dict[str, Any]) -> list[dict[str, Any]]:
    if state["Type"] == "Parallel":
        return state["Branches"]
    return [state.get("ItemProcessor") or state["Iterator"]]


def _endpoint(states: dict[str, Any], scope: str, name: str, incoming: bool) -> tuple[str, str | None]:
    """The node an edge into (or out of) state `name` attaches to, and the cluster it is clipped at.

    A Map or Parallel is a cluster: edges enter at its first inner state and leave from its end."""
    state = states[name]
    if state["Type"] not in ("Map", "Parallel"):
        return _node_id(scope, name), None
    inner = _node_id(scope, name)
    processor = _processors(state)[0]
    node = processor["StartAt"] if incoming else "__end__"
    return _node_id(inner, node), "cluster_" + inner


def _edge(w: _Writer, tail: tuple[str, str | None], head: tuple[str, str | None], attrs: list[str], depth: int) -> None:
    attrs = list(attrs)
    if tail[1]:
        attrs.append(f"ltail={_quote(tail[1])}")
    if head[1]:
        attrs.append(f"lhead={_quote(head[1])}")
    suffix = f" [{', '.join(attrs)}]" if attrs else ""
    w.emit(f"{_quote(tail[0])} -> {_quote(head[0])}{suffix};", depth)


def _failure_path(states: dict[str, Any], start: str) -> set[str]:
    """States reached only through a Catch (not from StartAt by Next, Default or Choice rules)."""
    main: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in main:
            continue
        main.add(name)
        state = states[name]
        nexts = [state.get("Next"), state.get("Default")] + [c["Next"] for c in state.get("Choices") or []]
        todo.extend(n for n in nexts if n)
    return set(states) - main


def _summarised_catch(states: dict[str, Any], main: list[str], failure: set[str]) -> str | None:
    """The failure-path state that every Task/Map/Parallel of the main path catches States.ALL into, if one.

    Those Catches are drawn as one edge; any other Catch is drawn on its own."""
    targets = set()
    for name in main:
        state = states[name]
        if state["Type"] in ("Task", "Map", "Parallel"):
            catch_all = [c["Next"] for c in state.get("Catch") or [] if c.get("ErrorEquals") == ["States.ALL"]]
            if not catch_all:
                return None
            targets.add(catch_all[0])
    if len(targets) == 1 and targets <= failure:
        return targets.pop()
    return None


def _declare(w: _Writer, states: dict[str, Any], scope: str, name: str, depth: int) -> None:
    state = states[name]
    kind = state["Type"]
    if kind in ("Map", "Parallel"):
        inner = _node_id(scope, name)
        mode = ((state.get("ItemProcessor") or {}).get("ProcessorConfig") or {}).get("Mode", "")
        what = "Distributed Map: one child execution per item" if mode == "DISTRIBUTED" else kind
        w.emit(f"subgraph {_quote('cluster_' + inner)} {{", depth)
        w.emit(f'label={_quote(name + "  (" + what + ")")}; style="rounded,dashed"; color="#3b6fd4";', depth + 1)
        for processor in _processors(state):
            _states(w, processor["States"], processor["StartAt"], inner, depth + 1, top=False)
        w.emit("}", depth)
        return
    attrs = [f"label={_quote(name)}", _NODE_STYLE.get(kind, "shape=box")]
    if state.get("Comment"):
        attrs.append(f"tooltip={_quote(state['Comment'])}")
    w.emit(f"{_quote(_node_id(scope, name))} [{', '.join(attrs)}];", depth)


def _states(w: _Writer, states: dict[str, Any], start: str, scope: str, depth: int, top: bool) -> None:
    failure = _failure_path(states, start) if top else set()
    main = [n for n in states if n not in failure]
    summarised = _summarised_catch(states, main, failure) if top else None
    start_id, end_id = _node_id(scope, "__start__"), _node_id(scope, "__end__")
    terminal = 'shape=circle, style=filled, fillcolor="#202124", fontcolor=white'
    if top:
        w.emit(f'{_quote(start_id)} [label="Start", {terminal}, width=0.6, fixedsize=true];', depth)
        w.emit(f'{_quote(end_id)} [label="End", {terminal}, peripheries=2, width=0.6, fixedsize=true];', depth)
    else:
        w.emit(f'{_quote(start_id)} [label="", {terminal}, width=0.16];', depth)
        w.emit(f'{_quote(end_id)} [label="", {terminal}, peripheries=2, width=0.16];', depth)

    if summarised:
        w.emit('subgraph "cluster_main" {', depth)
        label = f"The restore: every Task and Map catches States.ALL into '{summarised}'"
        w.emit(f'label={_quote(label)}; style="rounded"; color="#dadce0"; fontcolor="#5f6368";', depth + 1)
        for name in main:
            _declare(w, states, scope, name, depth + 1)
        w.emit("}", depth)
    else:
        for name in main:
            _declare(w, states, scope, name, depth)
    if failure:
        w.emit('subgraph "cluster_failure" {', depth)
        w.emit('label="Failure path"; style="rounded,filled"; fillcolor="#fdf3f2"; color="#c5221f";', depth + 1)
        for name in states:
            if name in failure:
                _declare(w, states, scope, name, depth + 1)
        w.emit("}", depth)

    def at(name: str, incoming: bool) -> tuple[str, str | None]:
        return _endpoint(states, scope, name, incoming)

    _edge(w, (start_id, None), at(start, True), [], depth)
    if summarised:
        # One dashed edge for all the Catches; its tail is the first state, so the failure path sits beside the top.
        tail = (at(start, True)[0], "cluster_main")
        _edge(
            w,
            tail,
            at(summarised, True),
            ["style=dashed", 'color="#c5221f"', 'label="any error"', 'fontcolor="#c5221f"'],
            depth,
        )
    for name, state in states.items():
        if state.get("Next"):
            _edge(w, at(name, False), at(state["Next"], True), [], depth)
        if state.get("End"):
            _edge(w, at(name, False), (end_id, None), [], depth)
        if state["Type"] == "Choice":
            if _is_resume_choice(state):
                rules = state["Choices"]
                variable = _path(rules[0]["Variable"])
                label = f"after a redrive: to the phase named by {variable} ({len(rules)} rules)"
                if summarised:
                    head = (at(start, True)[0], "cluster_main")
                    _edge(
                        w,
                        at(name, False),
                        head,
                        [
                            "style=dotted",
                            'color="#188038"',
                            "constraint=false",
                            f"xlabel={_quote(label)}",
                            'fontcolor="#188038"',
                        ],
                        depth,
                    )
                else:
                    for target in dict.fromkeys(rule["Next"] for rule in rules):
                        _edge(
                            w,
                            at(name, False),
                            at(target, True),
                            ["style=dotted", 'color="#188038"', "constraint=false"],
                            depth,
                        )
            else:
                for rule in state.get("Choices") or []:
                    _edge(w, at(name, False), at(rule["Next"], True), [f"label={_quote(condition_label(rule))}"], depth)
            if state.get("Default"):
                _edge(
                    w, at(name, False), at(state["Default"], True), ['label="otherwise"', 'fontcolor="#5f6368"'], depth
                )
        for catch in state.get("Catch") or []:
            if (
                summarised
                and name in main
                and catch.get("ErrorEquals") == ["States.ALL"]
                and catch["Next"] == summarised
            ):
                continue
            label = "catch " + ", ".join(catch.get("ErrorEquals") or [])
            _edge(
                w,
                at(name, False),
                at(catch["Next"], True),
                ["style=dashed", 'color="#c5221f"', f"label={_quote(label)}", 'fontcolor="#c5221f"'],
                depth,
            )


def to_dot(asl: dict[str, Any]) -> str:
    """The DOT text of a state machine definition (deterministic: same ASL, same text)."""
    w = _Writer()
    w.emit("// Generated by `python -m tools.render_workflow` from statemachine/restore.asl.json: do not edit.", 0)
    w.emit("digraph workflow {", 0)
    w.emit(
        'graph [rankdir=TB, compound=true, newrank=true, nodesep=0.35, ranksep=0.32, fontname="Helvetica", '
        'fontsize=12, bgcolor="white", labelloc=t];',
        1,
    )
    w.emit('node [fontname="Helvetica", fontsize=11, height=0.36, margin="0.15,0.04"];', 1)
    w.emit('edge [fontname="Helvetica", fontsize=9, color="#5f6368", arrowsize=0.7];', 1)
    legend = "solid: Next and Choice rules      dashed red: Catch      dotted green: resume after a redrive"
    w.emit(f'label={_quote(legend)}; labelloc=b; fontsize=10; fontcolor="#5f6368";', 1)
    _states(w, asl["States"], asl["StartAt"], "", 1, top=True)
    w.emit("}", 0)
    return "\n".join(w.lines) + "\n"


def dot_hash(dot: str) -> str:
    return hashlib.sha256(dot.encode("utf-8")).hexdigest()


def hash_comment(dot: str) -> str:
    return f"<!-- {HASH_MARK} {dot_hash(dot)} -->"


def render_svg(dot: str) -> str:
    """SVG from graphviz, with the DOT hash as an XML comment after the XML declaration."""
    executable = shutil.which("dot")
    if executable is None:
        raise SystemExit("graphviz `dot` is not on PATH (Debian/Ubuntu: apt-get install -y graphviz)")
    svg = subprocess.run([executable, "-Tsvg"], input=dot, capture_output=True, text=True, check=True).stdout
    declaration, sep, rest = svg.partition("?>")
    if not sep:
        return hash_comment(dot) + "\n" + svg
    return declaration + sep + "\n" + hash_comment(dot) + rest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dot-only", action="store_true", help="write only the DOT file (no graphviz needed)")
    args = parser.parse_args(argv)
    dot = to_dot(json.loads(ASL_PATH.read_text(encoding="utf-8")))
    DOT_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOT_PATH.write_text(dot, encoding="utf-8")
    print(f"wrote {DOT_PATH.relative_to(REPO_ROOT)}")
    if not args.dot_only:
        SVG_PATH.write_text(render_svg(dot), encoding="utf-8")
        print(f"wrote {SVG_PATH.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
