"""The state contract of the restore workflow: the execution state and each task's event and result.

Derived from statemachine/restore.asl.json (what each state passes to its task and keeps of the
result) and from the handlers (functions/*/app.py), which are typed with these. The state only
grows: each phase returns the state it was given plus its own entry, so each phase's state type
extends the previous one. Only pointers (S3 keys) and counts travel here, never user data.

tests/workflow/test_state_contract.py runs real executions and checks every state, every task
event and every task result against these types (every required key present, no unknown key), so
the contract cannot drift from the ASL silently.
"""

# No `from __future__ import annotations` here: TypedDict learns which keys are NotRequired from the
# evaluated annotations (__required_keys__ / __optional_keys__, read by the contract test).
from typing import Any, Literal, NotRequired, TypedDict

# ---------------------------------------------------------------- entries of the state


class ExecutionInput(TypedDict):
    """What an execution is started with (README "Start a restore"); find_backup validates it."""

    user_pool_id: str
    backup_key: NotRequired[str]
    dry_run: NotRequired[bool]
    restore_id: NotRequired[str]
    arn_map: NotRequired[dict[str, str] | str]  # an object, or its JSON text
    keep_client_secrets: NotRequired[bool]
    preserve_old_sub: NotRequired[bool]
    mode: NotRequired[Literal["restore", "sync"]]  # sync: reconcile into target_user_pool_id (docs/sync.md)
    target_user_pool_id: NotRequired[str]
    delete_missing: NotRequired[bool]
    max_deletes: NotRequired[int]
    alerts: NotRequired[Literal["all", "failures"]]  # "failures": the warm standby's syncs (docs/standby.md)


class Restore(TypedDict):
    """The validated input, bound to its backup in the ledger (find_backup)."""

    restore_id: str
    source_pool_id: str
    dry_run: bool
    keep_client_secrets: bool
    preserve_old_sub: bool
    # "sync": the backup is reconciled into target_pool_id, an existing pool of this Region, which is the
    # restore's pool (state["pool"]); absent in executions started before sync mode: a restore.
    mode: NotRequired[Literal["restore", "sync"]]
    target_pool_id: NotRequired[str]  # mode sync only
    delete_missing: NotRequired[bool]  # mode sync only: delete the target's users absent from the backup
    max_deletes: NotRequired[int]  # mode sync only: the cap on those deletions
    alerts: NotRequired[Literal["all", "failures"]]  # "failures": only failures alerted (the ASL choices)
    arn_map: dict[str, str]
    backup_bucket: str
    backup_key: str
    backup_version: str  # "version:<id>" or "etag:<etag>": the very object the restore id names
    continuing: str  # "" or the sentence the "restore started" alert adds when an unfinished restore goes on


class PlannedCounts(TypedDict):
    users: int
    memberships: int
    identity_links: NotRequired[int]  # absent in plans prepared before links were counted
    mfa_preferences: NotRequired[int]


class PreparedPlan(TypedDict):
    """What preparing the backup found and wrote (plan.PreparedBackup)."""

    backup_timestamp: str | None
    parts_key: str  # the backup's small sections (S3)
    users_manifest_key: str  # the user chunk files: the users Map's items (S3)
    problems_manifest_key: str
    user_chunks: int
    counts: dict[str, int]  # items of the backup per report category
    planned: PlannedCounts
    status_counts: dict[str, int]  # planned users per backed-up UserStatus
    password_policy: dict[str, Any]  # the pool's, for the random passwords (no secret)


class Plan(PreparedPlan):
    work_bucket: str
    map_concurrency: int
    estimate: dict[str, Any]  # estimate.estimate: duration at the configured quotas (dry run, progress bound)
    sync_partitions: NotRequired[int]  # sync mode: chunk i holds the users of target partition i (sync_users.py)
    # More users + memberships than "Verify restored pool" lists by name: "Count the restored pool" first.
    count_live_in_segments: NotRequired[bool]


