"""What the agents depend on, passed in explicitly (tests pass fakes at the same ports)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from incident.correlation import EMPTY_PACK, Config
from incident.deadlines import DEFAULT_REMINDERS, Calendar
from incident.decide import Rules
from incident.pages import DEFAULT_PAGING, PagingPolicy
from incident.playbooks import Playbook
from incident.profiles import Directory
from incident.rules import RulePack
from streams.agents.due_index import DueIndex
from streams.calendars import HolidaysCalendar
from streams.mail.mailer import Mailer, SmtpMailer
from streams.mail.render import NoticeRenderer
from streams.oncall.page_hooks import PageHook, Pager
from streams.oncall.webhook import HttpWebhook, Webhook
from streams.playbooks_loader import load_playbooks
from streams.profiles_loader import load_directory
from streams.rules_loader import load_rules
from streams.settings import Settings, fingerprint_fields, input_topics


def utc_now() -> datetime:
    return datetime.now(UTC)


def clock_from(settings: Settings) -> Callable[[], datetime]:
    """The real clock, or for demos and tests a fast one: epoch + (real − epoch) × speed + offset.
    Anchored on a fixed epoch, so a restarted worker continues the same timeline."""
    if settings.clock_file:
        return FileClock(Path(settings.clock_file))
    if settings.clock_speed == 1.0 and not settings.clock_offset_hours:
        return utc_now
    epoch = datetime.fromisoformat(settings.clock_epoch) if settings.clock_epoch else utc_now()
    offset, speed = timedelta(hours=settings.clock_offset_hours), settings.clock_speed

    def fake_now() -> datetime:
        return epoch + (utc_now() - epoch) * speed + offset

    return fake_now


class FileClock:
    """A clock a person or a test moves by writing an ISO instant into a file: every process of a
    run (workers killed and restarted included) reads the same time. Re-read only when the file
    changes, since the agents ask for the time on every record."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, datetime] | None = None

    def __call__(self) -> datetime:
        stamp = self.path.stat().st_mtime_ns
        if self._seen is None or self._seen[0] != stamp:
            value = datetime.fromisoformat(self.path.read_text().strip())
            if value.tzinfo is None:
                raise ValueError(f"{self.path}: the time has no UTC offset")
            self._seen = (stamp, value)
        return self._seen[1]


@dataclass(frozen=True)
class Deps:
    directory: Directory
    renderer: NoticeRenderer
    mailer: Mailer
    clock: Callable[[], datetime] = utc_now
    calendar: Calendar = field(default_factory=HolidaysCalendar)
    correlation_span: timedelta = timedelta(hours=24)
    reminders: tuple[timedelta, ...] = DEFAULT_REMINDERS
    triage_window: timedelta = timedelta(hours=24)
    settle: timedelta = timedelta(0)  # BREACH_SETTLE_SECONDS (incident/settling.py)
    oncall: tuple[str, ...] = ()  # reminder recipients; empty = the controller's DPO
    console_url: str = "http://127.0.0.1:8000"
    webhook: Webhook | None = None
    paging: PagingPolicy = DEFAULT_PAGING  # when to page (BREACH_PAGE_*; profiles override it)
    pager: Pager | None = None  # where pages go; None: the page agent does not run
    due_index: DueIndex = field(default_factory=DueIndex)  # this worker's next Tick per incident
    send_attempts: int = 3
    retry_delay: float = 1.0  # seconds, doubled at each attempt
    retry_seconds: float = 0.0  # notify: keep retrying an unreachable relay this long (BREACH_DELIVERY_RETRY_SECONDS)
    ingest_format: str = "auto"  # or one format forced for the security-events topic
    topic_formats: dict[str, str] = field(default_factory=dict)  # other input topics -> their format
    rule_pack: RulePack = EMPTY_PACK  # correlation rules (deploy/rules); empty = group by entities only
    playbooks: tuple[Playbook, ...] = ()  # the rule pack's checklists (deploy/rules/playbooks.toml)
    correlation_lateness: timedelta = timedelta(hours=1)
    correlation_salt: str = ""
    correlation_fingerprint: tuple[str, ...] = ()  # empty: Config's default fields
    batch_size: int = 500
    batch_seconds: float = 0.05
    max_state_bytes: int = 4_000_000

    @property
    def correlation(self) -> Config:
        if self.correlation_fingerprint:
            return Config(span=self.correlation_span, lateness=self.correlation_lateness, salt=self.correlation_salt,
                          fingerprint=self.correlation_fingerprint)
        return Config(span=self.correlation_span, lateness=self.correlation_lateness, salt=self.correlation_salt)

    def format_of(self, ref: str) -> str:
        """The format the topic of a record reference (``topic:partition:offset``) takes."""
        return self.topic_formats.get(ref.split(":", 1)[0], self.ingest_format)

    @property
    def rules(self) -> Rules:
        return Rules(directory=self.directory, calendar=self.calendar, reminders=self.reminders,
                     triage_window=self.triage_window, paging=self.paging, playbooks=self.playbooks,
                     settle=self.settle)

    @classmethod
    def production(cls, settings: Settings) -> Deps:
        return cls(
            directory=load_directory(settings.profiles_dir),
            renderer=NoticeRenderer(settings.templates_dir / "notices"),
            mailer=SmtpMailer(settings),
            clock=clock_from(settings),
            correlation_span=timedelta(hours=settings.correlation_window_hours),
            reminders=settings.reminder_steps,
            triage_window=timedelta(hours=settings.triage_window_hours),
            settle=timedelta(seconds=settings.settle_seconds),
            oncall=tuple(a.strip() for a in settings.oncall_emails.split(",") if a.strip()),
            console_url=settings.console_url,
            webhook=HttpWebhook(settings.webhook_url) if settings.webhook_url else None,
            paging=settings.paging,
            pager=pager_from(settings),
            ingest_format=settings.ingest_format,
            topic_formats=input_topics(settings),
            rule_pack=load_rules(settings.rules_dir),  # a bad rule stops the worker here, naming file and line
            playbooks=load_playbooks(settings.rules_dir),  # a bad playbook too, naming file and key
            correlation_lateness=timedelta(minutes=settings.correlation_lateness_minutes),
            correlation_salt=settings.correlation_salt,
            correlation_fingerprint=fingerprint_fields(settings),
            batch_size=settings.batch_size,
            batch_seconds=settings.batch_seconds,
            max_state_bytes=settings.max_state_bytes,
            retry_seconds=settings.delivery_retry_seconds,
        )


def pager_from(settings: Settings) -> Pager:
    """E-mail (BREACH_PAGE_EMAIL) and each webhook whose URL is set, in its format."""
    urls = (("json", settings.page_webhook_url), ("slack", settings.page_slack_url),
            ("teams", settings.page_teams_url))
    return Pager(hooks=tuple(PageHook(fmt, HttpWebhook(url)) for fmt, url in urls if url.strip()),
                 email=settings.page_email)
