"""Datasets for the jobs: an image folder or a tfds dataset, as tf.data pipelines of
(float32 image in [0, 255], int label). Preprocessing is inside the models, so every job
feeds the same raw pixels.
"""
import os
import random

from jobs._contract import CONTAINER_TFDS_DIR
from jobs.errors import JobInputError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
SHUFFLE_BUFFER = 2048  # examples of a tfds split shuffled for training
SPLIT_FOLDERS = ("train", "validation", "test")
# Leading bytes of the formats tf.io.decode_image reads.
MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")


class Splits(object):
    """Three splits as lists of (path, label) for folders, or tf.data datasets for tfds."""

    def __init__(self, train, validation, test, num_classes, class_names, source):
        self.train = train
        self.validation = validation
        self.test = test
        self.num_classes = num_classes
        self.class_names = class_names
        self.source = source


def check(spec):
    images = spec.get("images")
    if images:
        root = images.get("path")
        if not root or not os.path.isdir(root):
            raise JobInputError("image folder {!r} is not a folder".format(root))


# --- image folders ---------------------------------------------------------------------------


def _class_folders(root):
    names = sorted(name for name in os.listdir(root)
                   if os.path.isdir(os.path.join(root, name)) and not name.startswith("."))
    return names


def _images_in(folder):
    files = sorted(name for name in os.listdir(folder)
                   if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith("."))
    return [os.path.join(folder, name) for name in files]


def _check_readable(path):
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except (IOError, OSError) as error:
        raise JobInputError("cannot read image {}: {}".format(path, error))
    if not any(head.startswith(magic) for magic in MAGIC):
        raise JobInputError("{} is not a JPEG, PNG, GIF or BMP image: remove or replace "
                            "it".format(path))


def _labelled(folder, class_names):
    items = []
    for label, name in enumerate(class_names):
        class_dir = os.path.join(folder, name)
        if os.path.isdir(class_dir):
            items.extend((path, label) for path in _images_in(class_dir))
    return items


def split_class_files(files, validation_fraction, test_fraction, seed, class_name):
    """Seeded, per-class split: the same files always land in the same split."""
    files = list(files)
    random.Random("{}:{}".format(seed, class_name)).shuffle(files)
    n = len(files)
    n_test = int(round(n * test_fraction)) if n >= 3 else 0
    n_val = int(round(n * validation_fraction)) if n >= 3 else 0
    if n >= 3:
        n_test, n_val = max(n_test, 1), max(n_val, 1)
    return files[n_test + n_val:], files[n_test:n_test + n_val], files[:n_test]


def folder_splits(root, validation_fraction, test_fraction, seed, decoded=None):
    if all(os.path.isdir(os.path.join(root, name)) for name in ("train", "test")):
        class_names = _class_folders(os.path.join(root, "train"))
        splits = [_labelled(os.path.join(root, name), class_names)
                  if os.path.isdir(os.path.join(root, name)) else [] for name in SPLIT_FOLDERS]
        source = "folder:{} (train/validation/test)".format(root)
    else:
        class_names = _class_folders(root)
        splits = [[], [], []]
        for label, name in enumerate(class_names):
            parts = split_class_files(_images_in(os.path.join(root, name)),
                                      validation_fraction, test_fraction, seed, name)
            for index, part in enumerate(parts):
                splits[index].extend((path, label) for path in part)
        source = "folder:{} (seeded split {})".format(root, seed)
    if len(class_names) < 2:
        raise JobInputError("image folder {} has {} class folder(s): a classifier needs at "
                            "least two subfolders with images".format(root, len(class_names)))
    if not splits[0]:
        raise JobInputError("image folder {} has no training images ({})".format(
            root, ", ".join(IMAGE_EXTENSIONS)))
    for items in splits:
        for path, _ in items:
            _check_readable(path)
    return Splits(FileSplit(splits[0], decoded), FileSplit(splits[1], decoded),
                  FileSplit(splits[2], decoded), len(class_names), class_names, source)


