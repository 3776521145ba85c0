"""The job contract: the one place that defines what a job is asked (its spec) and what it
answers (its result), plus the launcher's own record of a run. jobs/ writes plain JSON with the
standard library; these pydantic models are the single source of truth, exported to
``schema/*.schema.json`` and, for the seam's vocabulary, to jobs/_contract.py.

vocabulary.py  names, container paths, environment variables, literals; the shared types
specs.py       what a job is asked: one spec per job, the union, the job names
results.py     what a job answers: timings, environment, resources, artifacts, metrics
record.py      the launcher's record of one run: status, reason, power measurement
export.py      schema/ and jobs/_contract.py rendered from the above; the stale check
"""
