"""``brookmq start [--config FILE]``."""

from __future__ import annotations

import argparse
import logging
import sys

import uvloop

from brookmq.app import preflight
from brookmq.app.server import BrookMQ
from brookmq.config import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="brookmq", description="BrookMQ MQTT broker")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="run the broker in the foreground")
    start.add_argument("--config", "-c", help="HOCON configuration file (brookmq.conf)")
    args = parser.parse_args(argv)

    try:
        settings = load_settings(args.config)
        preflight.check(settings)
    except (ConfigError, preflight.StartupError) as exc:
        print(f"brookmq: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log.level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        uvloop.run(BrookMQ(settings).serve())
    except OSError as exc:  # what preflight could not foresee (e.g. a port taken since)
        print(f"brookmq: cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
