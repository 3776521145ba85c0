"""Which format hands a Keras model on between jobs (issue 11), under every TensorFlow twin.

In each profile's job image (bench/container/handoff_formats.py): save and load times of a
SavedModel (Keras load_model and tf.saved_model.load), an .h5 file and a .keras file, the
largest output difference of each reloaded model against the SavedModel's, and the .tflite
TFLiteConverter makes from the SavedModel against from the loaded Keras model (FP16, INT8:
bytes, output difference, top-1 agreement, conversion time with the converter's own load).
Prints a table per profile and the load-time ratio SavedModel / .h5.

    .venv/bin/python -m bench.handoff_formats [--profiles x86-tf2.7,x86-tf2.12,x86-tf2.21]
        [--architectures MobileNetV3Small] [--input-size 224]
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any

from bench._common import bench_target

BENCH = Path(__file__).resolve().parent
ROWS = (
    ("SavedModel save s", "saved_model_save_s"),
    ("SavedModel Keras load s", "saved_model_keras_load_s"),
    ("SavedModel tf.saved_model.load s", "saved_model_tf_load_s"),
    (".h5 save s", "h5_save_s"),
    (".h5 load s", "h5_load_s"),
    (".h5 max |output - SavedModel's|", "h5_max_abs_diff"),
    (".keras load s", "keras_load_s"),
    (".keras max |output - SavedModel's|", "keras_max_abs_diff"),
    ("FP16 .tflite bytes, from SavedModel / from Keras", ("fp16_bytes_from_saved_model",
                                                          "fp16_bytes_from_keras")),
    ("FP16 conversion s, from SavedModel / from Keras", ("fp16_from_saved_model_s",
                                                         "fp16_from_keras_s")),
    ("FP16 max output difference; same top-1", ("fp16_max_abs_diff", "fp16_same_top1")),
    ("INT8 .tflite bytes, from SavedModel / from Keras", ("int8_bytes_from_saved_model",
                                                          "int8_bytes_from_keras")),
    ("INT8 conversion s, from SavedModel / from Keras", ("int8_from_saved_model_s",
                                                         "int8_from_keras_s")),
    ("INT8 max output difference; same top-1", ("int8_max_abs_diff", "int8_same_top1")),
)


def cell(row: dict[str, Any], key: str | tuple[str, str]) -> str:
    if isinstance(key, tuple):
        return " / ".join(cell(row, part) for part in key)
    value = row.get(key)
    if value is None:
        error = row.get(key.split("_")[0] + "_error")
        return f"n/a ({error})" if error else "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}" if value < 1e-2 else f"{value:.2f}"
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", default="x86-tf2.7,x86-tf2.12,x86-tf2.21")
    parser.add_argument("--architectures", default="MobileNetV3Small")
    parser.add_argument("--input-size", type=int, default=224)
    args = parser.parse_args()
    reports = {}
    for profile in args.profiles.split(","):
        _engine, target = bench_target(profile, "bench-handoff-")
        output = subprocess.run(
            ["docker", "run", "--rm", "--network", "none", "--user", "1000",
             "-v", f"{BENCH / 'container'}:/bench:ro", "--entrypoint", "python3",
             target.image_id, "/bench/handoff_formats.py", str(args.input_size),
             args.architectures], check=True, capture_output=True, text=True).stdout
        reports[profile] = json.loads(output.strip().splitlines()[-1])
    for architecture_index, architecture in enumerate(args.architectures.split(",")):
        columns = [f"{p} (TF {r['tensorflow']})" for p, r in reports.items()]
        print(f"\n{architecture}, {args.input_size} px\n")
        print("| | " + " | ".join(columns) + " |")
        print("|---|" + "---|" * len(columns))
        for label, key in ROWS:
            print(f"| {label} | " + " | ".join(
                cell(r["rows"][architecture_index], key) for r in reports.values()) + " |")
        for profile, report in reports.items():
            row = report["rows"][architecture_index]
            print(f"{profile}: SavedModel Keras load / .h5 load = "
                  f"{row['saved_model_keras_load_s'] / row['h5_load_s']:.1f}x")


if __name__ == "__main__":
    main()
