"""Settings: the only reader of the environment. Every variable is BREACH_*, typed, and
checked at start; a bad value stops the process with a message naming the variable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from incident.normalize import FORMATS
from incident.pages import PagingPolicy
from incident.signals import SEVERITIES, rule_field_names

ROOT = Path(__file__).resolve().parent.parent
# Logins of the embedded stack only (loopback, `make up`); any other deployment must set
# BREACH_CONSOLE_USERS, or the console refuses to start.
EMBEDDED_USERS = "oncall:oncall:responder,dpo:dpo:dpo,admin:admin:admin"


class SettingsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Settings:
    broker_url: str = "kafka://127.0.0.1:9092"
    app_id: str = "breach-response"
    partitions: int = 4
    store: str = "memory://"
    data_dir: Path = ROOT / ".data"
    session_timeout: float = 8.0
    heartbeat_interval: float = 1.0
    one_record_batches: bool = True
    profiles_dir: Path = ROOT / "deploy" / "profiles"
    templates_dir: Path = ROOT / "templates"
    samples_dir: Path = ROOT / "deploy" / "samples"
    correlation_window_hours: float = 24.0
    reminders: str = "48h,24h,6h,1h,0h"  # before each deadline; 0h = overdue
    tick_seconds: float = 10.0  # how often the clock agent looks for due reminders
    # A stop (SIGTERM, rolling restart) gives faust this long, then forces what is left within 5 s
    # more (streams/stopping.py): keep the orchestrator's grace period above the sum.
    stop_timeout: float = 15.0
    triage_window_hours: float = 24.0  # a suspected incident undecided this long is escalated
    # A new incident holds its automatic awareness, clocks, drafts and pages this long, in case it
    # merges meanwhile (incident/settling.py); 0 = nothing held.
    settle_seconds: float = 0.0
    clock_speed: float = 1.0  # demos and tests: fake time runs this many times faster than real time
    clock_epoch: str = ""  # ISO instant the fast clock starts from (shared by every process of a run)
    clock_offset_hours: float = 0.0  # demos and tests: fake time starts this far ahead
    clock_file: str = ""  # demos and tests: "now" is the ISO instant written in this file
    webhook_url: str = ""  # reminders and escalations also POSTed here as JSON (retried)
    oncall_emails: str = ""  # the on-call rota for reminders and pages; empty = the controller's DPO
    # Paging (incident/paging.py): the defaults a profile's [paging] table overrides.
    page_severity: str = "high"  # an OCSF severity name or 0-6 that pages a suspected incident; "never": off
    page_on_aware: bool = True
    page_on_escalation: bool = True
    page_repeat_minutes: int = 15  # until someone acknowledges
    page_max_repeats: int = 12
    page_email: bool = True  # pages e-mailed to the on-call rota (else the controller's DPO)
    page_webhook_url: str = ""  # pages POSTed as generic JSON (secret: never logged)
    page_slack_url: str = ""  # a Slack incoming webhook (secret: never logged)
    page_teams_url: str = ""  # a Microsoft Teams incoming webhook or Workflows URL (secret: never logged)
    console_url: str = "http://127.0.0.1:8000"  # linked from reminders
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_tls: str = "none"  # none | starttls | tls
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = "breach-response <breach-response@localhost>"
    smtp_ca_file: str = ""  # extra CA bundle for the relay's certificate (certificates are always verified)
    smtp_pool: int = 4  # long-lived SMTP connections per worker for mass delivery (research: 4-8 is best)
    smtp_rate: float = 0.0  # messages per second per worker for mass delivery; 0 = no limit
    smtp_timeout: float = 30.0  # seconds per SMTP command
    delivery_retry_seconds: float = 3600.0  # keep retrying a transient failure this long, then it failed
    delivery_batch: int = 500  # deliveries taken from notice-deliveries at a time
    progress_seconds: float = 2.0  # how often delivery counts are reported to the incident
    subjects_retention_days: float = 30.0  # affected-subjects / notice-deliveries keep addresses this long
    dkim_domain: str = ""  # set with dkim_selector and dkim_key_file to DKIM-sign mass notices
    dkim_selector: str = ""
    dkim_key_file: str = ""
    console_host: str = "127.0.0.1"
    console_port: int = 8000
    console_users: str = ""  # "name:password:role,..."; required outside embedded mode
    console_secret: str = ""  # signs session cookies; empty: made once in <data_dir>/console-secret
    console_secure_cookies: str = "auto"  # auto (Secure when served over https) | always
    console_session_hours: float = 12.0  # a login's absolute lifetime (server-side session)
    console_idle_minutes: float = 30.0  # a session unused this long is over
    console_oidc_session_hours: float = 1.0  # an OIDC login's lifetime: the IdP's role is read at each login
    # Host names the console answers to besides loopback and the hosts of BREACH_CONSOLE_URL and
    # BREACH_OIDC_REDIRECT_URL (others get 400: DNS rebinding); comma-separated.
    console_allowed_hosts: str = ""
    console_max_import_bytes: int = 64 * 1024 * 1024  # a list of affected people, streamed; larger: 413
    # Proxies whose X-Forwarded-For gives the client address (login back-off per address); comma-separated
    # addresses, empty: the address the console sees (uvicorn's default trusts 127.0.0.1 only).
    console_trusted_proxies: str = ""
    # "id:base64,...": HMAC keys of the commands carrying a person's decision; the first signs,
    # all verify (streams/kafka/command_signing.py). Required by workers and console outside `breach up`.
    command_keys: str = ""
    oidc_issuer: str = ""  # OpenID Connect login when set (its /.well-known/openid-configuration)
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_redirect_url: str = ""  # empty: <console>/auth/callback
    oidc_role_claim: str = "roles"
    oidc_role_map: str = ""  # "idp-group=role,..." when the IdP's names differ from viewer|responder|dpo|admin
    # The claim naming the controllers a person may see ("*": all); absent from the token: all of them.
    oidc_controller_claim: str = "breach_controllers"
    log_format: str = "auto"  # auto | json | console
    log_level: str = "info"
    ingest_format: str = "auto"  # auto | canonical | wazuh | ecs | ocsf | suricata | cef
    ingest_topics: str = ""  # more input topics, each name[=format]: "wazuh-alerts=wazuh,eve=suricata"
    rules_dir: Path = ROOT / "deploy" / "rules"  # Sigma rule files, validated at worker start
    correlation_lateness_minutes: float = 60.0  # events this far behind the newest are handled as in order
    correlation_salt: str = ""  # keys the entity hashes in evidence reasons (set a secret in production)
    correlation_fingerprint: str = ""  # comma-separated rule fields; empty = Config.fingerprint's default
    batch_size: int = 500  # ingest/correlate take up to this many records per step
    batch_seconds: float = 0.05  # ... or what arrived within this time (adds at most this per stage)
    max_state_bytes: int = 4_000_000  # one controller's correlation state, encoded (trimmed beyond)
    # Kafka transport security (Apache Kafka in production; the embedded broker is PLAINTEXT).
    kafka_security_protocol: str = "PLAINTEXT"  # PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
    kafka_ssl_cafile: str = ""  # PEM bundle of the brokers' CA; empty = the system's trust store
    kafka_ssl_certfile: str = ""  # client certificate (mutual TLS), with kafka_ssl_keyfile
    kafka_ssl_keyfile: str = ""
    kafka_sasl_mechanism: str = "SCRAM-SHA-512"  # PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    topic_replication: int = 1  # replication factor of the topics `breach topics create` makes
    # The worker's operations endpoints: /healthz, /readyz and /metrics (Prometheus); 0 = off.
    web_host: str = "127.0.0.1"
    web_port: int = 0

    @property
    def reminder_steps(self) -> tuple[timedelta, ...]:
        steps = []
        for item in filter(None, (i.strip() for i in self.reminders.split(","))):
            if not item.endswith("h") or not item[:-1].replace(".", "", 1).isdigit():
                raise SettingsError(f"BREACH_REMINDERS: {item!r} is not a number of hours such as 24h")
            steps.append(timedelta(hours=float(item[:-1])))
        return tuple(sorted(set(steps), reverse=True))

    @property
    def paging(self) -> PagingPolicy:
        raw = self.page_severity.strip().lower()
        if raw == "never":
            severity = None
        elif raw in SEVERITIES:
            severity = SEVERITIES[raw]
        elif raw.isdigit() and int(raw) <= 6:
            severity = int(raw)
        else:
            raise SettingsError(f"BREACH_PAGE_SEVERITY={self.page_severity!r}: expected 0-6, one of "
                                f"{', '.join(SEVERITIES)}, or never")
        if self.page_repeat_minutes < 0 or self.page_max_repeats < 0:
            raise SettingsError("BREACH_PAGE_REPEAT_MINUTES and BREACH_PAGE_MAX_REPEATS must not be negative")
        return PagingPolicy(severity=severity, on_aware=self.page_on_aware, on_escalation=self.page_on_escalation,
                            repeat_minutes=self.page_repeat_minutes, max_repeats=self.page_max_repeats)

    @property
    def users_file(self) -> Path:
        """Local console users (argon2 hashes), managed with `breach users`."""
        return self.data_dir / "console-users.json"

    @property
    def sessions_file(self) -> Path:
        """The console's server-side sessions (ids, user, times), beside the user file."""
        return self.data_dir / "console-sessions.json"

    @property
    def tokens_file(self) -> Path:
        """Scoped API tokens (SHA-256 digests), managed with `breach tokens`."""
        return self.data_dir / "console-tokens.json"

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(u.split("://", 1)[-1] for u in self.broker_url.split(","))




