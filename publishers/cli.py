"""`python -m publishers`: run the example publisher services until SIGINT or SIGTERM."""

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from publishers.server import ROUTES, make_server

TOKEN_ENV = "PUBLISHER_AUTH_TOKEN"
TOKEN_FILE_WAIT_SECONDS = 60.0
TOKEN_FILE_POLL_SECONDS = 0.25


class TokenUnavailable(Exception):
    pass


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m publishers", description="Serve the example add-on publisher services."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101, help="0 picks a free port")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--auth-token", help=f"the publisher account's auth token (default: ${TOKEN_ENV})")
    source.add_argument(
        "--auth-token-file",
        type=Path,
        help=f"file holding the auth token; waited for up to {TOKEN_FILE_WAIT_SECONDS:.0f} s if it does not exist yet",
    )
    parser.add_argument(
        "--public-url",
        help="scheme and host the platform calls when behind a proxy, e.g. https://publishers.example.com",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser.parse_args(argv)


def wait_for_token_file(
    path: Path,
    *,
    timeout: float = TOKEN_FILE_WAIT_SECONDS,
    interval: float = TOKEN_FILE_POLL_SECONDS,
    sleep: Callable[[float], object] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> str:
    """The token in `path`, polling until it exists and is not empty.

    The platform's demo loader writes the file at start-up, possibly after this process
    starts. `sleep` returning true (like Event.wait) means "stop waiting".
    """
    deadline = monotonic() + timeout
    while True:
        try:
            token = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            token = ""
        if token:
            return token
        if monotonic() >= deadline:
            raise TokenUnavailable(f"no auth token in {path} after {timeout:.0f} s")
        if sleep(interval):
            raise TokenUnavailable(f"stopped while waiting for {path}")


def resolve_auth_token(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    *,
    wait: Callable[[Path], str] = wait_for_token_file,
) -> str:
    """--auth-token, else --auth-token-file, else $PUBLISHER_AUTH_TOKEN."""
    if args.auth_token:
        return args.auth_token
    if args.auth_token_file:
        return wait(args.auth_token_file)
    token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise TokenUnavailable(f"give --auth-token, --auth-token-file or ${TOKEN_ENV}")
    return token


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    try:
        token = resolve_auth_token(args, os.environ, wait=lambda path: wait_for_token_file(path, sleep=stop.wait))
    except TokenUnavailable as error:
        print(f"publishers: {error}", file=sys.stderr)
        return 0 if stop.is_set() else 1
    try:
        server = make_server(args.host, args.port, auth_token=token, public_url=args.public_url)
    except ValueError as error:  # a malformed --public-url
        print(f"publishers: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"publishers: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1

    # serve_forever runs in a thread: shutdown() must come from another thread than the loop's.
    serving = threading.Thread(target=server.serve_forever, name="publishers-http", daemon=True)
    serving.start()
    print(f"publishers listening on {server.url} ({', '.join(sorted(ROUTES))}, /healthz)", flush=True)
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    serving.join()
    logging.getLogger("publishers").info("stopped")
    return 0