class Pool(TypedDict):
    """The new user pool (create_pool)."""

    id: str
    arn: str
    name: str
    region: str
    sign_up_client_id: NotRequired[str]  # the temporary SignUp client while UNCONFIRMED users are restored (sign_up.py)


class PhaseCounts(TypedDict):
    """A phase's entry in the state (its items are in its result file, results/<phase>.json)."""

    restored: int
    skipped: int
    failed: int


class Clients(PhaseCounts):
    ids: dict[str, str]  # client name -> new client id (for the "pool ready" alert)


class GroupsProgress(PhaseCounts):
    done: bool  # False: a continuation, the "Groups restored?" loop calls the task again


DomainStatus = Literal["NONE", "CREATING", "UPDATING", "DELETING", "ACTIVE", "FAILED"]  # NONE: no domain


class Domain(TypedDict):
    name: str  # "none" when the backup has no prefix domain
    status: DomainStatus
    checks: int
    max_checks: int
    url: NotRequired[str]  # the hosted UI, when a prefix domain was created
    outcome: NotRequired[Literal["FAILED", "NOT_READY_IN_TIME"]]  # set by the "Domain failed / not ready" Pass states


class CategoryCounts(TypedDict):
    backup: int
    restored: int
    skipped: int
    failed: int


class PlannedCategoryCounts(TypedDict):
    """A dry run's counts: nothing is attempted, so nothing is restored or failed."""

    backup: int
    would_create: int
    would_skip: int
    would_update: NotRequired[int]  # a sync's dry run: items of the target that differ from the backup


class ReportPointer(TypedDict):
    """Where the report is, and the little the alerts quote of it (verify_restore)."""

    markdown_key: str
    location: str  # s3:// URL of the JSON report
    counts: dict[str, CategoryCounts] | dict[str, PlannedCategoryCounts]
    summary: dict[str, str]
    manual_steps: list[str]
    subject: str  # the "restore complete" alert's subject (says when items were not restorable)


class StepError(TypedDict):
    """A Catch's error output (ResultPath $.error)."""

    Error: str
    Cause: str


class Failure(TypedDict):
    """Kept by "Record failure"; a redrive restarts "Restore failed" with it."""

    phase: str
    at_redrive: int
    error: StepError


class Resumed(TypedDict):
    resume_at: str


class BranchPhaseError(TypedDict):
    phase: str
    error: StepError


class BranchFailure(TypedDict, total=False):
    """A phase inside the "Users and domain" Parallel failed (issue 12): a branch cannot set the
    execution's variables, so its name and error travel in the Cause of the branch's Fail state
    (phase, error), and are decoded outside (decoded) for "Record branch failure"."""

    phase: str
    error: StepError
    decoded: BranchPhaseError


# ---------------------------------------------------------------- the state, phase by phase


class WithRestore(TypedDict):
    """The least a layer helper needs to find the restore's work store."""

    restore: Restore


class WithPlan(WithRestore):
    plan: Plan


class WithPool(WithPlan):
    pool: Pool


class PreparationProgress(TypedDict):
    """Progress of the segmented preparation (plan.Continuation): the "Backup prepared?" loop reads done."""

    done: bool  # False: a continuation, the loop calls "Validate and prepare backup" again
    stage: str  # "scan" (the whole document) or "users" (the users list again, into chunk files); "done"
    users_read: int  # by the stage so far
    segments: int  # invocations of the preparation so far


class Started(TypedDict):
    """After "Find latest backup". A redrive resumes at the failed phase with the failure keys kept."""

    restore: Restore
    error: NotRequired[StepError]
    failure: NotRequired[Failure]
    resumed: NotRequired[Resumed]
    alert_error: NotRequired[StepError]  # the failure alert itself failed (its fallback was sent)
    branch_failure: NotRequired[BranchFailure]
    preparation: NotRequired[PreparationProgress]  # from "Validate and prepare backup" on (absent in older states)


class Prepared(Started):
    plan: Plan


class PoolCreated(Prepared):
    pool: Pool


