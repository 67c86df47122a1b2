"""``python -m tools.sync_portal COMMAND --state DIR …``: the stand-in portal from a shell.

init, peer, make-application, resubmit, pay, ferry, serve, show, received; see
docs/sync.md "The portal stand-in".
"""

import argparse
import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from tools.sync_portal.portal import Material, Portal
from tools.sync_portal.samples import DEFAULT_REGION


def _materials(paths: Sequence[str] | None) -> list[Material] | None:
    if not paths:
        return None
    return [Material(Path(p).stem, Path(p).name, Path(p).read_bytes()) for p in paths]


def _written(portal: Portal, out: str | None) -> None:
    if out is None:
        print("queued: served by the gateway, or written by the next ferry or --out")
        return
    name = portal.write_into(out)
    print(f"written: {Path(out) / name}" if name else "written: nothing to send")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.sync_portal", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help)
        sub.add_argument("--state", required=True, help="the portal's state folder")
        return sub

    command("init", "create the key and state; print the public key last")
    peer = command("peer", "trust the intranet's public key (sgss-server sync keys show)")
    which = peer.add_mutually_exclusive_group(required=True)
    which.add_argument("--public-key", help="standard base64 of the 32 bytes")
    which.add_argument("--retire", metavar="KEY_ID", help="retire this key id from now on")

    make = command("make-application", "queue an application.submitted record")
    make.add_argument("--out", help="write the bundle into this folder (the intranet's in/)")
    make.add_argument("--region", default=DEFAULT_REGION, help="region code, default 西湖区")
    make.add_argument("--external-ref")
    make.add_argument("--application", help="a JSON file with the ApplicationCreate fields")
    make.add_argument("--material", action="append", help="a file to attach (repeatable)")

    again = command("resubmit", "queue an application.resubmitted record")
    again.add_argument("--external-ref", required=True)
    again.add_argument("--out")
    again.add_argument("--material", action="append")

    pay = command("pay", "queue a payment.confirmed record")
    pay.add_argument("--external-ref", required=True)
    pay.add_argument("--amount-fen", type=int, default=20000)
    pay.add_argument("--out")

    ferry = command("ferry", "one exchange: read the intranet's out/, write into its in/")
    ferry.add_argument("--intranet-dir", required=True, help="the intranet's SGSS_SYNC_DIR")

    serve = command("serve", "serve the HTTP gateway until interrupted")
    serve.add_argument("--port", type=int, default=8470)
    serve.add_argument("--host", default="127.0.0.1")

    command("show", "key: value lines of the state")
    received = command("received", "the intranet's records applied, one JSON line each")
    received.add_argument("--type")
    return parser


def _init(portal: Portal, args: argparse.Namespace) -> None:
    print(f"key_id: {portal.key_id}")
    print(portal.public_key)


def _peer(portal: Portal, args: argparse.Namespace) -> None:
    if args.retire:
        portal.retire_peer(args.retire)
        print(f"retired: {args.retire}")
    else:
        print(f"peer key_id: {portal.add_peer(args.public_key)}")


def _make_application(portal: Portal, args: argparse.Namespace) -> None:
    application = (
        json.loads(Path(args.application).read_text(encoding="utf-8")) if args.application else None
    )
    ref = portal.submit_application(
        region_code=args.region,
        application=application,
        materials=_materials(args.material),
        external_ref=args.external_ref,
    )
    print(f"external_ref: {ref}")
    _written(portal, args.out)


def _resubmit(portal: Portal, args: argparse.Namespace) -> None:
    portal.resubmit(args.external_ref, materials=_materials(args.material))
    _written(portal, args.out)


def _pay(portal: Portal, args: argparse.Namespace) -> None:
    portal.confirm_payment(args.external_ref, amount_fen=args.amount_fen)
    _written(portal, args.out)


def _ferry(portal: Portal, args: argparse.Namespace) -> None:
    report = portal.step_files(args.intranet_dir)
    for name, outcome in report.taken:
        print(f"taken: {name} {outcome.kind} {outcome.reason or outcome.count}")
    print(f"written: {report.written or 'nothing'}")


def _serve(portal: Portal, args: argparse.Namespace) -> None:
    url, stop = portal.serve_http(args.port, args.host)
    print(f"serving: {url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        stop()


def _show(portal: Portal, args: argparse.Namespace) -> None:
    for key, value in portal.status().items():
        print(f"{key}: {value}")


def _received(portal: Portal, args: argparse.Namespace) -> None:
    for record in portal.received(args.type):
        line = {"seq": record.seq, "type": record.type, "data": record.data}
        print(json.dumps(line, ensure_ascii=False, sort_keys=True))


_COMMANDS = {
    "init": _init,
    "peer": _peer,
    "make-application": _make_application,
    "resubmit": _resubmit,
    "pay": _pay,
    "ferry": _ferry,
    "serve": _serve,
    "show": _show,
    "received": _received,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _COMMANDS[args.command](Portal(args.state), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
