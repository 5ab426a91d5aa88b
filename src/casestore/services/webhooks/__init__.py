"""Webhooks: partners subscribe a URL and a worker process pushes every event they receive.

subscriptions.py   the partner-facing service: create, list, read, delete, resume
signing_secrets.py the per-subscription signing secret, wrapped under the master key
delivery.py        one CloudEvent per case event, signed per Standard Webhooks
backoff.py         when to retry a failed delivery, and when to give up (park)
worker.py          the delivery loop of `casestore worker`
errors.py          WebhookError and its subclasses
"""
