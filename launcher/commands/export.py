"""edgecompress export mlflow: the store's jobs as MLflow runs (launcher/tracking/), campaigns
as parent runs; a re-export adds what is new and duplicates nothing."""

from __future__ import annotations

import argparse

from launcher.commands._options import add_store
from launcher.console import console, errors
from launcher.tracking.collect import collect
from launcher.views import escape

DEFAULT_EXPERIMENT = "edgecompress"


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("export", help="copy the store's results into an experiment "
                                 "tracker (MLflow)")
    targets = parser.add_subparsers(dest="target", required=True, metavar="TARGET")
    mlflow = targets.add_parser(
        "mlflow", help="each job as an MLflow run (spec as params, metrics, tags, result.json), "
        "each campaign as their parent run with the report's figures; idempotent; needs "
        "pip install 'edgecompress[mlflow]'")
    mlflow.add_argument("--tracking-uri", metavar="URI",
                        help="the MLflow tracking server or store (default: "
                        "$MLFLOW_TRACKING_URI, else MLflow's default)")
    mlflow.add_argument("--experiment", metavar="NAME", default=DEFAULT_EXPERIMENT,
                        help=f"the MLflow experiment, made if missing (default: "
                        f"{DEFAULT_EXPERIMENT})")
    add_store(mlflow)
    mlflow.set_defaults(handler=run_mlflow)


def counts(done: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in sorted(done.items())) or "none"


def run_mlflow(args: argparse.Namespace) -> int:
    # Imported here: the tracker module imports mlflow only when it starts, but the rest of
    # the CLI should not even load the export's modules.
    from launcher.tracking.mlflow_client import Tracker, shown_uri
    from launcher.tracking.sync import export

    tracker = Tracker(args.tracking_uri)  # without mlflow: one line, exit 2
    collected = collect(args.store)
    with console.status("exporting to MLflow") as status:
        done = export(tracker, args.experiment, collected,
                      lambda line: status.update(escape(f"exporting to MLflow: {line}")))
    console.print(f"exported {args.store} to MLflow at {shown_uri(tracker.uri)}, experiment "
                  f"{args.experiment!r} ({done.experiment_id}): campaign runs: "
                  f"{counts(done.campaigns)}; job runs: {counts(done.jobs)}",
                  markup=False, soft_wrap=True)
    if collected.not_run:
        console.print(f"{collected.not_run} job folder(s) without a finished attempt: not "
                      "exported", markup=False)
    if done.half_made_deleted:
        console.print(f"{done.half_made_deleted} half-made run(s) of an earlier export "
                      "deleted", markup=False)
    for folder, why in collected.refused:
        errors.print(f"skipped: {folder}: {why}", markup=False, soft_wrap=True)
    return 1 if collected.refused else 0
