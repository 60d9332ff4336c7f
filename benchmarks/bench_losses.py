#!/usr/bin/env python3
"""Benchmark of iusp_loss: forward+backward time and peak memory per path.

For each frame count T, a random teacher [B, T, D_t] (no grad, as under
``torch.no_grad()`` in distillation) and student [B, T, D_s]
(``requires_grad``) go through forward+backward of ``iusp_loss`` with each
method (``gram``, ``factored``, ``auto``; optionally ``factored64``, the
factored path with ``factored_dtype=torch.float64``):

* peak memory: one fresh subprocess per (T, method) runs a warm-up pass,
  then measures one pass. On CPU: the Linux peak resident set size is
  reset after the warm-up (``/proc/self/clear_refs`` 5) and the peak is
  ``VmHWM`` minus ``VmRSS`` before the pass (``/proc/self/status``);
  without that interface, the growth of ``ru_maxrss`` over the warm-up
  pass. The subprocesses run with ``MALLOC_MMAP_THRESHOLD_=65536`` so that
  glibc returns freed buffers to the OS and the warm-up cannot leave a
  cache that hides the measured pass's allocations (timing runs keep the
  default allocator). (``tracemalloc`` does
  not see torch's allocations.) On CUDA: ``max_memory_allocated()`` minus
  ``memory_allocated()`` before the pass.
* time: one fresh subprocess per T runs one warm-up per method, then
  ``--repeats`` rounds (more for cheap cases, ~2 s in all), each round
  timing every method once (interleaved, so that load from other
  processes hits all methods alike); the minimum over rounds is reported
  (the median is in the JSON file).

Cases whose estimated peak exceeds ``--mem-limit-gb`` (default 10 GB on CPU,
80% of the device memory on CUDA) are skipped and recorded as
"skipped (est. N GB)". The estimate for gram is ``GRAM_MATRICES`` float32
T x T matrices per utterance (measured, see RESULTS.md).

Example (the run recorded in benchmarks/RESULTS.md)::

    python benchmarks/bench_losses.py --device cpu --repeats 3 \\
        --out benchmarks/results_cpu.md

Authors
 * speechbrain-iusp developers 2026
"""

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

# Peak T x T float32 matrices held per utterance by the gram path during
# forward+backward (measured 5.7 at T=500..4000 on CPU; 8 leaves headroom).
GRAM_MATRICES = 8
METHODS = ("gram", "factored", "auto")


def estimate_bytes(method, batch, frames, dim_t, dim_s):
    """Rough peak bytes of one forward+backward pass (for skipping).

    Arguments
    ---------
    method : str
        ``gram``, ``factored``, ``factored64`` or ``auto``.
    batch : int
        B.
    frames : int
        T.
    dim_t : int
        D_t.
    dim_s : int
        D_s.

    Returns
    -------
    int
        Estimated bytes.
    """
    from speechbrain_iusp.losses import iusp_choose_method

    if method == "auto":
        method = iusp_choose_method(frames, dim_t, dim_s)
    if method == "gram":
        return GRAM_MATRICES * 4 * batch * frames * frames
    width = 8 if method == "factored64" else 4
    linear = 6 * batch * frames * (dim_t + dim_s)
    square = 4 * batch * (dim_t * dim_t + dim_s * dim_s + dim_t * dim_s)
    return width * (linear + square)


