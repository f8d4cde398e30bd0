"""Process-mining benchmark: Liucheng vs pm4py, side by side in one run.

Datasets: the largest shared real log (BPIC 2012, 262k events) and the synthetic
1,000,000-event order-to-cash log with noise (generated once with
``../shared/bench/mining/gen_synthetic.py`` + ``add_noise.py`` into a cache outside the repo,
default ``/tmp/liucheng-bench/mining``; ``--cache`` to change).

Each (dataset, tool) runs in its own fresh subprocess so that ``peak_rss_mb`` (the process's
maximum resident set size after the operation) is that tool's own. Every figure is one JSON line:

    {"bench": "mining", "dataset", "op", "tool", "seconds", "peak_rss_mb", "result"}

and per operation a comparison line with ``speedup`` (pm4py seconds / ours) and ``equal``
(both tools produced the same DFG counts / variants / case and event counts). For import, DFG and
variants ``seconds`` is the median of ``--repeat`` runs, with ``cpu_seconds`` (median process CPU
time) and ``best_seconds`` beside it; our import includes building the activity/case/time encoding
that DFG and variants then reuse (liucheng.history._encoded).

When ``liucheng.analytics.mining`` is importable, its inductive miner (noise 0 and 0.2), token
replay (on the noise-0 model) and alignments (on the first ``--align-cases`` cases) run beside
pm4py's ``discover_petri_net_inductive``, ``fitness_token_based_replay`` and
``fitness_alignments``. Both tools replay and align the *same* net: Liucheng's noise-0 IM net
is handed to the pm4py worker as JSON (``--net``); discovered transition counts are printed
side by side. A second alignment figure, ``alignments_pm4py_net_N``, is like for like on pm4py's
own net: pm4py's noise-0 ``discover_petri_net_inductive`` net is written as JSON
(``--pm4py-net``) and both tools align it; its comparison line carries CPU seconds, their ratio
and ``equal`` (log fitness within 1e-6). A third, ``alignments_pm4py_imf_N``, aligns pm4py's
IMf net at noise 0.2 (``--pm4py-imf-net``): on the noisy 1M log this is the setting that
reproduces the README's 3.0 s for pm4py (its noise-0 net takes tens of CPU seconds per variant).

``--only`` also takes the other shared real logs (``repairExample``, ``helpdesk``, ``receipt``,
``reviewing``): small logs with few variants, where the alignment figures are dominated by the
per-variant search rather than by the model's state space.

Usage: python bench/mining/bench_mining.py [--cache DIR]
       [--only bpic2012|synthetic|repairExample|helpdesk|receipt|reviewing]
       [--repeat N] [--align-cases N] [--no-mining]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import io
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("LIUCHENG_SHARED", ROOT.parent / "shared"))
LOGS = SHARED / "data" / "logs"
BPIC = LOGS / "bpic2012.xes.gz"
SMALL_LOGS = ("repairExample", "helpdesk", "receipt", "reviewing")
GEN = SHARED / "bench" / "mining"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _digest(obj: Any) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _measured(fn: Callable[[], Any], repeat: int) -> tuple[dict[str, float], Any]:
    """Median wall and CPU seconds of ``repeat`` runs (and the best wall time): the machine is
    shared, so medians, and CPU time, which other processes disturb less."""
    walls: list[float] = []
    cpus: list[float] = []
    out: Any = None
    for _ in range(repeat):
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    walls.sort()
    cpus.sort()
    figs = {"seconds": walls[len(walls) // 2], "best_seconds": walls[0]}
    figs["cpu_seconds"] = cpus[len(cpus) // 2]
    return figs, out


# ---------------------------------------------------------------------------------------------
# Workers (one per tool and dataset, in a fresh process)


def _net_to_json(net: Any) -> dict[str, Any]:
    """Our Petri net as plain JSON (so that pm4py replays and aligns the very same net)."""
    return {
        "places": list(net.places),
        "transitions": [[t.name, t.label, t.inputs, t.outputs] for t in net.transitions],
        "initial": [[p, n] for p, n in net.initial.items()],
        "final": [[p, n] for p, n in net.final.items()],
    }


def _pm4py_net_to_json(pn: Any, im: Any, fm: Any) -> dict[str, Any]:
    """A pm4py (net, initial, final) triple as the JSON of :func:`_net_to_json` (places and
    transitions sorted by name, so that both tools see the same net)."""
    places = sorted(pn.places, key=lambda p: str(p.name))
    idx = {p: i for i, p in enumerate(places)}
    trans = sorted(pn.transitions, key=lambda t: str(t.name))
    return {
        "places": [str(p.name) for p in places],
        "transitions": [
            [
                str(t.name),
                t.label,
                [[idx[a.source], a.weight] for a in t.in_arcs],
                [[idx[a.target], a.weight] for a in t.out_arcs],
            ]
            for t in trans
        ],
        "initial": [[idx[p], n] for p, n in im.items()],
        "final": [[idx[p], n] for p, n in fm.items()],
    }


def _our_net(path: Path) -> Any:
    """The JSON net of :func:`_net_to_json` as our ``PetriNet``."""
    from liucheng.analytics.mining import PetriNet

    data = json.loads(path.read_text())
    net = PetriNet()
    for name in data["places"]:
        net.add_place(name)
    for name, label, inputs, outputs in data["transitions"]:
        t = net.add_transition(label, name)
        for p, w in inputs:
            net.arc_in(p, t, w)
        for p, w in outputs:
            net.arc_out(t, p, w)
    net.initial = {int(p): int(n) for p, n in data["initial"]}
    net.final = {int(p): int(n) for p, n in data["final"]}
    return net


def _align_sample(frame: Any, n: int) -> Any:
    import polars as pl

    cases = frame.get_column("case_id").unique(maintain_order=True).head(n)
    return frame.filter(pl.col("case_id").is_in(cases.implode()))


def worker_liucheng_align(
    path: Path, align_cases: int, net_in: Path, op_prefix: str = "alignments_pm4py_net"
) -> list[dict[str, Any]]:
    """Our alignments of the first ``align_cases`` cases on a given JSON net (pm4py's)."""
    from liucheng.analytics import mining
    from liucheng.history import read_log

    frame = read_log(path)
    net = _our_net(net_in)
    sample = _align_sample(frame, align_cases)
    figs, res = _measured(lambda: mining.align(sample, net, lifecycle=None), 1)
    result = {"fitness": res.log_fitness, "transitions": len(net.transitions)}
    op = f"{op_prefix}_{align_cases}"
    return [{"op": op, **figs, "peak_rss_mb": _rss_mb(), "result": result}]


def _pm4py_net(path: Path) -> tuple[Any, Any, Any]:
    """The JSON net of :func:`_net_to_json` as a pm4py (net, initial, final) triple."""
    from pm4py.objects.petri_net.obj import Marking
    from pm4py.objects.petri_net.obj import PetriNet as PN
    from pm4py.objects.petri_net.utils import petri_utils as pu

    data = json.loads(path.read_text())
    pn = PN("liucheng")
    places = [PN.Place(n) for n in data["places"]]
    for p in places:
        pn.places.add(p)
    for name, label, inputs, outputs in data["transitions"]:
        t = PN.Transition(name, label)
        pn.transitions.add(t)
        for p, w in inputs:
            pu.add_arc_from_to(places[p], t, pn, weight=w)
        for p, w in outputs:
            pu.add_arc_from_to(t, places[p], pn, weight=w)
    im = Marking({places[p]: n for p, n in data["initial"]})
    fm = Marking({places[p]: n for p, n in data["final"]})
    return pn, im, fm


def _liucheng_mining(
    frame: Any, align_cases: int, net_out: Path | None = None
) -> list[dict[str, Any]]:
    """Discovery, token replay and alignments of ``liucheng.analytics.mining`` (when present).

    The noise-0 net is written to ``net_out``: pm4py's replay and alignments then run on the
    same net (each tool aligning its own model compared two different searches).
    """
    try:
        from liucheng.analytics import mining
    except ImportError:
        return []
    out: list[dict[str, Any]] = []
    net: Any = None
    # `import pm4py` loads all of its miners before any clock starts; liucheng.analytics loads
    # each on first use. One untimed run on a few cases loads ours, so both are timed warm.
    import polars as pl

    few = frame.filter(pl.col("case_id").is_in(frame["case_id"].unique().head(20).implode()))
    warm = mining.to_petri_net(mining.discover_inductive(few, 0.2, lifecycle=None))
    mining.token_replay(few, warm, lifecycle=None)
    for name in ("inductive", "inductive_0.2", "token_replay", f"alignments_{align_cases}"):
        try:
            if name.startswith("inductive"):
                noise = float(name.split("_")[1]) if "_" in name else 0.0
                # the net conversion is timed too: pm4py's discover_petri_net_inductive does it
                figs, model = _measured(
                    lambda noise=noise: mining.to_petri_net(
                        mining.discover_inductive(frame, noise, lifecycle=None)
                    ),
                    1,
                )
                net = model if noise == 0.0 else net
                if noise == 0.0 and net_out is not None:
                    net_out.write_text(json.dumps(_net_to_json(model)))
                result: Any = {"transitions": len(getattr(model, "transitions", ()))}
            elif name == "token_replay":
                figs, res = _measured(
                    lambda net=net: mining.token_replay(frame, net, lifecycle=None), 1
                )
                result = {"fitness": res.log_fitness}
            else:
                sample = _align_sample(frame, align_cases)
                figs, res = _measured(
                    lambda sample=sample, net=net: mining.align(sample, net, lifecycle=None), 1
                )
                result = {"fitness": res.log_fitness}
            out.append({"op": name, **figs, "peak_rss_mb": _rss_mb(), "result": result})
        except Exception as exc:  # a missing or broken op must not hide the other figures
            out.append({"op": name, "error": f"{type(exc).__name__}: {exc}"})
    return out


def worker_liucheng(
    path: Path, repeat: int, align_cases: int, net_out: Path | None = None
) -> list[dict[str, Any]]:
    from liucheng.analytics import discover_dfg, variants
    from liucheng.analytics._fast import encoded
    from liucheng.history import read_log

    def read_and_encode() -> Any:
        # The activity/case/time encoding that DFG and variants reuse is built here, so its
        # cost is part of the import figure, not hidden in the first analysis.
        frame = read_log(path)
        encoded(frame, "all")
        return frame

    out: list[dict[str, Any]] = []
    figs, frame = _measured(read_and_encode, 1)
    out.append(
        {
            "op": "import",
            **figs,
            "peak_rss_mb": _rss_mb(),
            "result": {"cases": frame["case_id"].n_unique(), "events": frame.height},
        }
    )
    figs, g = _measured(lambda: discover_dfg(frame, lifecycle="all", performance=False), repeat)
    counts = {f"{s}|{t}": c for s, t, c in g.edges.select("source", "target", "count").iter_rows()}
    out.append({"op": "dfg", **figs, "peak_rss_mb": _rss_mb(), "result": _digest(counts)})
    figs, _perf = _measured(
        lambda: discover_dfg(frame, lifecycle="all").edges["mean_seconds"], repeat
    )
    out.append({"op": "dfg_performance", **figs, "peak_rss_mb": _rss_mb(), "result": None})
    figs, v = _measured(lambda: variants(frame, lifecycle="all"), repeat)
    vs = {"|".join(a): c for a, c in v.select("activities", "count").iter_rows()}
    out.append({"op": "variants", **figs, "peak_rss_mb": _rss_mb(), "result": _digest(vs)})
    if align_cases >= 0:
        out += _liucheng_mining(frame, align_cases, net_out)
    return out


def worker_pm4py(
    path: Path,
    repeat: int,
    ops: list[str],
    net_in: Path | None = None,
    own_net_out: Path | None = None,
    imf_net_out: Path | None = None,
) -> list[dict[str, Any]]:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        import pm4py
        from pm4py.util import constants

    # no progress bars: drawing them is not pm4py's work (and would only flatter our ratios)
    constants.SHOW_PROGRESS_BAR = False
    out: list[dict[str, Any]] = []

    def quiet(fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                return fn()

        return run

    if path.suffix == ".parquet":
        import pandas as pd

        figs, df = _measured(quiet(lambda: pd.read_parquet(path)), 1)
    else:
        figs, df = _measured(quiet(lambda: pm4py.read_xes(str(path), show_progress_bar=False)), 1)
    out.append(
        {
            "op": "import",
            **figs,
            "peak_rss_mb": _rss_mb(),
            "result": {"cases": int(df["case:concept:name"].nunique()), "events": len(df)},
        }
    )
    # Like with like: pm4py's discover_dfg would order by a start-timestamp column if present.
    df = df.drop(columns=[c for c in ("start_timestamp",) if c in df.columns])
    figs, dfg = _measured(quiet(lambda: pm4py.discover_dfg(df)), repeat)
    counts = {f"{s}|{t}": int(c) for (s, t), c in dfg[0].items()}
    out.append({"op": "dfg", **figs, "peak_rss_mb": _rss_mb(), "result": _digest(counts)})
    figs, _ = _measured(quiet(lambda: pm4py.discover_performance_dfg(df)), repeat)
    out.append({"op": "dfg_performance", **figs, "peak_rss_mb": _rss_mb(), "result": None})
    figs, var = _measured(quiet(lambda: pm4py.get_variants(df)), repeat)
    vs = {"|".join(k): int(c if isinstance(c, int) else len(c)) for k, c in var.items()}
    out.append({"op": "variants", **figs, "peak_rss_mb": _rss_mb(), "result": _digest(vs)})
    im_net: Any = None
    own_net: Any = None
    for name in ops:
        try:
            if name.startswith("inductive"):
                noise = float(name.split("_")[1]) if "_" in name else 0.0
                figs, net = _measured(
                    quiet(
                        lambda noise=noise: pm4py.discover_petri_net_inductive(
                            df, noise_threshold=noise
                        )
                    ),
                    1,
                )
                im_net = net if noise == 0.0 else im_net
                own_net = net if noise == 0.0 else own_net
                if noise == 0.0 and own_net_out is not None:
                    own_net_out.write_text(json.dumps(_pm4py_net_to_json(*net)))
                if noise == 0.2 and imf_net_out is not None:
                    imf_net_out.write_text(json.dumps(_pm4py_net_to_json(*net)))
                if noise == 0.0 and net_in is not None and net_in.exists():
                    im_net = _pm4py_net(net_in)  # replay and align Liucheng's net
                result: Any = {"transitions": len(net[0].transitions)}
            elif name == "token_replay" and im_net is not None:
                figs, fit = _measured(
                    quiet(lambda im_net=im_net: pm4py.fitness_token_based_replay(df, *im_net)), 1
                )
                result = {"fitness": fit.get("log_fitness")}
            elif name.startswith("alignments") and im_net is not None:
                n = int(name.rsplit("_", 1)[1])
                if name.startswith("alignments_pm4py_imf"):
                    if imf_net_out is None or not imf_net_out.exists():
                        continue
                    aligned = _pm4py_net(imf_net_out)
                elif name.startswith("alignments_pm4py_net"):
                    if own_net is None:
                        continue
                    # the JSON round trip, so that pm4py aligns exactly the net we align
                    assert own_net_out is not None
                    aligned = _pm4py_net(own_net_out)
                else:
                    aligned = im_net
                cases = df["case:concept:name"].drop_duplicates().head(n)
                sample = df[df["case:concept:name"].isin(set(cases))]
                figs, fit = _measured(
                    quiet(
                        lambda sample=sample, aligned=aligned: pm4py.fitness_alignments(
                            sample, *aligned, multi_processing=False
                        )
                    ),
                    1,
                )
                result = {"fitness": fit.get("log_fitness")}
            else:
                continue
            out.append({"op": name, **figs, "peak_rss_mb": _rss_mb(), "result": result})
        except Exception as exc:
            out.append({"op": name, "error": f"{type(exc).__name__}: {exc}"})
    return out


# ---------------------------------------------------------------------------------------------
# Orchestration


def synthetic(cache: Path) -> Path:
    """The noisy 1M-event synthetic log as XES (generated once into ``cache``)."""
    cache.mkdir(parents=True, exist_ok=True)
    xes = cache / "o2c_100k_noisy.xes"
    if xes.exists():
        return xes
    base = cache / "o2c_100k"
    noisy = cache / "o2c_100k_noisy"
    if not Path(f"{base}.parquet").exists():
        subprocess.run(
            [sys.executable, str(GEN / "gen_synthetic.py"), "100000", str(base)], check=True
        )
    if not Path(f"{noisy}.parquet").exists():
        subprocess.run(
            [sys.executable, str(GEN / "add_noise.py"), f"{base}.parquet", str(noisy)], check=True
        )
    from liucheng.history import ColumnMapping, read_log, write_log

    frame = read_log(
        Path(f"{noisy}.parquet"),
        mapping=ColumnMapping(
            case="case:concept:name", activity="concept:name", timestamp="time:timestamp"
        ),
    )
    write_log(frame, xes)
    return xes


def _spawn(
    tool: str, path: Path, repeat: int, ops: list[str], extra: list[str]
) -> list[dict[str, Any]]:
    cmd = [sys.executable, __file__, "--worker", tool, "--path", str(path), "--repeat", str(repeat)]
    cmd += extra
    if ops:
        cmd += ["--ops", ",".join(ops)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return [{"op": "worker", "error": proc.stderr.strip().splitlines()[-1:] or "failed"}]
    return json.loads(lines[-1])["figures"]


def _equal(ours: dict[str, Any], theirs: dict[str, Any]) -> bool | None:
    """Same result: identical for import, DFG and variants; log fitness within 1e-6 for
    alignments (the issue's criterion)."""
    op = ours["op"]
    if op in {"import", "dfg", "variants"}:
        return bool(ours.get("result") == theirs.get("result"))
    if op.startswith("alignments"):
        a = (ours.get("result") or {}).get("fitness")
        b = (theirs.get("result") or {}).get("fitness")
        return a is not None and b is not None and abs(a - b) <= 1e-6
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default="/tmp/liucheng-bench/mining")
    ap.add_argument("--only", choices=["bpic2012", "synthetic", *SMALL_LOGS])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--worker", choices=["liucheng", "pm4py"])
    ap.add_argument("--path")
    ap.add_argument("--ops", default="")
    ap.add_argument("--align-cases", type=int, default=200, help="cases in the alignment sample")
    ap.add_argument("--no-mining", action="store_true", help="only import, DFG and variants")
    ap.add_argument("--net", help="worker: JSON file of the noise-0 net (written / read)")
    ap.add_argument("--pm4py-net", help="worker: JSON file of pm4py's noise-0 net")
    ap.add_argument("--align-only", action="store_true", help="worker: only align --pm4py-net")
    ap.add_argument("--pm4py-imf-net", help="worker: JSON file of pm4py's IMf 0.2 net")
    ap.add_argument("--align-op", default="alignments_pm4py_net", help="worker: figure name")
    args = ap.parse_args()
    if args.worker:
        path = Path(args.path)
        ops = [o for o in args.ops.split(",") if o]
        net_file = Path(args.net) if args.net else None
        pm_file = Path(args.pm4py_net) if args.pm4py_net else None
        if args.align_only and pm_file is not None:
            figs = worker_liucheng_align(path, args.align_cases, pm_file, args.align_op)
            print(json.dumps({"figures": figs}, default=str))
            return
        figs = (
            worker_liucheng(path, args.repeat, -1 if args.no_mining else args.align_cases, net_file)
            if args.worker == "liucheng"
            else worker_pm4py(
                path,
                args.repeat,
                ops,
                net_file,
                pm_file,
                Path(args.pm4py_imf_net) if args.pm4py_imf_net else None,
            )
        )
        print(json.dumps({"figures": figs}, default=str))
        return
    datasets: list[tuple[str, Path]] = []
    if args.only in (None, "bpic2012"):
        datasets.append(("bpic2012", BPIC))
    if args.only in SMALL_LOGS:
        datasets.append((args.only, LOGS / f"{args.only}.xes.gz"))
    if args.only in (None, "synthetic"):
        datasets.append(("synthetic_1m_noisy", synthetic(Path(args.cache))))
    for name, path in datasets:
        extra = ["--align-cases", str(args.align_cases)] + (
            ["--no-mining"] if args.no_mining else []
        )
        net_file = Path(args.cache) / f"{name}_im_net.json"
        net_file.parent.mkdir(parents=True, exist_ok=True)
        net_file.unlink(missing_ok=True)
        pm_file = Path(args.cache) / f"{name}_pm4py_im_net.json"
        pm_file.unlink(missing_ok=True)
        imf_file = Path(args.cache) / f"{name}_pm4py_imf02_net.json"
        imf_file.unlink(missing_ok=True)
        extra += ["--net", str(net_file)]
        ours = _spawn("liucheng", path, args.repeat, [], extra)
        pm_ops = [
            f["op"]
            for f in ours
            if f.get("op") not in {"import", "dfg", "dfg_performance", "variants"}
        ]
        if not args.no_mining and args.align_cases >= 0:
            pm_ops.append(f"alignments_pm4py_net_{args.align_cases}")
            pm_ops.append(f"alignments_pm4py_imf_{args.align_cases}")
        theirs = _spawn(
            "pm4py",
            path,
            args.repeat,
            pm_ops,
            ["--net", str(net_file), "--pm4py-net", str(pm_file), "--pm4py-imf-net", str(imf_file)],
        )
        for file, op in ((pm_file, "alignments_pm4py_net"), (imf_file, "alignments_pm4py_imf")):
            if file.exists():
                ours += _spawn(
                    "liucheng",
                    path,
                    1,
                    [],
                    [
                        "--align-cases",
                        str(args.align_cases),
                        "--pm4py-net",
                        str(file),
                        "--align-only",
                        "--align-op",
                        op,
                    ],
                )
        for tool, figs in (("liucheng", ours), ("pm4py", theirs)):
            for f in figs:
                print(
                    json.dumps({"bench": "mining", "dataset": name, "tool": tool, **f}, default=str)
                )
        by_op = {f["op"]: f for f in theirs if "seconds" in f}
        for f in ours:
            ref = by_op.get(f.get("op", ""))
            if ref is None or "seconds" not in f:
                continue
            print(
                json.dumps(
                    {
                        "bench": "mining",
                        "dataset": name,
                        "op": f["op"],
                        "compare": "pm4py/liucheng",
                        "liucheng_seconds": round(f["seconds"], 4),
                        "pm4py_seconds": round(ref["seconds"], 4),
                        "liucheng_cpu_seconds": round(f["cpu_seconds"], 4)
                        if "cpu_seconds" in f
                        else None,
                        "pm4py_cpu_seconds": round(ref["cpu_seconds"], 4)
                        if "cpu_seconds" in ref
                        else None,
                        "speedup": round(ref["seconds"] / f["seconds"], 1)
                        if f["seconds"]
                        else None,
                        "liucheng_peak_rss_mb": round(f["peak_rss_mb"], 1),
                        "pm4py_peak_rss_mb": round(ref["peak_rss_mb"], 1),
                        "equal": _equal(f, ref),
                        "cpu_ratio": round(ref["cpu_seconds"] / f["cpu_seconds"], 1)
                        if f.get("cpu_seconds") and "cpu_seconds" in ref
                        else None,
                        "liucheng_result": f.get("result")
                        if f["op"] not in {"dfg", "variants"}
                        else None,
                        "pm4py_result": ref.get("result")
                        if f["op"] not in {"dfg", "variants"}
                        else None,
                    },
                    default=str,
                )
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main()
