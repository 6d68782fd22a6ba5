"""Kafka TLS/SASL settings: checked at start, and turned into the same options for faust and aiokafka."""

from __future__ import annotations

import ssl

import faust
import pytest

from streams.app import create_app
from streams.kafka.kafka_security import client_options, faust_credentials
from streams.settings import SettingsError, load_settings


def test_plaintext_by_default_gives_no_credentials() -> None:
    settings = load_settings({})
    assert faust_credentials(settings) is None
    assert client_options(settings) == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}


def test_sasl_ssl_reaches_the_faust_app_and_the_clients_alike() -> None:
    settings = load_settings({"BREACH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "BREACH_KAFKA_SASL_MECHANISM": "PLAIN",
                              "BREACH_KAFKA_SASL_USERNAME": "svc", "BREACH_KAFKA_SASL_PASSWORD": "s3cret",
                              "BREACH_BROKER_URL": "kafka://k1:9093,kafka://k2:9093"})
    credentials = create_app(settings).conf.broker_credentials
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.protocol.value, credentials.mechanism.value) == ("SASL_SSL", "PLAIN")
    assert isinstance(credentials.ssl_context, ssl.SSLContext)
    options = client_options(settings)
    assert options["bootstrap_servers"] == "k1:9093,k2:9093"
    assert (options["security_protocol"], options["sasl_mechanism"], options["sasl_plain_username"]) == (
        "SASL_SSL", "PLAIN", "svc")
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED and options["ssl_context"].check_hostname


def test_tls_only_uses_ssl_credentials() -> None:
    settings = load_settings({"BREACH_KAFKA_SECURITY_PROTOCOL": "SSL"})
    credentials = faust_credentials(settings)
    assert isinstance(credentials, faust.SSLCredentials) and credentials.protocol.value == "SSL"
    assert "sasl_mechanism" not in client_options(settings)


@pytest.mark.parametrize(("environ", "named"), [
    ({"BREACH_KAFKA_SECURITY_PROTOCOL": "TLS"}, "BREACH_KAFKA_SECURITY_PROTOCOL"),
    ({"BREACH_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT"}, "BREACH_KAFKA_SASL_USERNAME"),
    ({"BREACH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "BREACH_KAFKA_SASL_USERNAME": "u",
      "BREACH_KAFKA_SASL_PASSWORD": "p", "BREACH_KAFKA_SASL_MECHANISM": "GSSAPI"}, "BREACH_KAFKA_SASL_MECHANISM"),
    ({"BREACH_KAFKA_SECURITY_PROTOCOL": "SSL", "BREACH_KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"},
     "BREACH_KAFKA_SSL_CAFILE"),
    ({"BREACH_KAFKA_SSL_CAFILE": "/etc/hostname"}, "does not use TLS"),
    ({"BREACH_KAFKA_SECURITY_PROTOCOL": "SSL", "BREACH_KAFKA_SSL_CERTFILE": "/etc/hostname"},
     "BREACH_KAFKA_SSL_KEYFILE"),
])
def test_a_wrong_combination_stops_the_start_naming_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)


def test_a_ca_file_is_loaded_into_the_context() -> None:
    import certifi

    settings = load_settings({"BREACH_KAFKA_SECURITY_PROTOCOL": "SSL", "BREACH_KAFKA_SSL_CAFILE": certifi.where()})
    context = client_options(settings)["ssl_context"]
    assert context.cert_store_stats()["x509_ca"] > 10
