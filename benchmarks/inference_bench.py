# Copyright 2026 The facial-animation NNabla examples authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Inference frames per second: nnabla on the CPU against the ONNX export on onnxruntime.

For each network the test scripts use (encoder, transformer G, decoder G,
GANimation G) and for the whole reenactment chain (encoder -> transformer ->
decoder), at the paper sizes and batch sizes 1 and 8, in both backends.
Every measurement runs in its own process, whose peak resident memory
(ru_maxrss from os.wait4) is reported with it.  Parameters are random (the
speed does not depend on their values); the ONNX files are exported first,
as the test scripts' cache does.

To make the numbers mean something on another CPU, the same run measures
numpy's float32 matrix-multiply rate (2048^2, one core and all cores) and
reports the fraction of it each backend reaches on the decoder
(its convolution FLOPs per frame x frames per second).

    python benchmarks/inference_bench.py [--batch-sizes 1 8] [--repeats 3] \
        [--threads N] [--json result.json] [--networks decoder chain] [--quick]

Prints a Markdown table, then the whole result as JSON.  Times are wall
clock per batch after one warm-up batch; the table shows the median (the
JSON also has the best).  Other processes on the machine lower the
onnxruntime figures most, as it uses every core: the load average is
recorded before and after.
"""
import argparse
import copy
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from utils.cores import available_cores

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The papers' sizes (the configs' defaults): ReenactGAN at 256 px with
# 64-channel networks, GANimation at 128 px with 6 residual blocks.
PAPER_CONFIGS = {
    "encoder": {"model_name": "model",
                "model": {"planes": 64, "output_nc": 15, "num_stacks": 2, "hourglass_depth": 4}},
    "transformer": {"model": {"ngf": 64, "n_blocks": 9}},
    "decoder": {"model": {"ngf": 64}},
    "ganimation": {"data": {"image_size": 128},
                   "model": {"g_conv_dim": 64, "g_repeat_num": 6, "instance_norm_affine": True,
                             "do_saturate_mask": False}},
}
# --quick: the same graphs at a fraction of the width, to check the script.
QUICK_CHANGES = {"encoder": {"planes": 8, "hourglass_depth": 2}, "transformer": {"ngf": 8},
                 "decoder": {"ngf": 8}, "ganimation": {"g_conv_dim": 8, "g_repeat_num": 2}}
CHAIN = ("encoder", "transformer", "decoder")
ALL_NETWORKS = ("encoder", "transformer", "decoder", "chain", "ganimation")
BACKENDS = ("nnabla", "onnxruntime")
MATMUL_SIZE = 2048


# ---------------------------------------------------------------- workers

def matmul_worker(repeats):
    """GFLOP/s of a float32 MATMUL_SIZE^2 product (threads set by the environment)."""
    rng = np.random.RandomState(0)
    a = rng.rand(MATMUL_SIZE, MATMUL_SIZE).astype(np.float32)
    b = rng.rand(MATMUL_SIZE, MATMUL_SIZE).astype(np.float32)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return {"gflops": 2.0 * MATMUL_SIZE ** 3 / best / 1e9}


def deploy_with_networks():
    """utils.deploy with the networks of both models declared (by importing them)."""
    from utils import deploy
    import ganimation.editor  # noqa: F401
    import reenactgan.run_files  # noqa: F401
    return deploy


def make_runner(plan, backend, network, batch_size, threads):
    deploy = deploy_with_networks()
    if backend == "nnabla":
        def build(name):
            entry = plan["networks"][name]
            return deploy.nnabla_runner(name, entry["config"], entry["param_file"], batch_size)
    else:
        def build(name):
            export = plan["networks"][name]["onnx"][str(batch_size)]
            return deploy.OnnxRunner(export["path"], threads=threads, streams=export["streams"])
    if network != "chain":
        return build(network)
    stages = [build(name) for name in CHAIN]

    class Chain:
        input_names, input_shapes = stages[0].input_names, stages[0].input_shapes

        def __call__(self, images):
            boundary, = stages[0](images)
            transformed, = stages[1](boundary)
            return stages[2](transformed)

    return Chain()


def run_worker(plan, backend, network, batch_size, threads, repeats, min_seconds):
    """Seconds per batch of ``network`` in ``backend``: one warm-up, then timed calls."""
    import resource
    deploy_with_networks()  # imports counted in the baseline
    if backend == "nnabla":
        from utils.context import setup_context
        setup_context("cpu")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    runner = make_runner(plan, backend, network, batch_size, threads)
    rng = np.random.RandomState(0)
    inputs = [rng.uniform(0.0 if name in ("boundary", "aus") else -1.0, 1.0, shape)
              .astype(np.float32) for name, shape in zip(runner.input_names, runner.input_shapes)]
    runner(*inputs)
    seconds, cpu_seconds = [], []
    started = time.perf_counter()
    while len(seconds) < repeats or (time.perf_counter() - started < min_seconds and
                                     len(seconds) < 100):
        wall, cpu = time.perf_counter(), time.process_time()
        runner(*inputs)
        seconds.append(time.perf_counter() - wall)
        cpu_seconds.append(time.process_time() - cpu)
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "baseline_rss_mb": baseline}


# ---------------------------------------------------------------- parent

def spawn(arguments, environment=None):
    """Run this script as a worker; (its JSON answer, its peak RSS in MB)."""
    command = [sys.executable, os.path.abspath(__file__)] + [str(a) for a in arguments]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors,
                                   env=environment, cwd=REPO_ROOT)
        output = process.stdout.read()
        process.stdout.close()
        # os.wait4 reaps the worker and gives its resource usage; ru_maxrss is in KiB.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = (os.WEXITSTATUS(status) if os.WIFEXITED(status)
                              else -os.WTERMSIG(status))
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit("error: the measurement `{}` failed (exit {}):\n{}".format(
                " ".join(str(a) for a in arguments), process.returncode,
                errors.read().decode(errors="replace")[-3000:]))
    lines = output.decode().strip().splitlines()
    return json.loads(lines[-1]), usage.ru_maxrss / 1024.0


def network_configs(quick):
    configs = copy.deepcopy(PAPER_CONFIGS)
    if quick:
        for name, changes in QUICK_CHANGES.items():
            configs[name]["model"].update(changes)
    return configs


def conv_flops_per_frame(name, config):
    """Multiply-adds x 2 of the convolutions and affines of one frame through ``name``."""
    deploy = deploy_with_networks()
    total = [0]
    seen = set()  # the outputs share most of the graph: count each function once

    def count(function):
        key = hash(function.outputs[0])
        if key in seen:
            return
        seen.add(key)
        kind = function.info.type_name
        if kind in ("Convolution", "Affine"):
            weight, output = function.inputs[1].shape, function.outputs[0].shape
            if kind == "Convolution":
                total[0] += 2 * int(np.prod(output)) * int(np.prod(weight[1:]))
            else:
                total[0] += 2 * output[0] * int(np.prod(weight))
        elif kind == "Deconvolution":
            weight, data = function.inputs[1].shape, function.inputs[0].shape
            total[0] += 2 * int(np.prod(data)) * int(np.prod(weight[1:]))

    with deploy.isolated_parameters():
        _, outputs, _ = deploy.build_network(name, config, 1)
        for output in outputs.values():
            output.visit(count)
    return total[0]


def prepare_worker(work_dir, names, batch_sizes, configs, threads, streams):
    """Random parameters per network and their ONNX exports; the plan the workers read.

    A worker of its own, so that the parent stays small: a child's ru_maxrss
    starts from its parent's resident memory at fork.
    """
    import nnabla as nn
    deploy = deploy_with_networks()
    from utils.checkpoint import save_parameters_atomic
    from utils.context import setup_context
    deploy.require_deploy_packages()
    setup_context("cpu")
    nn.random.seed(0)
    plan = {"networks": {}}
    for name in names:
        param_file = os.path.join(work_dir, "{}.h5".format(name))
        with deploy.isolated_parameters():
            _, _, scope = deploy.build_network(name, configs[name], 1)
            save_parameters_atomic(param_file, scope)
        onnx = {}
        for batch_size in batch_sizes:
            # As the test scripts run it: the batch in groups side by side.
            groups = streams or deploy.parallel_streams(batch_size, threads)
            if batch_size % groups:
                raise SystemExit("--streams {} does not divide batch {}".format(groups,
                                                                               batch_size))
            onnx[str(batch_size)] = {"streams": groups, "path": deploy.cached_onnx(
                name, configs[name], param_file, batch_size // groups, verbose=False)}
        plan["networks"][name] = {"config": configs[name], "param_file": param_file,
                                  "onnx": onnx, "flops_per_frame":
                                  conv_flops_per_frame(name, configs[name])}
    path = os.path.join(work_dir, "plan.json")
    with open(path, "w") as f:
        json.dump(plan, f)
    return {"plan": path}


def summarize(result, batch_size):
    seconds = np.array(result["seconds"])
    return {"fps": batch_size / float(np.median(seconds)),
            "fps_best": batch_size / float(seconds.min()),
            "seconds_per_batch": [round(s, 4) for s in result["seconds"]],
            "cpu_seconds_per_batch": [round(s, 4) for s in result["cpu_seconds"]],
            "baseline_rss_mb": round(result["baseline_rss_mb"], 1)}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def markdown_table(report):
    lines = ["| network | batch | nnabla CPU fps | onnxruntime fps | speed-up | "
             "nnabla peak MB | onnxruntime peak MB |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for row in report["results"]:
        nn_row, ort_row = row.get("nnabla"), row.get("onnxruntime")
        speedup = "{:.1f}x".format(ort_row["fps"] / nn_row["fps"]) if nn_row and ort_row else "-"
        lines.append("| {} | {} | {} | {} | {} | {} | {} |".format(
            row["network"], row["batch_size"],
            "{:.2f}".format(nn_row["fps"]) if nn_row else "-",
            "{:.2f}".format(ort_row["fps"]) if ort_row else "-", speedup,
            "{:.0f}".format(nn_row["peak_rss_mb"]) if nn_row else "-",
            "{:.0f}".format(ort_row["peak_rss_mb"]) if ort_row else "-"))
    machine = report["machine"]
    baselines = [row[b]["baseline_rss_mb"] for row in report["results"] for b in BACKENDS
                 if b in row]
    lines.append("")
    lines.append("fps: median over the timed batches; peak MB: the measuring process's "
                 "maximum resident memory, of which ~{:.0f} MB are Python, numpy and nnabla "
                 "imported before the network is built.".format(min(baselines)))
    lines.append("{} ({} cores available, onnxruntime threads {}); numpy float32 matmul "
                 "{:.0f} GFLOP/s on all cores, {:.0f} GFLOP/s on one; load average {:.1f} "
                 "before, {:.1f} after.".format(
                     machine["cpu"], machine["cores"], report["onnxruntime_threads"],
                     machine["matmul_gflops_all_cores"], machine["matmul_gflops_one_core"],
                     machine["load_before"], machine["load_after"]))
    for entry in report.get("decoder_efficiency", []):
        lines.append("Decoder ({:.1f} GFLOP per frame), batch {}: nnabla {:.0f} GFLOP/s = "
                     "{:.0%} of the all-core matmul rate ({:.0%} of one core); onnxruntime "
                     "{:.0f} GFLOP/s = {:.0%}.".format(
                         entry["gflop_per_frame"], entry["batch_size"],
                         entry["nnabla_gflops"], entry["nnabla_fraction"],
                         entry["nnabla_fraction_one_core"], entry["onnxruntime_gflops"],
                         entry["onnxruntime_fraction"]))
    return "\n".join(lines)


DEPLOY_MODULES = {"onnxruntime": "onnxruntime", "onnx": "onnx",
                  "nnabla.utils.converter.onnx": "nnabla-converter"}


def missing_deploy_packages():
    """The deploy packages (requirements-deploy.txt, nnabla-converter) that cannot be imported."""
    missing = []
    for module, package in DEPLOY_MODULES.items():
        try:
            # Imported in a child, so the parent stays small and nnabla-free.
            found = subprocess.run([sys.executable, "-c", "import " + module],
                                   capture_output=True).returncode == 0
        except OSError:
            found = False
        if not found:
            missing.append(package)
    return missing


def parent(args):
    """Measure everything; a temporary work folder (~1 GB at paper sizes) is removed after."""
    missing = missing_deploy_packages()
    if missing:
        raise SystemExit(
            "error: the benchmark compares nnabla with onnxruntime, but {} cannot be imported; "
            "install the deploy packages: `pip install -r requirements-deploy.txt` and "
            "`pip install --no-deps nnabla-converter==1.39.0` (or `make optional`)".format(
                ", ".join(missing)))
    if args.work_dir:
        return measure(args, args.work_dir)
    work_dir = tempfile.mkdtemp(prefix="inference-bench-")
    try:
        return measure(args, work_dir)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def measure(args, work_dir):
    # No nnabla here: the workers' peak memory would include the parent's.
    cores = available_cores()
    threads = args.threads or cores
    names = sorted({n for net in args.networks for n in (CHAIN if net == "chain" else [net])})
    load_before = os.getloadavg()[0]
    if load_before > 0.5 * cores:
        print("note: load average {:.1f} on {} cores; other processes slow the measurements "
              "down".format(load_before, cores), file=sys.stderr)
    os.makedirs(work_dir, exist_ok=True)
    print("exporting {} to {}".format(", ".join(names), work_dir), file=sys.stderr)
    prepare_arguments = ["--worker", "prepare", "--work-dir", work_dir, "--threads", threads,
                         "--networks"] + names + ["--batch-sizes"] + args.batch_sizes
    if args.streams:
        prepare_arguments += ["--streams", args.streams]
    answer, _ = spawn(prepare_arguments + (["--quick"] if args.quick else []))
    plan_path = answer["plan"]
    with open(plan_path) as f:
        plan = json.load(f)

    matmul = {}
    for label, count in (("one_core", 1), ("all_cores", cores)):
        environment = dict(os.environ, OPENBLAS_NUM_THREADS=str(count),
                           OMP_NUM_THREADS=str(count), MKL_NUM_THREADS=str(count))
        answer, _ = spawn(["--worker", "matmul", "--repeats", 5], environment)
        matmul[label] = answer["gflops"]

    results = []
    for network in args.networks:
        for batch_size in args.batch_sizes:
            row = {"network": network, "batch_size": batch_size}
            for backend in BACKENDS:
                print("measuring {} batch {} in {}".format(network, batch_size, backend),
                      file=sys.stderr)
                answer, peak = spawn(["--worker", "run", "--plan", plan_path,
                                      "--backend", backend, "--network", network,
                                      "--batch-sizes", batch_size, "--threads", threads,
                                      "--repeats", args.repeats,
                                      "--min-seconds", args.min_seconds])
                row[backend] = dict(summarize(answer, batch_size), peak_rss_mb=round(peak, 1))
            results.append(row)

    report = {
        "sizes": "quick (reduced widths)" if args.quick else "paper",
        "onnxruntime_threads": threads,
        "onnxruntime_streams": {b: plan["networks"][names[0]]["onnx"][str(b)]["streams"]
                                for b in args.batch_sizes},
        "machine": {"cpu": cpu_name(), "cores": cores,
                    "matmul_gflops_one_core": matmul["one_core"],
                    "matmul_gflops_all_cores": matmul["all_cores"],
                    "load_before": load_before, "load_after": os.getloadavg()[0],
                    "python": platform.python_version()},
        "versions": versions(),
        "flops_per_frame": {name: plan["networks"][name]["flops_per_frame"] for name in names},
        "results": results,
    }
    if "decoder" in plan["networks"]:
        flops = plan["networks"]["decoder"]["flops_per_frame"]
        report["decoder_efficiency"] = []
        for row in results:
            if row["network"] != "decoder":
                continue
            rates = {b: flops * row[b]["fps"] / 1e9 for b in BACKENDS}
            report["decoder_efficiency"].append({
                "batch_size": row["batch_size"], "gflop_per_frame": flops / 1e9,
                "nnabla_gflops": rates["nnabla"], "onnxruntime_gflops": rates["onnxruntime"],
                "nnabla_fraction": rates["nnabla"] / matmul["all_cores"],
                "nnabla_fraction_one_core": rates["nnabla"] / matmul["one_core"],
                "onnxruntime_fraction": rates["onnxruntime"] / matmul["all_cores"]})
    print(markdown_table(report))
    text = json.dumps(report, indent=2, sort_keys=True)
    print(text)
    if args.json:
        from utils.atomic_files import atomic_write_text
        atomic_write_text(args.json, text + "\n")
    return report


def versions():
    found = {}
    for module in ("nnabla", "onnxruntime", "onnx", "numpy"):
        try:
            found[module] = __import__(module).__version__
        except ImportError:
            found[module] = None
    return found


def get_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", nargs="+", choices=ALL_NETWORKS, default=list(ALL_NETWORKS))
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--repeats", type=int, default=3, help="timed batches at least")
    parser.add_argument("--min-seconds", type=float, default=2.0,
                        help="time each measurement at least this long")
    parser.add_argument("--threads", type=int, default=None,
                        help="onnxruntime threads (default: all cores)")
    parser.add_argument("--streams", type=int, default=None,
                        help="onnxruntime: groups of a batch run side by side (default: as "
                             "the test scripts, the largest divisor of the batch <= threads; "
                             "1 = onnxruntime's threads only)")
    parser.add_argument("--json", default=None, help="also write the JSON here")
    parser.add_argument("--work-dir", default=None,
                        help="where the random parameters and ONNX files go and stay "
                             "(default: a temporary folder, removed after)")
    parser.add_argument("--quick", action="store_true",
                        help="reduced widths, to check the script (not a measurement)")
    parser.add_argument("--worker", choices=("matmul", "run", "prepare"), help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--backend", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--network", choices=ALL_NETWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.batch_sizes) < 1 or args.repeats < 1:
        parser.error("batch sizes and --repeats must be at least 1")
    return args


def main(argv=None):
    args = get_args(argv)
    if args.worker == "matmul":
        print(json.dumps(matmul_worker(args.repeats)))
    elif args.worker == "prepare":
        print(json.dumps(prepare_worker(args.work_dir, args.networks, args.batch_sizes,
                                        network_configs(args.quick), args.threads,
                                        args.streams)))
    elif args.worker == "run":
        with open(args.plan) as f:
            plan = json.load(f)
        print(json.dumps(run_worker(plan, args.backend, args.network, args.batch_sizes[0],
                                    args.threads, args.repeats, args.min_seconds)))
    else:
        parent(args)


if __name__ == "__main__":
    main()
