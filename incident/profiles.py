"""Controller profiles: who the controller is, its DPO and authority, its systems and promises.

``parse_profile(mapping, source=...)`` validates a decoded TOML document (the shell reads the
file) and raises :class:`ProfileError` naming the file and the dotted key. The schema is
documented key by key in docs/profiles.md.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from incident.errors import ProfileError
from incident.playbooks import Playbook, parse_playbooks
from incident.regimes import ENTITY_TYPES, REGIMES, default_regimes
from incident.signals import SEVERITIES

DATA_CATEGORIES = (
    "contact", "identity", "credentials", "financial", "payment_card", "official_id", "location",
    "behavioural", "communications", "health", "special_category", "criminal", "children", "technical",
)
LANGUAGES = ("fr", "en")
AUDIENCES = ("data_subjects", "authority", "internal")
TRIGGERS = ("any_breach", "risk", "high_risk")  # when a commitment applies, by the assessed level
# What a commitment's clock runs from: when the controller established the breach ("constatation",
# discovery) or became aware of it; both are the recorded awareness today (incident/tape.py).
COMMITMENT_ANCHORS = ("discovery", "awareness")
# How the policy says the people are told; "any" when it names no means.
COMMITMENT_CHANNELS = ("email", "letter", "website", "phone", "any")
# Promises to the people become obligations with a clock (incident/commitments.py). One to the
# authority is met by the law's notification to it (its Art. 33 clock runs already); an internal
# one is work, not a notification: both stay listed in the assessment.
BINDING_AUDIENCES = ("data_subjects",)
SYSTEM_ROLES = ("controller", "processor")
# Which DORA reports may move off a weekend or bank holiday to noon of the next working day
# (Delegated Reg. (EU) 2025/301 Art. 5(4)): all three for most financial entities; only the
# final report for credit institutions, central counterparties, operators of trading venues and
# NIS2 essential or important entities (Art. 5(5)), the default, being the stricter reading;
# none for an entity that does not rely on the relief.
DORA_WEEKEND_RELIEF = ("all_reports", "final_report_only", "none")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    email: str
    postal: str | None
    phone: str | None
    is_dpo: bool
    names: Mapping[str, str] = field(default_factory=dict)  # ``name`` per language, when given so

    def name_in(self, lang: str, own: str) -> str:
        return in_language(self.names, lang, own) or self.name


@dataclass(frozen=True, slots=True)
class Authority:
    id: str
    name: str
    address: str
    language: str
    portal: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class System:
    id: str
    name: str
    assets: tuple[str, ...]
    data_categories: tuple[str, ...]
    data_subjects: tuple[str, ...]
    approx_subjects: int | None
    # "processor" when the controller runs this system for someone else (its customer): a breach
    # there is owed to that controller (Art. 33(2)), who assesses it and notifies the authority.
    role: str = "controller"
    on_behalf_of: str | None = None  # whom it is run for, as a person would say it
    # Besides host names (issue 15): what else names this system in a SIEM record.
    addresses: tuple[str, ...] = ()  # IP addresses and CIDR networks (its internal ranges)
    cloud_accounts: tuple[str, ...] = ()  # AWS account, Azure subscription, GCP project ids
    resources: tuple[str, ...] = ()  # resource ARN / ID prefixes ("arn:aws:s3:::acme-exports")
    tenants: tuple[str, ...] = ()  # SaaS tenant ids or domains (Okta org, Entra tenant, GitHub org)
    # The tables, databases, buckets and repositories that hold its data (issue 15): a signal that
    # reads or exports one involves this system's data even from a host the profile does not list.
    # A name ending in "." "/" ":" or "*" is a prefix ("crm." holds "crm.customers").
    data_stores: tuple[str, ...] = ()
    # The free text above in other languages (issue 16): a French notice never quotes the
    # English name. ``name`` and ``data_subjects`` hold the text as given (the English one when
    # a table gives it, else its first); these map a language to its text, entry by entry.
    names: Mapping[str, str] = field(default_factory=dict)
    subject_names: tuple[Mapping[str, str], ...] = ()

    def name_in(self, lang: str, own: str) -> str:
        """The system's name for a reader of ``lang``; else in the profile's language ``own``."""
        return in_language(self.names, lang, own) or self.name

    def subjects_in(self, lang: str, own: str, codes: Container[str] = ()) -> tuple[str, ...]:
        """The kinds of people it holds, each in ``lang``, else ``own``, else as given. An entry
        given as one of ``codes`` (``customers``…), which the notices word in every language,
        stays that code for a reader of a language the profile does not give (a Brazilian
        notice says "clientes", not the French)."""
        return tuple(texts.get(lang) or (given if given in codes else in_language(texts, lang, own)) or given
                     for texts, given in zip(self.subject_names or [{}] * len(self.data_subjects),
                                             self.data_subjects, strict=True))

    def holds(self, store: str) -> bool:
        """Whether the data store a signal names (a table, bucket…) is one of this system's."""
        name = store.strip().lower()
        for declared in self.data_stores:
            mine = declared.lower()
            if name == mine.rstrip("*") or (mine.endswith((".", "/", ":", "*")) and name.startswith(mine.rstrip("*"))):
                return True
        return False


