"""Real small data without a download: scikit-learn's handwritten digits (1,797 8x8 images
of 10 classes) written as an image folder, upscaled to RGB PNGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits


def write_digits_folder(root: Path, size: int = 32, classes: int = 10,
                        per_class: int | None = None) -> Path:
    """One subfolder per digit, ``per_class`` images each (all by default)."""
    digits = load_digits()
    counts: dict[int, int] = {}
    for index, (image, label) in enumerate(zip(digits.images, digits.target, strict=True)):
        label = int(label)
        if label >= classes or (per_class is not None and counts.get(label, 0) >= per_class):
            continue
        counts[label] = counts.get(label, 0) + 1
        pixels = (image / 16.0 * 255.0).astype(np.uint8)
        picture = Image.fromarray(pixels, mode="L").resize((size, size), Image.BILINEAR)
        folder = root / f"digit_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        picture.convert("RGB").save(folder / f"{index:04d}.png")
    return root
