"""The mail catcher of the embedded stack (what the notifier and the pager sent), as pages and
JSON: only the mails of the incidents the reader is granted (console/tenants.py)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from console import refusals, tenants
from console.site import Site


def routes(site: Site) -> list[BaseRoute]:
    def mails(request: Request) -> list[dict[str, Any]]:
        me, mailbox = site.user_of(request), site.mailbox
        return [m for m in mailbox.summaries() if tenants.sees_mail(site.model, me, m)] if mailbox else []

    def mail(request: Request) -> dict[str, Any] | None:
        """One caught mail, if it exists for the reader: another controller's is missing."""
        message = site.mailbox.message(request.path_params["message_id"]) if site.mailbox else None
        return message if message is not None and tenants.sees_mail(site.model, site.user_of(request), message) \
            else None

    async def page_mail(request: Request) -> Response:
        if site.mailbox is None:
            return site.missing(request)
        return site.page(request, "mail.html", messages=list(reversed(mails(request))))

    async def page_mail_message(request: Request) -> Response:
        message = mail(request)
        if message is None:
            return site.missing(request)
        return site.page(request, "mail_message.html", message=message)

    async def api_mail(request: Request) -> Response:
        if site.mailbox is None:
            return JSONResponse({"error": refusals.NO_MAIL_CATCHER}, status_code=404)
        return JSONResponse({"messages": mails(request)})

    async def api_mail_message(request: Request) -> Response:
        message = mail(request)
        if message is None:
            return JSONResponse({"error": refusals.NO_MESSAGE}, status_code=404)
        return JSONResponse(message)

    return [Route("/mail", page_mail), Route("/mail/{message_id}", page_mail_message),
            Route("/api/mail", api_mail), Route("/api/mail/{message_id}", api_mail_message)]
