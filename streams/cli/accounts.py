"""`breach users` and `breach tokens`: console accounts and API tokens for machines."""

from __future__ import annotations

import argparse
import sys

from streams.cli.common import _settings


def _read_password(prompt: str) -> str:
    """From a prompt on a terminal (asked twice), else the first line of standard input: never argv,
    which other users of the machine can read in the process list."""
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("again: ") != first:
            raise SystemExit("breach: the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_users(args: argparse.Namespace) -> int:
    """Local console users, in <data_dir>/console-users.json (argon2 hashes); their console sessions
    in console-sessions.json beside it."""
    from console.sessions import SessionStore
    from console.users import UNCHANGED, UserError, UserStore, grant_label

    settings = _settings()
    store = UserStore(settings.users_file)
    try:
        if args.users_command == "add":
            grant_asked = UNCHANGED if args.controller is None else args.controller
            user = store.add(args.name, _read_password(f"password for {args.name}: "), args.role,
                             replace=args.replace, controllers=grant_asked)
            grant = "" if user.controllers is None else f", controllers {grant_label(user.controllers)}"
            print(f"user {user.name} ({user.role}{grant}) saved in {settings.users_file}"
                  + (" (their sessions and CLI logins end at their next request)" if args.replace else ""))
        elif args.users_command == "remove":
            store.remove(args.name)
            print(f"user {args.name} removed (their sessions end at their next request)")
        elif args.users_command == "logout":
            ended = SessionStore(settings.sessions_file).end_user(args.name)
            print(f"{ended} session(s) of {args.name} ended")
        else:
            for user in store.list():
                print(f"{user.name}\t{user.role}\t{grant_label(user.controllers)}")
    except UserError as exc:
        print(f"breach users: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_tokens(args: argparse.Namespace) -> int:
    """Scoped API tokens for machines; the token is printed once and only its digest is kept."""
    from console.users import TokenStore, UserError, grant_label, parse_lifetime

    settings = _settings()
    store = TokenStore(settings.tokens_file)
    try:
        if args.tokens_command == "list":
            print("label\trole\tscopes\tcreated\texpires\tlast used\tcontrollers")
            for t in store.list():
                grant = None if t["controllers"] is None else frozenset(t["controllers"])
                print("\t".join([t["label"], t["role"], ",".join(t["scopes"]), t["created"] or "-",
                                 t["expires"] or "never", t["last_used"] or "never", grant_label(grant)]))
            return 0
        if args.tokens_command == "revoke":
            store.revoke(args.label)
            print(f"token {args.label} revoked (refused from its next request)")
            return 0
        lifetime = parse_lifetime(args.expires) if args.expires else None
        token = store.issue(args.label, args.role, tuple(args.scope or ("read",)), lifetime,
                            controllers=args.controller)
    except UserError as exc:
        print(f"breach tokens: {exc}", file=sys.stderr)
        return 2
    print(token)
    print(f"(shown once; send it as 'Authorization: Bearer …'. Saved as {args.label} in {settings.tokens_file})",
          file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `breach users`, `breach tokens`."""
    users = sub.add_parser("users", help="console users (local accounts, argon2-hashed passwords)")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a user; the password is asked for, or read from standard input")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("viewer", "responder", "dpo", "admin"))
    add.add_argument("--replace", action="store_true",
                     help="change the password, role or controllers of an existing user")
    add.add_argument("--controller", action="append", metavar="ID",
                     help="a controller whose incidents the user sees (repeat for more; '*': all of them; "
                          "default: all for a new user, unchanged with --replace)")
    remove = users_sub.add_parser("remove", help="remove a user")
    remove.add_argument("name")
    users_sub.add_parser("list", help="list users and roles")
    logout = users_sub.add_parser("logout", help="end every console session of a user (log out everywhere)")
    logout.add_argument("name")
    users.set_defaults(func=cmd_users)
    tokens = sub.add_parser("tokens", help="API tokens for machines")
    tokens_sub = tokens.add_subparsers(dest="tokens_command", required=True)
    issue = tokens_sub.add_parser("add", help="issue a token (printed once)")
    issue.add_argument("label")
    issue.add_argument("--role", required=True, choices=("viewer", "responder", "dpo"))
    issue.add_argument("--scope", action="append", choices=("read", "act"), help="read (default) and/or act")
    issue.add_argument("--expires", metavar="LIFETIME", help="e.g. 30d, 12h, 90m (default: never)")
    issue.add_argument("--controller", action="append", metavar="ID",
                       help="a controller whose incidents the token sees (repeat for more; default: all of them)")
    tokens_sub.add_parser("list", help="list tokens: label, role, scopes, created, expires, last used (no secret)")
    revoke = tokens_sub.add_parser("revoke", help="revoke a token")
    revoke.add_argument("label")
    tokens.set_defaults(func=cmd_tokens)
