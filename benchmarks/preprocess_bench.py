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
"""Speed and peak memory of CelebV preprocessing, for 200 and 2000 images.

The public port kept every array of a person in memory before writing
(~1.24 MB per image); preprocess.py streams them, so its peak resident memory
should not grow with the number of images.  Each run is a separate process;
its peak RSS comes from ``os.wait4``.

    python benchmarks/preprocess_bench.py [--counts 200 2000] [--workers 1 2]

Each count is run with each number of workers; the outputs of the runs with
several workers are compared with the one-worker output (keys and arrays).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from utils import synthetic_faces

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_measured(command):
    """Wall time (s) and peak RSS (MB) of a child process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = process.stderr.read().decode()
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("command failed: {}\n{}".format(" ".join(command), stderr))
    return elapsed, usage.ru_maxrss / 1024.0


def same_as_first_run(reference, out_dir):
    """The npz files of ``out_dir`` hold the keys and arrays of ``reference``'s."""
    import numpy as np
    for name in sorted(os.listdir(reference)):
        with np.load(os.path.join(reference, name)) as a, \
                np.load(os.path.join(out_dir, name)) as b:
            if a.files != b.files or any(not np.array_equal(a[k], b[k]) for k in a.files):
                raise SystemExit("error: {} differs between {} and {}".format(
                    name, reference, out_dir))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    largest = max(args.counts)
    work = tempfile.mkdtemp(prefix="preprocess_bench_")
    try:
        print("generating {} synthetic CelebV frames...".format(largest))
        synthetic_faces.write_celebv(os.path.join(work, "full", "CelebV"), ["Person_A"],
                                     largest, seed=0)
        results = []
        for count, workers in [(c, w) for c in args.counts for w in args.workers]:
            # A data set of `count` images: the first lines of the full list.
            source = os.path.join(work, "n{}".format(count), "CelebV", "Person_A")
            if not os.path.isdir(source):
                os.makedirs(source)
                full = os.path.join(work, "full", "CelebV", "Person_A")
                os.symlink(os.path.join(full, "Image"), os.path.join(source, "Image"))
                with open(os.path.join(full, "all_98pt.txt")) as f:
                    lines = f.readlines()[:count]
                with open(os.path.join(source, "all_98pt.txt"), "w") as f:
                    f.writelines(lines)
            out_dir = os.path.join(work, "out{}_w{}".format(count, workers))
            elapsed, peak = run_measured([
                sys.executable, "preprocess.py", "--dataset", "CelebV",
                "--src-dir", os.path.dirname(os.path.dirname(source)),
                "--out-dir", out_dir, "--workers", str(workers)])
            reference = os.path.join(work, "out{}_w{}".format(count, args.workers[0]))
            if reference != out_dir:
                same_as_first_run(reference, out_dir)
            size = sum(os.path.getsize(os.path.join(out_dir, n)) for n in os.listdir(out_dir))
            results.append({"images": count, "seconds": round(elapsed, 2),
                            "images_per_second": round(count / elapsed, 1),
                            "peak_rss_mb": round(peak, 1), "output_mb": round(size / 2**20, 1),
                            "workers": workers})
        print("{:>8} {:>8} {:>10} {:>10} {:>14} {:>11}".format(
            "images", "workers", "seconds", "images/s", "peak RSS (MB)", "output MB"))
        for r in results:
            print("{images:>8} {workers:>8} {seconds:>10} {images_per_second:>10} "
                  "{peak_rss_mb:>14} {output_mb:>11}".format(**r))
        for workers in args.workers:
            runs = [r for r in results if r["workers"] == workers]
            if len(runs) > 1:
                growth = (runs[-1]["peak_rss_mb"] - runs[0]["peak_rss_mb"]) / (
                    runs[-1]["images"] - runs[0]["images"])
                print("peak RSS growth with {} worker(s): {:.4f} MB per image (the port's: "
                      "~1.24 MB per image)".format(workers, growth))
        for count in args.counts:
            speeds = {r["workers"]: r["images_per_second"] for r in results
                      if r["images"] == count}
            first = speeds[args.workers[0]]
            print("{} images: ".format(count) + ", ".join(
                "{} workers {:.2f}x".format(w, s / first) for w, s in sorted(speeds.items())))
        print(json.dumps(results))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
