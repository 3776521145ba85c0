"""prune: tfmot unstructured magnitude pruning, fine-tuned for N epochs, then strip_pruning.

Only Conv2D (not depthwise) and Dense layers are wrapped: keras.applications models hold
layers that tfmot refuses to wrap (Rescaling, TFOpLambda, Normalization), so the model is
cloned layer by layer instead of pruned whole. The clone reuses the loaded layers, so it starts
from the trained weights; that is checked before any pruning step, because a clone that lost
its weights looks exactly like a pruning loss.

The pruning fit fine-tunes what it prunes: every pruned layer (Conv2D, Dense) trains, whatever
flag the loaded SavedModel restored (a base trained with a frozen backbone restores frozen
layers, and pruning those would zero weights that nothing retrains). Every other layer stays as
trained, BatchNormalization in inference mode: at the paper's batch of 4, batch statistics are
noise. The result records that (``regime``), the parameters trained, and how many surviving
backbone weights moved (``backbone_survivors_changed``).

Compression time: ``load_s`` (the base model), ``prune_s`` (wrapping, the pruning fit with its
per-epoch validation, strip_pruning), ``save_s`` (the SavedModel) and their sum; counting the
data and checking the clone stay outside every timer.
"""
import time

from jobs import architectures, compat, data, models
from jobs.contract import Outcome
from jobs.errors import JobInputError


def check(spec):
    models.check_saved_model("model", spec.get("model"))
    models.check_handoff(spec, "model")
    target = spec.get("target_sparsity")
    if not isinstance(target, (int, float)) or not 0 < target < 1:
        raise JobInputError("target_sparsity {!r} must be between 0 and 1 (exclusive), e.g. "
                            "0.5".format(target))
    data.check(spec)


def is_prunable(keras, layer):
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return False  # tfmot wraps it but never prunes it: keep it dense and say so
    return isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))


