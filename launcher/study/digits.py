"""Real small data without a download: scikit-learn's handwritten digits (1,797 8x8 images of
10 classes) written as an image folder of upscaled RGB PNGs. The ``quick`` campaign and the
tests use it; the bytes depend only on the arguments (and pillow's PNG encoder), so the
folder's digest, and with it every job key, is stable from one run to the next.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def write_digits_folder(root: Path, size: int = 32, classes: int = 10,
                        per_class: int | None = None,
                        split: tuple[float, float] | None = None) -> Path:
    """One subfolder per digit, ``per_class`` images each (all by default). With ``split``
    (validation, test fractions) the images go to train/, validation/ and test/ instead, a
    fixed split: then a job's ``seed`` varies training only, never which images are tested,
    so trained copies with different seeds are scored on the same test set."""
    # Imported here: only the writer needs them, not every command of the launcher.
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    counts: dict[int, int] = {}
    for index, (image, label) in enumerate(zip(digits.images, digits.target, strict=True)):
        label = int(label)
        if label >= classes or (per_class is not None and counts.get(label, 0) >= per_class):
            continue
        position = counts.get(label, 0)
        counts[label] = position + 1
        pixels = (image / 16.0 * 255.0).astype(np.uint8)
        picture = Image.fromarray(pixels, mode="L").resize((size, size), Image.Resampling.BILINEAR)
        folder = root / f"digit_{label}"
        if split is not None:
            folder = root / _split_of(position, split) / f"digit_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        picture.convert("RGB").save(folder / f"{index:04d}.png")
    return root


def _split_of(position: int, split: tuple[float, float]) -> str:
    """Interleaved by position within the class: every split sees every writer's style."""
    validation, test = split
    cycle = 20
    slot = position % cycle
    if slot < round(test * cycle):
        return "test"
    if slot < round((test + validation) * cycle):
        return "validation"
    return "train"


def ensure_digits_folder(root: Path, size: int, split: tuple[float, float]) -> Path:
    """The folder at ``root``, written once: into a temporary sibling then renamed, so an
    interrupted write never leaves a half folder that would be digested as the dataset."""
    if root.is_dir():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    try:
        write_digits_folder(staging, size=size, split=split)
        # Jobs run as an unprivileged user when the launcher runs as root: let it read.
        for folder, _dirs, files in os.walk(staging):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)
        try:
            os.rename(staging, root)
        except OSError:
            if not root.is_dir():  # not another launcher that wrote it first
                raise
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return root
