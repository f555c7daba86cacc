"""One Logger and one Metrics for the whole app (powertools: JSON logs, EMF metrics)."""
from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="upline")
metrics = Metrics(namespace="Upline", service="upline")
