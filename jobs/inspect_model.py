"""inspect: a user's own model file, loaded by Keras inside the container and checked against
the data before anything compresses it.

The launcher never loads a user's model (its custom layers are code): this job does, and
reports the input shape, class count, parameters and fingerprint. A model the campaign's data
cannot feed (another input size, another class count, not one RGB image in and one class
vector out) fails here with one line naming the file, and the campaign runs nothing of it.
"""
from jobs import architectures, data, models
from jobs.contract import Outcome
from jobs.errors import JobInputError
from jobs.sizes import path_bytes


def check(spec):
    models.check_model(spec.get("file_name", "model"), spec.get("model"))
    data.check(spec)


def shape_problem(input_shape, output_shape, input_size, dataset_classes):
    """Why the data cannot feed this model, or None. Pure: shapes as Keras reports them."""
    if not isinstance(input_shape, tuple) or len(input_shape) != 4:
        return "takes input {}, not one batch of images (batch, height, width, 3)".format(
            input_shape)
    height, width, channels = input_shape[1:]
    if channels != 3:
        return "takes {} channels, not 3 (RGB)".format(channels)
    if height is None or width is None:
        return "has no fixed input size ({}): give its input layer one".format(input_shape)
    if height != width:
        return "takes {}x{} px images: the study feeds square ones".format(height, width)
    if height != input_size:
        return "takes {} px images, the campaign's input_size is {}: set input_size = {}".format(
            height, input_size, height)
    if not isinstance(output_shape, tuple) or len(output_shape) != 2:
        return "gives output {}, not one vector of class scores".format(output_shape)
    if output_shape[1] != dataset_classes:
        return "has {} classes out, the dataset has {}".format(output_shape[1], dataset_classes)
    return None


def run(spec, context):
    tf, keras = context.tf, context.keras
    name = spec.get("file_name", "model")
    model, fmt, load_s = models.load_input(keras, spec, "model", name)
    if spec.get("needs_keras2"):
        # The campaign prunes or distils it: refused here, before anything of it runs.
        models.refuse_keras3(model, "model", name, "pruning or distillation")
    splits = data.load_splits(tf, spec)
    problem = shape_problem(model.input_shape, model.output_shape, spec["input_size"],
                            splits.num_classes)
    if problem:
        raise JobInputError("{} {}".format(name, problem))
    fingerprint = architectures.fingerprint(model)
    return Outcome(metrics={
        "format": fmt,
        "input_shape": list(model.input_shape),
        "input_size": int(model.input_shape[1]),
        "num_classes": int(model.output_shape[1]),
        "dataset_classes": int(splits.num_classes),
        "parameters": fingerprint["parameters"],
        "fingerprint": fingerprint,
        "load_s": load_s,
        "model_bytes": path_bytes(spec["model"]["path"]),
    })
