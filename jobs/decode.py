"""decode: an image folder decoded once at a campaign's input size, for all its jobs.

Every job of a campaign reads the same folder at the same size. Decoding it in each of them
(PNG/JPEG decode and resize, every epoch of a training) is time no job measures; the launcher
runs this job once per folder digest and size and mounts its output read-only as the other
jobs' ``decoded`` input (jobs/decoded.py: the format, and why the pixels are identical).
"""
import os
import time

from jobs import data, decoded
from jobs.contract import Outcome
from jobs.errors import JobInputError
from jobs.sizes import path_bytes

DECODED_DIR = "decoded"


def check(spec):
    if not spec.get("images"):
        raise JobInputError("decode needs an image folder (--images); a tfds dataset keeps "
                            "tfds's own cache")
    data.check(spec)


def run(spec, context):
    tf = context.tf
    root, size = spec["images"]["path"], spec["input_size"]
    paths = data.folder_files(root)
    folder = context.artifact_path(DECODED_DIR)
    started = time.time()
    count = decoded.write(tf, paths, root, size, folder, data.decode_files(tf, size))
    decode_s = time.time() - started
    return Outcome(
        metrics={
            "images": count,
            "decode_s": decode_s,
            "pixels_bytes": path_bytes(os.path.join(folder, decoded.PIXELS_FILE)),
        },
        artifacts=[("decoded", "decoded_images", DECODED_DIR)],
    )
