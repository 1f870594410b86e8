"""Item (d): Step Functions history events per execution as the pool grows, against the 25,000 limit.

Parent: the restore execution of 1k, 5k and 20k users (unpaced, the pool has a hosted-UI domain so
the domain status loop runs). Its history should not grow with users: the users run in a
Distributed Map, whose items are child executions with their own histories.

Child: moto runs Distributed Map items as threads without child executions, so the Map's
``ItemProcessor`` (from statemachine/restore.asl.json, without ``ProcessorConfig``) is created as a
state machine of its own in the same stack and run with one chunk's input (the Map's
``ItemSelector`` applied to the state the Map received): once as is (one round) and once with a
continuation (the Lambda context reports little time left half-way through the chunk, so the
first task hands back done=false once).

Extrapolation to 10^6 users: children = ceil(users / UserChunkSize); events per child = one round
+ (rounds - 1) x the events a continuation adds.

    .venv/bin/python -m bench.history_events
    .venv/bin/python -m bench.history_events --sizes 1000,5000 --chunk-size 500
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from unittest import mock

from bench._workflow import DR_REGION, OUT_DIR, UNPACED, USERS_MAP, quiet, restore
from bench.synthetic import SyntheticSpec, cached_backup
from tools.emulation import LambdaContext, RestoreStack

ASL = Path(__file__).resolve().parents[1] / "statemachine" / "restore.asl.json"
EVENT_LIMIT = 25_000
TARGET_USERS = 1_000_000
DOMAIN_LOOP = ("Domain ready?", "Wait for domain", "Check domain status")


def item_processor_definition(function_arn: str) -> str:
    processor = dict(json.loads(ASL.read_text())["States"][USERS_MAP]["ItemProcessor"])
    processor.pop("ProcessorConfig", None)
    return json.dumps(processor).replace("${RestoreUsersFunctionArn}", function_arn)


def map_input(history: list[dict[str, Any]]) -> dict[str, Any]:
    entered = next(
        e for e in history if e["type"] == "MapStateEntered" and e["stateEnteredEventDetails"]["name"] == USERS_MAP
    )
    return json.loads(entered["stateEnteredEventDetails"]["input"])


class HalfTime:
    """The first chunk task sees less than the reserve left once half its users are done: one continuation."""

    def __init__(self, chunk_users: int) -> None:
        self.half = max(1, chunk_users // 2)
        self.first: int | None = None
        self.calls = 0

    def remaining(self, original: Any) -> Any:
        probe = self

        def get_remaining_time_in_millis(context: LambdaContext) -> int:
            if probe.first is None:
                probe.first = id(context)
            if id(context) == probe.first:
                probe.calls += 1
                if probe.calls >= probe.half:
                    return 1_000
            return original(context)

        return get_remaining_time_in_millis


def run_child(stack: RestoreStack, state: dict[str, Any], continuation: bool) -> tuple[list[dict[str, Any]], list[Any]]:
    """One chunk through the ItemProcessor as its own execution; returns (history, task outputs)."""
    sfn, s3 = stack.client("stepfunctions"), stack.client("s3")
    plan = state["plan"]
    chunk = json.loads(s3.get_object(Bucket=plan["work_bucket"], Key=plan["users_manifest_key"])["Body"].read())[0]
    # the parent already restored this chunk: forget its result so the task really goes through its users
    prefix = f"restores/{state['restore']['restore_id']}/results/users/chunk-{chunk['index']:06d}"
    for key in (f"{prefix}.json", f"{prefix}.progress.json"):
        s3.delete_object(Bucket=plan["work_bucket"], Key=key)
    function_arn = stack.client("lambda").get_function(FunctionName=stack.function_name("RestoreUsersFunction"))[
        "Configuration"
    ]["FunctionArn"]
    machine = sfn.create_state_machine(
        name=f"bench-item-processor-{uuid.uuid4().hex[:8]}",
        definition=item_processor_definition(function_arn),
        roleArn=f"arn:aws:iam::{stack.account_id}:role/bench-item-processor",
    )["stateMachineArn"]
    child_input = {"chunk": chunk, "restore": state["restore"], "pool": state["pool"], "plan": plan}
    with (
        mock.patch.object(
            LambdaContext,
            "get_remaining_time_in_millis",
            HalfTime(chunk["count"]).remaining(LambdaContext.get_remaining_time_in_millis),
        )
        if continuation
        else contextlib.nullcontext(),
        quiet(),
    ):
        arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(child_input))["executionArn"]
        result = stack.wait(arn)
    if result.status != "SUCCEEDED":
        raise RuntimeError(f"child {result.status}: {result.error} {result.cause}")
    outputs = [
        json.loads(e["taskSucceededEventDetails"]["output"])["Payload"]
        for e in result.history
        if e["type"] == "TaskSucceeded"
    ]
    return result.history, outputs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="History events per execution (parent and Map child) vs 25,000")
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--chunk-size", type=int, default=500, help="UserChunkSize (template default 500)")
    parser.add_argument("--domain-max-checks", type=int, default=40, help="DomainStatusMaxChecks (template default)")
    args = parser.parse_args(argv)

    rows = []
    child: dict[str, Any] = {}
    for users in [int(s) for s in args.sizes.split(",") if s]:
        spec = SyntheticSpec(users=users, groups=10, pool_id="us-east-1_HistEvents1", domain="synthetic-history-bench")
        backup = cached_backup(spec, OUT_DIR)
        parameters = {
            "Environment": "bench",
            "UserChunkSize": str(args.chunk_size),
            "DomainStatusMaxChecks": str(args.domain_max_checks),
            **UNPACED,
        }
        with RestoreStack(region=DR_REGION, parameters=parameters) as stack:
            run = restore(stack, backup)
            history = run.result.history
            types = Counter(e["type"] for e in history)
            entered = run.result.states_entered()
            rows.append(
                {
                    "users": users,
                    "chunks": run.users_map_run["itemCounts"]["total"],
                    "events": len(history),
                    "map_events": sum(n for t, n in types.items() if t.startswith("Map")),
                    "domain_checks": entered.count("Check domain status"),
                }
            )
            if not child:  # the child's events do not depend on the pool size: measure once
                state = map_input(history)
                one, _one_out = run_child(stack, state, continuation=False)
                two, two_out = run_child(stack, state, continuation=True)
                child = {
                    "one": len(one),
                    "two": len(two),
                    "rounds_two": len(two_out),
                    "done_two": [o["done"] for o in two_out],
                    "types": Counter(e["type"] for e in one),
                }
        print(f"{users:>7,} users: parent {rows[-1]['events']} events, {rows[-1]['chunks']} chunks", flush=True)

    print()
    print(f"UserChunkSize {args.chunk_size}; parent = the restore execution; child = one Map item (one chunk)")
    print(f"{'users':>9} {'chunks':>7} {'parent events':>14} {'of which Map*':>14} {'domain checks':>14}")
    for r in rows:
        print(f"{r['users']:>9,} {r['chunks']:>7,} {r['events']:>14,} {r['map_events']:>14} {r['domain_checks']:>14}")
    constant = len({r["events"] for r in rows}) == 1
    print(f"parent events {'constant' if constant else 'NOT constant'} across sizes")

    per_round = child["two"] - child["one"]
    print()
    print(f"child execution, one round: {child['one']} events ({dict(child['types'])})")
    print(
        f"child execution with one continuation (done={child['done_two']}): {child['two']} events "
        f"-> +{per_round} per extra round"
    )

    children = math.ceil(TARGET_USERS / args.chunk_size)
    parent = max(r["events"] for r in rows)
    # worst case of the parent: every domain check used (each iteration: Choice + Wait + Task states)
    checks = max(r["domain_checks"] for r in rows)
    per_check = events_per_domain_check()
    parent_worst = parent + (args.domain_max_checks - checks) * per_check
    rounds_to_limit = (EVENT_LIMIT - child["one"]) // per_round + 1 if per_round else None
    print()
    print(f"extrapolation to {TARGET_USERS:,} users (UserChunkSize {args.chunk_size}):")
    print(
        f"  parent events: {parent} (constant in users); worst case with all {args.domain_max_checks} domain "
        f"checks ~{parent_worst} -> {'under' if parent_worst < EVENT_LIMIT else 'OVER'} {EVENT_LIMIT:,}"
    )
    print(
        f"  children: {children:,} (one per chunk), each {child['one']} events in one round "
        f"(+{per_round} per continuation; {rounds_to_limit:,} rounds would reach {EVENT_LIMIT:,}) -> "
        f"{'under' if child['two'] < EVENT_LIMIT else 'OVER'} {EVENT_LIMIT:,}"
    )
    print(
        f"  a chunk of {args.chunk_size} users paced at 25/s over 10 tasks (2.5 users/s each) takes "
        f"~{args.chunk_size / 2.5:.0f} s of a 900 s Lambda: one round (continuations only after throttling waits)"
    )


STATE_EVENTS = {"Task": 5, "Choice": 2, "Wait": 2, "Pass": 2}  # Entered/Exited (+ Scheduled/Started/Succeeded)


def events_per_domain_check() -> int:
    """Events one more iteration of the domain status loop adds to the parent (from the ASL's state types)."""
    states = json.loads(ASL.read_text())["States"]
    return sum(STATE_EVENTS[states[name]["Type"]] for name in DOMAIN_LOOP)


if __name__ == "__main__":
    main()
