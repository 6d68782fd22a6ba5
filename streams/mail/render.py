"""Notices: a draft's context through the Jinja templates of its regime, locale and kind.

Templates live at ``<templates_dir>/<regime>/<locale>/<kind>.{subject,txt,html}.j2`` and may
import or extend any file under ``templates_dir`` (the per-locale ``_labels.j2``, the shared
``_layout.html.j2``). They run in a sandbox, with ``StrictUndefined`` (a missing fact is an
error, never a blank) and autoescaping for the HTML part only.

Filters installed here, localized with the ``locale`` given to :meth:`NoticeRenderer.render`
and the reader's zone ``context["notice"]["reader_tz"]``:

* ``when``: an aware datetime or ISO-8601 string with an offset → long date and time in the
  reader's zone, zone shown. A naive value is a ``ValueError``: a deadline is never guessed.
* ``when_plain``: the same moment as a person says it, for the notices to the people affected:
  no seconds, no UTC offset, the zone named by its city ("7 décembre 2026 à 22 h 42 (heure de
  Paris)", "7 December 2026 at 10:42 pm (Paris time)", "7 de dezembro de 2026 às 22h42 (horário de
  Paris)").
* ``number``: an integer (or float) → grouped digits of the locale ("12,000", "12 000").
* ``duration_hours``: hours → "72 hours" / "72 heures".
* ``country``: an ISO 3166 alpha-2 code → the country's name in the locale ("DE" → "Allemagne").

The subject is collapsed to one line (no CR/LF can reach a mail header). The HTML part goes
through css-inline: a template may use a ``<style>`` block, mail clients get inline styles
(remote stylesheets are never fetched; ``@media`` rules are kept in a ``<style>`` block).
"""

from __future__ import annotations

import contextvars
import pathlib
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import css_inline
import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, get_timezone_location
from babel.numbers import format_decimal
from jinja2.sandbox import SandboxedEnvironment

from incident.notices import in_language

PARTS = ("subject", "txt", "html")
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_HOURS = {"en": ("hour", "hours"), "fr": ("heure", "heures")}
# A moment as a person says it: (Babel pattern, how the zone's city is named).
_PLAIN = {"fr": ("d MMMM y 'à' H 'h' mm", "(heure de {city})"), "en": ("d MMMM y 'at' h:mm a", "({city} time)"),
          "pt": ("d 'de' MMMM 'de' y 'às' HH'h'mm", "(horário de {city})")}


@dataclass(frozen=True, slots=True)
class RenderedNotice:
    subject: str
    text: str
    html: str


class TemplateMissing(Exception):
    """No template file for a (regime, locale, kind, part); the message names the path."""

    def __init__(self, path: pathlib.Path) -> None:
        super().__init__(f"notice template missing: {path}")
        self.path = path


@dataclass(frozen=True, slots=True)
class _Reader:
    """What the filters localize for, set around one render (a context variable: safe across tasks and threads)."""

    locale: Locale
    tz: object  # the raw context value; checked when a date is formatted


_reader: contextvars.ContextVar[_Reader] = contextvars.ContextVar("notice_reader")


