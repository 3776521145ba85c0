"""ImageNet weights from a file the launcher mounted, into the network ``weights="imagenet"``
builds.

Jobs have no network. The launcher fetches each architecture's notop weights file once, on
the host, checks it against Keras's published hash, and mounts it read-only as the job's
``weights_file`` input (launcher/pretrained.py). Passing that path as ``weights=`` would not
do: keras.applications takes another branch for a path, and on Keras >= 2.10 EfficientNet adds
its input correction (Rescaling by 1/sqrt(ImageNet std)) only on the ``"imagenet"`` branch, so
the weights would load into a network that lacks the correction they were trained with. So the
job asks for ``weights="imagenet"`` and answers Keras's one download request with the mounted
file (compat.keras_downloads).
"""
import contextlib

from jobs import compat
from jobs.errors import JobInputError


class Requested(Exception):
    """What Keras asked to download: raised by ``requested_file`` to stop the build there."""

    def __init__(self, fname, origin, file_hash):
        Exception.__init__(self, fname)
        self.fname, self.origin, self.file_hash = fname, origin, file_hash


@contextlib.contextmanager
def answering(keras, architecture, answer):
    """Within: every keras.applications download of ``architecture`` is answered by
    ``answer(fname, origin, file_hash)``, which returns a local path (or raises)."""
    module = compat.keras_downloads(keras, architecture)
    original = module.get_file

    def get_file(fname=None, origin=None, *args, **kwargs):
        return answer(fname, origin, kwargs.get("file_hash"))

    module.get_file = get_file
    try:
        yield
    finally:
        module.get_file = original


def check_spec(spec, weights="weights", weights_file="weights_file"):
    """Before any slow import: ImageNet weights need their file, a file needs ImageNet."""
    path = (spec.get(weights_file) or {}).get("path")
    if spec.get(weights) == "imagenet" and not path:
        raise JobInputError(
            "{} 'imagenet' needs the {} input (the launcher fetches it: edgecompress fetch); "
            "jobs have no network to download it".format(weights, weights_file))
    if path and spec.get(weights) != "imagenet":
        raise JobInputError("{} is given but {} is not 'imagenet'".format(weights_file, weights))


def from_file(keras, architecture, path):
    """A context in which ``weights="imagenet"`` loads ``path`` instead of downloading."""
    if not path:
        raise JobInputError(
            "weights 'imagenet' needs the weights_file input (the launcher fetches it: "
            "edgecompress fetch); jobs have no network to download it")

    def answer(fname, origin, file_hash):
        return path
    return answering(keras, architecture, answer)


def requested_file(keras, architecture, input_size=32):
    """(file name, origin, hash) of the notop ImageNet weights this Keras loads for
    ``architecture``: the launcher's table (launcher/pretrained.py) is checked against it."""
    def answer(fname, origin, file_hash):
        raise Requested(fname, origin, file_hash)

    try:
        with answering(keras, architecture, answer):
            getattr(keras.applications, architecture)(
                include_top=False, weights="imagenet", pooling="avg",
                input_shape=(input_size, input_size, 3))
    except Requested as requested:
        return {"fname": requested.fname, "origin": requested.origin,
                "file_hash": requested.file_hash}
    raise RuntimeError("{} loaded ImageNet weights without asking for a file".format(
        architecture))
