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


def folder_splits(root, validation_fraction, test_fraction, seed):
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
    return Splits(splits[0], splits[1], splits[2], len(class_names), class_names, source)


# --- tfds --------------------------------------------------------------------------------------


def tfds_splits(tf, spec):
    import tensorflow_datasets as tfds

    def load():
        # The launcher mounts its tfds cache there; without it tfds uses its own default.
        data_dir = CONTAINER_TFDS_DIR if os.path.isdir(CONTAINER_TFDS_DIR) else None
        try:
            datasets, info = tfds.load(
                spec["tfds_name"], split=list(SPLIT_FOLDERS), as_supervised=True,
                with_info=True, data_dir=data_dir)
        except Exception as error:  # tfds raises many kinds: missing name, no network, ...
            raise JobInputError("cannot load tfds dataset {!r}: {}".format(
                spec["tfds_name"], str(error).splitlines()[0] if str(error) else error))
        return datasets, info

    if spec.get("tfds_mock_examples"):
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
        return folder_splits(images["path"], spec["validation_fraction"],
                             spec["test_fraction"], spec["seed"])
    return tfds_splits(tf, spec)


# --- pipelines ---------------------------------------------------------------------------------


def _resize(tf, size):
    def apply(image, label):
        image = tf.image.resize(tf.cast(image, tf.float32), (size, size))
        return tf.clip_by_value(image, 0.0, 255.0), tf.cast(label, tf.int32)
    return apply


def as_dataset(tf, split, size, shuffle_seed=None):
    """A split (file list or tfds dataset) as a dataset of single resized examples. With
    ``shuffle_seed``, in a seeded order reshuffled on every pass; what the shuffle buffer holds
    is kept small (a Nano has 4 GB for everything): a file list is shuffled as paths, before
    anything is decoded; a tfds split, whose examples come decoded, is shuffled resized and as
    uint8 (up to SHUFFLE_BUFFER images: 308 MB at 224 x 224, where float32 took 1.2 GB)."""
    autotune = tf.data.experimental.AUTOTUNE
    if isinstance(split, list):
        paths = [path for path, _ in split]
        labels = [label for _, label in split]
        files = tf.data.Dataset.from_tensor_slices((paths, labels))
        if shuffle_seed is not None:
            files = files.shuffle(max(1, len(paths)), seed=shuffle_seed,
                                  reshuffle_each_iteration=True)

        def decode(path, label):
            image = tf.io.decode_image(tf.io.read_file(path), channels=3,
                                       expand_animations=False)
            return image, label

        dataset = files.map(decode, num_parallel_calls=autotune)
        return dataset.map(_resize(tf, size), num_parallel_calls=autotune)
    dataset = split.map(_resize(tf, size), num_parallel_calls=autotune)
    if shuffle_seed is None:
        return dataset

    def to_uint8(image, label):
        return tf.cast(tf.round(image), tf.uint8), label

    def to_float32(image, label):
        return tf.cast(image, tf.float32), label

    dataset = dataset.map(to_uint8).shuffle(SHUFFLE_BUFFER, seed=shuffle_seed,
                                            reshuffle_each_iteration=True)
    return dataset.map(to_float32)


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
    """Up to ``limit`` images as uint8 arrays of shape (1, size, size, 3): resized pixels
    rounded, as an application holds them (a quarter of float32's memory: 1000 images at
    224 x 224 take 150 MB)."""
    def to_uint8(image, label):
        return tf.cast(tf.round(image), tf.uint8), label

    images = []
    for image, _ in as_dataset(tf, split, size).map(to_uint8).take(limit):
        images.append(image.numpy()[None, ...])
    return images


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
        examples = as_dataset(tf, sample_items(split, count, seed), size)
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
