"""ImageNet weights for the paper's campaign: downloads per campaign before and after, the fetch
time from a local mirror, and the fingerprints of the six architectures on each stack.

Stub weight files of the exact topology and file names are made in each profile's image
(stand_ins/imagenet_stubs.py: Keras's real files are not reachable here; the stubs have
their sizes) and served by an HTTP server on loopback as the mirror. ``edgecompress fetch
paper`` then runs twice against a fresh cache: the first fetches, the second finds everything.

    .venv/bin/python -m bench.pretrained [--profiles x86-tf2.7 x86-tf2.12 x86-tf2.21]

(with the environment of ``make image``: LOCAL_BASE=1's EDGECOMPRESS_BASE_* where no registry
is reachable)
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from launcher import images
from launcher.contract.vocabulary import PAPER_ARCHITECTURES
from launcher.device.profiles import get_profile, resolve_base_image
from launcher.docker_client import Engine
from launcher.study.campaign import load_campaign
from launcher.study.fetch import weights_needed
from launcher.study.plan import expand, is_weights
from stand_ins import IMAGENET_STUBS

FINGERPRINTS = r"""
import json
from jobs import architectures, compat
from jobs._contract import PAPER_ARCHITECTURES
tf = compat.import_tensorflow(); keras = compat.keras_module(tf)
files = json.load(open('/stubs/table.json'))
out = {}
for name in PAPER_ARCHITECTURES:
    for weights in ('imagenet', None):
        model = architectures.build_classifier(
            keras, name, 224, 102, weights,
            weights_file='/stubs/' + files[name]['fname'] if weights else None)
        out[name + '/' + str(weights)] = architectures.fingerprint(model)
        keras.backend.clear_session()
print(json.dumps(out))
"""


def in_image(image: str, script: str, volumes: list[str]) -> str:
    args = [arg for volume in volumes for arg in ("-v", volume)]
    proc = subprocess.run(["docker", "run", "--rm", "--network", "none", "--user", "1000",
                           *args, "--entrypoint", "python3", image, "-c", script],
                          capture_output=True, text=True, check=True)
    return proc.stdout.strip().splitlines()[-1]


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def fetch_twice(profile: str, mirror: str, hashes: Path) -> tuple[float, float, str]:
    cache = tempfile.mkdtemp(prefix="bench-weights-")
    env = {**os.environ, "EDGECOMPRESS_WEIGHTS_URL": mirror, "EDGECOMPRESS_WEIGHTS_DIR": cache,
           "EDGECOMPRESS_WEIGHTS_HASHES": str(hashes)}
    times, last = [], ""
    for _ in range(2):
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "launcher", "fetch", "paper", "--profile",
                               profile], capture_output=True, text=True, env=env, check=True)
        times.append(time.perf_counter() - started)
        last = proc.stdout.strip().splitlines()[-1]
    return times[0], times[1], last


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", nargs="+", default=["x86-tf2.7", "x86-tf2.12", "x86-tf2.21"])
    args = parser.parse_args()
    engine = Engine.connect()
    plan = expand(load_campaign("paper"))
    before = sum(1 for node in plan.nodes if any(is_weights(s) for _, s in node.inputs))
    fingerprints: dict[str, dict[str, dict[str, object]]] = {}
    for name in args.profiles:
        profile = get_profile(name)
        # The image of this checkout's jobs/ (its content tag), built or reused as `build` does.
        image, _ = images.build_image(
            engine, images.plan_build(profile, resolve_base_image(profile),
                                      images.read_sources(profile)),
            images.read_extra_ca(os.environ.get("EDGECOMPRESS_EXTRA_CA")), lambda line: None)
        stubs = Path(tempfile.mkdtemp(prefix="bench-stubs-"))
        stubs.chmod(0o777)
        script = (IMAGENET_STUBS).read_text()
        table = in_image(image, script + "\nmain('/out', [])\n", [f"{stubs}:/out"])
        (stubs / "table.json").write_text(table)
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Quiet, directory=str(stubs)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            first, second, last = fetch_twice(name, f"http://127.0.0.1:{server.server_address[1]}",
                                              stubs / "hashes.json")
        finally:
            server.shutdown()
        files = {need.file.name for need in weights_needed(plan, profile.tensorflow)}
        size = sum((stubs / f).stat().st_size for f in files) / 1e6
        print(f"{name} (TF {profile.tensorflow}): paper campaign, jobs that downloaded weights "
              f"before: {before}; files fetched now: {len(files)} ({size:.0f} MB); fetch from "
              f"the loopback mirror {first:.2f} s, again (all cached, md5 checked) {second:.2f} s"
              f"; '{last}'")
        fingerprints[name] = json.loads(in_image(image, FINGERPRINTS, [f"{stubs}:/stubs:ro"]))
    print("\n| architecture | " + " | ".join(
        f"{p} ImageNet branch | {p} weights=None" for p in fingerprints) + " |")
    print("|---" * (1 + 2 * len(fingerprints)) + "|")
    for arch in PAPER_ARCHITECTURES:
        cells = []
        for found in fingerprints.values():
            for branch in ("imagenet", "None"):
                fp = found[f"{arch}/{branch}"]
                cells.append(f"{fp['parameters']:,} / {fp['layers']} / `{str(fp['sha256'])[:12]}`")
        print(f"| {arch} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
