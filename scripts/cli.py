"""Operator and finance commands for a local or deployed Upline.

  python -m scripts.cli mint-token --role partner --partner-id P-DAN
  python -m scripts.cli create-table
  python -m scripts.cli seed-demo
  python -m scripts.cli settle [--period 2026-10] [--dry-run] [--as alice]
  python -m scripts.cli show 2026-10
  python -m scripts.cli export 2026-10 summary [--out summary.csv]
  python -m scripts.cli approve 2026-10 --as bob
  python -m scripts.cli mark-paid 2026-10 --as bob
  python -m scripts.cli mark-failed 2026-10 P-DAN USD --reason "account closed" --as bob
  python -m scripts.cli confirm-failed 2026-10 P-DAN USD --as carol    (a second finance user)
  python -m scripts.cli backup --to s3://my-backups/upline            (or --to ./backups)
  python -m scripts.cli restore --from s3://my-backups/upline/upline-20261125T031200Z --table upline-restored

Against `make run` it finds DynamoDB Local by itself; `--aws` uses the environment as it is
(UPLINE_TABLE, AWS credentials, UPLINE_EXPORT_BUCKET) for a deployed stack.
"""
from __future__ import annotations

import argparse
import sys

from chalicelib import bootstrap
from chalicelib.auth import ROLES, mint_token
from chalicelib.domain.errors import DomainError
from chalicelib.store.schema import create_table
from scripts import localenv


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except DomainError as e:
        print(f"refused ({e.code}): {e.message}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="upline")
    sub = parser.add_subparsers(dest="command", required=True)
    tok = sub.add_parser("mint-token", help="a signed bearer token for a role (local HS256 secret)")
    tok.add_argument("--role", required=True, choices=ROLES)
    tok.add_argument("--partner-id")
    tok.add_argument("--subject")
    tok.add_argument("--member-id")
    sub.add_parser("create-table", help="create the table if it is missing")
    sub.add_parser("seed-demo", help="load the demo program (safe to run again)")
    parser.add_argument("--aws", action="store_true", help="use the environment as is, not DynamoDB Local")
    settle = sub.add_parser("settle", help="settle a period (default: the latest past its lock)")
    settle.add_argument("--period")
    settle.add_argument("--dry-run", action="store_true", help="show the batch without writing anything")
    settle.add_argument("--as", dest="who", default="cli:operator")
    for name, text in (("show", "a batch, its lines and events"), ("approve", "approve a draft batch"),
                       ("mark-paid", "the bank paid an approved batch")):
        p = sub.add_parser(name, help=text)
        p.add_argument("period")
        p.add_argument("--as", dest="who", default="cli:finance")
    exp = sub.add_parser("export", help="write an export (summary, detail, json, payouts) to a file or stdout")
    exp.add_argument("period")
    exp.add_argument("name", choices=["summary", "detail", "json", "payouts"])
    exp.add_argument("--out")
    # A bounced payout: one finance user reports it, another confirms it (only then is it owed again).
    for name, text in (("mark-failed", "report that a payout bounced (moves nothing until confirmed)"),
                       ("confirm-failed", "confirm a reported bounce: the payout fails and is owed again"),
                       ("dismiss-failed", "withdraw a reported bounce that did not happen")):
        failed = sub.add_parser(name, help=text)
        failed.add_argument("period")
        failed.add_argument("partner_id")
        failed.add_argument("currency")
        if name != "confirm-failed":
            failed.add_argument("--reason", required=True)
        failed.add_argument("--as", dest="who", required=True, help="who you are (a finance user)")
    # ---- backup and restore (issue 8) ----
    bk = sub.add_parser("backup", help="export the whole table as checksummed JSON lines to S3 or a folder")
    bk.add_argument("--to", required=True, help="s3://bucket/prefix or a local folder")
    bk.add_argument("--name", help="the backup's name under --to (default: upline-<UTC time>)")
    rs = sub.add_parser("restore", help="verify a backup and load it into an empty table")
    rs.add_argument("--from", dest="source", required=True, help="s3://bucket/prefix/name or folder/name")
    rs.add_argument("--table", help="the empty table to restore into (created if missing; default: UPLINE_TABLE)")
    args = parser.parse_args(argv)

    localenv.load(create=args.command != "mint-token")
    if not args.aws and args.command not in ("mint-token",):
        localenv.use_local_database()
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
    elif args.command in ("backup", "restore"):
        return backup_restore(args)
    else:
        return finance(args)
    return 0


def _files_at(location: str):
    """(S3 FileStore, prefix) for s3://bucket/prefix."""
    import boto3

    from chalicelib.store.files import S3Files

    bucket, _, prefix = location[5:].partition("/")
    return S3Files(boto3.client("s3", region_name=bootstrap.settings().region), bucket), prefix.strip("/")


def backup_restore(args: argparse.Namespace) -> int:
    """The backup drill: the same service functions the restore test runs."""
    import json
    from pathlib import Path

    from chalicelib.services import backup as svc
    from chalicelib.store.dynamo import Table
    from chalicelib.store.files import FolderFiles

    s = bootstrap.settings()
    now = bootstrap.now()
    client = bootstrap.dynamodb_client(s)
    location = args.to if args.command == "backup" else args.source
    if location.startswith("s3://"):
        files, prefix = _files_at(location)
    else:  # a folder: its parent is the store's root, so keys stay inside it
        path = Path(location).resolve()
        files, prefix = FolderFiles(path.parent), path.name
    if args.command == "backup":
        name = args.name or f"upline-{now.strftime('%Y%m%dT%H%M%SZ')}"
        prefix = f"{prefix}/{name}" if prefix else name
        manifest = svc.backup(Table(client, s.table_name), files, prefix, now)
        print(json.dumps({"backup": location.rstrip("/") + "/" + name, "items": manifest["items"],
                          "files": len(manifest["files"]), "kinds": manifest["kinds"]}, indent=2))
        return 0
    table_name = args.table or s.table_name
    create_table(client, table_name)
    report = svc.restore(Table(client, table_name), files, prefix)
    print(json.dumps({"table": report["table"], "items": report["items"], "files": report["files"],
                      "reconciled": True}, indent=2))
    return 0


def finance(args: argparse.Namespace) -> int:
    """The settlement commands: they call the same services as the API and the schedule."""
    import json

    from tqdm import tqdm

    from chalicelib.auth import Principal
    from chalicelib.services import settlement as svc

    now = bootstrap.now()
    if args.command == "settle":
        bar = tqdm(desc="settling", unit="step", file=sys.stderr)
        d = bootstrap.settlement(progress=lambda what, n: bar.update(n), fan_out=False)
        period = args.period or d.cal.last_closeable(now)
        result = svc.dry_run(d, period, now) if args.dry_run else svc.close_period(d, period, now, args.who)
        bar.close()
        print(json.dumps(result, indent=2, default=str))
        return 0
    d = bootstrap.settlement(fan_out=False)
    who = Principal(subject=getattr(args, "who", "cli:finance"), role="finance")
    if args.command == "show":
        print(json.dumps(svc.show(d, args.period), indent=2, default=str))
    elif args.command == "approve":
        print(json.dumps(svc.approve(d, args.period, who, now), indent=2, default=str))
    elif args.command == "mark-paid":
        print(json.dumps(svc.mark_paid(d, args.period, who, now), indent=2, default=str))
    elif args.command in ("mark-failed", "confirm-failed", "dismiss-failed"):
        print(json.dumps(bounce(d, args, who, now), indent=2))
    elif args.command == "export":
        batch = svc.show(d, args.period)["batch"]
        meta = batch["payout_file"] if args.name == "payouts" else batch["exports"][args.name]
        data = d.files.get(svc.export_key(args.period, meta["file"]))
        if args.out:
            with open(args.out, "wb") as f:
                f.write(data)
            print(f"{args.out}: {len(data)} bytes, sha256 {meta['sha256']}", file=sys.stderr)
        else:
            sys.stdout.buffer.write(data)
    return 0


def bounce(d, args: argparse.Namespace, who, now):
    """The bounce steps, through the same service and with the same audit records as the API."""
    from chalicelib.services import bounces
    from chalicelib.store.security import SecurityStore

    action = {"mark-failed": "payout.bounce_reported", "confirm-failed": "payout.failed",
              "dismiss-failed": "payout.bounce_dismissed"}[args.command]
    target = f"payout:{args.period}:{args.partner_id}:{args.currency}"

    def audit(before, after):
        return SecurityStore.audit_op(who.subject, who.role, action, target, before, after, now)

    where = (d, args.period, args.partner_id, args.currency)
    if args.command == "mark-failed":
        return bounces.report(*where, args.reason, who, now, audit)
    if args.command == "confirm-failed":
        return bounces.confirm(*where, who, now, audit)
    return bounces.dismiss(*where, args.reason, who, now, audit)


if __name__ == "__main__":
    sys.exit(main())
