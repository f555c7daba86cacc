"""One Logger and one Metrics for the whole app (powertools: JSON logs, EMF metrics)."""

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="upline")
metrics = Metrics(namespace="Upline", service="upline")


def flush_metrics() -> None:
    """Emit what this invocation recorded (an empty flush only warns). Every entry point calls it:
    the HTTP middleware, the schedule and the queue worker; the settlement alarms read these."""
    if metrics.metric_set:
        metrics.flush_metrics()
