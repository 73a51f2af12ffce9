#!/usr/bin/python3
"""Local AWS emulator: RDS (Query API), STS, Secrets Manager, SSM, EC2 IMDSv2 and
the ECS credentials endpoint on one loopback port.  See tests/emulators/README.md.

  /usr/bin/python3 tests/emulators/aws_emulator.py --port 0 --port-file F \
      [--seed FIXTURE.json] [--time-scale N] [--region us-east-1] \
      [--credentials-lifetime SECONDS] [--quiet]
"""
import argparse
import os
import signal
import socket
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def write_port_file(path, port):
    """Atomically: readers never see a partial file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".port.", dir=directory)
    with os.fdopen(fd, "w") as f:
        f.write(f"{port}\n")
    os.rename(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any)")
    ap.add_argument("--port-file", help="write the listening port here once ready")
    ap.add_argument("--seed", help="fixture JSON to load (default: none, an empty account)")
    ap.add_argument("--time-scale", type=float, default=1.0,
                    help="AWS seconds per real second for state changes (default 1)")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--credentials-lifetime", type=int, default=None,
                    help="lifetime in seconds of every credential STS/IMDS/ECS issue")
    ap.add_argument("--quiet", action="store_true", help="do not log each call to stderr")
    args = ap.parse_args(argv)
    if args.time_scale <= 0:
        ap.error("--time-scale must be positive")
    from awsemu import fixtures  # pylint: disable=import-outside-toplevel  (cheap: json only)
    try:
        seed = fixtures.load_file(args.seed) if args.seed else None
    except fixtures.FixtureError as e:
        sys.stderr.write(f"aws_emulator: {e}\n")
        return 78
    # Bind first and announce the port at once: botocore's import costs ~0.6 s of
    # CPU, and connections made meanwhile simply wait in the listen backlog.
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", args.port))
        sock.listen(128)
    except OSError as e:
        sys.stderr.write(f"aws_emulator: cannot listen on 127.0.0.1:{args.port}: {e}\n")
        return 71
    port = sock.getsockname()[1]
    stop_requested = threading.Event()

    def early_stop(_signum, _frame):
        stop_requested.set()

    signal.signal(signal.SIGTERM, early_stop)
    signal.signal(signal.SIGINT, early_stop)
    if args.port_file:
        write_port_file(args.port_file, port)

    from awsemu.server import Emulator, make_server  # pylint: disable=import-outside-toplevel
    try:
        if seed is not None and "region" not in seed:
            seed["region"] = args.region
        emulator = Emulator(region=args.region, time_scale=args.time_scale,
                            credentials_lifetime=args.credentials_lifetime, seed=seed,
                            quiet=args.quiet)
    except fixtures.FixtureError as e:
        sys.stderr.write(f"aws_emulator: {e}\n")
        return 78
    server = make_server(emulator, sock)

    def stop(signum, _frame):
        emulator.log(f"signal {signum}: stopping")
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if stop_requested.is_set():
        server.server_close()
        return 0
    emulator.log(f"listening on http://127.0.0.1:{port} region {emulator.region} "
                 f"account {emulator.account} time-scale {args.time_scale}")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