class ResourceServersRestored(PoolCreated):
    resource_servers: PhaseCounts


class IdentityProvidersRestored(ResourceServersRestored):
    identity_providers: PhaseCounts


class ClientsRestored(IdentityProvidersRestored):
    clients: Clients


class GroupsRestoring(ClientsRestored):
    groups: NotRequired[GroupsProgress]  # present from the second turn of the loop


class GroupsRestored(ClientsRestored):
    groups: GroupsProgress


class SyncTarget(TypedDict):
    """Sync mode: what "Read target pool" listed (sync_users.read_target_phase); the users are in S3.
    A continuation (done false) carries only the listing's counts so far."""

    target_users: int
    target_memberships: NotRequired[int]
    target_only: NotRequired[int]  # target users absent from the backup
    to_delete: NotRequired[int]  # of those, marked for deletion (delete_missing, within max_deletes)
    kept: NotRequired[int]
    unmatched: NotRequired[int]  # target users without a sign-in name: never touched
    read_calls: dict[str, int]  # pages per listing operation
    partitions: int
    done: NotRequired[bool]  # false: the listing continues ("Target pool read?" loop); absent in older states
    segments: NotRequired[int]  # segment files per partition (target_listing.py)
    invocations: NotRequired[int]


class DomainCreated(GroupsRestored):
    domain: Domain
    sync_target: NotRequired[SyncTarget]  # sync mode: "Read target pool" ran (every later phase carries it)


class SignInSettingsRestored(DomainCreated):
    # "Restore MFA, branding, terms and logging" (v2 backups): counts per report category
    sign_in_settings: dict[str, PhaseCounts]


class TriggersAttached(SignInSettingsRestored):
    lambda_triggers: PhaseCounts


class UiCustomized(TriggersAttached):
    ui_customization: PhaseCounts


class ThreatProtectionApplied(UiCustomized):
    threat_protection: PhaseCounts


class WafAssociated(ThreatProtectionApplied):
    waf: PhaseCounts


class LiveCount(TypedDict):
    """ "Count the restored pool" (live_count.py): the new pool counted live when the plan is too large for
    "Verify restored pool" to list by name. "Start counting the restored pool" sets {"fresh": true}."""

    fresh: NotRequired[bool]  # the loop's first invocation: a new count (never one from before a redrive)
    done: NotRequired[bool]  # false: the count continues ("Restored pool counted?" loop)
    users: NotRequired[int]
    identity_links: NotRequired[int]
    memberships: NotRequired[int]  # of the backed-up groups
    read_calls: NotRequired[dict[str, int]]
    invocations: NotRequired[int]


class PoolCounting(WafAssociated):
    live_count: LiveCount


class PhaseEntries(TypedDict):
    """Every phase's entry after the plan, each present once its phase ran."""

    pool: NotRequired[Pool]
    resource_servers: NotRequired[PhaseCounts]
    identity_providers: NotRequired[PhaseCounts]
    clients: NotRequired[Clients]
    groups: NotRequired[GroupsProgress]
    domain: NotRequired[Domain]
    sign_in_settings: NotRequired[dict[str, PhaseCounts]]
    lambda_triggers: NotRequired[PhaseCounts]
    ui_customization: NotRequired[PhaseCounts]
    threat_protection: NotRequired[PhaseCounts]
    waf: NotRequired[PhaseCounts]
    sync_target: NotRequired[SyncTarget]  # sync mode
    live_count: NotRequired[LiveCount]  # a plan too large to list by name (plan.count_live_in_segments)


class ToReadTarget(Prepared, PhaseEntries):
    """What "Read target pool" gets: in a sync after "Restore MFA, branding, terms and logging", in a sync's
    dry run right after the preparation (no phase ran); it returns the state with sync_target."""


class ToVerify(Prepared, PhaseEntries):
    """What "Verify restored pool" gets (every phase's entry) and "Write dry-run report" (no phase ran)."""


class Verified(ToVerify):
    report: ReportPointer


