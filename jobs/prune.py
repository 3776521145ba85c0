"""prune: tfmot unstructured magnitude pruning, fine-tuned for N epochs, then strip_pruning.

Only Conv2D (not depthwise) and Dense layers are wrapped: keras.applications models hold
layers that tfmot refuses to wrap (Rescaling, TFOpLambda, Normalization), so the model is
cloned layer by layer instead of pruned whole. The clone reuses the loaded layers, so it starts
from the trained weights; that is checked before any pruning step, because a clone that lost
its weights looks exactly like a pruning loss.

What trains while the model is pruned is the spec's ``regime``:
- ``pruned_layers`` (the default): every pruned layer (Conv2D, Dense) trains, whatever flag the
  loaded model restored (a base trained with a frozen backbone restores frozen layers, and
  pruning those would zero weights that nothing retrains); every other layer stays as trained,
  BatchNormalization in inference mode: at the paper's batch of 4, batch statistics are noise;
- ``all``: every layer, BatchNormalization in training mode (its statistics follow the pruned
  convolutions; sensible at larger batches and for bases that trained their BatchNormalization);
- ``as_restored``: the flags the loaded model restored, as ``prune_low_magnitude`` on a
  restored transfer-learned model does (the paper's likely procedure): a frozen backbone is
  pruned and never retrained.
The result records the regime, the parameters trained, and how many surviving backbone weights
moved (``backbone_survivors_changed``).

When the masks change (``mask_plan``): tfmot counts the first training step as 1 (the wrapper
adds one before it asks the schedule), so a schedule that begins at step 0 with a frequency of
an epoch's steps puts the first mask at the last step of the first epoch: that epoch trains the
dense network (its accuracy is the dense network's) and only the remaining epochs recover from
the mask. The schedule here begins at step 1 and makes its last change at least one epoch
before the fit ends (tfmot's guide: a schedule that ends before training does). The first mask
is applied before the fit, at step 1's sparsity, so that the network right after it can be
measured; the fit's step 1 finds the same mask. The result records the validation accuracy
before pruning, right after the first mask and after each epoch, and the steps at which the
masks changed, seen by a callback.

Compression time: ``load_s`` (the base model), ``prune_s`` (wrapping, the first mask, the
pruning fit with its per-epoch validation, strip_pruning), ``save_s`` (the SavedModel) and
their sum; counting the data, checking the clone and the extra validation passes stay outside
every timer.
"""
import math
import time

from jobs import architectures, compat, data, models
from jobs._contract import PRUNE_REGIMES
from jobs.contract import Outcome
from jobs.errors import JobInputError
from jobs.sizes import path_bytes


def check(spec):
    models.check_model("model", spec.get("model"))
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


FIRST_STEP = 1  # tfmot's count of the first training step (the wrapper adds 1, then asks)


def mask_plan(total_steps, steps_per_epoch, frequency):
    """(begin_step, end_step, the steps at which the masks may change) for a fit of
    ``total_steps`` in epochs of ``steps_per_epoch``: from the first step, every ``frequency``
    steps, the last at least one epoch before the end (or at the first step, for a fit of one
    epoch), so the network always has an epoch or more to recover from the last change."""
    begin = FIRST_STEP
    end = max(begin, total_steps - steps_per_epoch)
    return begin, end, list(range(begin, end + 1, frequency))


def schedule(tfmot, spec, total_steps, steps_per_epoch, frequency):
    sparsity = tfmot.sparsity.keras
    begin, end, _ = mask_plan(total_steps, steps_per_epoch, frequency)
    if spec["schedule"] == "polynomial" and end > begin:
        return sparsity.PolynomialDecay(initial_sparsity=0.0,
                                        final_sparsity=spec["target_sparsity"],
                                        begin_step=begin, end_step=end, frequency=frequency)
    # Constant, or a polynomial with a single change (a fit of one epoch): the target at once.
    return sparsity.ConstantSparsity(spec["target_sparsity"], begin_step=begin, end_step=end,
                                     frequency=frequency)


