"""Phase: restore users, one chunk file per Map iteration: create (UNCONFIRMED ones sign up), confirm, disable,
link, add to groups.

In sync mode (docs/sync.md) the same task reconciles the chunk with its partition of the target pool."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore.chunks import restore_user, run_user_chunk
from cognito_restore.groups import unrestored_groups
from cognito_restore.handler import phase_handler
from cognito_restore.observability import logger, metrics
from cognito_restore.pacing import Pacer, concurrent_chunks
from cognito_restore.phase import pool_id, work_store
from cognito_restore.state import ChunkSummary, UserChunkEvent
from cognito_restore.sync_users import chunk_hooks, is_sync
from cognito_restore.users import UserPlan


@phase_handler("restore_users")
def lambda_handler(event: UserChunkEvent, context: LambdaContext) -> ChunkSummary:
    policy = event["plan"]["password_policy"]
    pacer = Pacer(concurrency=concurrent_chunks(event["plan"]["map_concurrency"], event["plan"]["user_chunks"]))
    skipped_groups = unrestored_groups(event)
    if is_sync(event["restore"]):
        restore_item, finish = chunk_hooks(event, work_store(event), policy, skipped_groups)
        outcome = run_user_chunk(event, context, restore_item, pacer, metrics, finish)
    else:
        sign_up_client = event["pool"].get("sign_up_client_id")  # UNCONFIRMED users sign up through it
        outcome = run_user_chunk(
            event,
            context,
            lambda item, chunk_outcome: restore_user(
                pool_id(event), UserPlan.from_item(item), policy, chunk_outcome, skipped_groups, sign_up_client
            ),
            pacer,
            metrics,  # per-chunk metrics (CognitoDrRestore namespace, POWERTOOLS_METRICS_NAMESPACE)
        )
    logger.info("User chunk progress", extra=outcome.summary())
    return {"done": outcome.done}