def folder_files(root):
    """Every image file a split of the folder can hold, sorted (the decode job's rows)."""
    splits = folder_splits(root, 0.15, 0.15, 0)
    return sorted(path for split in (splits.train, splits.validation, splits.test)
                  for path, _ in split)


# --- tfds --------------------------------------------------------------------------------------


def tfds_splits(tf, spec):
    import tensorflow_datasets as tfds

    mock = bool(spec.get("tfds_mock_examples"))

    def load():
        # The launcher mounts its tfds cache there, read-only; without it tfds uses its own
        # default. Only the prepare job downloads (jobs/prepare.py): this one has no network.
        data_dir = CONTAINER_TFDS_DIR if os.path.isdir(CONTAINER_TFDS_DIR) else None
        try:
            datasets, info = tfds.load(
                spec["tfds_name"], split=list(SPLIT_FOLDERS), as_supervised=True,
                with_info=True, data_dir=data_dir, download=mock)
        except AssertionError:  # tfds's way of saying the data is not in data_dir
            raise JobInputError(
                "tfds dataset {!r} is not prepared in the tfds cache: prepare it with "
                "'edgecompress fetch CAMPAIGN' or 'edgecompress run prepare --tfds-name {}' "
                "on a machine with the internet".format(spec["tfds_name"], spec["tfds_name"]))
        except Exception as error:  # tfds raises many kinds: missing name, bad version, ...
            raise JobInputError("cannot load tfds dataset {!r}: {}".format(
                spec["tfds_name"], str(error).splitlines()[0] if str(error) else error))
        return datasets, info

    if mock:
        with tfds.testing.mock_data(num_examples=spec["tfds_mock_examples"]):
            datasets, info = load()
    else:
        datasets, info = load()
    label = info.features["label"]
    return Splits(datasets[0], datasets[1], datasets[2], label.num_classes,
                  list(label.names), "tfds:{}{}".format(
                      spec["tfds_name"], " (mock)" if spec.get("tfds_mock_examples") else ""))


def load_splits(tf, spec):
    images = spec.get("images")
    if images:
        decoded = None
        if spec.get("decoded"):
            from jobs.decoded import DecodedImages
            decoded = DecodedImages(images["path"], spec["decoded"]["path"])
        return folder_splits(images["path"], spec["validation_fraction"],
                             spec["test_fraction"], spec["seed"], decoded)
    return tfds_splits(tf, spec)


# --- pipelines ---------------------------------------------------------------------------------


def to_pixels(tf, size):
    """A decoded image (uint8, any size) -> the pixels a model is fed: resized bilinearly to
    ``size``, clipped and rounded to uint8, as an application holds a frame. The decoded folder
    (jobs/decoded.py) stores exactly these, so a job's input is the same either way."""
    def apply(image):
        image = tf.image.resize(tf.cast(image, tf.float32), (size, size))
        return tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)
    return apply


def decode_file(tf, path):
    return tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)


def decode_files(tf, size):
    """A dataset of image file paths -> one of their pixels at ``size`` (the decode job's)."""
    def apply(paths):
        pixels = to_pixels(tf, size)
        return paths.map(lambda path: pixels(decode_file(tf, path)),
                         num_parallel_calls=tf.data.experimental.AUTOTUNE)
    return apply


class FileSplit(list):
    """A split of an image folder: its (path, label) items, and the folder's decoded pixels
    (jobs/decoded.py) when the launcher mounted them, else None: each file is decoded."""

    def __init__(self, items, decoded=None):
        list.__init__(self, items)
        self.decoded = decoded


