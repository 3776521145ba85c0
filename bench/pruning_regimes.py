"""Pruning at 25/50/75 % under each regime (pruned_layers, all, as_restored), on two bases, in
one run: test top-1 against the base, the prune job's wall time, and the steps at which the
masks changed.

- the quick preset's base: MobileNetV3Small trained in full on the digits (32 px);
- a transfer-learned base, the paper's setting: the quick base's backbone stands for the
  ImageNet weights (written as Keras's notop file and handed in through the real weights path,
  ``EDGECOMPRESS_WEIGHTS_URL`` a folder), frozen, and a new head trained on it (regime head).

Every campaign shares one store, so each base trains once.

    .venv/bin/python -m bench.pruning_regimes [--profile x86-tf2.12]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from launcher.device.profiles import get_profile
from launcher.docker_client import Engine
from launcher.pretrained import weights_file
from launcher.study.campaign import preset_text

REGIMES = ("pruned_layers", "all", "as_restored")
METHODS = ("prune25", "prune50", "prune75")
BACKBONE = r"""
import sys
from jobs import compat, models
tf = compat.import_tensorflow(); keras = compat.keras_module(tf)
base = models.load_keras(keras, '/base.h5')
backbone = keras.applications.MobileNetV3Small(include_top=False, weights=None, pooling='avg',
                                               input_shape=(32, 32, 3))
weights = base.get_weights()[:len(backbone.get_weights())]  # the head's two come last
backbone.set_weights(weights)
backbone.save_weights('/out/' + sys.argv[1])
print('ok')
"""


def campaign(store: Path, name: str, text: str, profile: str,
             env: dict[str, str]) -> dict[str, Any]:
    path = store.parent / f"{name}.toml"
    path.write_text(text)
    subprocess.run([sys.executable, "-m", "launcher", "campaign", "run", str(path), "--store",
                    str(store), "--profile", profile], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    manifest = next((store / "campaigns").glob(f"{name}@*.json"))
    nodes = json.loads(manifest.read_text())["nodes"]

    def result(node: str) -> dict[str, Any]:
        folder = store / "jobs" / nodes[node]["folder"]
        return {"result": json.loads((folder / "out" / "result.json").read_text()),
                "record": json.loads((folder / "status.json").read_text()), "folder": folder}
    return {node: result(node) for node in nodes if not node.startswith("decode")}


def quick_with(name: str, regime: str, extra: str = "") -> str:
    text = preset_text("quick").replace('name = "quick"', f'name = "{name}"')
    text = text.replace('methods = ["fp16", "int8", "prune50", "distill"]',
                        f"methods = {json.dumps(list(METHODS))}")
    return text + extra + f'\n[pruning]\nregime = "{regime}"\n'


def rows_of(label: str, found: dict[str, Any]) -> list[str]:
    model = "MobileNetV3Small"
    base = found[f"benchmark/train/{model}/copy1"]["result"]["metrics"]["top1_accuracy"]
    lines = []
    for method in METHODS:
        prune = found[f"{method}/{model}/copy1"]
        metrics = prune["result"]["metrics"]
        top1 = found[f"benchmark/{method}/{model}/copy1"]["result"]["metrics"]["top1_accuracy"]
        first = metrics["validation_accuracy_first_mask"]
        lines.append(
            f"| {label} | {metrics['regime']} | {method} | {100 * base:.2f} | {100 * top1:.2f} "
            f"| {100 * (base - top1):+.2f} | {100 * metrics['achieved_sparsity']:.1f} | "
            f"{100 * metrics['validation_accuracy_before']:.1f} / {100 * first:.1f} / "
            f"{100 * metrics['final_validation_accuracy']:.1f} | "
            f"{metrics['mask_steps']} of {metrics['total_steps']} | "
            f"{prune['record']['wall_s']:.1f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="x86-tf2.12")
    args = parser.parse_args()
    store = Path(tempfile.mkdtemp(prefix="bench-pruning-")) / "store"
    env = dict(os.environ)
    lines = []
    for regime in REGIMES:
        found = campaign(store, f"quick-{regime}", quick_with(f"quick-{regime}", regime),
                         args.profile, env)
        lines += rows_of("quick (trained in full)", found)

    # The quick base's backbone as the "ImageNet" weights of the transfer-learned base.
    base_h5 = next(p for p in (store / "jobs").glob("train-*/out/model.h5"))
    name = weights_file("MobileNetV3Small", get_profile(args.profile).tensorflow).name
    weights = Path(tempfile.mkdtemp(prefix="bench-pretrained-"))
    weights.chmod(0o777)
    image = Engine.connect().image_id(get_profile(args.profile).image)
    subprocess.run(["docker", "run", "--rm", "--network", "none", "--user", "1000", "-v",
                    f"{base_h5}:/base.h5:ro", "-v", f"{weights}:/out", "--entrypoint", "python3",
                    str(image), "-c", BACKBONE, name], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    md5 = hashlib.md5((weights / name).read_bytes()).hexdigest()
    (weights / "hashes.json").write_text(json.dumps({name: md5}))
    env.update({"EDGECOMPRESS_WEIGHTS_URL": str(weights),
                "EDGECOMPRESS_WEIGHTS_DIR": str(weights / "cache"),
                "EDGECOMPRESS_WEIGHTS_HASHES": str(weights / "hashes.json")})
    for regime in REGIMES:
        text = quick_with(f"transfer-{regime}", regime).replace(
            'weights = "none"', 'weights = "imagenet"').replace(
            'base = "full"', 'base = "head"')
        found = campaign(store, f"transfer-{regime}", text, args.profile, env)
        lines += rows_of("transfer-learned (frozen backbone, head trained)", found)
    print(f"profile {args.profile}; quick preset: digits at 32 px, batch 32, 3 pruning epochs, "
          "learning rate 1e-3")
    print("| base | regime | method | base top-1 % | pruned top-1 % | drop (points) | "
          "achieved sparsity % | validation % before / first mask / end | mask steps | "
          "prune wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