def load_settings(environ: Mapping[str, str], **overrides: object) -> Settings:
    """Build Settings from BREACH_* variables; ``overrides`` win (used by `breach up` and tests)."""
    values: dict[str, object] = {}
    defaults = Settings()
    for name in Settings.__dataclass_fields__:
        var = f"BREACH_{name.upper()}"
        if var not in environ:
            continue
        raw, default = environ[var], getattr(defaults, name)
        try:
            if isinstance(default, bool):
                if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError("expected true or false")
                values[name] = raw.lower() in ("1", "true", "yes")
            elif isinstance(default, int):
                values[name] = int(raw)
            elif isinstance(default, float):
                values[name] = float(raw)
            elif isinstance(default, Path):
                values[name] = Path(raw)
            else:
                values[name] = (raw or None) if default is None else raw
        except ValueError as exc:
            raise SettingsError(f"{var}={raw!r}: {exc}") from None
    values.update(overrides)
    settings = Settings(**values)  # type: ignore[arg-type]
    if settings.smtp_tls not in ("none", "starttls", "tls"):
        raise SettingsError(f"BREACH_SMTP_TLS={settings.smtp_tls!r}: expected none, starttls or tls")
    settings.reminder_steps  # noqa: B018 - validated now, not at the first deadline
    settings.paging  # noqa: B018 - the same
    if settings.clock_speed <= 0:
        raise SettingsError("BREACH_CLOCK_SPEED must be positive")
    if settings.clock_epoch:
        try:
            if datetime.fromisoformat(settings.clock_epoch).tzinfo is None:
                raise ValueError("no UTC offset")
        except ValueError as exc:
            raise SettingsError(f"BREACH_CLOCK_EPOCH={settings.clock_epoch!r}: {exc}") from None
    if settings.clock_file:
        try:
            if datetime.fromisoformat(Path(settings.clock_file).read_text().strip()).tzinfo is None:
                raise ValueError("the time in it has no UTC offset")
        except (OSError, ValueError) as exc:
            raise SettingsError(f"BREACH_CLOCK_FILE={settings.clock_file!r}: {exc}") from None
    if settings.console_max_import_bytes < 1:
        raise SettingsError("BREACH_CONSOLE_MAX_IMPORT_BYTES must be at least 1")
    if settings.console_secure_cookies not in ("auto", "always"):
        raise SettingsError("BREACH_CONSOLE_SECURE_COOKIES must be auto or always")
    if settings.oidc_issuer and not (settings.oidc_client_id and settings.oidc_client_secret):
        raise SettingsError("BREACH_OIDC_ISSUER needs BREACH_OIDC_CLIENT_ID and BREACH_OIDC_CLIENT_SECRET")
    if settings.smtp_pool < 1 or settings.delivery_batch < 1:
        raise SettingsError("BREACH_SMTP_POOL and BREACH_DELIVERY_BATCH must be at least 1")
    if settings.smtp_rate < 0 or settings.progress_seconds <= 0 or settings.delivery_retry_seconds < 0:
        raise SettingsError("BREACH_SMTP_RATE, BREACH_PROGRESS_SECONDS, BREACH_DELIVERY_RETRY_SECONDS: out of range")
    if settings.dkim_domain and not (settings.dkim_selector and settings.dkim_key_file):
        raise SettingsError("BREACH_DKIM_DOMAIN needs BREACH_DKIM_SELECTOR and BREACH_DKIM_KEY_FILE")
    if settings.batch_size < 1 or settings.batch_seconds <= 0:
        raise SettingsError("BREACH_BATCH_SIZE must be at least 1 and BREACH_BATCH_SECONDS positive")
    if not 0 <= settings.settle_seconds <= 3600:
        raise SettingsError("BREACH_SETTLE_SECONDS must be between 0 and 3600")
    if settings.partitions < 1:
        raise SettingsError("BREACH_PARTITIONS must be at least 1")
    if settings.stop_timeout <= 0:
        raise SettingsError("BREACH_STOP_TIMEOUT must be a positive number of seconds")
    if settings.ingest_format not in FORMATS:
        raise SettingsError(f"BREACH_INGEST_FORMAT={settings.ingest_format!r}: expected one of {', '.join(FORMATS)}")
    if settings.command_keys.strip():
        from streams.kafka.command_signing import Keyring  # here, not at the top: it imports this module

        Keyring.parse(settings.command_keys)
    input_topics(settings)
    fingerprint_fields(settings)
    _check_kafka_security(settings)
    return settings


KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")

# What each process of a production deployment must be given (deploy/ is tested against it).
REQUIRED = {
    "worker": ("BREACH_BROKER_URL", "BREACH_STORE", "BREACH_ONE_RECORD_BATCHES", "BREACH_SMTP_HOST",
               "BREACH_SMTP_TLS", "BREACH_MAIL_FROM", "BREACH_WEB_PORT", "BREACH_COMMAND_KEYS"),
    "console": ("BREACH_BROKER_URL", "BREACH_CONSOLE_HOST", "BREACH_CONSOLE_USERS", "BREACH_COMMAND_KEYS"),
}


_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")
# streams/kafka/topics.py names them; not imported here (it loads faust, and the console reads settings).
_OWN_TOPICS = ("signals", "incident-commands", "incident-events", "affected-subjects", "notice-deliveries",
               "notice-ledger", "notice-bodies")


def input_topics(settings: Settings) -> dict[str, str]:
    """Each topic ingest reads and the format it takes there: ``security-events`` with
    BREACH_INGEST_FORMAT, then those of BREACH_INGEST_TOPICS (``name[=format]``, auto by default),
    so a SIEM that has its own topic keeps it and its format is fixed for that topic alone."""
    out = {"security-events": settings.ingest_format}
    for item in (i.strip() for i in settings.ingest_topics.split(",")):
        if not item:
            continue
        name, _, fmt = (part.strip() for part in item.partition("="))
        fmt = fmt or "auto"
        if not _TOPIC_NAME.fullmatch(name):
            raise SettingsError(f"BREACH_INGEST_TOPICS: {name!r} is not a Kafka topic name")
        if name in out or name in _OWN_TOPICS or name.endswith((".dlq", "-changelog")):
            raise SettingsError(f"BREACH_INGEST_TOPICS: {name!r} is already a topic of the service")
        if fmt not in FORMATS:
            raise SettingsError(f"BREACH_INGEST_TOPICS: {name}={fmt!r}: expected one of {', '.join(FORMATS)}")
        out[name] = fmt
    return out