def schedule(tfmot, spec, total_steps, frequency):
    sparsity = tfmot.sparsity.keras
    if spec["schedule"] == "polynomial":
        end_step = max(frequency, (total_steps - 1) // frequency * frequency)
        return sparsity.PolynomialDecay(initial_sparsity=0.0,
                                        final_sparsity=spec["target_sparsity"],
                                        begin_step=0, end_step=end_step, frequency=frequency)
    return sparsity.ConstantSparsity(spec["target_sparsity"], begin_step=0,
                                     frequency=frequency)


REGIME = "pruned_layers"  # launcher/schema.py's PruneRegime


def fine_tune_pruned_layers(keras, model):
    """The pruning regime: the prunable layers train, every other layer is frozen (a frozen
    BatchNormalization runs in inference mode). Returns the prunable layers' names."""
    model.trainable = True
    names = []
    for layer in model.layers:
        layer.trainable = is_prunable(keras, layer)
        if layer.trainable:
            names.append(layer.name)
    return names


def survivors_changed(pairs):
    """(base kernel, pruned kernel) arrays -> the fraction of the pruned kernels' non-zero
    weights whose value differs from the base's; None when no weight survives."""
    import numpy as np

    changed = survivors = 0
    for base, pruned in pairs:
        alive = pruned != 0
        survivors += int(np.count_nonzero(alive))
        changed += int(np.count_nonzero(pruned[alive] != base[alive]))
    return float(changed) / survivors if survivors else None


def kernel_sparsity(model, layer_names):
    import numpy as np

    zeros = total = 0
    for layer in model.layers:
        if layer.name in layer_names:
            kernel = layer.kernel.numpy()
            zeros += int(kernel.size - np.count_nonzero(kernel))
            total += int(kernel.size)
    return zeros, total


def run(spec, context):
    tf, keras = context.tf, context.keras
    tfmot = compat.import_tfmot()
    tf.random.set_seed(spec["seed"])
    source = spec["model"]["path"]
    dense, input_format, load_s = models.load_input(keras, spec, "model")

    size = int(dense.input_shape[1])
    splits = data.load_splits(tf, spec)
    batch = spec["batch_size"]
    train = data.batches(tf, splits.train, size, batch, shuffle_seed=spec["seed"])
    validation = data.batches(tf, splits.validation, size, batch)
    n_train = data.count(splits.train)
    has_validation = data.count(splits.validation) > 0
    steps_per_epoch = -(-n_train // batch)
    total_steps = steps_per_epoch * spec["epochs"]
    frequency = max(1, min(100, steps_per_epoch))
    pruning_schedule = schedule(tfmot, spec, total_steps, frequency)

    probe_batch = next(iter(validation if has_validation else train))[0]
    dense_out = dense(probe_batch, training=False).numpy()
    fine_tuned = fine_tune_pruned_layers(keras, dense)
    # The clone shares the loaded layers' weights: copy the backbone's kernels before the fit.
    base_kernels = dict((layer.name, layer.kernel.numpy()) for layer in dense.layers
                        if layer.name in fine_tuned and layer.name != architectures.HEAD)

    wrapped = []

    def wrap(layer):
        if is_prunable(keras, layer):
            wrapped.append(layer.name)
            return tfmot.sparsity.keras.prune_low_magnitude(
                layer, pruning_schedule=pruning_schedule)
        return layer

    started = time.time()
    model = keras.models.clone_model(dense, clone_function=wrap)
    wrap_s = time.time() - started
    if not wrapped:
        raise JobInputError("the model has no Conv2D or Dense layer to prune")
    import numpy as np

    if not np.allclose(model(probe_batch, training=False).numpy(), dense_out, atol=1e-4):
        raise RuntimeError("the wrapped model does not reproduce the dense model before "
                           "pruning: the clone lost the trained weights")

    started = time.time()
    model.compile(optimizer=keras.optimizers.Adam(spec["learning_rate"]),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    history = model.fit(train, validation_data=validation if has_validation else None,
                        epochs=spec["epochs"], verbose=2,
                        callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
    stripped = tfmot.sparsity.keras.strip_pruning(model)
    prune_s = wrap_s + time.time() - started

    handoff = models.save_handoff(stripped, context.out_dir)

    zeros, pruned_total = kernel_sparsity(stripped, set(wrapped))
    parameters, nonzero = models.weight_counts(stripped)
    changed = survivors_changed(
        [(base_kernels[layer.name], layer.kernel.numpy()) for layer in stripped.layers
         if layer.name in base_kernels])
    metrics = history.history
    return Outcome(
        metrics={
            "load_s": load_s,
            "prune_s": prune_s,
            "input_format": input_format,
            "input_load_s": load_s,
            "regime": REGIME,
            "trainable_parameters": architectures.trainable_parameters(model),
            "backbone_survivors_changed": changed,
            "target_sparsity": spec["target_sparsity"],
            "achieved_sparsity": float(zeros) / pruned_total,
            "overall_sparsity": float(parameters - nonzero) / parameters,
            "wrapped_layers": len(wrapped),
            "pruned_parameters": pruned_total,
            "parameters": parameters,
            "base_saved_model_bytes": models.path_bytes(source),
            "base_gzip_bytes": models.gzip_bytes(source),
            "final_validation_accuracy": (float(metrics["val_accuracy"][-1])
                                          if "val_accuracy" in metrics else None),
        },
        saved_model=stripped,
        artifacts=[("model", "saved_model", models.SAVED_MODEL_DIR), handoff],
        samples={name: [float(v) for v in values] for name, values in metrics.items()},
    )


def saved(spec, metrics, path, save_s, keras):
    """The metrics of the SavedModel the contract wrote (jobs/contract.py)."""
    metrics.update({
        "save_s": save_s,
        "compression_total_s": metrics["load_s"] + metrics["prune_s"] + save_s,
        "saved_model_bytes": models.path_bytes(path),
        "gzip_bytes": models.gzip_bytes(path),
    })
    return metrics
