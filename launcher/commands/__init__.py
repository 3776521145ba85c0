"""One module per verb, in the manner of asv's ``commands/``: each has ``add_parser`` (which
registers its parser and sets ``handler``) and ``run(args) -> exit code``. ``launcher/cli.py``
only assembles them, in this order (the order ``--help`` lists them)."""

from launcher.commands import (
    build,
    campaign,
    diff,
    doctor,
    export,
    fetch,
    fleet,
    gc,
    merge,
    recommend,
    report,
    results,
    run,
    schema,
    status,
    transfer,
)

COMMANDS = (build, run, fetch, campaign, fleet, status, results, diff, report, recommend, export,
            merge, transfer, doctor, gc, schema)
