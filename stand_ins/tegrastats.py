#!/usr/bin/env python3
"""A stand-in for a Jetson's tegrastats, for machines without one: prints lines a real board
printed (tests/data/jetson/*/tegrastats-*.log), one per --interval milliseconds, cycling, until
it is stopped."""

import argparse
import itertools
import sys
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--interval", type=int, default=1000, help="milliseconds between lines")
parser.add_argument("--replay", type=Path, required=True, help="recorded tegrastats lines")
args = parser.parse_args()

lines = [line for line in args.replay.read_text().splitlines() if line.strip()]
# Buffered as C stdio buffers tegrastats' output, whatever PYTHONUNBUFFERED says: by line on
# a terminal, in blocks on a pipe.
with open(sys.stdout.fileno(), "w", buffering=-1, closefd=False) as out:
    for line in itertools.cycle(lines):
        time.sleep(args.interval / 1000)
        out.write(line + "\n")
