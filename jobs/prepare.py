"""prepare: download a tfds dataset and prepare it in the launcher's tfds cache. The one job
given the network; every job that reads the dataset afterwards gets the cache read-only and
no network (launcher/target.py), so a board needs the internet once, or never when the cache
is carried to it (docs/campaigns.md, "Offline boards")."""
import os
import shutil
import time

from jobs._contract import CONTAINER_TFDS_DIR
from jobs.contract import Outcome
from jobs.errors import JobInputError
from jobs.sizes import path_bytes


def run(spec, context):
    import tensorflow_datasets as tfds

    if not os.path.isdir(CONTAINER_TFDS_DIR):
        raise JobInputError("no tfds cache is mounted at {}: run prepare through the "
                            "launcher".format(CONTAINER_TFDS_DIR))
    name = spec["tfds_name"]
    try:
        # A name the installed tfds does not know is still read from files already in the
        # cache (tfds's read-only builder), as the jobs that read it will.
        builder = tfds.builder(name, data_dir=CONTAINER_TFDS_DIR)
    except Exception as error:  # tfds raises many kinds: unknown name, bad version, ...
        raise JobInputError("no tfds dataset {!r}: {}".format(name, first_line(error)))
    already = context.tf.io.gfile.exists(
        os.path.join(builder.data_dir, "dataset_info.json"))
    # The downloaded archives (oxford_flowers102's: 330 MB, and as much again extracted) are
    # only needed to prepare: they go to a folder of their own, removed once prepared, so a
    # board's SD card keeps the prepared records alone.
    downloads = os.path.join(CONTAINER_TFDS_DIR, "downloads", builder.name)
    started = time.time()
    try:
        builder.download_and_prepare(download_dir=downloads)
    except Exception as error:  # no network, a moved URL, a full disk, ...
        raise JobInputError(
            "cannot download and prepare tfds dataset {!r}: {} (prepare needs the internet; "
            "without it, prepare on a connected machine and carry the cache)".format(
                name, first_line(error)))
    shutil.rmtree(downloads, ignore_errors=True)
    return Outcome(metrics={
        "name": builder.name,
        "version": str(builder.version),
        "examples": {split: int(info.num_examples)
                     for split, info in sorted(builder.info.splits.items())},
        "prepared_bytes": path_bytes(builder.data_dir),
        "already_prepared": bool(already),
        "prepare_s": time.time() - started,
    })


def first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
