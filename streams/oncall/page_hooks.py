"""Where pages go (streams/oncall/pager.py sends them): e-mail, and each webhook in its format."""

from __future__ import annotations

from dataclasses import dataclass

from streams.oncall.webhook import Webhook

FORMATS = ("json", "slack", "teams")  # streams/oncall/page_formats.py


@dataclass(frozen=True)
class PageHook:
    """One webhook pages are POSTed to, in one of FORMATS. Its URL is a secret (Slack and Teams
    put the credential in it): it is never logged."""

    fmt: str
    webhook: Webhook


@dataclass(frozen=True)
class Pager:
    """The channels of a worker's pages: e-mail to the on-call list (else the controller's DPO)
    and the webhooks."""

    hooks: tuple[PageHook, ...] = ()
    email: bool = True
