"""benchmark: top-1 accuracy on the test split, latency by the paper's rule, and size.

Latency (paper, eq. 1): a run pushes ``latency_images`` preloaded images one at a time
through the model; per-image latency = timed seconds * 1000 / images. ``latency_runs`` runs,
the first ``warmup_runs`` discarded, the mean of the rest reported, plus the distribution.

Each timed image ends with its output on the host, as an application's would: on a GPU the
calls are asynchronous, and waiting once per run would let consecutive images overlap. The
images are held once, as uint8 pixels (1000 at 224 x 224: 150 MB, not 1.2 GB of float32
twice); each is turned into the model's input (float32, or int8 for an integer-only .tflite)
just before its timed span, outside it: the latency is the model's time. What the cast would
add inside the loop is measured in bench/latency_fidelity.py (docs/benchmarks.md).

``latency_method`` call (default) times one call of the model per image: a tf.function for a
SavedModel, set_tensor + Interpreter.invoke + get_tensor for .tflite. predict times Keras's
Model.predict per image, Keras's machinery included (the paper's likely method). A .tflite
model has no predict: it is timed by call whatever is asked, and the result says so.

Besides the summary of the run means, every kept run's per-image latencies go to a side file
(LATENCY_SAMPLES_FILE: float32 little-endian, run after run; 40 kB per 10,000 images) for the
launcher's statistics over images (launcher/report/latency_stats.py). Cold start is recorded
before any timed run: loading the model, TFLite's allocate_tensors, the first inference; then
the warm-up run's mean. Threads: jobs/threads.py.

``min_duration_s`` (LoadGen's min_duration): after ``latency_runs`` runs, timed runs go on
until the kept runs' timed seconds reach it too, at most MAX_LATENCY_RUNS runs in all
(``more_runs``); the result records the runs run, the kept seconds and whether the duration
was met. ``cooldown_c``: before each timed run (warm-up included) the job waits, in short
sleeps, until the hottest thermal zone (THERMAL_ROOT/thermal_zone*/temp, millidegrees; a zone
that cannot be read, a PMIC's constant and a sensor-less -256 C are skipped) is below it, at
most ``cooldown_timeout_s`` per run; the wait comes before the run's wall-clock start, outside
its window.
"""
import math
import os
import struct
import time

from jobs import compat, data, models, threads
from jobs._contract import (
    ENV_THERMAL_ROOT,
    LATENCY_METHODS,
    LATENCY_SAMPLES_ARTIFACT,
    LATENCY_SAMPLES_FILE,
    LATENCY_SAMPLES_FORMAT,
    MAX_LATENCY_RUNS,
    THERMAL_ROOT,
)
from jobs.contract import Outcome
from jobs.errors import JobInputError
from jobs.sizes import path_bytes


def check(spec):
    path = (spec.get("model") or {}).get("path")
    if not (models.keras_format(path) or (path and os.path.isfile(path) and
                                          _is_tflite(path))):
        raise JobInputError("model input {!r} is neither a SavedModel folder, a .keras or .h5 "
                            "file nor a .tflite file".format(path))
    if spec.get("warmup_runs", 0) >= spec.get("latency_runs", 0):
        raise JobInputError("warmup_runs must be fewer than latency_runs")
    if spec.get("model_h5") and not models.is_saved_model(path):
        raise JobInputError("model_h5 is the .h5 copy of a SavedModel: a .tflite model has "
                            "none, leave it out")
    models.check_handoff(spec, "model")
    if spec.get("latency_method", "call") not in LATENCY_METHODS:
        raise JobInputError("latency_method {!r}: choose one of {}".format(
            spec.get("latency_method"), ", ".join(LATENCY_METHODS)))
    data.check(spec)


def _is_tflite(path):
    with open(path, "rb") as handle:
        return handle.read(8)[4:8] == b"TFL3"


