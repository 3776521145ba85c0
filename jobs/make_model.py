"""make_model: a keras.applications classifier with a new head, saved as a SavedModel.

With ``weights: null`` nothing is loaded: the demo and the tests use it; ``imagenet`` loads
the ``weights_file`` the launcher mounted (jobs/pretrained.py).
"""
import time

from jobs import architectures, models, pretrained
from jobs.contract import Outcome
from jobs.errors import JobInputError
from jobs.sizes import path_bytes


def check(spec):
    architectures.check_form(spec.get("architecture"))
    pretrained.check_spec(spec)
    size = spec.get("input_size")
    if not isinstance(size, int) or not 32 <= size <= 1024:
        raise JobInputError("input_size {!r} must be an integer in 32..1024".format(size))
    classes = spec.get("num_classes")
    if not isinstance(classes, int) or classes < 2:
        raise JobInputError("num_classes {!r} must be an integer >= 2".format(classes))


def run(spec, context):
    tf, keras = context.tf, context.keras
    tf.random.set_seed(spec.get("seed", 0))
    started = time.time()
    model = architectures.build_classifier(
        keras, spec["architecture"], spec["input_size"], spec["num_classes"], spec.get("weights"),
        weights_file=(spec.get("weights_file") or {}).get("path"),
        canonical=spec.get("canonical", False))
    build_s = time.time() - started
    handoff = models.save_handoff(model, context.out_dir)
    return Outcome(
        metrics={"parameters": int(model.count_params()), "build_s": build_s,
                 "fingerprint": architectures.fingerprint(model)},
        saved_model=model,
        artifacts=[("model", "saved_model", models.SAVED_MODEL_DIR), handoff],
    )


def saved(spec, metrics, path, save_s, keras):
    """The metrics of the SavedModel the contract wrote (jobs/contract.py)."""
    metrics["saved_model_bytes"] = path_bytes(path)
    return metrics