def fingerprint_fields(settings: Settings) -> tuple[str, ...]:
    """BREACH_CORRELATION_FINGERPRINT as rule field names (docs/rules.md); empty = the default."""
    names = tuple(n.strip() for n in settings.correlation_fingerprint.split(",") if n.strip())
    unknown = [n for n in names if n not in rule_field_names()]
    if unknown:
        raise SettingsError(f"BREACH_CORRELATION_FINGERPRINT: unknown field(s) {', '.join(map(repr, unknown))}; "
                            f"known: {', '.join(sorted(rule_field_names()))}")
    return names


def variable_names() -> frozenset[str]:
    """Every BREACH_* variable this module reads."""
    return frozenset(f"BREACH_{name.upper()}" for name in Settings.__dataclass_fields__)


def _check_kafka_security(settings: Settings) -> None:
    protocol = settings.kafka_security_protocol
    if protocol not in KAFKA_PROTOCOLS:
        raise SettingsError(f"BREACH_KAFKA_SECURITY_PROTOCOL={protocol!r}: "
                            f"expected one of {', '.join(KAFKA_PROTOCOLS)}")
    if protocol.startswith("SASL"):
        if settings.kafka_sasl_mechanism not in SASL_MECHANISMS:
            raise SettingsError(f"BREACH_KAFKA_SASL_MECHANISM={settings.kafka_sasl_mechanism!r}: "
                                f"expected one of {', '.join(SASL_MECHANISMS)}")
        if not settings.kafka_sasl_username or not settings.kafka_sasl_password:
            raise SettingsError(f"BREACH_KAFKA_SECURITY_PROTOCOL={protocol} needs BREACH_KAFKA_SASL_USERNAME "
                                "and BREACH_KAFKA_SASL_PASSWORD")
    if bool(settings.kafka_ssl_certfile) != bool(settings.kafka_ssl_keyfile):
        raise SettingsError("BREACH_KAFKA_SSL_CERTFILE and BREACH_KAFKA_SSL_KEYFILE go together (mutual TLS)")
    for name in ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile"):
        value = getattr(settings, name)
        if value and not protocol.endswith("SSL"):
            raise SettingsError(f"BREACH_{name.upper()} is set but BREACH_KAFKA_SECURITY_PROTOCOL={protocol} "
                                "does not use TLS")
        if value and not Path(value).is_file():
            raise SettingsError(f"BREACH_{name.upper()}={value!r}: no such file")
