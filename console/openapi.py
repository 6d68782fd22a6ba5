"""The JSON API's OpenAPI 3.1 document (/api/openapi.json), written by hand: it is small, and the
tests check the running app against it with schemathesis (every operation, every documented status)."""

from __future__ import annotations

from typing import Any

from console.actions import OBLIGATION_STEPS
from incident.obligations import CHANNELS
from incident.work import MAX_NOTE, MAX_TITLE, OUTCOMES

ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "Invalid request", 401: "Not authenticated", 403: "Not allowed for this role or token",
             404: "Not found (nor is an incident of a controller the principal is not granted)",
             405: "This console is read-only", 409: "The incident cannot have this notice yet",
             413: "Too large (bodies: 64 KiB; lists of people: BREACH_CONSOLE_MAX_IMPORT_BYTES)",
             415: "Unsupported content type",
             429: "Too many failed logins from this address or for this name: wait Retry-After seconds",
             503: "Too many password checks at once: retry shortly"}
    if 401 in codes:  # HTTP Basic checks a password: the login back-off (console/throttle.py) applies
        codes = (*codes, 429, 503)
    return {str(code): _json(ERROR, words[code]) for code in codes}


def _id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _command(summary: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"post": {
        "summary": summary, "tags": ["commands"], "parameters": [_id("incident_id")],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "properties": properties, "required": required}}}},
        "responses": {"202": _json({"$ref": "#/components/schemas/Accepted"},
                                   "Sent to the incident, which decides (a refusal appears on its timeline)"),
                      **_errors(400, 401, 403, 404, 405, 413, 415)}}}


