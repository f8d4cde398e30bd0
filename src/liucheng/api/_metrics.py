"""Prometheus metrics in the text exposition format (no client library needed)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, func, select

from liucheng.errors import LiuchengError
from liucheng.store import schema
from liucheng.store._retry import in_connection

if TYPE_CHECKING:
    from ._core import Services

__all__ = ["Metrics"]

log = logging.getLogger("liucheng.api")

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Histogram:
    def __init__(self) -> None:
        self.counts = [0] * (len(_BUCKETS) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, seconds: float) -> None:
        for i, bound in enumerate(_BUCKETS):
            if seconds <= bound:
                self.counts[i] += 1
                break
        else:
            self.counts[-1] += 1
        self.total += seconds
        self.n += 1

    def lines(self, name: str, labels: str) -> list[str]:
        out: list[str] = []
        running = 0
        for bound, count in zip(_BUCKETS, self.counts, strict=False):
            running += count
            out.append(f'{name}_bucket{{{labels}le="{bound}"}} {running}')
        out.append(f'{name}_bucket{{{labels}le="+Inf"}} {self.n}')
        lab = "{" + labels.rstrip(",") + "}" if labels else ""
        out.append(f"{name}_sum{lab} {self.total:.6f}")
        out.append(f"{name}_count{lab} {self.n}")
        return out


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Request counters and latencies, plus engine figures read at scrape time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = {}
        self._latency: dict[tuple[str, str], _Histogram] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request."""
        with self._lock:
            key = (method, route, status)
            self._requests[key] = self._requests.get(key, 0) + 1
            hist = self._latency.get((method, route))
            if hist is None:
                hist = self._latency[(method, route)] = _Histogram()
            hist.observe(seconds)

    def render(self, svc: Services) -> str:
        """The exposition text."""
        lines: list[str] = []

        def metric(name: str, kind: str, help_text: str) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")

        def counts(c: Connection) -> list[int]:
            def count(table: Table, *where: Any) -> int:
                stmt = select(func.count()).select_from(table)
                for w in where:
                    stmt = stmt.where(w)
                return int(c.execute(stmt).scalar_one())

            h = schema.history
            return [
                count(h, h.c.kind == "process_start"),
                count(h, h.c.kind == "process_end"),
                count(schema.instance),
                count(schema.task),
                count(schema.task, schema.task.c.assignee.is_(None)),
                count(schema.incident),
                count(schema.job),
                count(schema.job, schema.job.c.retries <= 0),
                count(schema.external_task),
            ]

        try:
            figures = in_connection(svc.db, counts)
        except LiuchengError as exc:
            # The database is away: the scrape still answers with this process's own figures
            # (a failed scrape would lose them exactly when they matter) and says so.
            log.warning("metrics without database figures: %s", exc.code)
            figures = None
        metric("liucheng_database_up", "gauge", "Whether the database answered this scrape")
        lines.append(f"liucheng_database_up {0 if figures is None else 1}")
        if figures is not None:
            (started, ended, live, tasks, unassigned, incidents, jobs, failed_jobs, external) = (
                figures
            )
            metric("liucheng_process_instances_started_total", "counter", "Instances started")
            lines.append(f"liucheng_process_instances_started_total {started}")
            metric("liucheng_process_instances_ended_total", "counter", "Instances ended")
            lines.append(f"liucheng_process_instances_ended_total {ended}")
            metric("liucheng_process_instances_active", "gauge", "Live instances")
            lines.append(f"liucheng_process_instances_active {live}")
            metric("liucheng_tasks_open", "gauge", "Open user tasks (task backlog)")
            lines.append(f'liucheng_tasks_open{{assigned="true"}} {tasks - unassigned}')
            lines.append(f'liucheng_tasks_open{{assigned="false"}} {unassigned}')
            metric("liucheng_incidents_open", "gauge", "Open incidents")
            lines.append(f"liucheng_incidents_open {incidents}")
            metric("liucheng_jobs", "gauge", "Jobs waiting (timers, async continuations)")
            lines.append(f'liucheng_jobs{{state="waiting"}} {jobs - failed_jobs}')
            lines.append(f'liucheng_jobs{{state="failed"}} {failed_jobs}')
            metric("liucheng_external_tasks_open", "gauge", "Open external tasks")
            lines.append(f"liucheng_external_tasks_open {external}")
        executor = svc.executor
        if executor is not None:
            st = executor.stats
            metric("liucheng_jobs_executed_total", "counter", "Jobs run by this server")
            lines.append(f"liucheng_jobs_executed_total {st.executed}")
            metric("liucheng_jobs_failed_total", "counter", "Job runs that failed")
            lines.append(f"liucheng_jobs_failed_total {st.failed}")
            metric("liucheng_job_latency_seconds", "summary", "Delay from due time to job start")
            sample = sorted(st.latencies[-10_000:])
            for q in (0.5, 0.9, 0.99):
                v = sample[min(len(sample) - 1, int(q * len(sample)))] if sample else 0.0
                lines.append(f'liucheng_job_latency_seconds{{quantile="{q}"}} {v:.6f}')
            lines.append(f"liucheng_job_latency_seconds_sum {sum(sample):.6f}")
            lines.append(f"liucheng_job_latency_seconds_count {len(sample)}")
        with self._lock:
            metric("liucheng_http_requests_total", "counter", "HTTP requests")
            for (method, route, status), n in sorted(self._requests.items()):
                lines.append(
                    f'liucheng_http_requests_total{{method="{method}",route="{_esc(route)}",'
                    f'status="{status}"}} {n}'
                )
            metric("liucheng_http_request_seconds", "histogram", "HTTP request latency")
            for (method, route), hist in sorted(self._latency.items()):
                lines += hist.lines(
                    "liucheng_http_request_seconds",
                    f'method="{method}",route="{_esc(route)}",',
                )
        return "\n".join(lines) + "\n"
