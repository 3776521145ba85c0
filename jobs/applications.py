"""What this stack's keras.applications offers, as the launcher's table records it
(launcher/applications_table.json, written by ``make applications``; the integration tests check
it against the Keras of every twin): per network, how its inputs are preprocessed, the smallest
input it builds at, and the notop ImageNet weights file it asks for.

Not a job: ``describe(keras)`` runs in a job image, by ``make applications`` and by the tests.
"""
from jobs import architectures, pretrained

# Sizes tried, smallest first, for the smallest input a network builds at without weights
# (Xception needs 71, the Inceptions 75).
CANDIDATE_SIZES = (32, 71, 75, 224, 331)
# Where a weights file's name carries the input size (MobileNet, MobileNetV2: "..._224..."),
# Keras has one file per size it was trained at and the 224 one for any other size.
SIZED_FILE_MARK = "_224"
FILE_SIZES = (96, 128, 160, 192, 224)


def smallest_input(keras, name):
    for size in CANDIDATE_SIZES:
        try:
            getattr(keras.applications, name)(
                include_top=False, weights=None, pooling="avg", input_shape=(size, size, 3))
        except ValueError:
            continue
        finally:
            keras.backend.clear_session()
        return size
    raise RuntimeError("{} builds at none of {}".format(name, CANDIDATE_SIZES))


def _requested(keras, name, size):
    try:
        return pretrained.requested_file(keras, name, size)
    except ValueError:  # NASNet: ImageNet weights only at the size they were trained at
        return None
    finally:
        keras.backend.clear_session()


def imagenet_files(keras, name, smallest):
    """{"files": [{sizes, fname, origin, file_hash}], "only_size": int or None}. ``sizes``
    null: the file for any size not listed in another entry."""
    any_size = _requested(keras, name, smallest)
    if any_size is None:
        for size in CANDIDATE_SIZES:
            fixed = size > smallest and _requested(keras, name, size)
            if fixed:
                return {"files": [dict(fixed, sizes=None)], "only_size": size}
        return {"files": [], "only_size": None}
    files = [dict(any_size, sizes=None)]
    if SIZED_FILE_MARK in any_size["fname"]:
        by_file = {}
        for size in FILE_SIZES:
            requested = _requested(keras, name, size)
            if requested and requested["fname"] != any_size["fname"]:
                by_file.setdefault(requested["fname"], dict(requested, sizes=[]))["sizes"].append(
                    size)
        files.extend(by_file[fname] for fname in sorted(by_file))
    return {"files": files, "only_size": None}


def describe(keras, names=None):
    table = {}
    for name in names or architectures.available(keras):
        smallest = smallest_input(keras, name)
        entry = {"preprocessing": architectures.preprocessing(keras, name),
                 "smallest_input": smallest}
        entry.update(imagenet_files(keras, name, smallest))
        table[name] = entry
    return table