class RestoreState(PhaseEntries):
    """Any state the execution holds, at any state of the machine (every key optional).

    Before "Find latest backup" has run (or when it failed) it is the execution input: the
    failure path then sees the input's keys."""

    restore: NotRequired[Restore]
    preparation: NotRequired[PreparationProgress]
    plan: NotRequired[Plan]
    report: NotRequired[ReportPointer]
    error: NotRequired[StepError]
    failure: NotRequired[Failure]
    resumed: NotRequired[Resumed]
    alert_error: NotRequired[StepError]
    branch_failure: NotRequired[BranchFailure]
    # the execution input, while no phase has replaced it
    user_pool_id: NotRequired[str]
    backup_key: NotRequired[str]
    dry_run: NotRequired[bool]
    restore_id: NotRequired[str]
    arn_map: NotRequired[dict[str, str] | str]
    keep_client_secrets: NotRequired[bool]
    preserve_old_sub: NotRequired[bool]
    mode: NotRequired[Literal["restore", "sync"]]
    target_user_pool_id: NotRequired[str]
    delete_missing: NotRequired[bool]
    max_deletes: NotRequired[int]
    alerts: NotRequired[Literal["all", "failures"]]


class RestoreResult(TypedDict):
    """The execution's output ("Restore result" / "Dry run result")."""

    restore_id: str
    dry_run: bool
    source_user_pool_id: str
    new_user_pool_id: NotRequired[str]  # not for a dry run
    counts: dict[str, CategoryCounts] | dict[str, PlannedCategoryCounts]  # a dry run: would create / skip
    report: str  # s3:// URL of the JSON report


# ---------------------------------------------------------------- task events and results


class PhaseEvent[StateT](TypedDict):
    """The Payload of a phase task: {"state.$": "$"}."""

    state: StateT


class Claim(TypedDict):
    """Which run of which execution claimed the restore ($$.Execution.Id, $$.Execution.RedriveCount)."""

    execution_arn: str
    redrive_count: int | None


class FindBackupEvent(TypedDict):
    input: ExecutionInput  # as started: not validated yet ($$.Execution.Input)
    execution_arn: str  # the execution that claims the restore in the ledger
    redrive_count: NotRequired[int | None]


class VerifyEvent(TypedDict):
    """verify_restore also gets the execution's start ($$.Execution.StartTime), for the report's times."""

    state: ToVerify
    started_at: str


class CreatePoolEvent(TypedDict):
    """create_pool checks, right before CreateUserPool, that this run still owns the restore."""

    state: Prepared
    claim: Claim


class ChunkItem(TypedDict):
    """A row of the users manifest: one item of the users Map."""

    index: int
    key: str  # the chunk file (S3)
    count: int  # users in it


class ChunkProgress(TypedDict):
    """What "Restore user chunk" keeps of its task's result (ResultPath $.progress)."""

    done: bool


class UserChunkEvent(TypedDict):
    """The Map's ItemSelector, and the progress of the previous turn on a continuation."""

    chunk: ChunkItem
    restore: Restore
    pool: Pool
    plan: Plan
    progress: NotRequired[ChunkProgress]
    claim: NotRequired[Claim]  # absent in events of executions started before it


class ChunkSummary(TypedDict):
    """A chunk task's result (its users' outcomes are in the chunk's result file)."""

    done: bool  # False: a continuation, the "Chunk finished?" loop calls the task again


class AlertFailureEvent(TypedDict):
    state: RestoreState
    failed_phase: str
    execution_arn: str


class FailRestoreEvent(TypedDict):
    failure: Failure
    redrive_count: int
    state: RestoreState
    execution_arn: str


class StartRestoreResult(TypedDict):
    """What the manual trigger function returns to the operator who invoked it."""

    execution_arn: str
    execution_name: str
    restore_id: str | None  # None: derived from the backup object by "Find latest backup"


class FailureAlert(TypedDict):
    """What the failure alert function sent (scrubbed): the operator tools show it instead of the raw error."""

    alerted: bool
    subject: str
    message: str
