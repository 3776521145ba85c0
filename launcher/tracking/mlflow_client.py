"""The one module that talks to MLflow: a thin wrapper around ``MlflowClient`` with the calls
the export makes, each failure turned into one line (TrackingError, exit 3).

mlflow is an optional extra (``pip install 'edgecompress[mlflow]'``), imported only when an
export starts; without it the command says so (UserError, exit 2). MLflow's HTTP defaults
retry a dead server for minutes (7 retries, backoff doubling from 2 s, 120 s per request):
unless the environment sets them, an export retries twice, briefly, and waits 30 s for an
answer, so an unreachable server is one line within seconds. MLflow prints a link to stdout
on every finished run; the export prints its own summary instead.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from launcher.errors import TrackingError, UserError
from launcher.inert import inert_line
from launcher.tracking.runs import Metric

HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}
PAGE = 1000  # runs per search page (MLflow's own maximum is 50000)


def import_mlflow() -> Any:
    try:
        import mlflow
    except ModuleNotFoundError as error:
        if error.name != "mlflow":  # mlflow is there but lacks a dependency of its own
            raise UserError(f"MLflow cannot be imported ({error}): pip install "
                            "'edgecompress[mlflow]'") from None
        raise UserError("MLflow is not installed here: pip install 'edgecompress[mlflow]' "
                        "(or pip install mlflow)") from None
    except ImportError as error:
        raise UserError(f"MLflow cannot be imported ({error}): pip install "
                        "'edgecompress[mlflow]'") from None
    return mlflow


def shown_uri(uri: str) -> str:
    """A tracking URI as printed: a password in it is not."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def describe(error: BaseException) -> tuple[bool, str]:
    """(reached, what happened in one line): whether the server answered at all (then it
    refused) or was never reached (a refused connection, an unknown host, no answer).
    MLflow wraps what requests and urllib3 said into its own message: read from that."""
    message = inert_line(str(error))
    errno = re.search(r"\[Errno -?\d+\] ([^'\")]+)", message)
    if errno:
        return False, errno.group(1).strip()
    status = re.search(r"too many (\d{3}) error responses", message)
    if status:
        return True, f"it answered HTTP {status.group(1)} to every try (see the server's log)"
    if re.search(r"time(d )?out", message, re.IGNORECASE):
        return False, "no answer in time (MLFLOW_HTTP_REQUEST_TIMEOUT)"
    cause = re.search(r"Caused by (\w+)", message)
    if cause:
        return False, cause.group(1)
    code = getattr(error, "error_code", None)
    prefix = f"{code}: " if code and not message.startswith(str(code)) else ""
    return True, (prefix + message)[:300]


@dataclass(frozen=True)
class ExistingRun:
    run_id: str
    status: str
    end_ms: int | None
    tags: dict[str, str]


class Tracker:
    """The MLflow calls of an export. Every call that fails raises TrackingError."""

    def __init__(self, uri: str | None) -> None:
        mlflow = import_mlflow()
        for name, value in HTTP_DEFAULTS.items():
            os.environ.setdefault(name, value)
        self.uri: str = uri or mlflow.get_tracking_uri()
        try:
            self._client = mlflow.MlflowClient(tracking_uri=self.uri)
        except Exception as error:  # an unknown scheme, a malformed URI: the user's to fix
            raise UserError(f"cannot use the tracking URI {shown_uri(self.uri)}: "
                            f"{describe(error)[1]}") from error
        self._entities = mlflow.entities

    @contextlib.contextmanager
    def _call(self, what: str) -> Iterator[None]:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                yield
        except UserError:
            raise
        except Exception as error:
            reached, detail = describe(error)
            where = f"MLflow at {shown_uri(getattr(self, 'uri', '') or 'the default URI')}"
            if reached:
                raise TrackingError(f"{where} refused to {what}: {detail}") from error
            raise TrackingError(f"{where} cannot be reached ({detail}): start the tracking "
                                "server, or pass --tracking-uri (or $MLFLOW_TRACKING_URI)"
                                ) from error

    def experiment(self, name: str) -> str:
        """The experiment's id, made when it does not exist."""
        with self._call(f"find the experiment {name!r}"):
            found = self._client.get_experiment_by_name(name)
        if found is not None and found.lifecycle_stage != "active":
            raise UserError(f"the MLflow experiment {name!r} is deleted: restore it (mlflow "
                            "experiments restore) or choose another --experiment")
        if found is not None:
            return str(found.experiment_id)
        with self._call(f"create the experiment {name!r}"):
            return str(self._client.create_experiment(name))

    def runs(self, experiment_id: str, kind_tag: str) -> list[ExistingRun]:
        """Every active run of the experiment that carries ``kind_tag``."""
        found: list[ExistingRun] = []
        token = None
        while True:
            with self._call("search the experiment's runs"):
                page = self._client.search_runs(
                    [experiment_id], filter_string=f"tags.`{kind_tag}` LIKE '%'",
                    max_results=PAGE, page_token=token)
            found += [ExistingRun(r.info.run_id, r.info.status, r.info.end_time,
                                  dict(r.data.tags)) for r in page]
            token = page.token
            if not token:
                return found

    def create(self, experiment_id: str, name: str, start_ms: int | None,
               tags: Mapping[str, str]) -> str:
        with self._call(f"create the run {name!r}"):
            run = self._client.create_run(experiment_id, start_time=start_ms, tags=dict(tags),
                                          run_name=name)
        return str(run.info.run_id)

    def log(self, run_id: str, params: Mapping[str, str], metrics: list[Metric],
            tags: Mapping[str, str], timestamp_ms: int) -> None:
        entities = self._entities
        with self._call("log a run's params, metrics and tags"):
            self._client.log_batch(
                run_id, params=[entities.Param(k, v) for k, v in params.items()],
                metrics=[entities.Metric(m.key, m.value, timestamp_ms, m.step)
                         for m in metrics],
                tags=[entities.RunTag(k, v) for k, v in tags.items()])

    def upload(self, run_id: str, artifacts: Mapping[str, bytes]) -> None:
        """Each artifact from the bytes read under the trust rules (collect.py), written to a
        private folder first: MLflow uploads files, and never opens a path in the store."""
        with tempfile.TemporaryDirectory(prefix="edgecompress-mlflow-") as folder:
            for path, data in sorted(artifacts.items()):
                local = Path(folder) / Path(path).name
                local.write_bytes(data)
                parent = str(Path(path).parent)
                with self._call(f"store the artifact {path}"):
                    self._client.log_artifact(run_id, str(local),
                                              None if parent == "." else parent)
                local.unlink()

    def finish(self, run_id: str, status: str, end_ms: int | None) -> None:
        with self._call("end a run"):
            self._client.set_terminated(run_id, status, end_time=end_ms)

    def delete(self, run_id: str) -> None:
        with self._call(f"delete the run {run_id}"):
            self._client.delete_run(run_id)