def _proc_status_bytes(key):
    """A ``VmRSS``/``VmHWM`` value of /proc/self/status in bytes, or None."""
    try:
        with open("/proc/self/status", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak_rss():
    """Reset the peak RSS (Linux ``clear_refs`` 5); return the base bytes.

    Returns the current RSS when the peak could be reset, else None (then
    the caller falls back to the growth of ``ru_maxrss``).
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="utf-8") as handle:
            handle.write("5")
    except OSError:
        return None
    return _proc_status_bytes("VmRSS")


def _rss_bytes():
    """Peak resident set size of this process so far, in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _make_inputs(args, torch):
    """Random teacher (no grad) and student (requires grad) on the device."""
    device = torch.device(args.device)
    gen = torch.Generator(device="cpu").manual_seed(0)
    teacher = torch.randn((args.B, args.T[0], args.Dt), generator=gen)
    student = torch.randn((args.B, args.T[0], args.Ds), generator=gen)
    return teacher.to(device), student.to(device).requires_grad_()


def _loss_kwargs(method, torch):
    """iusp_loss keyword arguments of a benchmark method name."""
    if method == "factored64":
        return {"method": "factored", "factored_dtype": torch.float64}
    return {"method": method}


def worker(args):
    """Run one case in this process and print one JSON line.

    ``--worker mem``: peak memory of one forward+backward pass of
    ``--method`` (after a warm-up pass, in a fresh process). ``--worker
    time``: all ``--methods`` timed in interleaved rounds (round r runs
    every method once), so that load from other processes hits all methods
    alike; the minimum over rounds is reported.
    """
    import torch

    from speechbrain_iusp.losses import iusp_choose_method, iusp_loss

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    teacher, student = _make_inputs(args, torch)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def one_pass(method):
        student.grad = None
        sync()
        start = time.perf_counter()
        loss = iusp_loss(student, teacher, **_loss_kwargs(method, torch))
        loss.backward()
        sync()
        return time.perf_counter() - start, loss.item()

    if args.worker == "mem":
        base_maxrss = _rss_bytes()
        one_pass(args.method)  # warm-up: thread pools, allocator caches
        sync()
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
            base = torch.cuda.memory_allocated(device)
            elapsed, value = one_pass(args.method)
            peak = torch.cuda.max_memory_allocated(device) - base
        else:
            base = _reset_peak_rss()
            if base is not None:  # Linux: peak RSS reset after the warm-up
                elapsed, value = one_pass(args.method)
                peak = _proc_status_bytes("VmHWM") - base
            else:  # the warm-up pass already set the high-water mark
                peak = _rss_bytes() - base_maxrss
                elapsed, value = None, None
        result = {"peak_bytes": peak, "time_single": elapsed, "loss": value}
    else:
        times = {m: [] for m in args.methods}
        warm = sum(one_pass(method)[0] for method in args.methods)
        # at least --repeats rounds; more for cheap cases (~2 s in all)
        rounds = max(args.repeats, min(30, int(2.0 / max(warm, 1e-3))))
        for _ in range(rounds):
            for method in args.methods:
                times[method].append(one_pass(method)[0])
        result = {
            "rounds": rounds,
            "time_min": {m: min(t) for m, t in times.items()},
            "time_median": {m: statistics.median(t) for m, t in times.items()},
        }
    result["T"] = args.T[0]
    result["chosen"] = iusp_choose_method(args.T[0], args.Dt, args.Ds)
    print(json.dumps(result))


def machine_info(device, threads):
    """A short description of the machine, for the results file."""
    import torch

    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    lines = [
        f"- date: {datetime.date.today().isoformat()}",
        f"- CPU: {cpu}, {os.cpu_count()} logical cores, torch threads "
        f"{threads or torch.get_num_threads()}",
        f"- torch {torch.__version__}, Python {platform.python_version()}",
    ]
    try:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        lines.append(f"- load average at start (1/5/15 min): {load}")
    except OSError:
        pass
    if device.startswith("cuda") and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(torch.device(device))
        lines.append(
            f"- GPU: {props.name}, {props.total_memory / 2**30:.0f} GiB"
        )
    return "\n".join(lines)


def run_worker(args, frames, mode, methods):
    """Run a worker in a fresh subprocess; return its JSON dict."""
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        mode,
        "--device",
        args.device,
        "--T",
        str(frames),
        "--method",
        methods[0],
        "--methods",
        *methods,
        "--repeats",
        str(args.repeats),
        "--B",
        str(args.B),
        "--Dt",
        str(args.Dt),
        "--Ds",
        str(args.Ds),
        "--threads",
        str(args.threads),
    ]
    env = dict(os.environ)
    # Memory runs: a fixed glibc mmap threshold, so big buffers are mmap-ed
    # and given back to the OS when freed, and the warm-up pass cannot leave
    # a cache of freed memory behind that hides the measured pass's
    # allocations. Timing runs keep the default allocator behaviour.
    if mode == "mem":
        env.setdefault("MALLOC_MMAP_THRESHOLD_", "65536")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["?"]
        return {"error": tail[0]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt_cell(result, method):
    """``time ms / peak MB`` of one method for a table cell."""
    mem = result["mem"].get(method, {})
    if "skipped" in mem:
        return mem["skipped"]
    if "error" in mem:
        return f"error: {mem['error'][:40]}"
    timing = result.get("time", {}).get("time_min", {})
    time_ms = f"{1000 * timing[method]:.0f} ms" if method in timing else "?"
    return f"{time_ms} / {mem['peak_bytes'] / 2**20:.0f} MB"


def to_markdown(args, results, methods):
    """The results table as markdown."""
    head = ["T"] + list(methods) + ["auto picks", "auto / best"]
    lines = [
        f"B={args.B}, D_t={args.Dt}, D_s={args.Ds}, device {args.device}, "
        f"forward+backward (student grad); time = min of >= {args.repeats} "
        "interleaved rounds after a warm-up; memory = peak of one pass "
        "over the memory held before it.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for result in results:
        cells = [str(result["T"])] + [fmt_cell(result, m) for m in methods]
        cells.append(result["chosen"])
        timing = result.get("time", {}).get("time_min", {})
        paths = [timing[m] for m in ("gram", "factored") if m in timing]
        if "auto" in timing and paths:
            cells.append(f"{timing['auto'] / min(paths):.2f}")
        else:
            cells.append("-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Parse the command line and run the benchmark (or one worker case)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:i]")
    parser.add_argument(
        "--T",
        type=int,
        nargs="+",
        default=[100, 500, 1000, 2000, 4000, 8000],
        help="frame counts",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--B", type=int, default=16)
    parser.add_argument("--Dt", type=int, default=256)
    parser.add_argument("--Ds", type=int, default=64)
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(METHODS),
        choices=list(METHODS) + ["factored64"],
    )
    parser.add_argument("--method", help=argparse.SUPPRESS)
    parser.add_argument(
        "--mem-limit-gb",
        type=float,
        default=None,
        help="skip cases estimated above this (default: 10 on CPU, 80%% of "
        "the GPU memory on CUDA)",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads (0: default)"
    )
    parser.add_argument("--out", help="write the markdown table here")
    parser.add_argument(
        "--worker", choices=["mem", "time"], help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return
    sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda given but CUDA is not available")
    limit = args.mem_limit_gb
    if limit is None:
        limit = 10.0
        if args.device.startswith("cuda"):
            total = torch.cuda.get_device_properties(
                torch.device(args.device)
            ).total_memory
            limit = 0.8 * total / 1e9
    info = machine_info(args.device, args.threads)
    print(info, flush=True)
    from speechbrain_iusp.losses import iusp_choose_method

    results = []
    for frames in args.T:
        chosen = iusp_choose_method(frames, args.Dt, args.Ds)
        result = {"T": frames, "chosen": chosen, "mem": {}}
        runnable = []
        for method in args.methods:
            est = estimate_bytes(method, args.B, frames, args.Dt, args.Ds)
            if est > limit * 1e9:
                skipped = f"skipped (est. {est / 1e9:.0f} GB)"
                result["mem"][method] = {"skipped": skipped}
            else:
                runnable.append(method)
                mem = run_worker(args, frames, "mem", [method])
                result["mem"][method] = mem
        if runnable:
            result["time"] = run_worker(args, frames, "time", runnable)
        results.append(result)
        for method in args.methods:
            print(
                f"T={frames:5d} {method:10s} {fmt_cell(result, method)}",
                flush=True,
            )
    table = to_markdown(args, results, args.methods)
    print(table)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(info + "\n\n" + table)
        with open(args.out + ".json", "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
