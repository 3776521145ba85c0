"""The job side of the contract: read the spec, run the job, write result.json atomically.

The shape of spec and result is defined by the launcher's pydantic models (launcher/contract/,
exported to schema/); this module writes plain JSON that must validate against them. The names
both sides share (jobs, schema version, file names) come from jobs/_contract.py, generated.
"""
import datetime
import importlib
import json
import os
import sys
import tempfile
import time

from jobs._contract import ENV_SAVE_APART, JOB_NAMES, RESULT_NAME, SCHEMA_VERSION
from jobs.errors import JobInputError
from jobs.sizes import path_bytes

# A job runs the ``run(spec, context)`` function of jobs/<job name>.py, unless named here.
# (inspect would shadow the standard library's inspect module for code run from jobs/.)
MODULES = {"scratch": "jobs.train", "inspect": "jobs.inspect_model"}


def job_module(job):
    return MODULES.get(job, "jobs." + job)


class Context(object):
    """What a job gets besides its spec: the imported frameworks and where to write."""

    def __init__(self, tf, keras, out_dir):
        self.tf = tf
        self.keras = keras
        self.out_dir = out_dir

    def artifact_path(self, name):
        return os.path.join(self.out_dir, name)


class Outcome(object):
    """What a job returns: metrics, artifacts (paths relative to out_dir) and raw samples.

    ``saved_model``: a Keras model for the contract to write as the job's SavedModel (after the
    job wrote its .h5 copy), then to hand to the job module's ``saved(spec, metrics, path,
    save_s, keras)``, which returns the metrics with those that depend on it. Apart (see
    ``save_apart``) that happens in a fresh process."""

    def __init__(self, metrics, artifacts=None, samples=None, saved_model=None):
        self.metrics = metrics
        self.artifacts = artifacts or []
        self.samples = samples or {}
        self.saved_model = saved_model


def read_spec(path):
    try:
        with open(path) as handle:
            spec = json.load(handle)
    except (IOError, OSError) as error:
        raise JobInputError("cannot read spec {}: {}".format(path, error))
    except ValueError as error:
        raise JobInputError("spec {} is not JSON: {}".format(path, error))
    if not isinstance(spec, dict):
        raise JobInputError("spec {} must be a JSON object".format(path))
    return spec


def check_spec(spec):
    if spec.get("schema_version") != SCHEMA_VERSION:
        raise JobInputError(
            "spec schema_version {!r} is not {}: rebuild the image or update the launcher".format(
                spec.get("schema_version"), SCHEMA_VERSION))
    if spec.get("job") not in JOB_NAMES:
        raise JobInputError("unknown job {!r}: choose one of {}".format(
            spec.get("job"), ", ".join(sorted(JOB_NAMES))))


def run(spec, out_dir, started):
    """Run one job and return the path of its result.json."""
    check_spec(spec)
    module = importlib.import_module(job_module(spec["job"]))
    if hasattr(module, "check"):
        module.check(spec)  # cheap input checks before the slow imports
    started_at = datetime.datetime.utcfromtimestamp(started).isoformat() + "Z"

    t_imports = time.time()
    tf, keras = import_frameworks()
    imports_s = time.time() - t_imports

    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
    context = Context(tf, keras, out_dir)
    t_job = time.time()
    outcome = module.run(spec, context)
    timings = {"started": started, "started_at": started_at, "imports_s": imports_s,
               "job_s": time.time() - t_job}
    save_apart = os.environ.get(ENV_SAVE_APART) == "1"
    if outcome.saved_model is not None:
        if save_apart:
            continue_apart(spec, outcome, out_dir, timings)  # does not return
        t_save = time.time()
        outcome.metrics = save_model(module, spec, keras, outcome.saved_model, out_dir,
                                     outcome.metrics)
        timings["job_s"] += time.time() - t_save
    return write_result(spec, outcome, out_dir, timings, tf, keras,
                        False if outcome.saved_model is not None else None)


