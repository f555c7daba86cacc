"""Operator commands for a local or deployed Upline.

  python -m scripts.cli mint-token --role partner --partner-id P-DAN
  python -m scripts.cli create-table
  python -m scripts.cli seed-demo
"""
from __future__ import annotations

import argparse
import sys

from chalicelib import bootstrap
from chalicelib.auth import ROLES, mint_token
from chalicelib.store.schema import create_table
from scripts import localenv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="upline")
    sub = parser.add_subparsers(dest="command", required=True)
    tok = sub.add_parser("mint-token", help="a signed bearer token for a role (local HS256 secret)")
    tok.add_argument("--role", required=True, choices=ROLES)
    tok.add_argument("--partner-id")
    tok.add_argument("--subject")
    tok.add_argument("--member-id")
    sub.add_parser("create-table", help="create the table if it is missing")
    sub.add_parser("seed-demo", help="load the demo program (safe to run again)")
    args = parser.parse_args(argv)

    localenv.load(create=args.command != "mint-token")
    s = bootstrap.settings()
    if args.command == "mint-token":
        if not s.jwt_secret:
            print("no UPLINE_JWT_SECRET: run `make run` once, or export it", file=sys.stderr)
            return 2
        print(mint_token(s.jwt_secret, args.role, args.subject or f"{args.role}-cli", partner_id=args.partner_id,
                         member_id=args.member_id))
    elif args.command == "create-table":
        created = create_table(bootstrap.dynamodb_client(s), s.table_name)
        print(f"table {s.table_name}: {'created' if created else 'already there'}")
    elif args.command == "seed-demo":
        from scripts.demo import seed

        for line in seed(bootstrap.repository(), s):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
