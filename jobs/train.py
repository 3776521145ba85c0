"""train / scratch: a keras.applications backbone with a new head, trained on the data.

``train`` is the paper's transfer learning (ImageNet weights by default). ``scratch`` is the
same code for the distillation student trained on labels alone with the distillation budget:
the paper's baseline. What trains is the spec's ``regime`` (jobs/architectures.py): the head
alone, every layer, or every layer but BatchNormalization; the launcher's default is the head
when the backbone has pretrained weights, every layer when it has none. A campaign gives scratch
the distillation student's regime.
"""
import time

from jobs import architectures, data, models, pretrained
from jobs.contract import Outcome
from jobs.errors import JobInputError
from jobs.sizes import path_bytes


def input_path(spec, field):
    return (spec.get(field) or {}).get("path")


def check(spec):
    architectures.check_form(spec.get("architecture"))
    pretrained.check_spec(spec)
    architectures.check_regime(spec.get("regime"))
    data.check(spec)


def compile_for_labels(keras, model, learning_rate):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy"])


def run(spec, context):
    tf, keras = context.tf, context.keras
    tf.random.set_seed(spec["seed"])
    splits = data.load_splits(tf, spec)
    size, batch = spec["input_size"], spec["batch_size"]
    train = data.batches(tf, splits.train, size, batch, shuffle_seed=spec["seed"])
    validation = data.batches(tf, splits.validation, size, batch)
    n_train, n_validation = data.count(splits.train), data.count(splits.validation)
    if n_train == 0:
        raise JobInputError("the training split is empty")

    model = architectures.build_classifier(keras, spec["architecture"], size,
                                           splits.num_classes, spec["weights"],
                                           weights_file=input_path(spec, "weights_file"),
                                           canonical=spec.get("canonical", False))
    architectures.apply_regime(keras, model, spec["regime"])
    if spec.get("bn_momentum"):
        architectures.set_bn_momentum(keras, model, spec["bn_momentum"])
    compile_for_labels(keras, model, spec["learning_rate"])

    started = time.time()
    with architectures.frozen_in_inference_mode(keras, model) as quieted:
        history = model.fit(train, validation_data=validation if n_validation else None,
                            epochs=spec["epochs"], verbose=2)
    train_s = time.time() - started
    handoff = models.save_handoff(model, context.out_dir)

    metrics = history.history
    samples = {name: [float(v) for v in values] for name, values in metrics.items()}
    return Outcome(
        metrics={
            "train_s": train_s,
            "epochs": spec["epochs"],
            "steps_per_epoch": -(-n_train // batch),
            "train_examples": n_train,
            "validation_examples": n_validation,
            "num_classes": splits.num_classes,
            "parameters": int(model.count_params()),
            "regime": spec["regime"],
            "trainable_parameters": architectures.trainable_parameters(model),
            # Frozen layers ran in inference mode: no dropout, no stochastic depth (the
            # number of Dropout layers quieted while the rest trained).
            "frozen_dropout_quieted": quieted,
            "fingerprint": architectures.fingerprint(model),
            "final_train_accuracy": float(metrics["accuracy"][-1]),
            "final_validation_accuracy": (float(metrics["val_accuracy"][-1])
                                          if "val_accuracy" in metrics else None),
        },
        saved_model=model,
        artifacts=[("model", "saved_model", models.SAVED_MODEL_DIR), handoff],
        samples=samples,
    )


def saved(spec, metrics, path, save_s, keras):
    """The metrics of the SavedModel the contract wrote (jobs/contract.py)."""
    metrics["saved_model_bytes"] = path_bytes(path)
    # Only a base model is compressed, and the paper's compression time starts by loading it.
    metrics["saved_model_load_s"] = (models.time_saved_model_load(keras, path)
                                     if spec["job"] == "train" else None)
    return metrics
