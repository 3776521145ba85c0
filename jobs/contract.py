"""The job side of the contract: read the spec, run the job, write result.json atomically.

The shape of spec and result is defined by the launcher's pydantic models (launcher/schema.py,
exported to schema/); this module writes plain JSON that must validate against them. The names
both sides share (jobs, schema version, file names) come from jobs/_contract.py, generated.
"""
import datetime
import importlib
import json
import os
import time

from jobs._contract import JOB_NAMES, RESULT_NAME, SCHEMA_VERSION
from jobs.errors import JobInputError

# A job runs the ``run(spec, context)`` function of jobs/<job name>.py, unless named here.
MODULES = {"scratch": "jobs.train"}


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
    """What a job returns: metrics, artifacts (paths relative to out_dir) and raw samples."""

    def __init__(self, metrics, artifacts=None, samples=None):
        self.metrics = metrics
        self.artifacts = artifacts or []
        self.samples = samples or {}


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
    from jobs import compat

    tf = compat.import_tensorflow()
    keras = compat.keras_module(tf)
    imports_s = time.time() - t_imports

    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
    context = Context(tf, keras, out_dir)
    t_job = time.time()
    outcome = module.run(spec, context)
    job_s = time.time() - t_job

    from jobs import environment

    result = {
        "schema_version": SCHEMA_VERSION,
        "job": spec["job"],
        "spec": spec,
        "metrics": outcome.metrics,
        "samples": outcome.samples,
        "artifacts": [describe_artifact(out_dir, *item) for item in outcome.artifacts],
        "environment": environment.collect(tf, keras),
        "resources": environment.peak_memory(),
        "timings": {
            "started_at": started_at,
            "imports_s": imports_s,
            "job_s": job_s,
            "total_s": time.time() - started,
        },
    }
    path = os.path.join(out_dir, RESULT_NAME)
    write_json_atomic(path, result)
    return path


def describe_artifact(out_dir, name, kind, relpath):
    return {"name": name, "kind": kind, "path": relpath,
            "bytes": path_bytes(os.path.join(out_dir, relpath))}


def path_bytes(path):
    """Bytes of a file, or of every file under a folder (a SavedModel's size on disk)."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(folder, name))
    return total


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