def pixels_dataset(tf, split, size, shuffle_seed=None):
    """A split (file list or tfds dataset) as a dataset of single (uint8 pixels, label)
    examples. With ``shuffle_seed``, in a seeded order reshuffled on every pass; what the
    shuffle buffer holds is kept small (a Nano has 4 GB for everything): a file list is
    shuffled as paths (or rows of the decoded pixels), before anything is read; a tfds split,
    whose examples come decoded, is shuffled as resized uint8 images (up to SHUFFLE_BUFFER:
    308 MB at 224 x 224)."""
    autotune = tf.data.experimental.AUTOTUNE
    if isinstance(split, list):
        labels = [label for _, label in split]
        decoded = getattr(split, "decoded", None)
        if decoded is not None and decoded.size == size:
            keys = [decoded.row(path) for path, _ in split]
            rows = decoded.pixels

            def read(row, label):
                image = tf.numpy_function(lambda r: rows[r], [row], tf.uint8)
                image.set_shape((size, size, 3))
                return image, label
        else:
            keys = [path for path, _ in split]
            pixels = to_pixels(tf, size)

            def read(path, label):
                return pixels(decode_file(tf, path)), label
        items = tf.data.Dataset.from_tensor_slices((keys, labels))
        if shuffle_seed is not None:
            items = items.shuffle(max(1, len(keys)), seed=shuffle_seed,
                                  reshuffle_each_iteration=True)
        return items.map(read, num_parallel_calls=autotune)
    pixels = to_pixels(tf, size)

    def resize(image, label):
        return pixels(image), tf.cast(label, tf.int32)

    dataset = split.map(resize, num_parallel_calls=autotune)
    if shuffle_seed is None:
        return dataset
    return dataset.shuffle(SHUFFLE_BUFFER, seed=shuffle_seed, reshuffle_each_iteration=True)


def as_dataset(tf, split, size, shuffle_seed=None):
    """pixels_dataset's examples as (float32 image in [0, 255], int32 label)."""
    def to_float32(image, label):
        return tf.cast(image, tf.float32), tf.cast(label, tf.int32)
    return pixels_dataset(tf, split, size, shuffle_seed).map(to_float32)


def count(split):
    if isinstance(split, list):
        return len(split)
    total = 0
    for _ in split:
        total += 1
    return total


def batches(tf, split, size, batch_size, shuffle_seed=None):
    dataset = as_dataset(tf, split, size, shuffle_seed)
    return dataset.batch(batch_size).prefetch(tf.data.experimental.AUTOTUNE)


def first_uint8_images(tf, split, size, limit):
    """Up to ``limit`` images as uint8 arrays of shape (1, size, size, 3), as an application
    holds them (a quarter of float32's memory: 1000 images at 224 x 224 take 150 MB)."""
    return [image.numpy()[None, ...]
            for image, _ in pixels_dataset(tf, split, size).take(limit)]


# --- random samples ----------------------------------------------------------------------------


def sample_items(items, count, seed):
    """Up to ``count`` items drawn uniformly at random without replacement from any iterable,
    seeded, in one pass holding ``count`` items (reservoir sampling, Algorithm R), in random
    order. Image folders list their files class by class and tfds datasets may be ordered too:
    the first N items are not a sample."""
    rng = random.Random("sample:{}".format(seed))
    chosen = []
    for index, item in enumerate(items):
        if index < count:
            chosen.append(item)
        else:
            slot = rng.randint(0, index)
            if slot < count:
                chosen[slot] = item
    rng.shuffle(chosen)
    return chosen


def sample_images(tf, split, size, count, seed):
    """``count`` images drawn at random (seeded) from a split: (float32 arrays of shape
    (1, size, size, 3), their labels). A file list is sampled before anything is decoded; a
    tfds split is read once, keeping only the images drawn."""
    if isinstance(split, list):
        chosen = FileSplit(sample_items(split, count, seed), getattr(split, "decoded", None))
        examples = as_dataset(tf, chosen, size)
        pairs = [(image.numpy()[None, ...], int(label)) for image, label in examples]
    else:
        pairs = sample_items(((image.numpy()[None, ...], int(label))
                              for image, label in as_dataset(tf, split, size)), count, seed)
    return [image for image, _ in pairs], [label for _, label in pairs]


def class_histogram(labels, class_names):
    """Images per class, by class name (label number when a name is missing), classes with
    none left out."""
    histogram = {}
    for label in labels:
        name = class_names[label] if 0 <= label < len(class_names) else str(label)
        histogram[name] = histogram.get(name, 0) + 1
    return histogram
