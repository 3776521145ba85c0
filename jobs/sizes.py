"""How many bytes a file or a folder takes on disk: what a result reports of an artifact
(jobs/contract.py) and of a model (the jobs' metrics). Standard library only, imported by
both sides of the job (jobs/contract.py and the job modules) without importing either."""
import os


def path_bytes(path):
    """Bytes of a file, or of every file under a folder (a SavedModel's size on disk)."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(folder, name))
    return total
