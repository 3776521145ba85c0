"""Stub ImageNet weights, run inside a job image: for each architecture, the notop file its
Keras asks for (jobs/pretrained.requested_file), with that file name and the exact topology
(built with weights=None and saved with save_weights), holding random weights. Writes the
files and a hashes.json ({file name: md5}) into the folder given, and prints the table as JSON:
what the tests serve from a local mirror through the launcher's real fetch path.

    python3 stand_ins/imagenet_stubs.py OUT_DIR [ARCHITECTURE ...]
"""
import hashlib
import json
import os
import sys
from typing import Any


def md5_of(path: str) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(out_dir: str, names: list[str]) -> None:
    from jobs import compat, pretrained
    from jobs._contract import PAPER_ARCHITECTURES

    tf = compat.import_tensorflow()
    keras = compat.keras_module(tf)
    tf.random.set_seed(0)
    table: dict[str, dict[str, Any]] = {}
    for name in names or PAPER_ARCHITECTURES:
        requested = pretrained.requested_file(keras, name)
        backbone = getattr(keras.applications, name)(
            include_top=False, weights=None, pooling="avg", input_shape=(32, 32, 3))
        path = os.path.join(out_dir, requested["fname"])
        backbone.save_weights(path)
        keras.backend.clear_session()
        table[name] = dict(requested, md5=md5_of(path))
    with open(os.path.join(out_dir, "hashes.json"), "w") as handle:
        json.dump({entry["fname"]: entry["md5"] for entry in table.values()}, handle)
    print(json.dumps(table, sort_keys=True))


if __name__ == "__main__" and sys.argv[1:]:  # python3 -c passes no arguments
    main(sys.argv[1], sys.argv[2:])
