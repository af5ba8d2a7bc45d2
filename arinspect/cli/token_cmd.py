"""``arinspect token create|revoke|list``: bearer tokens of the sync server."""

from __future__ import annotations

import argparse
import getpass
import socket

from arinspect.cli.serve_cmd import add_db_option, db_url


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``token`` verb."""
    parser = subparsers.add_parser("token", help="create, revoke or list sync-server tokens")
    verbs = parser.add_subparsers(dest="token_command", required=True, metavar="SUBCOMMAND")

    create = verbs.add_parser(
        "create", help="make a token for a user and device (printed on the last line)"
    )
    add_db_option(create)
    create.add_argument("--user", required=True, help="user name (created on first use)")
    create.add_argument("--role", required=True, choices=("worker", "qa", "engineer"))
    create.add_argument("--device", default="default", help="device name (default 'default')")
    create.set_defaults(func=create_cmd)

    revoke = verbs.add_parser("revoke", help="revoke a token, or every token of a user")
    add_db_option(revoke)
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--token", help="the token to revoke")
    which.add_argument("--user", help="revoke this user's tokens")
    revoke.add_argument("--device", help="with --user: only the tokens of this device")
    revoke.set_defaults(func=revoke_cmd)

    listing = verbs.add_parser("list", help="list tokens (never their secrets)")
    add_db_option(listing)
    listing.set_defaults(func=list_cmd)


def _open(args: argparse.Namespace):  # noqa: ANN202
    from arinspect_server.db.engine import Database
    from arinspect_server.services.context import Actor

    db = Database(db_url(args.db))
    db.migrate()
    admin = Actor(user=f"cli:{getpass.getuser()}", role="admin", device=socket.gethostname())
    return db, admin


def create_cmd(args: argparse.Namespace) -> int:
    """Create a token and print it on the last line."""
    from arinspect_server.services.auth import create_token

    db, admin = _open(args)
    try:
        token = create_token(db, admin, args.user, args.role, args.device)
    finally:
        db.dispose()
    print(f"token for {args.user} ({args.role}) on device {args.device}:")
    print(token)
    return 0


def revoke_cmd(args: argparse.Namespace) -> int:
    """Revoke tokens; exit code 1 when none matched."""
    from arinspect.errors import ConfigError
    from arinspect_server.services.auth import revoke_tokens

    if args.device and not args.user:
        raise ConfigError("--device needs --user")
    db, admin = _open(args)
    try:
        count = revoke_tokens(db, admin, token=args.token, user=args.user, device=args.device)
    finally:
        db.dispose()
    print(f"revoked {count} token(s)")
    if count == 0:
        raise ConfigError("no active token matched")
    return 0


def list_cmd(args: argparse.Namespace) -> int:
    """Print one line per token."""
    from arinspect_server.services.auth import list_tokens

    db, _ = _open(args)
    try:
        for row in list_tokens(db):
            state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
            print(f"{row['id']}\t{row['user']}\t{row['role']}\t{row['device']}\t{state}")
    finally:
        db.dispose()
    return 0