def document(*, states: tuple[str, ...], levels: tuple[str, ...], roles: tuple[str, ...],
             scopes: tuple[str, ...]) -> dict[str, Any]:
    when = {"type": "string", "format": "date-time", "description": "RFC 3339 (with its UTC offset); absent: now"}
    filters = [{"name": "controller", "in": "query", "schema": {"type": "string"}},
               {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["", *states]}},
               {"name": "risk", "in": "query", "schema": {"type": "string", "enum": ["", *levels]}},
               {"name": "overdue", "in": "query", "schema": {"type": "string", "enum": ["", "1"]}},
               {"name": "tag", "in": "query", "schema": {"type": "string"}},
               {"name": "q", "in": "query", "schema": {"type": "string"},
                "description": "words of the reference, title, asset or owner; or one user name or IP address"},
               {"name": "mine", "in": "query", "schema": {"type": "string", "enum": ["", "1"]},
                "description": "only the incidents the caller owns"}]
    obj = {"type": "object"}
    imported = {"type": "object", "required": ["recipients", "invalid_count", "invalid"], "properties": {
        "list_id": {"type": ["string", "null"]}, "recipients": {"type": "integer", "minimum": 0},
        "invalid_count": {"type": "integer", "minimum": 0},
        "invalid": {"type": "array", "items": {"type": "object", "required": ["line", "reason"], "properties": {
            "line": {"type": "integer"}, "reason": {"type": "string"}}}}}}
    resent = {"type": "object", "required": ["resent"], "properties": {"resent": {
        "type": "array", "items": {"type": "object", "properties": {
            "notice_id": {"type": "string"}, "in_doubt": {"type": "integer"}, "published": {"type": "integer"}}}}}}
    text = {"type": "string", "pattern": r"\S"}  # required texts: not empty, not only blanks
    grant = {"type": ["array", "null"], "items": {"type": "string"},
             "description": "The controllers whose incidents the principal reads and acts on; null: all of them"}
    paths: dict[str, Any] = {
        "/api/me": {"get": {"summary": "Who is asking", "responses": {
            "200": _json({"type": "object", "required": ["name", "role", "actor"], "properties": {
                "name": {"type": "string"}, "role": {"type": "string", "enum": list(roles)},
                "kind": {"type": "string"}, "actor": {"type": "string"},
                "scopes": {"type": "array", "items": {"type": "string", "enum": list(scopes)}},
                "controllers": grant}}, "The principal"),
            **_errors(401)}}},
        "/api/incidents/{incident_id}/resend_in_doubt": {"post": {
            "summary": "Send the notice to the people affected again to the recipients a worker crash left in "
                       "doubt (the DPO's call: some may have it already)",
            "tags": ["commands"], "parameters": [_id("incident_id")],
            "responses": {"202": _json(resent, "Handed to the workers"),
                          "200": _json(resent, "Nobody is in doubt: nothing sent (an empty list)"),
                          **_errors(401, 403, 404, 405)}}},
        "/api/me/token": {"post": {
            "summary": "The caller's own short-lived token (`breach login`): HTTP Basic, or a personal token "
                       "renewed; never a browser session or a machine token",
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"hours": {"type": "number", "exclusiveMinimum": 0,
                                                           "description": "at most the session length"}}}}}},
            "responses": {"201": _json({"type": "object", "required": ["token", "name", "role", "expires_at"],
                                        "properties": {"token": {"type": "string"}, "name": {"type": "string"},
                                                       "role": {"type": "string", "enum": list(roles)},
                                                       "actor": {"type": "string"},
                                                       "expires_at": {"type": "string", "format": "date-time"}}},
                                       "Issued (sent as 'Authorization: Bearer …')"),
                          **_errors(400, 401, 403, 413)}}},
        "/api/incidents": {"get": {"summary": "Incidents, the nearest deadline first", "parameters": filters,
                                   "responses": {"200": _json({"type": "object", "required": ["incidents"],
                                                               "properties": {"incidents": {
                                                                   "type": "array",
                                                                   "items": {"$ref": "#/components/schemas/Summary"}},
                                                                   "dead_letters": obj}}, "Incidents"),
                                                 **_errors(401, 403)}}},
        "/api/incidents/{incident_id}": {"get": {
            "summary": "One incident: timeline, evidence, facts, risk factors, obligations",
            "parameters": [_id("incident_id")],
            "responses": {"200": _json({"$ref": "#/components/schemas/Summary"}, "The incident"),
                          **_errors(401, 403, 404)}}},
        "/api/incidents/{incident_id}/notices/{notice_id}": {"get": {
            "summary": "A notice rendered exactly as it is sent (or read in another language: locale)",
            "parameters": [_id("incident_id"), _id("notice_id"),
                           {"name": "locale", "in": "query", "schema": {"type": "string"},
                            "description": "a language the notice's templates exist in; else its own"}],
            "responses": {"200": _json({"type": "object", "required": ["notice_id", "recipients"], "properties": {
                "notice_id": {"type": "string"}, "subject": {"type": ["string", "null"]},
                "locale": {"type": "string"}, "shown_locale": {"type": "string"},
                "locales": {"type": "array", "items": {"type": "string"}},
                "text": {"type": ["string", "null"]}, "html": {"type": ["string", "null"]},
                "recipients": {"type": "array", "items": {"type": "string"}},
                "error": {"type": ["string", "null"]}}}, "The rendered notice"), **_errors(401, 403, 404)}}},
        "/api/incidents/{incident_id}/triage": _command("Start triage", {}, []),
        "/api/incidents/{incident_id}/classification": _command(
            "Classify (DORA major, NIS2 significant)", {"classification": text, "at": when},
            ["classification"]),
        "/api/incidents/{incident_id}/awareness": _command(
            "Record awareness: the clocks start from aware_at",
            {"aware_at": when, "evidence": {"type": "array", "items": {"type": "string"}}}, []),
        "/api/incidents/{incident_id}/facts": _command(
            "Correct facts (docs/risk.md fields); the risk is re-assessed",
            {"changes": {"type": "object", "minProperties": 1}, "reason": {"type": "string"}}, ["changes"]),
        "/api/incidents/{incident_id}/override": _command(
            "Override the risk level (DPO, with a justification)",
            {"level": {"type": "string", "enum": list(levels)}, "justification": text},
            ["level", "justification"]),
        "/api/incidents/{incident_id}/measures": _command(
            "The measures taken and proposed (Art. 33(3)(d)), one text per language, for the authority's "
            "notification or for the notice to the people affected (DPO); they replace that audience's last",
            {"audience": {"type": "string", "enum": ["authority", "data_subjects"]},
             "texts": {"type": "array", "minItems": 1, "items": {
                 "type": "object", "required": ["locale"], "properties": {
                     "locale": text, "taken": {"type": "array", "items": {"type": "string"}},
                     "proposed": {"type": "array", "items": {"type": "string"}}}}}},
            ["audience", "texts"]),
        "/api/incidents/{incident_id}/form": _command(
            "Answer the CNIL form's questions the incident cannot answer itself (DPO); the answers replace "
            "the last, and a field left out or null reads \"not known yet\" in the notification",
            {"started_at": {**when, "description": "when the breach started (RFC 3339)"},
             "ended_at": {**when, "description": "when it ended (RFC 3339)"},
             "ongoing": {"type": ["boolean", "null"]},
             "origin": {"type": ["string", "null"], "enum": ["internal", "external", None]},
             "intent": {"type": ["string", "null"], "enum": ["malicious", "accidental", None]},
             "member_states": {"type": ["array", "null"], "items": {"type": "string"},
                               "description": "other EU/EEA states concerned (ISO 3166 alpha-2); [] for none"},
             "notification_type": {"type": ["string", "null"], "enum": ["initial", "complete", None]},
             "police_complaint": {"type": ["boolean", "null"]}, "anssi_report": {"type": ["boolean", "null"]},
             "contact_name": {"type": ["string", "null"], "maxLength": 200,
                              "description": "the contact for this notification (Art. 33(3)(b)); else the DPO's"},
             "contact_details": {"type": ["string", "null"], "maxLength": 200,
                                 "description": "their e-mail or telephone, one line"},
             "safeguards": {"type": ["object", "array", "null"],
                            "description": "the security measures in place before the breach, per language the "
                                           "notices are written in: {\"fr\": [\"…\"], \"en\": [\"…\"]} (or as "
                                           "the incident shows them: [{locale, items}])"}},
            []),
        "/api/incidents/{incident_id}/obligations": _command(
            "A step of an obligation: approve and submit are the DPO's",
            {"obligation": {**text, "description": "the clock's rule_ref"},
             "action": {"type": "string", "enum": list(OBLIGATION_STEPS)},
             "channel": {"type": "string", "enum": ["", *CHANNELS]}, "reference": {"type": "string"},
             "text": {"type": "string"}, "at": when}, ["obligation", "action"]),
        "/api/incidents/{incident_id}/dismiss": _command(
            "Dismiss as not a breach, a false positive or a duplicate, with the reason (a suspected incident: "
            "responder or DPO; one the controller is aware of: DPO); it stays in the register",
            {"outcome": {"type": "string", "enum": list(OUTCOMES)}, "reason": text}, ["outcome", "reason"]),
        "/api/incidents/{incident_id}/reopen": _command(
            "Reopen a dismissed incident, with the reason", {"reason": text}, ["reason"]),
        "/api/incidents/{incident_id}/claim": _command("Claim the incident (the caller owns it)", {}, []),
        "/api/incidents/{incident_id}/owner": _command(
            "Assign the incident to a console user who may act (empty: nobody)",
            {"owner": {"type": "string"}}, ["owner"]),
        "/api/incidents/{incident_id}/note": _command(
            "Add a note to the timeline (Markdown: the page renders it without raw HTML or images)",
            {"text": {**text, "maxLength": MAX_NOTE}}, ["text"]),
        "/api/incidents/{incident_id}/title": _command(
            "Name the incident (empty: derived from its strongest signal again)",
            {"title": {"type": "string", "maxLength": MAX_TITLE}}, ["title"]),
        "/api/incidents/{incident_id}/settle": _command(
            "Confirm (confirm: true, the default) or decline (confirm: false, with a reason) facts a responder "
            "proposed that would lower the risk (DPO); confirmed, they correct the facts in the DPO's name",
            {"proposal": {"type": "integer", "description": "its number, as the incident's proposals list it"},
             "confirm": {"type": "boolean"}, "reason": text}, ["proposal"]),
        "/api/incidents/{incident_id}/acknowledge": _command(
            "Acknowledge the incident's pages to the on-call team (responder, DPO, admin): their repeats stop; "
            "refused when no page is waiting", {}, []),
        "/api/incidents/{incident_id}/task": _command(
            "Check (done: true, the default) or uncheck (done: false) a playbook task, in the caller's name",
            {"task": {**text, "description": "its key, <playbook>/<task>, as the incident lists it"},
             "done": {"type": "boolean"}}, ["task"]),
        "/api/incidents/{incident_id}/tag": _command(
            "Add a tag (one word: lower-case letters, digits, - _ .)", {"tag": text}, ["tag"]),
        "/api/incidents/{incident_id}/untag": _command("Remove a tag", {"tag": text}, ["tag"]),
        "/api/incidents/{incident_id}/link": _command(
            "Merge this incident into another of the same controller, as the correlator does (its signals and "
            "awareness go there); the DPO's when the controller is aware of either",
            {"into": {**text, "description": "the other incident's id or reference (BR-…)"}, "reason": text},
            ["into", "reason"]),
        "/api/incidents/{incident_id}/subjects": {"post": {
            "summary": "Import the people affected (responder, DPO, admin): CSV with an address or email column "
                       "(optionally name, language), or JSONL with the same keys. Invalid lines are reported by "
                       "number and reason (never the address); the valid ones go to affected-subjects",
            "tags": ["commands"], "parameters": [_id("incident_id")],
            "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}},
                                                          "application/x-ndjson": {"schema": {"type": "string"}}}},
            "responses": {"202": _json(imported, "Imported; the incident records the list's counts"),
                          "200": _json(imported, "Read, but no valid address: nothing imported"),
                          **_errors(400, 401, 403, 404, 405, 413, 415)}}},
        "/api/incidents/{incident_id}/subject_notice": _command(
            "Approve and send the notice to the people of one list (DPO only)",
            {"list_id": text, "measures_taken": {"type": "array", "items": {"type": "string"}, "minItems": 1},
             "measures_proposed": {"type": "array", "items": {"type": "string"}}}, ["list_id", "measures_taken"]),
        "/api/incidents/{incident_id}/subject_notice/preview": {"post": {
            "summary": "The notice to the people of one list exactly as it will be sent (as sent, once approved), "
                       "with its delivery progress",
            "parameters": [_id("incident_id")],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["list_id"], "properties": {
                    "list_id": text, "locale": {"type": "string"},
                    "measures_taken": {"type": "array", "items": {"type": "string"}},
                    "measures_proposed": {"type": "array", "items": {"type": "string"}}}}}}},
            "responses": {"200": _json({"type": "object", "required": ["subject", "text", "html", "approved"],
                                        "properties": {"list_id": {"type": "string"}, "locale": {"type": "string"},
                                                       "approved": {"type": "boolean"},
                                                       "subject": {"type": "string"}, "text": {"type": "string"},
                                                       "html": {"type": "string"},
                                                       "progress": {"type": ["object", "null"]}}},
                                       "The rendered notice"),
                          **_errors(400, 401, 403, 404, 409, 415)}}},
        "/api/register": {"get": {"summary": "The Art. 33(5) register (JSON, or CSV with format=csv)",
                                  "parameters": [{"name": "format", "in": "query",
                                                  "schema": {"type": "string", "enum": ["json", "csv"]}}],
                                  "responses": {"200": {"description": "The register", "content": {
                                      "application/json": {"schema": obj}, "text/csv": {"schema": {"type": "string"}}}},
                                      **_errors(401, 403)}}},
        "/api/rejected": {"get": {"summary": "Dead letters: counts per topic and reason, the latest listed without "
                                             "their content (forged or failed commands name their incident)",
                                  "responses": {"200": {"description": "Rejected records (users of every "
                                                                        "controller only: 403 otherwise)",
                                                        "content": {"application/json": {"schema": obj}}},
                                                **_errors(401, 403)}}},
        "/api/mail": {"get": {"summary": "Messages held by the embedded mail catcher", "responses": {
            "200": _json(obj, "Message summaries"), **_errors(401, 403, 404)}}},
        "/api/mail/{message_id}": {"get": {"summary": "One caught message", "parameters": [_id("message_id")],
                                           "responses": {"200": _json(obj, "The message"),
                                                         **_errors(401, 403, 404)}}},
        "/api/users": {
            "get": {"summary": "Users (admin)", "responses": {"200": _json(obj, "Users"), **_errors(401, 403)}},
            "post": {"summary": "Add or replace a user (admin); without controllers a replaced user keeps their "
                                "grant and a new one is granted every controller",
                     "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"type": "object", "required": ["name", "password", "role"],
                                                "properties": {"name": {"type": "string"},
                                                               "password": {"type": "string", "minLength": 8},
                                                               "role": {"type": "string", "enum": list(roles)},
                                                               "controllers": grant}}}}},
                     "responses": {"201": _json(obj, "Saved"), **_errors(400, 401, 403)}}},
        "/api/users/{name}/logout": {"post": {
            "summary": "Log a user out everywhere: end every console session of theirs (admin)",
            "parameters": [_id("name")],
            "responses": {"200": _json({"type": "object", "required": ["name", "ended"],
                                        "properties": {"name": {"type": "string"}, "ended": {"type": "integer"}}},
                                       "How many sessions ended"), **_errors(401, 403)}}},
        "/api/tokens": {"get": {
            "summary": "API tokens: label, role, scopes, created, expires, last used; never the secret (admin)",
            "responses": {"200": _json(obj, "Tokens"), **_errors(401, 403)}}},
        "/api/tokens/{label}/revoke": {"post": {
            "summary": "Revoke an API token (admin)", "parameters": [_id("label")],
            "responses": {"200": _json(obj, "Revoked"), **_errors(401, 403, 404)}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "breach-response console API", "version": "1",
                 "description": "Reads a projection of incident-events; writes only commands (answered 202)."},
        "security": [{"bearer": []}, {"basic": []}, {"session": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A scoped API token (breach tokens add)"},
                "basic": {"type": "http", "scheme": "basic", "description": "A local user (scripts, curl)"},
                "session": {"type": "apiKey", "in": "cookie", "name": "breach_session",
                            "description": "The browser session; unsafe requests need the X-CSRF-Token header"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
                "Accepted": {"type": "object", "required": ["accepted", "incident_id"],
                             "properties": {"accepted": {"type": "string"}, "incident_id": {"type": "string"},
                                            "proposed": {"type": "string", "description":
                                                         "set when the incident keeps it as a proposal the DPO "
                                                         "confirms or declines (facts that lower the risk)"}}},
                "Summary": {"type": "object", "required": ["id", "reference", "status", "deadlines"], "properties": {
                    "id": {"type": "string"}, "reference": {"type": "string"},
                    "controller": {"type": ["string", "null"]}, "status": {"type": "string", "enum": list(states)},
                    "merged_into": {"type": ["string", "null"],
                                    "description": "the incident this one merged into: its clocks run there"},
                    "title": {"type": "string", "description": "a person's, or derived from the strongest signal"},
                    "owner": {"type": ["string", "null"]}, "dismissal": {"type": ["object", "null"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "tasks": {"type": "object", "description": "playbook tasks: how many are done of how many",
                              "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}}},
                    "risk": {"type": ["string", "null"]}, "deadlines": {"type": "array", "items": obj},
                    "next_deadline": {"type": ["string", "null"]}, "overdue": {"type": "boolean"}}},
            },
        },
    }