@dataclass(frozen=True, slots=True)
class Processor:
    name: str
    role: str
    country: str | None
    outside_eea: bool


@dataclass(frozen=True, slots=True)
class Commitment:
    id: str
    audience: str
    within_hours: int | None  # None: "as soon as possible", no number
    condition: str
    text: str
    trigger: str = "any_breach"
    anchor: str = "awareness"
    channel: str = "any"
    # The policy's own words, and where they are: what the obligation cites as its legal reference.
    source_quote: str | None = None
    legal_ref: str = ""

    @property
    def binding(self) -> bool:
        """Whether it is an obligation with a clock (incident/commitments.py), not only listed."""
        return self.audience in BINDING_AUDIENCES


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    name: str
    address: str
    timezone: str
    languages: tuple[str, ...]
    established_in: str
    dpo: Contact
    authority: Authority
    systems: tuple[System, ...]
    processors: tuple[Processor, ...]
    commitments: tuple[Commitment, ...]
    gaps: tuple[str, ...]
    ref: str  # "<id>@<sha256 prefix of the document>": what a clock snapshot points at
    regimes: tuple[str, ...] = ()  # notification regimes the controller is subject to (incident.regimes)
    entity_type: str | None = None  # NIS2 essential/important entity, DORA financial entity
    sectors: tuple[str, ...] = ()  # as the entity's regulator names them (NIS2 Annex I/II…)
    csirt: Authority | None = None  # who NIS2 incidents are reported to (CSIRT or competent authority)
    paging: tuple[tuple[str, Any], ...] = ()  # [paging]: overrides of the deployment's PagingPolicy
    playbooks: tuple[Playbook, ...] = ()  # the checklists its incidents get (incident/playbooks.py)
    dora_weekend_relief: str = "final_report_only"  # one of DORA_WEEKEND_RELIEF
    names: Mapping[str, str] = field(default_factory=dict)  # ``name`` per language, when given so
    addresses: Mapping[str, str] = field(default_factory=dict)  # ``address``, its street per language

    def name_in(self, lang: str) -> str:
        """Its name for a reader of ``lang``; else in its own language (its first); else as given."""
        return in_language(self.names, lang, self.languages[0]) or self.name

    def address_in(self, lang: str) -> str:
        return in_language(self.addresses, lang, self.languages[0]) or self.address

    def system_for(self, asset: str) -> System | None:
        return next((s for s in self.systems if asset in s.assets), None)


def in_language(texts: Mapping[str, str], lang: str, own: str) -> str | None:
    """A profile's free text for a reader of ``lang``: theirs, else the profile's own language's
    (its first), else None (the caller keeps the text as given)."""
    return texts.get(lang) or texts.get(own)