def summarise(per_image_ms, warmup_runs):
    kept = sorted(per_image_ms[warmup_runs:])
    n = len(kept)
    mean = sum(kept) / n
    variance = sum((v - mean) ** 2 for v in kept) / (n - 1) if n > 1 else 0.0
    # p90 by linear interpolation between closest ranks (numpy's default).
    rank = 0.9 * (n - 1)
    low = int(math.floor(rank))
    high = min(low + 1, n - 1)
    p90 = kept[low] + (kept[high] - kept[low]) * (rank - low)
    median = (kept[(n - 1) // 2] + kept[n // 2]) / 2.0
    return {"latency_runs_kept": n, "latency_ms_mean": mean, "latency_ms_median": median,
            "latency_ms_p90": p90, "latency_ms_std": math.sqrt(variance),
            "latency_ms_min": kept[0], "latency_ms_max": kept[-1]}


class KerasRunner(object):
    """A SavedModel (or its .h5 copy: the same layers and weights) through a tf.function
    (method call) or Model.predict (method predict)."""

    def __init__(self, tf, keras, spec, method="call", threads_count=None):
        import numpy as np

        self.tf, self.np = tf, np
        started = time.perf_counter()
        self.model, self.input_format, _ = models.load_input(keras, spec, "model")
        self.load_s = time.perf_counter() - started
        self.allocate_s = None  # TensorFlow allocates as it runs: in the first inference
        self.size = int(self.model.input_shape[1])
        self.input_dtype = "float32"
        self.function = tf.function(lambda x: self.model(x, training=False))
        self.backend = "tf-gpu" if tf.config.list_physical_devices("GPU") else "tf-cpu"
        self.threads = threads_count
        self.xnnpack = None
        self.method = method

    def prepare(self, image):
        """The stored pixels as the model's input: outside the timed span."""
        image = self.np.asarray(image, dtype=self.np.float32)
        return self.tf.constant(image) if self.method == "call" else image

    def predict(self, image):
        if self.method == "predict":
            return self.model.predict(image, verbose=0)
        return self.function(image)

    def fetch(self, output):
        """The output on the host: on a GPU this waits for the image's own computation."""
        return output if self.method == "predict" else output.numpy()

    def weight_counts(self):
        return models.weight_counts(self.model)


class TFLiteRunner(object):
    """A .tflite model: set_tensor, invoke (synchronous, on the CPU), get_tensor."""

    method = "call"

    def __init__(self, tf, path, threads_count):
        import numpy as np

        self.np = np
        with threads.StderrCapture() as log:
            started = time.perf_counter()
            self.interpreter = compat.tflite_interpreter(tf, model_path=path,
                                                         num_threads=threads_count)
            loaded = time.perf_counter()
            self.interpreter.allocate_tensors()  # where TFLite applies its default delegates
            allocated = time.perf_counter()
        self.load_s, self.allocate_s = loaded - started, allocated - loaded
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.size = int(self.input["shape"][1])
        self.input_dtype = np.dtype(self.input["dtype"]).name
        self.backend = "tflite-cpu"
        self.threads = threads_count
        self.xnnpack = threads.xnnpack_applied(log.text, self.op_names())

    def op_names(self):
        try:
            return [op.get("op_name") for op in self.interpreter._get_ops_details()]  # noqa: SLF001
        except (AttributeError, RuntimeError, ValueError):
            return []

    def prepare(self, image):
        """Pixels (uint8 or float) as the interpreter's input type: outside the timed span."""
        np = self.np
        dtype = self.input["dtype"]
        if dtype in (np.int8, np.uint8):
            scale, zero_point = self.input["quantization"]
            info = np.iinfo(dtype)
            image = np.clip(np.round(image / scale + zero_point), info.min, info.max)
        return np.asarray(image).astype(dtype)

    def predict(self, image):
        self.interpreter.set_tensor(self.input["index"], image)
        self.interpreter.invoke()  # synchronous
        return None

    def fetch(self, output):
        """A copy of the output tensor, as an application reads it."""
        return self.interpreter.get_tensor(self.output["index"])

    def scores(self):
        return self.fetch(None)

    def weight_counts(self):
        """Constant tensors (weights, biases) are those no operator produces."""
        np = self.np
        try:
            ops = self.interpreter._get_ops_details()  # noqa: SLF001 - no public API
        except AttributeError:
            return None, None
        produced = set()
        consumed = set()
        for op in ops:
            produced.update(int(i) for i in op["outputs"])
            consumed.update(int(i) for i in op["inputs"] if i >= 0)
        inputs = set(int(d["index"]) for d in self.interpreter.get_input_details())
        total = nonzero = 0
        for index in sorted(consumed - produced - inputs):
            try:
                values = self.interpreter.get_tensor(index)
            except ValueError:
                continue
            total += int(values.size)
            nonzero += int(np.count_nonzero(values))
        return (total or None), (nonzero if total else None)


def accuracy(tf, runner, splits, spec):
    import numpy as np

    correct = total = 0
    if isinstance(runner, KerasRunner):
        for images, labels in data.batches(tf, splits.test, runner.size,
                                           spec["eval_batch_size"]):
            predicted = np.argmax(runner.function(images).numpy(), axis=-1)
            correct += int(np.sum(predicted == labels.numpy()))
            total += int(labels.shape[0])
    else:
        for image, label in data.as_dataset(tf, splits.test, runner.size):
            runner.predict(runner.prepare(image.numpy()[None, ...]))
            correct += int(np.argmax(runner.scores()[0]) == int(label))
            total += 1
    if total == 0:
        raise JobInputError("the test split is empty: nothing to measure accuracy on")
    return float(correct) / total, total


def more_runs(done, kept_s, runs, min_duration_s, cap=MAX_LATENCY_RUNS):
    """Whether another timed run follows ``done`` runs whose kept ones timed ``kept_s``
    seconds: until the spec's ``runs`` and ``min_duration_s`` are both met, never past
    ``cap`` runs."""
    if done >= cap:
        return False
    return done < runs or kept_s < min_duration_s


def zone_celsius(text):
    """A thermal zone's temp file (millidegrees Celsius) in degrees, or None when it does not
    read as a whole number."""
    try:
        return int(text.strip()) / 1000.0
    except (ValueError, AttributeError):
        return None


def thermal_root():
    return os.environ.get(ENV_THERMAL_ROOT) or THERMAL_ROOT


# Zones that are no temperature (launcher/device/thermal.py, docs/methodology.md): a PMIC
# zone (type "PMIC-Die" on a Nano) reads a fixed 100 C whatever the board's heat, and a zone
# without a sensor reads -256 C or so.
NOT_SENSOR_TYPES = ("pmic",)
NO_READING_C = -40.0


def _zone_file(root, name, part):
    """A zone's ``part`` file (temp, type) as text, or None when it cannot be read."""
    try:
        with open(os.path.join(root, name, part)) as handle:
            return handle.read(64)
    except (OSError, UnicodeDecodeError):
        return None


def hottest_zone(root):
    """The highest temperature of the zones under ``root`` (degrees Celsius), or None when no
    zone reads: a zone whose temp cannot be read or parsed is skipped, and so are a PMIC zone
    (a constant) and a reading below NO_READING_C (no sensor)."""
    try:
        names = sorted(n for n in os.listdir(root) if n.startswith("thermal_zone"))
    except OSError:
        return None
    hottest = None
    for name in names:
        kind = (_zone_file(root, name, "type") or "").strip().lower()
        if kind.startswith(NOT_SENSOR_TYPES):
            continue
        celsius = zone_celsius(_zone_file(root, name, "temp"))
        if celsius is None or celsius < NO_READING_C:
            continue
        if hottest is None or celsius > hottest:
            hottest = celsius
    return hottest


COOLDOWN_STEP_S = 0.5


def cool_down(root, below_c, timeout_s, step_s=COOLDOWN_STEP_S):
    """Wait until the hottest zone under ``root`` is below ``below_c``, at most ``timeout_s``
    seconds. Returns (seconds waited, the hottest zone when it stopped waiting, whether the cap
    was hit); the hottest is None when no zone reads (no wait)."""
    started = time.monotonic()
    while True:
        hottest = hottest_zone(root)
        waited = time.monotonic() - started
        if hottest is None or hottest < below_c:
            return waited, hottest, False
        if waited >= timeout_s:
            return waited, hottest, True
        time.sleep(max(0.0, min(step_s, timeout_s - waited)))


class Cooldown(object):
    """The cooldown before each run (``cooldown_c``), and what it waited, for the result."""

    def __init__(self, below_c, timeout_s, root):
        self.below_c, self.timeout_s, self.root = below_c, timeout_s, root
        self.waits, self.start_c, self.caps_hit = [], [], 0
        self.no_zones = False

    def __call__(self):
        if self.below_c is None or self.no_zones:
            return
        waited, hottest, cap_hit = cool_down(self.root, self.below_c, self.timeout_s)
        if hottest is None:
            self.no_zones = True
            print("cooldown_c {:g}: no readable thermal zone under {}: no wait".format(
                self.below_c, self.root))
            return
        if cap_hit:
            self.caps_hit += 1
            print("cooldown_c {:g}: still {:g} C after {:.0f} s (cooldown_timeout_s): the run "
                  "starts anyway".format(self.below_c, hottest, waited))
        self.waits.append(waited)
        self.start_c.append(hottest)

    def metrics(self):
        if self.below_c is None:
            return {"cooldown": None, "cooldown_wait_s": None, "cooldown_caps_hit": None}
        if self.no_zones:
            return {"cooldown": "no thermal zones", "cooldown_wait_s": 0.0,
                    "cooldown_caps_hit": 0}
        return {"cooldown": "cap hit" if self.caps_hit else "reached",
                "cooldown_wait_s": sum(self.waits), "cooldown_caps_hit": self.caps_hit}

    def samples(self):
        if self.below_c is None or self.no_zones:
            return {}
        return {"cooldown_wait_s": self.waits, "cooldown_start_c": self.start_c}


def latency_runs(runner, images, runs, each_image=None, warmup=0, min_duration_s=0.0,
                 before_run=None):
    """Per-image milliseconds of each run, and each run's wall-clock start and end (Unix
    seconds): the launcher lines power samples up with them (the host's clock is the same).
    With ``each_image`` (a list), every run's per-image milliseconds are appended to it.

    Each image is timed from the model's call until its output is on the host
    (``runner.fetch``), so no two images overlap even where calls are asynchronous (a GPU);
    turning the stored pixels into the model's input (``runner.prepare``) comes before the
    image's timed span and is not part of it.

    ``runs`` runs, and more while the kept ones (after ``warmup``) have timed fewer than
    ``min_duration_s`` seconds (``more_runs``). ``before_run`` (the cooldown) is called before
    each run's wall-clock start."""
    per_image_ms, started_unix, ended_unix = [], [], []
    clock = time.perf_counter
    kept_ms = 0.0  # summed as kept_seconds sums them: the same float
    while more_runs(len(per_image_ms), kept_ms / 1000.0, runs, min_duration_s):
        if before_run is not None:
            before_run()
        spans = []
        started_unix.append(time.time())
        for image in images:
            model_input = runner.prepare(image)
            started = clock()
            runner.fetch(runner.predict(model_input))
            spans.append(clock() - started)
        run_ms = [span * 1000.0 for span in spans]
        if len(per_image_ms) >= warmup:
            kept_ms += sum(run_ms)
        per_image_ms.append(sum(spans) * 1000.0 / len(images))
        ended_unix.append(time.time())
        if each_image is not None:
            each_image.append(run_ms)
    return per_image_ms, started_unix, ended_unix


def kept_seconds(each_image, warmup):
    """The kept runs' timed seconds, from every run's per-image milliseconds."""
    return sum(sum(run) for run in each_image[warmup:]) / 1000.0


def first_inference_ms(runner, image):
    """The model's first inference after loading, timed as every later one is."""
    model_input = runner.prepare(image)
    started = time.perf_counter()
    runner.fetch(runner.predict(model_input))
    return (time.perf_counter() - started) * 1000.0


def write_samples(path, per_image_runs):
    """Every kept run's per-image milliseconds, float32 little-endian, run after run."""
    with open(path, "wb") as handle:
        for run in per_image_runs:
            handle.write(struct.pack("<{}f".format(len(run)), *run))


def latency_pool(pool, count):
    """``count`` inputs cycling through the ``pool`` of loaded images: references, never
    copies, so memory holds each loaded image once whatever the count."""
    return [pool[index % len(pool)] for index in range(count)]


def run(spec, context):
    tf, keras = context.tf, context.keras
    path = spec["model"]["path"]
    method = spec.get("latency_method", "call")
    threads_count, threads_source = threads.resolve(spec)
    intra, inter = threads.set_tensorflow(tf, threads_count)
    fmt = models.keras_format(path)
    if fmt is not None:  # a SavedModel, or a user's .keras or .h5 file
        runner = KerasRunner(tf, keras, spec, method, intra or None)
    else:
        runner, fmt = TFLiteRunner(tf, path, threads_count), "tflite"
        if method != runner.method:
            print("latency_method {}: a .tflite model has no Keras predict(); timed by {} "
                  "(set_tensor, invoke, get_tensor per image)".format(method, runner.method))
    splits = data.load_splits(tf, spec)
    source = splits.test if data.count(splits.test) else splits.train
    # Preloaded once as uint8, cycled up to the requested count: the loop does no I/O or
    # decoding, and memory holds each image once. Loaded before accuracy so that the first
    # inference timed is the model's first.
    pool = data.first_uint8_images(tf, source, runner.size, spec["latency_images"])
    if not pool:
        raise JobInputError("no images to time the model with")
    cold_first_ms = first_inference_ms(runner, pool[0])

    metrics = {"format": fmt, "input_format": getattr(runner, "input_format", None),
               "backend": runner.backend, "threads": runner.threads,
               "threads_source": threads_source, "tf_intra_op_threads": intra,
               "tf_inter_op_threads": inter, "xnnpack": runner.xnnpack,
               "input_dtype": runner.input_dtype, "latency_method": runner.method,
               "cold_load_s": runner.load_s, "cold_allocate_s": runner.allocate_s,
               "cold_first_inference_ms": cold_first_ms,
               "top1_accuracy": None, "test_examples": None}
    if spec["accuracy"]:
        metrics["top1_accuracy"], metrics["test_examples"] = accuracy(tf, runner, splits, spec)

    images = latency_pool(pool, spec["latency_images"])
    warmup = spec["warmup_runs"]
    each_image = []
    min_duration_s = float(spec.get("min_duration_s") or 0.0)
    cooldown = Cooldown(spec.get("cooldown_c"), spec.get("cooldown_timeout_s", 300.0),
                        thermal_root())
    per_image_ms, started_unix, ended_unix = latency_runs(
        runner, images, spec["latency_runs"], each_image, warmup=warmup,
        min_duration_s=min_duration_s, before_run=cooldown)
    metrics.update(summarise(per_image_ms, warmup))
    kept_s = kept_seconds(each_image, warmup)
    metrics.update({"latency_runs_run": len(per_image_ms), "latency_kept_s": kept_s,
                    "min_duration_s": min_duration_s,
                    "duration_met": kept_s >= min_duration_s})
    if len(per_image_ms) > spec["latency_runs"] or kept_s < min_duration_s:
        print("min_duration_s {:g}: {} timed runs, the kept ones {:.3f} s{}".format(
            min_duration_s, len(per_image_ms), kept_s,
            "" if kept_s >= min_duration_s else ": not met within {} runs".format(
                MAX_LATENCY_RUNS)))
    metrics.update(cooldown.metrics())
    metrics["latency_images"] = len(images)
    metrics["warmup_ms_mean"] = (sum(per_image_ms[:warmup]) / warmup) if warmup else None
    write_samples(context.artifact_path(LATENCY_SAMPLES_FILE), each_image[warmup:])
    metrics["latency_samples_format"] = LATENCY_SAMPLES_FORMAT

    parameters, nonzero = runner.weight_counts()
    metrics.update({"bytes": path_bytes(path), "gzip_bytes": models.gzip_bytes(path),
                    "parameters": parameters, "nonzero_parameters": nonzero})
    return Outcome(metrics=metrics,
                   artifacts=[(LATENCY_SAMPLES_ARTIFACT, "file", LATENCY_SAMPLES_FILE)],
                   samples=dict({"latency_ms_per_image_all_runs": per_image_ms,
                                 "latency_run_started_unix": started_unix,
                                 "latency_run_ended_unix": ended_unix}, **cooldown.samples()))
