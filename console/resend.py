"""POST /api/incidents/{id}/resend_in_doubt: send the notice to the people affected again to the
recipients a worker crash left "in doubt" (handed to the relay, answer never recorded).

Some of them may have received it already, so it is never automatic: it is the DPO's call, checked
here (the `breach notices resend --in-doubt` CLI comes through this route as the person logged in).
The resend itself is streams.mail.mass.resend_in_doubt (delivery records, not an incident command).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from console import refusals
from console.actions import DPO
from console.read_model import ReadModel
from console.users import User
from incident.model import Incident, SubjectNotice

log = structlog.get_logger("breach.console")


class ResendInDoubt(Protocol):
    """streams.mail.mass.resend_in_doubt bound to the broker and the notifier's renderer: the recipients published."""

    async def __call__(self, incident: Incident, notice: SubjectNotice) -> int: ...


def endpoint(model: ReadModel, resend: ResendInDoubt | None) -> Callable[[Request], Awaitable[Response]]:
    async def resend_in_doubt(request: Request) -> Response:
        if resend is None:
            return JSONResponse({"error": refusals.READ_ONLY}, status_code=405)
        user: User = request.scope["state"]["user"]
        if user.role not in DPO:
            log.warning("console.refused", action="resend_in_doubt", role=user.role)
            return JSONResponse({"error": refusals.RESEND_IN_DOUBT},
                                status_code=403)
        incident = model.incidents.get(request.path_params["incident_id"])
        if incident is None:
            return JSONResponse({"error": refusals.NO_INCIDENT}, status_code=404)
        notices = [n for n in incident.subject_notices if n.in_doubt]
        if not notices:
            return JSONResponse({"resent": []})  # nothing to decide: said, not refused
        answer = []
        for notice in notices:
            published = await resend(incident, notice)
            answer.append({"notice_id": notice.notice_id, "in_doubt": notice.in_doubt, "published": published})
        log.info("console.resend_in_doubt", incident_id=incident.id, notices=len(answer), role=user.role)
        return JSONResponse({"resent": answer}, status_code=202)
    return resend_in_doubt
