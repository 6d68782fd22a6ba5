"""Every refusal the console itself gives, word for word, in one place.

The texts are English (the API's and the logs' language); console/i18n.py translates them for
a page by pattern, so a wording changed here must change there too (tests/unit/test_console_refusals.py
checks that each one has its French). The domain's own refusals (incident/*) stay with the
domain: they reach the console as CommandRejected events.
"""

from __future__ import annotations

# Reading: the same words for a missing incident and for another controller's (never 403).
NO_INCIDENT = "no such incident"
NO_NOTICE = "no such notice"
NO_MESSAGE = "no such message"
NO_MAIL_CATCHER = "no mail catcher in this deployment"
READ_ONLY = "this console is read-only"
NO_SSO = "Single sign-on is not configured on this console."
LETTERS_FOR_EVERY_CONTROLLER = "the rejected records name no controller: only a user of every controller reads them"

# Roles.
ADMIN_USERS = "only an admin manages users"
ADMIN_TOKENS = "only an admin manages tokens"
OVERRIDE = "only the DPO may override the risk level"
WITHDRAW = "only the DPO may withdraw a legal obligation"
APPROVE_OR_SUBMIT = "only the DPO approves or submits a notification"
FORM = "only the DPO may answer the notification form"
MEASURES = "only the DPO may write the measures taken and proposed"
SUBJECT_NOTICE = "only the DPO may approve the notice to the people affected"
RESEND_IN_DOUBT = "only the DPO may send the notice again to recipients in doubt"
SETTLE = "only the DPO confirms or declines proposed facts"
DISMISS_AWARE = "only the DPO may dismiss or reopen an incident the controller is aware of"
MERGE_AWARE = "only the DPO may merge an incident the controller is aware of (its clocks move)"
OWNER_MAY_ACT = "the owner must be a console user who may act (responder, DPO or admin)"

# Nothing to act on.
NO_PAGE_WAITING = "no page is waiting to be acknowledged"
NO_PROPOSAL_WAITING = "no proposal is waiting"
NO_MERGE_TARGET = "no incident to merge into by that reference"
MERGE_ITSELF = "an incident cannot merge into itself"
MERGE_SAME_CONTROLLER = "both incidents must be the same controller's"
NO_PROFILE_TO_WRITE = "the incident has no controller profile or assessment to write the notice from"
TAG_WORD = "a tag is one word of at most 32 lower-case letters, digits, '-', '_' or '.'"  # incident/tags.py's
NO_SUBMISSION_ADDRESS = "the controller's profile gives no submission address: record a portal submission instead"


def read_only_role(role: str) -> str:
    return f"the {role} role may read, not act"


def no_task(key: str) -> str:
    return f"no task {key} on this incident"  # as the incident would say, before sending


def merged_elsewhere(reference: str) -> str:
    return f"that incident is merged into {reference}: merge into that one"


def no_list(list_id: str) -> str:
    return f"no list {list_id} of affected people on this incident"


def invalid(why: object) -> str:
    return f"invalid request: {why}"
