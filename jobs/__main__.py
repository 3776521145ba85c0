"""Entry point: ``python3 -m jobs --spec /job/spec.json [--out /job/out]`` (the paths are
jobs/_contract.py's CONTAINER_SPEC_PATH and CONTAINER_OUT_DIR).

``python3 -m jobs probe`` runs the probe without a spec file and prints its result: the smoke
test of an image right after it is built.
"""
import time

STARTED = time.time()  # before any other import: imports are part of what is timed

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

from jobs import contract  # noqa: E402
from jobs._contract import CONTAINER_OUT_DIR, CONTAINER_SPEC_PATH, ERROR_PREFIX  # noqa: E402
from jobs.errors import JobInputError  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m jobs")
    parser.add_argument("command", nargs="?", choices=["run", "probe", "finish"],
                        default="run")
    parser.add_argument("--spec", help="path of the job's spec.json")
    parser.add_argument("--state", help="finish: the state a job saving apart left")
    parser.add_argument("--out", default=CONTAINER_OUT_DIR,
                        help="folder for result.json and artifacts")
    args = parser.parse_args(argv)
    try:
        if args.command == "probe":
            out = tempfile.mkdtemp(prefix="probe-")
            path = contract.run({"schema_version": contract.SCHEMA_VERSION, "job": "probe"},
                                out, STARTED)
            with open(path) as handle:
                sys.stdout.write(json.dumps(json.load(handle), indent=2) + "\n")
            return 0
        if args.command == "finish":  # a job saving its SavedModel apart (jobs/contract.py)
            contract.finish_apart(args.state, args.out, STARTED)
            return 0
        if not args.spec:
            raise JobInputError("no spec given: run as python3 -m jobs --spec {}".format(
                CONTAINER_SPEC_PATH))
        contract.run(contract.read_spec(args.spec), args.out, STARTED)
        return 0
    except JobInputError as error:
        # The launcher reports the rest of this line as the failure's reason.
        sys.stderr.write("{}{}\n".format(ERROR_PREFIX, error))
        return 2


if __name__ == "__main__":
    sys.exit(main())