def import_frameworks():
    from jobs import compat

    tf = compat.import_tensorflow()
    return tf, compat.keras_module(tf)


def save_model(module, spec, keras, model, out_dir, metrics):
    from jobs import models

    started = time.time()
    path = models.save(model, out_dir)
    return module.saved(spec, metrics, path, time.time() - started, keras)


# --- saving apart: the SavedModel written by a fresh process ------------------------------
# Keras traces every layer's call to write a SavedModel: for DenseNet201 that took 1.7 GB on
# top of what the pruning fit left allocated, 5.4 GB in all where a Nano gives a job 3.5 GB; a
# fresh process loading the .h5 copy and saving peaked at 2.6 GB (docs/benchmarks.md). With
# ENV_SAVE_APART (the launcher sets it for small memory limits) the job process execs a fresh
# Python, which loads the .h5 copy the job wrote and writes the SavedModel from it: the same
# layers and weights, in a process holding nothing else. exec keeps the process (its PID under
# the container's timeout, stdout, stderr) and the kernel keeps its peak RSS, so the result
# still reports the whole job's peak.


def continue_apart(spec, outcome, out_dir, timings):
    state = {"spec": spec, "metrics": outcome.metrics, "samples": outcome.samples,
             "artifacts": outcome.artifacts, "timings": timings}
    handle, path = tempfile.mkstemp(prefix="job-state-", suffix=".json")
    with os.fdopen(handle, "w") as state_file:
        json.dump(state, state_file)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "jobs", "finish", "--state", path,
                              "--out", out_dir])


def finish_apart(state_path, out_dir, resumed):
    """The fresh process: load the .h5 copy, write the SavedModel, the result."""
    with open(state_path) as handle:
        state = json.load(handle)
    os.remove(state_path)
    spec, timings = state["spec"], state["timings"]
    module = importlib.import_module(job_module(spec["job"]))
    tf, keras = import_frameworks()
    timings["imports_s"] += time.time() - resumed
    t_save = time.time()
    from jobs import models, user_code

    # A user's model with custom layers keeps them after pruning: the copy needs them too.
    model = models.load_keras(keras, os.path.join(out_dir, models.HANDOFF_FILE),
                              custom_objects=user_code.custom_objects(spec))
    metrics = save_model(module, spec, keras, model, out_dir, state["metrics"])
    timings["job_s"] += time.time() - t_save
    outcome = Outcome(metrics, [tuple(a) for a in state["artifacts"]], state["samples"])
    return write_result(spec, outcome, out_dir, timings, tf, keras, True)


def write_result(spec, outcome, out_dir, timings, tf, keras, saved_apart):
    from jobs import environment

    resources = environment.peak_memory()
    if saved_apart is not None:
        resources["saved_apart"] = saved_apart
    result = {
        "schema_version": SCHEMA_VERSION,
        "job": spec["job"],
        "spec": spec,
        "metrics": outcome.metrics,
        "samples": outcome.samples,
        "artifacts": [describe_artifact(out_dir, *item) for item in outcome.artifacts],
        "environment": environment.collect(tf, keras),
        "resources": resources,
        "timings": {
            "started_at": timings["started_at"],
            "imports_s": timings["imports_s"],
            "job_s": timings["job_s"],
            "total_s": time.time() - timings["started"],
        },
    }
    path = os.path.join(out_dir, RESULT_NAME)
    write_json_atomic(path, result)
    return path


def describe_artifact(out_dir, name, kind, relpath):
    return {"name": name, "kind": kind, "path": relpath,
            "bytes": path_bytes(os.path.join(out_dir, relpath))}


def write_json_atomic(path, document):
    """Temp file, fsync, rename, fsync the folder: a reader sees the old file or the whole new
    one, never half of it, even across a power cut."""
    text = json.dumps(document, indent=2, sort_keys=True, allow_nan=False)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(tmp, path)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
