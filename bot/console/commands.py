"""`hotro user ...` and `hotro console`, registered on the CLI's argparse subparsers.

bot/cli.py calls:
    add_console_commands(subparsers)
which adds
    hotro user add NAME [--role agent|editor|lead|admin] [--display-name TEXT]
    hotro user passwd NAME          (new password; ends the user's sessions)
    hotro user list
    hotro console [--host 127.0.0.1] [--port 5080]
Passwords come from the environment variable HOTRO_NEW_PASSWORD, or are asked twice
with getpass; they are never taken from the command line (shell history, ps).
Every parser sets `func`; it returns the exit code (0 ok, 1 refused, 2 bad input).
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Optional

from bot.console.auth import ROLES, UserError, UserStore

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2
PASSWORD_ENV = "HOTRO_NEW_PASSWORD"


def _user_store() -> UserStore:
    from bot.db import database_url
    from bot.handoff.store import ticket_store
    from bot.settings import load_settings

    return UserStore(ticket_store(database_url(load_settings())).engine)


def _new_password(name: str) -> Optional[str]:
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    if not sys.stdin.isatty():
        print(f"set {PASSWORD_ENV} or run in a terminal to type the password",
              file=sys.stderr)
        return None
    first = getpass.getpass(f"Mật khẩu cho / Password for {name}: ")
    second = getpass.getpass("Nhập lại / Repeat: ")
    if first != second:
        print("Hai mật khẩu không khớp / The passwords do not match", file=sys.stderr)
        return None
    return first


def cmd_user_add(args: argparse.Namespace) -> int:
    password = _new_password(args.name)
    if password is None:
        return EXIT_INPUT
    try:
        user = _user_store().add_user(args.name, password, args.role, args.display_name)
    except UserError as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    print(f"added {user.username} ({user.role})")
    return EXIT_OK


def cmd_user_passwd(args: argparse.Namespace) -> int:
    password = _new_password(args.name)
    if password is None:
        return EXIT_INPUT
    try:
        user = _user_store().set_password(args.name, password)
    except UserError as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    print(f"new password for {user.username}; their sessions ended")
    return EXIT_OK


def cmd_user_list(args: argparse.Namespace) -> int:
    for user in _user_store().list_users():
        last = user.last_login_at.isoformat(timespec="seconds") if user.last_login_at else "-"
        print(f"{user.username}\t{user.role}\t{user.display_name}\tlast login {last}")
    return EXIT_OK


def cmd_console(args: argparse.Namespace) -> int:
    from bot.console.__main__ import run

    return run(args.host, args.port)


def add_console_commands(subparsers) -> None:
    user = subparsers.add_parser("user", help="console users: add, passwd, list",
                                 description="Console users (agents, editors, leads, admins).")
    sub = user.add_subparsers(dest="user_command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("add", help="add a console user",
                       description=f"Add a console user. Password from ${PASSWORD_ENV} or "
                                   "typed twice.")
    p.add_argument("name", help="username: 2-64 characters a-z 0-9 . _ -")
    p.add_argument("--role", choices=ROLES, default="agent")
    p.add_argument("--display-name", help="name shown to colleagues (default: the username)")
    p.set_defaults(func=cmd_user_add)

    p = sub.add_parser("passwd", help="set a user's password (ends their sessions)")
    p.add_argument("name")
    p.set_defaults(func=cmd_user_passwd)

    p = sub.add_parser("list", help="list console users")
    p.set_defaults(func=cmd_user_list)

    console = subparsers.add_parser("console", help="run the agents' console (web app)")
    console.add_argument("--host", default="127.0.0.1")
    console.add_argument("--port", type=int, default=None,
                         help="default: console.port in hotro.yml (5080)")
    console.set_defaults(func=cmd_console)


if __name__ == "__main__":  # python -m bot.console.commands user add NAME --role admin
    import logging

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="hotro")
    add_console_commands(parser.add_subparsers(dest="command", required=True))
    arguments = parser.parse_args()
    sys.exit(arguments.func(arguments))