def cosine_after(rate, hold_steps, total_steps, step):
    """The rate at ``step``: ``rate`` up to ``hold_steps``, then half a cosine down to 0 at
    ``total_steps``. Pure: the schedule below computes the same in TensorFlow."""
    span = float(max(1, total_steps - hold_steps))
    progress = min(1.0, max(0.0, (step - hold_steps) / span))
    return rate * 0.5 * (1.0 + math.cos(math.pi * progress))


def learning_rate(tf, keras, spec, total_steps, last_mask_step):
    """The fine-tune's learning rate: a number, or a schedule over the fit's steps.

    constant: Adam's rate throughout. cosine: from the rate down to 0 at the last step.
    cosine_after_masks: the rate while the masks may change, then down to 0 over what is
    left (at least an epoch, mask_plan): the network recovers from each mask at the full
    rate, and the last epoch settles instead of ending on one noisy step."""
    rate = spec["learning_rate"]
    decay = spec.get("learning_rate_decay") or "constant"
    if decay == "cosine":
        return keras.optimizers.schedules.CosineDecay(rate, total_steps)
    if decay != "cosine_after_masks":
        return rate

    class CosineAfterMasks(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            span = float(max(1, total_steps - last_mask_step))
            progress = tf.clip_by_value(
                (tf.cast(step, tf.float32) - float(last_mask_step)) / span, 0.0, 1.0)
            return rate * 0.5 * (1.0 + tf.cos(math.pi * progress))

        def get_config(self):
            return {"rate": rate, "hold_steps": last_mask_step, "total_steps": total_steps}

    return CosineAfterMasks()


def apply_regime(keras, model, regime):
    """Set what trains while pruning (see the module's docstring). Returns the names of the
    prunable layers that train."""
    if regime not in PRUNE_REGIMES:
        raise JobInputError("regime {!r} is not one of {}".format(
            regime, ", ".join(PRUNE_REGIMES)))
    if regime == "pruned_layers":
        model.trainable = True
        for layer in model.layers:
            layer.trainable = is_prunable(keras, layer)
    elif regime == "all":
        model.trainable = True
        for layer in model.layers:
            layer.trainable = True
    return [layer.name for layer in model.layers
            if layer.trainable and model.trainable and is_prunable(keras, layer)]


def apply_first_mask(wrappers):
    """Each wrapper's mask at the schedule's first step, applied to its weights, eagerly and
    through tfmot's own update (the one its callback uses at each epoch's end); the step is
    set back so the fit counts from the start."""
    for wrapper in wrappers:
        wrapper.pruning_step.assign(FIRST_STEP)
        wrapper.pruning_obj.conditional_mask_update()
        wrapper.pruning_obj.weight_mask_op()
        wrapper.pruning_step.assign(0)


def thresholds(wrappers):
    """Every pruned weight's current threshold: it moves whenever tfmot recomputes a mask."""
    return [float(threshold.numpy()) for wrapper in wrappers
            for _, _, threshold in wrapper.pruning_vars]


def mask_watch(keras, wrappers, steps_per_epoch, changed):
    """A callback appending to ``changed`` each training step (tfmot's count) after which any
    mask's threshold moved. Reads one scalar per pruned layer per step."""
    class MaskWatch(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.last = thresholds(wrappers)
            self.epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            now = thresholds(wrappers)
            if now != self.last:
                changed.append(self.epoch * steps_per_epoch + batch + 1)
                self.last = now
    return MaskWatch()


def accuracy_of(model, batches):
    """Top-1 of ``model`` in inference mode over (images, labels) batches, or None for none."""
    import numpy as np

    right = seen = 0
    for images, labels in batches:
        predicted = np.argmax(model(images, training=False).numpy(), axis=-1)
        right += int(np.sum(predicted == labels.numpy()))
        seen += int(predicted.shape[0])
    return float(right) / seen if seen else None


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
    models.refuse_keras3(dense, "model", source, "pruning")

    size = int(dense.input_shape[1])
    splits = data.load_splits(tf, spec)
    batch = spec["batch_size"]
    train = data.batches(tf, splits.train, size, batch, shuffle_seed=spec["seed"])
    validation = data.batches(tf, splits.validation, size, batch)
    n_train = data.count(splits.train)
    has_validation = data.count(splits.validation) > 0
    # The extra validation passes (before pruning, after the first mask) at the fit's batch:
    # a larger one would raise the job's peak memory (DenseNet201 at 224 px is near a Nano's).
    measured = validation if has_validation else None
    steps_per_epoch = -(-n_train // batch)
    total_steps = steps_per_epoch * spec["epochs"]
    frequency = max(1, min(100, steps_per_epoch))
    pruning_schedule = schedule(tfmot, spec, total_steps, steps_per_epoch, frequency)
    planned = mask_plan(total_steps, steps_per_epoch, frequency)[2]

    probe_batch = next(iter(validation if has_validation else train))[0]
    dense_out = dense(probe_batch, training=False).numpy()
    before = accuracy_of(dense, measured) if measured is not None else None
    apply_regime(keras, dense, spec.get("regime") or "pruned_layers")
    # The clone shares the loaded layers' weights: copy the backbone's kernels before the fit.
    base_kernels = dict((layer.name, layer.kernel.numpy()) for layer in dense.layers
                        if is_prunable(keras, layer) and layer.name != architectures.HEAD)

    wrapped = []
    wrappers = []

    def wrap(layer):
        if is_prunable(keras, layer):
            wrapped.append(layer.name)
            wrappers.append(tfmot.sparsity.keras.prune_low_magnitude(
                layer, pruning_schedule=pruning_schedule))
            return wrappers[-1]
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
    apply_first_mask(wrappers)
    mask_s = time.time() - started
    after_first_mask = accuracy_of(model, measured) if measured is not None else None

    mask_changes = []
    started = time.time()
    rate = learning_rate(tf, keras, spec, total_steps, planned[-1])
    model.compile(optimizer=keras.optimizers.Adam(rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    history = model.fit(train, validation_data=validation if has_validation else None,
                        epochs=spec["epochs"], verbose=2,
                        callbacks=[tfmot.sparsity.keras.UpdatePruningStep(),
                                   mask_watch(keras, wrappers, steps_per_epoch,
                                              mask_changes)])
    stripped = tfmot.sparsity.keras.strip_pruning(model)
    prune_s = wrap_s + mask_s + time.time() - started

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
            "regime": spec.get("regime") or "pruned_layers",
            "trainable_parameters": architectures.trainable_parameters(model),
            "backbone_survivors_changed": changed,
            "target_sparsity": spec["target_sparsity"],
            "achieved_sparsity": float(zeros) / pruned_total,
            "overall_sparsity": float(parameters - nonzero) / parameters,
            "wrapped_layers": len(wrapped),
            "pruned_parameters": pruned_total,
            "parameters": parameters,
            "base_saved_model_bytes": path_bytes(source),
            "base_gzip_bytes": models.gzip_bytes(source),
            "final_validation_accuracy": (float(metrics["val_accuracy"][-1])
                                          if "val_accuracy" in metrics else None),
            "validation_accuracy_before": before,
            "validation_accuracy_first_mask": after_first_mask,
            "steps_per_epoch": steps_per_epoch,
            "total_steps": total_steps,
            "mask_steps_planned": planned,
            # The first mask is applied before the fit (step 1's); the fit's own changes after.
            "mask_steps": [FIRST_STEP] + [step for step in mask_changes
                                         if step != FIRST_STEP],
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
        "saved_model_bytes": path_bytes(path),
        "gzip_bytes": models.gzip_bytes(path),
    })
    return metrics
