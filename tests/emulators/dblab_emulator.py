#!/usr/bin/python3
"""DBLab Engine 4.x emulator.

  dblab_emulator.py --port 0 --port-file F --token T [--seed FIXTURE] [--time-scale N]
                    [--aws-url URL] [--tls-cert C --tls-key K] [--verbose]

Listens on 127.0.0.1 only and writes the bound port to F once it accepts connections.
The token may also come from $DBLAB_EMULATOR_TOKEN (keeps it out of argv); an empty
token disables the check, as an engine with an empty verificationToken does.
--seed takes a server.yml (the engine's config) or a .json seed of engine state whose
"config" names the server.yml. See tests/emulators/README.md.
"""
import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dblabemu.engine import Clock, Engine, load_seed  # noqa: E402
from dblabemu.server import EmulatorServer, make_tls_context  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description="DBLab Engine emulator")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--token", default=None)
    ap.add_argument("--seed")
    ap.add_argument("--time-scale", type=float, default=1.0)
    ap.add_argument("--aws-url")
    ap.add_argument("--aws-port-file", help=argparse.SUPPRESS)  # run-emulators: AWS port, read lazily
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)

    token = args.token if args.token is not None else os.environ.get("DBLAB_EMULATOR_TOKEN")
    if token is None:
        ap.error("--token (or $DBLAB_EMULATOR_TOKEN) is required; use --token '' for no check")
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if args.time_scale <= 0:
        ap.error("--time-scale must be positive")
    try:
        seed = load_seed(args.seed)
        tls = make_tls_context(args.tls_cert, args.tls_key) if args.tls_cert else None
    except (OSError, ValueError) as e:
        print("dblab_emulator: %s" % e, file=sys.stderr)
        return 66
    log = (lambda m: print("dblab_emulator: " + m, file=sys.stderr)) if args.verbose else None
    engine = Engine(seed, Clock(args.time_scale), aws_url=args.aws_url, log=log,
                    aws_port_file=args.aws_port_file)
    server = EmulatorServer(("127.0.0.1", args.port), engine, token, tls, args.verbose)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    if args.verbose:
        print("dblab_emulator: listening on %s://127.0.0.1:%d" % ("https" if tls else "http", port),
              file=sys.stderr)

    def stop(signum, frame):
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
