"""Kafka TLS and SASL from the settings, in the two shapes the code needs: faust credentials
for the worker's app, and keyword arguments for the plain aiokafka clients (topic admin,
replay, command sender, `breach send`). One place, so the two never disagree."""

from __future__ import annotations

import ssl
from typing import Any

import faust

from streams.settings import Settings


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """Verifying context (hostname and chain) for SSL and SASL_SSL; None for plaintext."""
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile)
    return context


def faust_credentials(settings: Settings) -> faust.types.auth.CredentialsT | None:
    protocol = settings.kafka_security_protocol
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(username=settings.kafka_sasl_username, password=settings.kafka_sasl_password,
                                     ssl_context=ssl_context(settings), mechanism=settings.kafka_sasl_mechanism)
    if protocol == "SSL":
        return faust.SSLCredentials(ssl_context(settings))
    return None


def client_options(settings: Settings) -> dict[str, Any]:
    """``AIOKafkaProducer(**client_options(settings))`` and the same for consumers and the admin
    client: the broker list and the security options."""
    return {"bootstrap_servers": settings.bootstrap_servers, **security_options(settings)}


def security_options(settings: Settings) -> dict[str, Any]:
    """The TLS/SASL keyword arguments of every aiokafka client, for functions that take the
    broker list separately (``f(bootstrap, ..., **security_options(settings))``)."""
    options: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL"):
        options.update(sasl_mechanism=settings.kafka_sasl_mechanism,
                       sasl_plain_username=settings.kafka_sasl_username,
                       sasl_plain_password=settings.kafka_sasl_password)
    return options
