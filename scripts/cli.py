"""Operator and finance commands for a local or deployed Upline.

  python -m scripts.cli mint-token --role finance --subject fin-1     (--role partner --partner-id P-DAN)
  python -m scripts.cli next-period                                   the oldest period past its lock not settled yet
  python -m scripts.cli settle --dry-run [--period 2026-09]
  python -m scripts.cli settle --as alice [--period 2026-09]
  python -m scripts.cli show 2026-09
  python -m scripts.cli approve 2026-09 --as bob
  python -m scripts.cli export 2026-09 summary --as bob [--out summary.csv]
  python -m scripts.cli mark-paid 2026-09 --reason "bank statement 2026-10-02" --as bob
  python -m scripts.cli mark-failed 2026-09 P-DAN USD --reason "account closed" --as bob   (reports a bounce)
  python -m scripts.cli confirm-failed 2026-09 P-DAN USD --reason "bank returned it" --as carol  (a second person)
  python -m scripts.cli dismiss-failed 2026-09 P-DAN USD --reason "paid after all" --as carol
  python -m scripts.cli backup --to s3://my-backups/upline --as carol            (or --to ./backups)
  python -m scripts.cli restore --from ./backups/upline-20261125T031200Z --table upline-restored --as carol
  python -m scripts.cli create-table | seed-demo

Every command that acts names a person (`--as`): it is checked by the same rules as the API
(maker-checker included) and leaves the same audit record. By default the CLI acts on the running
`make run` (it reads .data/run.json, whatever port that was started on); `--aws --stage prod` acts
on a deployed stack with the environment's AWS credentials. Either way the program's settings are the
stage's, from .chalice/config.json, as the API's are.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Mapping
from typing import Any, NoReturn

from chalicelib import bootstrap
from chalicelib.auth import ROLES, Principal, mint_for
from chalicelib.config import PROGRAM, effective_environment, group_variables, is_setting_variable
from chalicelib.domain import actors
from chalicelib.domain.errors import DomainError
from chalicelib.store.schema import create_table
from scripts import localenv

DEMO = Principal(subject=actors.system("demo"), role="system")
ACTS = {
    "settle",
    "approve",
    "mark-paid",
    "mark-failed",
    "confirm-failed",
    "dismiss-failed",
    "export",
    "backup",
    "restore",
}


class Refused(Exception):
    """A command that cannot go on, with the one line that says why."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not the usage block
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="upline", description="Operator and finance commands (see the module docstring).")
    p.add_argument("--aws", action="store_true", help="act on a deployed stack (needs --stage and AWS credentials)")
    p.add_argument("--stage", help="the stage in .chalice/config.json (default: the running make run's, local)")
    p.add_argument("--traceback", action="store_true", help="show the whole traceback of an unexpected error")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    tok = sub.add_parser("mint-token", help="a signed bearer token for a role (local HS256 secret)")
    tok.add_argument("--role", required=True, choices=ROLES)
    tok.add_argument("--subject", help="the person the token names (required for admin and finance)")
    tok.add_argument("--partner-id")
    tok.add_argument("--member-id")
    sub.add_parser("create-table", help="create the table if it is missing")
    sub.add_parser("seed-demo", help="load the demo program (safe to run again)")
    sub.add_parser(
        "next-period", help="the period `settle` settles by default: the oldest past its lock not settled yet"
    )
    settle = sub.add_parser("settle", help="settle a period (default: next-period)")
    settle.add_argument("--period")
    settle.add_argument("--dry-run", action="store_true", help="show the batch without writing anything")
    sub.add_parser("show", help="a batch, its lines and events").add_argument("period")
    for name, text in (
        ("approve", "approve a draft batch (someone other than who settled it)"),
        ("mark-paid", "the bank paid an approved batch (--reason: what the bank confirmed)"),
    ):
        act = sub.add_parser(name, help=text)
        act.add_argument("period")
        if name == "mark-paid":
            act.add_argument("--reason", required=True)
    exp = sub.add_parser("export", help="write an export (summary, detail, json, payouts) to a file or stdout")
    exp.add_argument("period")
    exp.add_argument("name", choices=["summary", "detail", "json", "payouts"])
    exp.add_argument("--out")
    # A bounced payout: one finance user reports it, another confirms it (only then is it owed again).
    for name, text in (
        ("mark-failed", "report that a payout bounced (moves nothing until confirmed)"),
        ("confirm-failed", "confirm a reported bounce: the payout fails and is owed again"),
        ("dismiss-failed", "withdraw a reported bounce that did not happen"),
    ):
        failed = sub.add_parser(name, help=text)
        failed.add_argument("period")
        failed.add_argument("partner_id")
        failed.add_argument("currency")
        failed.add_argument("--reason", required=True)
    # ---- backup and restore (issue 8) ----
    bk = sub.add_parser("backup", help="export the whole table as checksummed JSON lines to S3 or a folder")
    bk.add_argument("--to", required=True, help="s3://bucket/prefix or a local folder")
    bk.add_argument("--name", help="the backup's name under --to (default: upline-<UTC time>)")
    rs = sub.add_parser("restore", help="verify a backup and load it into an empty table")
    rs.add_argument("--from", dest="source", required=True, help="s3://bucket/prefix/name or folder/name")
    rs.add_argument("--table", help="the empty table to restore into (created if missing; default: the stage's)")
    for name in ACTS:
        sub.choices[name].add_argument(
            "--as", dest="who", metavar="NAME", help="who is acting (required; for settle, unless --dry-run)"
        )
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; every failure is one line on stderr (exit 2: refused, 1: could not run)."""
    args = parser().parse_args(argv)
    try:
        return _run(args)
    except DomainError as e:
        return _fail(f"refused ({e.code}): {e.message}", 2)
    except Refused as e:
        return _fail(str(e), 2)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        sys.stderr.close()
        return 0
    except Exception as e:  # any other failure: the operator gets one line; --traceback shows the rest
        if args.traceback:
            raise
        return _fail(explain(e, args), 1)


def _fail(line: str, code: int) -> int:
    print(f"upline: {line}", file=sys.stderr)
    return code


def explain(e: Exception, args: argparse.Namespace) -> str:
    """One readable line for an error the operator can do something about."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
    )
    from pydantic import ValidationError

    endpoint = os.environ.get("DYNAMODB_ENDPOINT")
    if isinstance(e, (EndpointConnectionError, ConnectionClosedError)):
        if not args.aws:
            return f"cannot reach DynamoDB Local at {endpoint}: is `make run` running?"
        return f"cannot reach AWS ({e}): check the network and the region"
    if isinstance(e, NoCredentialsError):
        return "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (--aws acts on AWS)"
    if isinstance(e, NoRegionError):
        return "no AWS region: set AWS_REGION"
    if isinstance(e, ClientError):
        err = e.response.get("Error", {})
        if err.get("Code") == "ResourceNotFoundException":
            where = "in DynamoDB Local (make run creates it)" if not args.aws else "in this account and region"
            return f"the table {os.environ.get('UPLINE_TABLE', '?')} does not exist {where}"
        return f"AWS refused {e.operation_name}: {err.get('Code')}: {err.get('Message')}"
    if isinstance(e, ValidationError):
        problems = "; ".join(f"{'.'.join(str(x) for x in p['loc'])}: {p['msg']}" for p in e.errors())
        return f"bad setting: {problems}"
    if isinstance(e, (ValueError, OSError)):
        return str(e)
    return f"{type(e).__name__}: {e} (run again with --traceback for the details)"