class _Reader:
    """Typed access to one table of the document; every error carries the dotted key."""

    def __init__(self, data: Mapping[str, Any], source: str, prefix: str = "") -> None:
        self.data, self.source, self.prefix = data, source, prefix

    def fail(self, key: str, message: str) -> ProfileError:
        return ProfileError(message, source=self.source, key=self.prefix + key)

    def allow(self, *keys: str) -> None:
        for key in self.data:
            if key not in keys:
                raise self.fail(key, f"unknown key (allowed: {', '.join(keys)})")

    def text(self, key: str, *, required: bool = True, pattern: re.Pattern[str] | None = None) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(key, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        if pattern is not None and not pattern.match(value):
            raise self.fail(key, f"{value!r} does not match {pattern.pattern}")
        return value

    def req(self, key: str, pattern: re.Pattern[str] | None = None) -> str:
        value = self.text(key, pattern=pattern)
        assert value is not None
        return value

    def texts(self, key: str) -> tuple[str, dict[str, str]]:
        """Free text a notice quotes: a string, or a table of it by language (``{en = "…", fr =
        "…"}``). Returns the text as given (the table's English, else its first) and the table."""
        return self._texts(self.data.get(key), key)

    def texts_list(self, key: str) -> tuple[tuple[str, ...], tuple[dict[str, str], ...]]:
        """A non-empty list of such texts, each a string or a table by language."""
        value = self.data.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(key, "must be a non-empty list of strings or {en = \"…\", fr = \"…\"} tables")
        pairs = [self._texts(item, f"{key}[{index}]") for index, item in enumerate(value)]
        return tuple(given for given, _ in pairs), tuple(table for _, table in pairs)

    def _texts(self, value: Any, key: str) -> tuple[str, dict[str, str]]:
        if isinstance(value, str) and value.strip():
            return value, {}
        if not isinstance(value, Mapping) or not value:
            raise self.fail(key, "must be a non-empty string, or a table of it by language: {en = \"…\", fr = \"…\"}")
        for lang, text in value.items():
            if lang not in LANGUAGES:
                raise self.fail(f"{key}.{lang}", f"{lang!r} is not one of {', '.join(LANGUAGES)}")
            if not isinstance(text, str) or not text.strip():
                raise self.fail(f"{key}.{lang}", "must be a non-empty string")
        table = dict(value)
        return table.get("en") or next(iter(table.values())), table

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def count(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(key, "must be a non-negative integer")
        return value

    def strings(self, key: str, *, allowed: Iterable[str] | None = None, required: bool = True) -> tuple[str, ...]:
        value = self.data.get(key)
        if not required and (value is None or value == []):
            return ()
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, "must be a non-empty list of strings")
        if allowed is not None:
            allowed = tuple(allowed)
            for index, item in enumerate(value):
                if item not in allowed:
                    raise self.fail(f"{key}[{index}]", f"{item!r} is not one of {', '.join(allowed)}")
        return tuple(value)

    def table(self, key: str) -> _Reader:
        value = self.data.get(key)
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be a table")
        return _Reader(value, self.source, f"{self.prefix}{key}.")

    def tables(self, key: str, *, required: bool) -> list[_Reader]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or (required and not value):
            raise self.fail(key, "must be a non-empty array of tables" if required else "must be an array of tables")
        readers = []
        for index, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise self.fail(f"{key}[{index}]", "must be a table")
            readers.append(_Reader(item, self.source, f"{self.prefix}{key}[{index}]."))
        return readers


def parse_profile(data: Mapping[str, Any], *, source: str, expected_id: str | None = None) -> Profile:
    """Validate one decoded profile document; ``source`` names it in errors."""
    doc = _Reader(data, source)
    doc.allow("id", "name", "policy", "timezone", "languages", "established_in", "gaps", "regimes",
              "address", "dpo", "authority", "systems", "processors", "commitments", "retention", "entity_type",
              "sectors", "csirt", "paging", "playbooks", "dora_weekend_relief")
    profile_id = doc.req("id", _SLUG)
    if expected_id is not None and profile_id != expected_id:
        raise doc.fail("id", f"{profile_id!r} must equal the file name {expected_id!r}")
    doc.table("policy").req("source")
    tz = doc.req("timezone")
    if "/" not in tz and tz != "UTC":
        raise doc.fail("timezone", f"{tz!r} is not an IANA zone name such as Europe/Paris")

    addr = doc.table("address")
    addr.allow("street", "postcode", "city", "country")
    street, streets = addr.texts("street") if "street" in addr.data else (None, {})
    rest = (addr.text("postcode", required=False), addr.text("city", required=False), addr.req("country", _COUNTRY))
    address = ", ".join(part for part in (street, *rest) if part)
    addresses = {lang: ", ".join(part for part in (text, *rest) if part) for lang, text in streets.items()}

    d = doc.table("dpo")
    d.allow("name", "email", "postal", "phone", "is_dpo")
    email = d.req("email")
    if "@" not in email or any(c in email for c in " \r\n,;<>"):
        raise d.fail("email", f"{email!r} is not a single e-mail address")
    dpo_name, dpo_names = d.texts("name")
    dpo = Contact(dpo_name, email, d.text("postal", required=False), d.text("phone", required=False),
                  d.flag("is_dpo"), names=dpo_names)

    authority = _authority(doc.table("authority"))

    systems: list[System] = []
    for s in doc.tables("systems", required=True):
        s.allow("id", "name", "assets", "data_categories", "data_subjects", "approx_subjects", "source_quote",
                "role", "on_behalf_of", "data_stores", *_IDENTIFIERS)
        names = {key: s.strings(key, required=False) for key in ("assets", *_IDENTIFIERS)}
        if not any(names.values()):
            raise s.fail("assets", "is required: a system needs host names (or addresses, cloud_accounts, "
                                   "resources or tenants) for events to reach it")
        name, name_by_lang = s.texts("name")
        subjects, subjects_by_lang = s.texts_list("data_subjects")
        systems.append(System(s.req("id", _SLUG), name, names["assets"],
                              s.strings("data_categories", allowed=DATA_CATEGORIES), subjects,
                              s.count("approx_subjects"),
                              _one_of(s, "role", SYSTEM_ROLES) if "role" in s.data else "controller",
                              s.text("on_behalf_of", required=False), addresses=_addresses(s, names["addresses"]),
                              cloud_accounts=names["cloud_accounts"], resources=names["resources"],
                              tenants=names["tenants"], data_stores=s.strings("data_stores", required=False),
                              names=name_by_lang, subject_names=subjects_by_lang))
    _unique(doc, "systems", [s.id for s in systems])

    processors = []
    for p in doc.tables("processors", required=False):
        p.allow("name", "role", "country", "outside_eea", "safeguards", "source_quote")
        processors.append(Processor(p.req("name"), p.req("role"), p.text("country", required=False),
                                    p.flag("outside_eea")))

    commitments = [_commitment(c, _policy_name(doc)) for c in doc.tables("commitments", required=False)]
    _unique(doc, "commitments", [c.id for c in commitments])

    established_in = doc.req("established_in", _COUNTRY)
    entity_type = _one_of(doc, "entity_type", tuple(ENTITY_TYPES)) if "entity_type" in data else None
    regimes = doc.strings("regimes", allowed=tuple(REGIMES), required=False) or default_regimes(established_in)
    regimes = tuple(dict.fromkeys((*regimes, *ENTITY_TYPES.get(entity_type or "", ()))))
    csirt = _authority(doc.table("csirt")) if "csirt" in data else None
    if "nis2" in regimes and csirt is None:
        raise doc.fail("csirt", "a NIS2 entity needs a [csirt] table: the CSIRT or competent authority it "
                                "reports significant incidents to (ANSSI/CERT-FR in France)")
    own_name, own_names = doc.texts("name")
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return Profile(
        id=profile_id, name=own_name, names=own_names, address=address, addresses=addresses, timezone=tz,
        languages=doc.strings("languages", allowed=LANGUAGES), established_in=established_in, regimes=regimes,
        dpo=dpo, authority=authority, systems=tuple(systems), processors=tuple(processors),
        commitments=tuple(commitments), gaps=doc.strings("gaps", required=False), ref=f"{profile_id}@{digest}",
        entity_type=entity_type, sectors=doc.strings("sectors", required=False), csirt=csirt,
        paging=_paging(doc.table("paging")) if "paging" in data else (),
        playbooks=parse_playbooks(data.get("playbooks"), source=source, regimes=regimes),
        dora_weekend_relief=(_one_of(doc, "dora_weekend_relief", DORA_WEEKEND_RELIEF)
                             if "dora_weekend_relief" in data else "final_report_only"),
    )


_IDENTIFIERS = ("addresses", "cloud_accounts", "resources", "tenants")


def _paging(p: _Reader) -> tuple[tuple[str, Any], ...]:
    """The profile's overrides of the deployment's paging policy (incident/pages.py), key by key."""
    p.allow("severity", "on_aware", "on_escalation", "repeat_minutes", "max_repeats", "oncall")
    out: list[tuple[str, Any]] = []
    if "severity" in p.data:
        value = p.data["severity"]
        if value == "never":
            out.append(("severity", None))
        elif isinstance(value, str) and value in SEVERITIES:
            out.append(("severity", SEVERITIES[value]))
        elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
            out.append(("severity", value))
        else:
            raise p.fail("severity", f"must be an OCSF severity 0-6, one of {', '.join(SEVERITIES)}, or \"never\"")
    out += [(key, p.flag(key)) for key in ("on_aware", "on_escalation") if key in p.data]
    for key in ("repeat_minutes", "max_repeats"):
        if key in p.data:
            out.append((key, p.count(key)))
    if "oncall" in p.data:
        oncall = p.strings("oncall")
        for index, address in enumerate(oncall):
            if "@" not in address or any(c in address for c in " \r\n,;<>"):
                raise p.fail(f"oncall[{index}]", "is not a single e-mail address")
        out.append(("oncall", oncall))
    return tuple(out)


def _policy_name(doc: _Reader) -> str:
    """How a commitment's legal reference names the policy: its title and date, else its file."""
    policy = doc.data.get("policy")
    policy = policy if isinstance(policy, Mapping) else {}
    title = policy.get("title") if isinstance(policy.get("title"), str) else None
    dated = policy.get("dated")
    name = title or str(policy.get("source") or "privacy policy")
    return f"{name} ({dated})" if dated else name


def _commitment(c: _Reader, policy: str) -> Commitment:
    c.allow("id", "audience", "within_hours", "condition", "text", "source_quote", "trigger", "anchor", "channel")
    audience = _one_of(c, "audience", AUDIENCES)
    binding = audience in BINDING_AUDIENCES
    within = c.count("within_hours")
    if within == 0:
        raise c.fail("within_hours", "must be at least 1 (leave it out for \"as soon as possible\")")
    # A promise the people are owed is an obligation: it needs what its clock and notice need,
    # and the policy's words, which it cites (never a paraphrase).
    quote = c.text("source_quote", required=binding)
    anchor = _one_of(c, "anchor", COMMITMENT_ANCHORS) if binding or "anchor" in c.data else "awareness"
    channel = _one_of(c, "channel", COMMITMENT_CHANNELS) if binding or "channel" in c.data else "any"
    return Commitment(c.req("id", _SLUG), audience, within, c.req("condition"), c.req("text"),
                      _one_of(c, "trigger", TRIGGERS) if "trigger" in c.data else "any_breach",
                      anchor=anchor, channel=channel, source_quote=quote,
                      legal_ref=f"{policy}: \u201c{quote}\u201d" if quote else policy)


def _addresses(reader: _Reader, values: tuple[str, ...]) -> tuple[str, ...]:
    """IP addresses and CIDR networks, each written the canonical way (so look-ups compare strings)."""
    out = []
    for index, value in enumerate(values):
        try:
            network = ipaddress.ip_network(value.strip(), strict=True)
        except ValueError as exc:
            raise reader.fail(f"addresses[{index}]", f"{value!r} is not an IP address or CIDR network ({exc})"
                              ) from None
        whole = network.prefixlen == network.max_prefixlen
        out.append(str(network.network_address) if whole else str(network))
    return tuple(out)


def _authority(a: _Reader) -> Authority:
    a.allow("id", "name", "address", "language", "portal", "email")
    email = a.text("email", required=False)
    if email is not None and ("@" not in email or any(c in email for c in " \r\n,;<>")):
        raise a.fail("email", f"{email!r} is not a single e-mail address")
    return Authority(a.req("id", _SLUG), a.req("name"), a.req("address"), _one_of(a, "language", LANGUAGES),
                     a.text("portal", required=False), email)


def _one_of(reader: _Reader, key: str, allowed: tuple[str, ...]) -> str:
    value = reader.req(key)
    if value not in allowed:
        raise reader.fail(key, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _unique(reader: _Reader, key: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for index, item in enumerate(ids):
        if item in seen:
            raise reader.fail(f"{key}[{index}].id", f"duplicate id {item!r}")
        seen.add(item)


Owner = tuple[Profile, System]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Directory:
    """Every loaded profile, and which controller's system owns which asset.

    An asset is found by what names it in a record: a host name, an IP address (exactly, or
    within a declared network: the most specific wins), a cloud resource (ARN/ID prefix, or the
    account, subscription or project the resource id names) or a SaaS tenant. Names are unique
    across profiles; a network may hold a smaller one of another system (it wins inside)."""

    profiles: Mapping[str, Profile]
    owners: Mapping[str, Owner]  # host name, address, account, tenant -> who declares it
    # (IP version, prefix length, network bits) -> owner; prefix lengths per version, longest first
    networks: Mapping[tuple[int, int, int], Owner] = field(default_factory=dict)
    prefix_lengths: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    resources: tuple[tuple[str, Owner], ...] = ()  # resource prefixes, longest first

    @classmethod
    def of(cls, profiles: Iterable[Profile]) -> Directory:
        by_id: dict[str, Profile] = {}
        owners: dict[str, Owner] = {}
        networks: dict[tuple[int, int, int], Owner] = {}
        resources: dict[str, Owner] = {}

        def claim(table: dict[Any, Owner], name: Any, owner: Owner, key: str, shown: str) -> None:
            if name in table:
                raise ProfileError(f"{key} {shown!r} is already declared by profile {table[name][0].id!r}",
                                   source=owner[0].id, key=f"systems.{owner[1].id}.{key}")
            table[name] = owner

        for profile in profiles:
            if profile.id in by_id:
                raise ProfileError("two profiles share this id", source=profile.id, key="id")
            for system in profile.systems:
                owner = (profile, system)
                for key in ("assets", "cloud_accounts", "tenants"):
                    for name in getattr(system, key):
                        claim(owners, name, owner, key, name)
                for address in system.addresses:
                    network = ipaddress.ip_network(address)
                    if network.prefixlen == network.max_prefixlen:
                        claim(owners, address, owner, "addresses", address)
                    else:
                        bits = int(network.network_address) >> (network.max_prefixlen - network.prefixlen)
                        claim(networks, (network.version, network.prefixlen, bits), owner, "addresses", address)
                for prefix in system.resources:
                    claim(resources, prefix, owner, "resources", prefix)
            by_id[profile.id] = profile
        lengths: dict[int, set[int]] = {}
        for version, length, _ in networks:
            lengths.setdefault(version, set()).add(length)
        return cls(by_id, owners, networks, {v: tuple(sorted(ls, reverse=True)) for v, ls in lengths.items()},
                   tuple(sorted(resources.items(), key=lambda item: -len(item[0]))))

    def locate(self, asset: str, controller: str | None = None) -> tuple[Profile | None, System | None]:
        """The controller and system an asset belongs to; (None, None) when unmapped. Runs for
        every event: one dictionary look-up for a declared name, a few more for an address."""
        named = self.profiles.get(controller) if controller else None
        owner = self.owner_of(asset)
        if owner is not None and (named is None or owner[0] is named):
            return owner
        return named, None

    def attribute(self, asset: str, controller: str | None = None, *, addresses: Iterable[str | None] = (),
                  ) -> tuple[Profile | None, System | None, str]:
        """Like :meth:`locate`, then, when the asset is no system's, the record's other addresses
        in order (an IDS or firewall alert names the Internet side, or its sensor, as often as
        ours): the first that is a controller's attributes the record to it, and becomes the
        asset the record is about (the sensor or the Internet host is not the controller's system,
        and as an entity it would link every alert the sensor sees). Returns the asset too."""
        profile, system = self.locate(asset, controller)
        if system is not None:
            return profile, system, asset
        for address in addresses:
            if not address or address == asset:
                continue
            ip = _ip(address)
            owner = self._in_networks(ip) if ip is not None else None
            owner = owner or (self.owners.get(str(ip)) if ip is not None else None)
            if owner is not None and (controller is None or owner[0].id == controller):
                return owner[0], owner[1], address
        return profile, system, asset

    def owner_of(self, name: str) -> Owner | None:
        owner = self.owners.get(name)
        if owner is not None:
            return owner
        ip = _ip(name)
        if ip is not None:
            return self.owners.get(str(ip)) or self._in_networks(ip)
        for prefix, found in self.resources:
            if name.startswith(prefix):
                return found
        account = _account_in(name)
        return self.owners.get(account) if account else None

    def _in_networks(self, ip: IPAddress) -> Owner | None:
        value, width = int(ip), ip.max_prefixlen
        for length in self.prefix_lengths.get(ip.version, ()):
            owner = self.networks.get((ip.version, length, value >> (width - length)))
            if owner is not None:
                return owner
        return None


@lru_cache(maxsize=8192)  # the same few addresses recur in every alert of an attack: parse once
def _ip(name: str) -> IPAddress | None:
    if not name or not (name[0].isdigit() or ":" in name):
        return None  # a host name: spare the parser (and its exception) on every event
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


_AZURE = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)
_GCP = re.compile(r"^(?://[^/]+/)?projects/([^/]+)")


def _account_in(name: str) -> str | None:
    """The cloud account a resource id names: an AWS ARN's account field, an Azure resource id's
    subscription, a Google Cloud resource name's project."""
    if name.startswith("arn:"):
        parts = name.split(":", 5)
        return parts[4] if len(parts) > 4 and parts[4] else None
    found = _AZURE.match(name) or _GCP.match(name)
    return found.group(1) if found else None
