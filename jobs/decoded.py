"""An image folder decoded once, at one input size: the format the ``decode`` job writes and
the other jobs read instead of decoding every file again.

A folder of two files:
- ``pixels.npy``: uint8, shape (N, size, size, 3), the images decoded, resized, clipped and
  rounded exactly as jobs/data.py's own pipeline does it, so a job's pixels are the same
  whichever way it gets them;
- ``index.json``: ``{"input_size": size, "files": [...]}``, each row's file as a path relative
  to the image folder, in row order.

``pixels.npy`` is opened memory-mapped: a job holds in memory only the rows it is using (the
6149 test images of oxford_flowers102 at 224 x 224 are 925 MB, more than a Nano job can spare).
What the launcher mounts here was written by a container, so it is checked before use.
"""
import json
import os

from jobs.errors import JobInputError

PIXELS_FILE = "pixels.npy"
INDEX_FILE = "index.json"


class DecodedImages(object):
    """Rows of a decoded folder by the host-independent path of their image file."""

    def __init__(self, images_root, decoded_root):
        import numpy as np

        try:
            with open(os.path.join(decoded_root, INDEX_FILE)) as handle:
                index = json.load(handle)
            pixels = np.load(os.path.join(decoded_root, PIXELS_FILE), mmap_mode="r",
                             allow_pickle=False)
        except (IOError, OSError, ValueError) as error:
            raise JobInputError("decoded input {} is unreadable ({}): let the campaign decode "
                                "the image folder again".format(decoded_root, error))
        files = index.get("files") if isinstance(index, dict) else None
        size = index.get("input_size") if isinstance(index, dict) else None
        if (not isinstance(files, list) or not all(isinstance(f, str) for f in files)
                or not isinstance(size, int) or pixels.dtype != np.uint8
                or pixels.shape != (len(files), size, size, 3)):
            raise JobInputError("decoded input {} does not match its index (pixels {} {}, {} "
                                "files): let the campaign decode the image folder again".format(
                                    decoded_root, pixels.dtype, pixels.shape,
                                    len(files) if isinstance(files, list) else "no"))
        self.images_root = images_root
        self.size = size
        self.pixels = pixels
        self.rows = dict((name, row) for row, name in enumerate(files))

    def row(self, path):
        name = os.path.relpath(path, self.images_root)
        if name not in self.rows:
            raise JobInputError("decoded input holds no image {}: it was decoded from another "
                                "folder; let the campaign decode the image folder again".format(
                                    name))
        return self.rows[name]


def write(tf, paths, images_root, size, out_folder, to_pixels):
    """Decode ``paths`` (image files under ``images_root``) into ``out_folder``, a batch at a
    time: ``to_pixels`` maps a dataset of file paths to one of uint8 images of ``size``."""
    import numpy as np

    os.makedirs(out_folder)
    pixels = np.lib.format.open_memmap(os.path.join(out_folder, PIXELS_FILE), mode="w+",
                                       dtype=np.uint8, shape=(len(paths), size, size, 3))
    row = 0
    for batch in to_pixels(tf.data.Dataset.from_tensor_slices(paths)).batch(64):
        batch = batch.numpy()
        pixels[row:row + len(batch)] = batch
        row += len(batch)
    pixels.flush()
    del pixels
    files = [os.path.relpath(path, images_root) for path in paths]
    with open(os.path.join(out_folder, INDEX_FILE), "w") as handle:
        json.dump({"input_size": size, "files": files}, handle)
    return len(files)