def environment(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The stage and the environment this invocation acts with, through the one loader
    (`chalicelib.config.effective_environment`) the other entry points outside Lambda use:
    - local: the process environment, then what the running `make run` recorded (its database and
      the settings its API was started with, which replace any setting this terminal exported),
      then the stage's values from .chalice/config.json;
    - --aws: the process environment (credentials, region) less any program setting it exports, then
      the stage's values: what the deployed functions run with."""
    if args.aws:
        if not args.stage:
            raise Refused("--aws needs --stage (dev or prod): say which deployed stack to act on")
        # The deployed functions know only the stage's values: a program setting exported in this
        # terminal must not make the CLI's calendar or rules differ from theirs.
        own = {k: v for k, v in environ.items() if k not in group_variables(PROGRAM) | {"DYNAMODB_ENDPOINT"}}
        return args.stage, effective_environment(args.stage, own, pseudo=lambda: _aws_pseudo(environ))
    run = localenv.running()
    stage = args.stage or (run or {}).get("stage") or localenv.LOCAL_STAGE
    if run is None:
        return stage, effective_environment(stage, {**localenv.fallback(environ), **environ})
    own = {k: v for k, v in environ.items() if not is_setting_variable(k)}
    return stage, effective_environment(stage, {**localenv.LOCAL_DEFAULTS, **own}, overlay=run["environment"])


def _aws_pseudo(environ: Mapping[str, str]) -> dict[str, str]:
    """${AWS::AccountId}, ${AWS::Region}, ${AWS::URLSuffix} for the credentials at hand."""
    import boto3

    session = boto3.session.Session()
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or session.region_name
    if not region:
        raise Refused("no AWS region: set AWS_REGION")
    account = session.client("sts", region_name=region).get_caller_identity()["Account"]
    return {
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com",
    }


def _as(args: argparse.Namespace, role: str) -> Principal:
    """The person acting, named with --as: checked, never a default."""
    if not getattr(args, "who", None):
        raise Refused(f"{args.command} acts on the program: say who you are with --as NAME")
    return Principal(subject=actors.person(args.who), role=role)


def _run(args: argparse.Namespace) -> int:
    if args.command == "settle" and not args.dry_run:
        _as(args, "finance")  # refuse before touching anything
    elif args.command in ACTS - {"settle"}:
        _as(args, "finance")
    _, env = environment(args, os.environ)
    os.environ.clear()
    os.environ.update(env)
    bootstrap.reset()
    s = bootstrap.settings()
    if args.command == "mint-token":
        return _mint(args, s)
    if args.command == "create-table":
        created = create_table(bootstrap.dynamodb_client(s), s.table)
        print(f"table {s.table}: {'created' if created else 'already there'}")
    elif args.command == "seed-demo":
        from scripts.demo import seed

        for line in seed(bootstrap.uow(), s, DEMO, bootstrap.audit_trail(_invocation())):
            print(line)
    elif args.command in ("backup", "restore"):
        return backup_restore(args)
    else:
        return finance(args)
    return 0


def _invocation() -> str:
    return f"cli:{uuid.uuid4().hex}"


def _mint(args: argparse.Namespace, s: Any) -> int:
    if not s.jwt_secret:
        raise Refused("no UPLINE_JWT_SECRET: run `make run` once (it generates .data/local.env), or export it")
    if args.role in ("admin", "finance") and not args.subject:
        raise Refused(f"{args.role} tokens name a person: add --subject NAME")
    subject = actors.person(args.subject) if args.subject else (args.partner_id or args.member_id or args.role)
    print(mint_for(s, args.role, subject, partner_id=args.partner_id, member_id=args.member_id))
    return 0


def _files_at(location: str):
    """(S3 FileStore, prefix) for s3://bucket/prefix."""
    import boto3

    from chalicelib.store.files import S3Files

    bucket, _, prefix = location[5:].partition("/")
    return S3Files(boto3.client("s3", region_name=bootstrap.settings().region), bucket), prefix.strip("/")


def backup_restore(args: argparse.Namespace) -> int:
    """The backup drill: the same service functions the restore test runs, audited as the operator."""
    from pathlib import Path

    from chalicelib.services import backup as svc
    from chalicelib.services.audit import AuditTrail
    from chalicelib.store.dynamo import Table
    from chalicelib.store.files import FolderFiles
    from chalicelib.store.repositories import Repositories
    from chalicelib.store.uow import UnitOfWork

    who = _as(args, "admin")
    trail = bootstrap.audit_trail(_invocation())
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
        manifest = svc.backup(Table(client, s.table), files, prefix, now)
        where = location.rstrip("/") + "/" + name
        trail.record(who, "table.backup", f"table:{s.table}", None, {"backup": where, "items": manifest["items"]})
        print(
            json.dumps(
                {
                    "backup": where,
                    "items": manifest["items"],
                    "files": len(manifest["files"]),
                    "kinds": manifest["kinds"],
                },
                indent=2,
            )
        )
        return 0
    table_name = args.table or s.table
    create_table(client, table_name)
    report = svc.restore(Table(client, table_name), files, prefix)
    # Recorded in the restored table: it is the program's data from now on, and the stage's own
    # table may be the one that was lost.
    restored = AuditTrail(UnitOfWork(Repositories(Table(client, table_name))), bootstrap.now, trail.request_id)
    restored.record(who, "table.restore", f"table:{table_name}", None, {"from": location, "items": report["items"]})
    print(
        json.dumps(
            {"table": report["table"], "items": report["items"], "files": report["files"], "reconciled": True}, indent=2
        )
    )
    return 0


def finance(args: argparse.Namespace) -> int:
    """The settlement commands: the same services, rules and audit records as the API's."""
    from chalicelib.services import finance as fin
    from chalicelib.services.settlement import batches, preview

    now = bootstrap.now()
    if args.command == "next-period":
        print(fin.next_period(bootstrap.settlement(fan_out=False), now))
        return 0
    if args.command == "show":
        print(json.dumps(batches.show(bootstrap.settlement(fan_out=False), args.period), indent=2, default=str))
        return 0
    trail = bootstrap.audit_trail(_invocation())
    if args.command == "settle":
        from tqdm import tqdm

        bar = tqdm(desc="settling", unit="step", file=sys.stderr, disable=args.dry_run)
        d = bootstrap.settlement(progress=lambda what, n: bar.update(n), fan_out=False)
        period = args.period or fin.next_period(d, now)
        try:
            result = (
                preview.dry_run(d, period, now)
                if args.dry_run
                else fin.run(d, trail, _as(args, "finance"), period, now)
            )
        finally:
            bar.close()
        print(json.dumps(result, indent=2, default=str))
        return 0
    d = bootstrap.settlement(fan_out=False)
    who = _as(args, "finance")
    if args.command == "approve":
        print(json.dumps(fin.approve(d, trail, who, args.period, now), indent=2, default=str))
    elif args.command == "mark-paid":
        print(json.dumps(fin.mark_paid(d, trail, who, args.period, args.reason, now), indent=2, default=str))
    elif args.command in ("mark-failed", "confirm-failed", "dismiss-failed"):
        print(json.dumps(bounce(d, trail, args, who, now), indent=2))
    elif args.command == "export":
        try:
            meta, data = fin.download(d, trail, who, args.period, args.name)
        except fin.CorruptExport as e:
            raise Refused(str(e)) from None
        if args.out:
            with open(args.out, "wb") as f:
                f.write(data)
            print(f"{args.out}: {len(data)} bytes, sha256 {meta['sha256']}", file=sys.stderr)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
    return 0


def bounce(d, trail, args: argparse.Namespace, who, now):
    """The bounce steps, through the same finance actions (and audit records) as the API."""
    from chalicelib.services import finance as fin

    where = (d, trail, who, args.period, args.partner_id, args.currency)
    if args.command == "mark-failed":
        return fin.report_bounce(*where, args.reason, now)
    if args.command == "confirm-failed":
        return fin.confirm_bounce(*where, args.reason, now)
    return fin.dismiss_bounce(*where, args.reason, now)


if __name__ == "__main__":
    sys.exit(main())
