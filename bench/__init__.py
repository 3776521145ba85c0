"""The benchmarks of docs/benchmarks.md, each a module run from the checkout's root:
``python -m bench.NAME --help``. They import the launcher, jobs/' host-side helpers and the
stand-ins (stand_ins/) from the checkout, never by patching sys.path."""
