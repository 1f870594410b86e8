"""The Powertools Logger, Metrics and Tracer of every function, created once (handlers import them).

Service name, namespace and log level come from the template's Globals (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL). Metrics go out as CloudWatch embedded metric
format in the function's logs: no extra IAM permission. Dimensions and log keys carry names of
phases and counts only, never user data.
"""

from __future__ import annotations

import os
import threading

from aws_lambda_powertools import Logger, Metrics, Tracer

DEFAULT_NAMESPACE = "CognitoDrRestore"  # the template's POWERTOOLS_METRICS_NAMESPACE, for runs outside Lambda
# The template's POWERTOOLS_SERVICE_NAME: the dashboard and the alarms select on it. Explicit, so a process
# that imported this module before the variable was set (offline) still logs and measures as the functions.
DEFAULT_SERVICE = "cognito-dr-restore"
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE, service=SERVICE)
tracer = Tracer()
# Adding metrics and flushing them: handlers running in threads of one process (the offline emulator
# runs Map items so) share the metric set, and another thread's flush must never see it change
# meanwhile nor leave this one with nothing to publish. One invocation per process on AWS: no contention.
metrics_lock = threading.RLock()
