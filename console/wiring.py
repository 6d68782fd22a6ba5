"""The console's security settings, from Settings: users, tokens, the cookie secret, OIDC."""

from __future__ import annotations

from console.auth import AuthConfig
from console.limits import allowed_hosts
from console.oidc import OidcConfig
from console.sessions import SessionStore
from console.users import TokenStore, UserStore, secret_for
from streams.settings import EMBEDDED_USERS, Settings


def auth_from(settings: Settings, *, embedded: bool) -> tuple[AuthConfig, OidcConfig | None]:
    """Local users from the user file (plus BREACH_CONSOLE_USERS, kept in memory); in embedded mode
    the file is seeded with the demo logins the banner prints, the first time only."""
    users = UserStore(settings.users_file, fixed=settings.console_users)
    if embedded and not settings.console_users:
        users.seed(EMBEDDED_USERS)
    secret = settings.console_secret or secret_for(settings.data_dir / "console-secret")
    config = AuthConfig(users=users, secret=secret, tokens=TokenStore(settings.tokens_file),
                        session_hours=settings.console_session_hours, idle_minutes=settings.console_idle_minutes,
                        oidc_session_hours=settings.console_oidc_session_hours,
                        secure_cookies=settings.console_secure_cookies,
                        allowed_hosts=allowed_hosts([settings.console_url, settings.oidc_redirect_url],
                                                    settings.console_allowed_hosts.split(",")),
                        max_import_bytes=settings.console_max_import_bytes)
    config.sessions = SessionStore(settings.sessions_file, config.lifetimes)
    oidc = None
    if settings.oidc_issuer:
        oidc = OidcConfig(issuer=settings.oidc_issuer, client_id=settings.oidc_client_id,
                          client_secret=settings.oidc_client_secret, redirect_url=settings.oidc_redirect_url,
                          role_claim=settings.oidc_role_claim, role_map=settings.oidc_role_map,
                          controller_claim=settings.oidc_controller_claim)
    return config, oidc


def embedded_logins(config: AuthConfig) -> list[tuple[str, str, str]]:
    """The demo logins that still work (name, password, role): what the banner may print."""
    logins = [tuple(e.split(":")) for e in EMBEDDED_USERS.split(",")]
    return [(n, p, r) for n, p, r in logins if config.users.verify(n, p) is not None]
