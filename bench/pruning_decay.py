"""The pruning fine-tune's learning rate, constant against cosine decay to 0, at 25/50/75 % on
several copies of the quick preset's base, in one run: each copy's test top-1 drop against its
own base, paired (same base, same seed, only the schedule differs), then the mean and the
worst per method and schedule.

Every campaign shares one store, so each base copy trains once.

    .venv/bin/python -m bench.pruning_decay [--profile x86-tf2.12] [--copies 3] [--decays A,B]
        [--methods prune50] [--regimes pruned_layers,all]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from launcher import api
from launcher.study.campaign import preset_text

DECAYS = ("constant", "cosine", "cosine_after_masks")
METHODS = ("prune25", "prune50", "prune75")
MODEL = "MobileNetV3Small"


def campaign(store: Path, name: str, text: str, profile: str) -> dict[str, dict[str, Any]]:
    path = store.parent / f"{name}.toml"
    path.write_text(text)
    done = api.run_campaign(path, store=store, profile=profile, retry_failed=True,
                            warn=lambda line: print(line, file=sys.stderr))
    if done.status != "complete":
        raise SystemExit(f"campaign {name} is {done.status}: see {store}")
    manifest = next((store / "campaigns").glob(f"{name}@*.json"))
    nodes = json.loads(manifest.read_text())["nodes"]
    return {node: json.loads((store / "jobs" / info["folder"] / "out" / "result.json")
                             .read_text())
            for node, info in nodes.items() if not node.startswith("decode")}


def quick_with(name: str, decay: str, copies: int, methods: list[str],
               regime: str = "pruned_layers") -> str:
    text = preset_text("quick").replace('name = "quick"', f'name = "{name}"')
    text = text.replace('methods = ["fp16", "int8", "prune50", "distill"]',
                        f"methods = {json.dumps(methods)}")
    text = text.replace("copies = 1", f"copies = {copies}")
    # The preset has its own [pruning] table: the schedule and regime compared replace its.
    text = re.sub(r"(?m)^(regime|learning_rate_decay) = .*\n", "", text)
    return text.replace("[pruning]\n", f'[pruning]\nlearning_rate_decay = "{decay}"\n'
                        f'regime = "{regime}"\n', 1)


def drops(found: dict[str, dict[str, Any]], copies: int,
          methods: list[str]) -> dict[str, list[float]]:
    """method -> each copy's drop in points (base top-1 minus pruned top-1)."""
    out: dict[str, list[float]] = {}
    for method in methods:
        for copy in range(1, copies + 1):
            base = found[f"benchmark/train/{MODEL}/copy{copy}"]["metrics"]["top1_accuracy"]
            pruned = found[f"benchmark/{method}/{MODEL}/copy{copy}"]["metrics"]["top1_accuracy"]
            out.setdefault(method, []).append(100 * (base - pruned))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="x86-tf2.12")
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--store", type=Path, help="a store to reuse (default: a new one)")
    parser.add_argument("--decays", default=",".join(DECAYS),
                        help="the schedules to compare, comma-separated")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="the pruning methods, comma-separated")
    parser.add_argument("--regimes", default="pruned_layers",
                        help="the [pruning] regimes to compare, comma-separated")
    args = parser.parse_args()
    decays = [name for name in args.decays.split(",") if name]
    methods = [name for name in args.methods.split(",") if name]
    regimes = [name for name in args.regimes.split(",") if name]
    store = args.store or Path(tempfile.mkdtemp(prefix="bench-pruning-decay-")) / "store"
    variants = [(decay, regime) for regime in regimes for decay in decays]
    found = {}
    for decay, regime in variants:
        # The default regime keeps the campaign names (and stores) of earlier runs.
        name = f"quick-{decay}" + ("" if regime == "pruned_layers" else f"-{regime}")
        found[decay, regime] = drops(
            campaign(store, name, quick_with(name, decay, args.copies, methods, regime),
                     args.profile), args.copies, methods)
    print(f"profile {args.profile}; quick preset (digits, 32 px, 3 pruning epochs, Adam 1e-3); "
          f"{args.copies} base copies, each pruned under every schedule and regime")
    print("| method | regime | schedule | drop per copy (points) | mean | worst |")
    print("|---|---|---|---|---|---|")
    for method in methods:
        for decay, regime in variants:
            values = found[decay, regime][method]
            print(f"| {method} | {regime} | {decay} | {', '.join(f'{v:+.2f}' for v in values)}"
                  f" | {statistics.mean(values):+.2f} | {max(values):+.2f} |")
    print(f"store: {store}")


if __name__ == "__main__":
    main()