def one_line(value: str) -> str:
    """Collapse any whitespace, line or paragraph separator and control character to single spaces."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in value)
    return " ".join(cleaned.split())


class NoticeRenderer:
    def __init__(self, templates_dir: pathlib.Path) -> None:
        self.templates_dir = pathlib.Path(templates_dir)
        self.environment = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(self.templates_dir),
            undefined=jinja2.StrictUndefined,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "html"), disabled_extensions=(),
                                                default_for_string=False, default=False),
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        filters: dict[str, Callable[..., str]] = {
            "when": _when, "when_plain": _when_plain, "number": _number, "duration_hours": _duration_hours,
            "country": _country,
        }
        self.environment.filters.update(filters)
        self.inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
        self._snippets: dict[str, jinja2.Template] = {}  # compiled once: the console renders one per page

    def template_name(self, *, regime: str, locale: str, kind: str, part: str) -> str:
        for what, value in (("regime", regime), ("locale", locale), ("kind", kind)):
            if not _SEGMENT.fullmatch(value):
                raise ValueError(f"invalid notice {what}: {value!r}")
        if part not in PARTS:
            raise ValueError(f"invalid notice part: {part!r} (one of {', '.join(PARTS)})")
        name = f"{regime}/{locale}/{kind}.{part}.j2"
        if not (self.templates_dir / name).is_file():
            raise TemplateMissing(self.templates_dir / name)
        return name

    def render_part(self, *, regime: str, locale: str, kind: str, part: str,
                    context: Mapping[str, object]) -> str:
        """One part ("subject", "txt" or "html") as the template writes it; the subject not yet collapsed."""
        name = self.template_name(regime=regime, locale=locale, kind=kind, part=part)
        with _reading(locale, context):
            return self.environment.get_template(name).render(in_language(context, locale))

    def render_snippet(self, source: str, *, locale: str, context: Mapping[str, object]) -> str:
        """A few lines of template (e.g. importing a locale's labels) rendered as plain text with
        the notices' filters: the console writes the risk factors with the notices' words."""
        template = self._snippets.get(source)
        if template is None:
            template = self._snippets[source] = self.environment.from_string(source)
        with _reading(locale, context):
            return template.render(dict(context))

    def render(self, *, regime: str, locale: str, kind: str, context: Mapping[str, object]) -> RenderedNotice:
        """Subject (one line), text and HTML of a notice.

        Raises TemplateMissing, ValueError (bad name, naive date, unknown zone or locale) or
        jinja2.UndefinedError (a fact the template needs is absent from ``context``).
        """
        names = {part: self.template_name(regime=regime, locale=locale, kind=kind, part=part) for part in PARTS}
        data = in_language(context, locale)  # the profile's names in the reader's language
        with _reading(locale, context):
            out = {part: self.environment.get_template(name).render(data) for part, name in names.items()}
        return RenderedNotice(subject=one_line(out["subject"]), text=out["txt"], html=self.inline_css(out["html"]))

    def inline_css(self, html: str) -> str:
        """Inline a ``<style>`` block, if the template has one; HTML without one is returned as is
        (css-inline would re-serialise it, changing bytes for nothing)."""
        return self.inliner.inline(html) if "<style" in html else html


@contextmanager
def _reading(locale: str, context: Mapping[str, object]) -> Iterator[None]:
    try:
        babel_locale = Locale.parse(locale.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        raise ValueError(f"locale unknown to Babel: {locale!r}") from None
    notice = context.get("notice")
    tz: object
    if isinstance(notice, Mapping):
        tz = notice.get("reader_tz", jinja2.StrictUndefined(name="reader_tz", obj=notice))
    else:
        tz = jinja2.StrictUndefined(name="notice")
    token = _reader.set(_Reader(locale=babel_locale, tz=tz))
    try:
        yield
    finally:
        _reader.reset(token)


def _current() -> _Reader:
    try:
        return _reader.get()
    except LookupError:
        raise RuntimeError("notice filters are only available while NoticeRenderer renders") from None


def _defined(value: object) -> object:
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming the variable
        raise jinja2.UndefinedError("undefined value")
    return value


def _moment(value: object) -> tuple[datetime, ZoneInfo, Locale]:
    """An aware moment, the reader's zone and locale; a naive or unreadable value is refused."""
    value = _defined(value)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO-8601 date and time: {value!r}") from None
    else:
        raise ValueError(f"not a date and time: {value!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"date and time without a UTC offset, refusing to guess its zone: {value!r}")
    reader = _current()
    tz = _defined(reader.tz)
    if not isinstance(tz, str) or not tz:
        raise ValueError(f"notice.reader_tz is not a time zone name: {tz!r}")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone in notice.reader_tz: {tz!r}") from None
    return moment, zone, reader.locale


def _when(value: object) -> str:
    moment, zone, locale = _moment(value)
    return str(format_datetime(moment, format="long", tzinfo=zone, locale=locale))


def _when_plain(value: object) -> str:
    moment, zone, locale = _moment(value)
    pattern, zone_name = _PLAIN.get(locale.language, _PLAIN["en"])
    said = str(format_datetime(moment, format=pattern, tzinfo=zone, locale=locale))
    said = said.replace("AM", "am").replace("PM", "pm")
    city = get_timezone_location(zone, locale=locale, return_city=True)
    return f"{said} {zone_name.format(city=city)}"


def _number(value: object) -> str:
    value = _defined(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a number: {value!r}")
    return str(format_decimal(value, locale=_current().locale))


def _duration_hours(value: object) -> str:
    value = _defined(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a number of hours: {value!r}")
    locale = _current().locale
    singular, plural = _HOURS.get(locale.language, _HOURS["en"])
    one = value < 2 if locale.language == "fr" else value == 1  # French: "1,5 heure", "0 heure"
    return f"{format_decimal(value, locale=locale)} {singular if one else plural}"


def _country(value: object) -> str:
    value = _defined(value)
    if not isinstance(value, str):
        raise ValueError(f"not a country code: {value!r}")
    name = _current().locale.territories.get(value.upper())
    if name is None:
        raise ValueError(f"unknown country code: {value!r}")
    return str(name)
