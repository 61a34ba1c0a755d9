"""Exact resume: every training script, SIGKILLed at random moments and resumed,
ends with the same parameters, solver states and monitor series as a run that
was never interrupted (bitwise, on the CPU)."""
import os
import random
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
import yaml

from tests.conftest import REPO_ROOT, write_celebv_and_wflw
from utils import synthetic_faces
from utils.checkpoint import latest_checkpoint

KILLS = 3
# Each tiny run: 3 iterations per epoch, a checkpoint every 2 iterations and a
# series line every 3, so most kills land between checkpoints and inside an
# averaging window, and some during a save.
COMMON_MONITOR = {"interval": 3, "checkpoint_interval": 2, "keep_last": 2, "save_interval": 2}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("kill_data")
    write_celebv_and_wflw(root)
    synthetic_faces.write_ganimation(str(root / "celebA"), num_images=20, test_fraction=0.1,
                                     seed=0, num_identities=4)
    return root


def scripts(data):
    """name -> (script, config, run folder below the logdir)."""
    return {
        "encoder": ("reenactgan/train_encoder.py", {
            "path": {"data_dir": str(data / "WFLW_heatmaps")},
            "model": {"planes": 4, "num_stacks": 2, "hourglass_depth": 1},
            "train": {"epochs": 8, "batch_size": 2, "augmentation": True, "loader_threads": 1},
            "test": {"batch_size": 2},
            "monitor": dict(COMMON_MONITOR, num_images=1)}, "encoder/run"),
        "transformer": ("reenactgan/train_transformer.py", {
            "train_dir": str(data / "CelebV"), "src_celeb_name": "Person_A",
            "trg_celeb_name": "Person_B", "model": {"ngf": 4, "n_blocks": 1, "ndf": 4},
            "train": {"epochs": 8, "batch_size": 2, "augmentation": True,
                      "shape_loss": {"lambda": 0},
                      "loader_threads": 1},
            "monitor": dict(COMMON_MONITOR, image_interval=5)},
            "transformer/Person_A2Person_B/run"),
        "decoder": ("reenactgan/train_decoder.py", {
            "train_dir": str(data / "CelebV"), "trg_celeb_name": "Person_B",
            "model": {"ngf": 4, "ndf": 4},
            "train": {"epochs": 8, "lr_decay_start_at": 4, "batch_size": 2,
                      "feature_loss": {"lambda": 0}, "loader_threads": 1},
            "monitor": dict(COMMON_MONITOR, image_interval=5)}, "decoder/Person_B/run"),
        "ganimation": ("ganimation/train_ganimation.py", {
            "data": {"data_dir": str(data / "celebA"), "image_size": 32, "loader_threads": 1},
            "model": {"g_conv_dim": 4, "g_repeat_num": 1, "d_conv_dim": 4, "d_repeat_num": 3},
            "train": {"batch_size": 6, "epochs_no_decay": 4, "epochs_decay": 4,
                      "critic_iterations": 2},
            "monitor": dict(COMMON_MONITOR, image_interval=5)}, "ganimation/run"),
    }


def command(script, *args):
    return [sys.executable, os.path.join(REPO_ROOT, script)] + [str(a) for a in args] + \
        ["--context", "cpu"]


def checkpoint_iteration(run_dir):
    path = latest_checkpoint(run_dir)
    return -1 if path is None else int(os.path.basename(path).split("_")[1])


def train_with_kills(script, conf, run_dir, log_path, rng):
    """Start, SIGKILL at a random moment after some progress, resume; KILLS times."""
    kills = 0
    while True:
        resume = os.path.isdir(os.path.join(run_dir, "checkpoints")) and \
            latest_checkpoint(run_dir) is not None
        args = ["--resume", run_dir] if resume else ["--conf", conf]
        with open(log_path, "a") as log:
            process = subprocess.Popen(command(script, *args), cwd=REPO_ROOT, stdout=log,
                                       stderr=subprocess.STDOUT)
            if kills < KILLS:
                # Wait until training has gone a random number of checkpoints
                # further, then a random fraction of an iteration more.
                reached = checkpoint_iteration(run_dir) + 2 * rng.randint(1, 3)
                while process.poll() is None and checkpoint_iteration(run_dir) < reached:
                    time.sleep(0.002)
                time.sleep(rng.uniform(0.0, 0.06))
                process.send_signal(signal.SIGKILL)
            code = process.wait()
        if code == -signal.SIGKILL:
            kills += 1
            continue
        assert code == 0, open(log_path).read()[-3000:]
        return kills


def h5_arrays(path):
    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, node: arrays.__setitem__(name, node[()])
                     if isinstance(node, h5py.Dataset) else None)
    return arrays


def assert_same_h5(first, second):
    a, b = h5_arrays(first), h5_arrays(second)
    assert sorted(a) == sorted(b), (first, second)
    for name in a:
        assert a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name]), \
            "{} differs in {}".format(name, second)


def series_lines(run_dir):
    """{file: [(index, value), ...]} of the loss series; the timer's indices."""
    found = {}
    for name in sorted(os.listdir(run_dir)):
        if name.endswith(".series.txt") or name.endswith(".timer.txt"):
            with open(os.path.join(run_dir, name)) as f:
                rows = [line.split() for line in f if line.strip()]
            keep = 2 if name.endswith(".series.txt") else 1  # elapsed times vary
            found[name] = [tuple(row[:keep]) for row in rows]
    return found


@pytest.mark.parametrize("name", ["encoder", "transformer", "decoder", "ganimation"])
def test_killed_training_resumes_bitwise(data, tmp_path, name):
    script, config, relative = scripts(data)[name]
    runs = {}
    for kind in ("reference", "killed"):
        logdir = tmp_path / kind
        conf = tmp_path / "{}.yaml".format(kind)
        conf.write_text(yaml.safe_dump(dict(config, logdir=str(logdir), seed=7, experiment_name="run")))
        runs[kind] = str(logdir / relative)
    reference = subprocess.run(command(script, "--conf", tmp_path / "reference.yaml"),
                               cwd=REPO_ROOT, capture_output=True, text=True)
    assert reference.returncode == 0, reference.stdout[-2000:] + reference.stderr[-2000:]
    kills = train_with_kills(script, str(tmp_path / "killed.yaml"), runs["killed"],
                             str(tmp_path / "killed.log"), random.Random(name))
    assert kills >= 2, "the run finished before it could be killed"

    ref_ckpt, killed_ckpt = latest_checkpoint(runs["reference"]), latest_checkpoint(runs["killed"])
    assert os.path.basename(ref_ckpt) == os.path.basename(killed_ckpt)
    h5_files = sorted(f for f in os.listdir(ref_ckpt) if f.endswith(".h5"))
    assert any(f.startswith("params_") for f in h5_files) and \
        any(f.startswith("solver_") for f in h5_files)
    for file_name in h5_files:
        assert_same_h5(os.path.join(ref_ckpt, file_name), os.path.join(killed_ckpt, file_name))
    # The networks' .h5 files the test scripts read, too.
    networks = [f for f in os.listdir(runs["reference"]) if f.endswith(".h5")]
    model_dir = os.path.join(runs["reference"], "model")
    if os.path.isdir(model_dir):
        networks += [os.path.join("model", f) for f in os.listdir(model_dir)]
    assert networks
    for file_name in networks:
        assert_same_h5(os.path.join(runs["reference"], file_name),
                       os.path.join(runs["killed"], file_name))

    # Monitor series: the same lines, none missing or repeated, same means.
    expected, got = series_lines(runs["reference"]), series_lines(runs["killed"])
    assert sorted(expected) == sorted(got)
    for file_name, rows in expected.items():
        indices = [int(row[0]) for row in got[file_name]]
        assert len(indices) == len(set(indices)), "{} repeats iterations".format(file_name)
        assert got[file_name] == rows, file_name
    assert any(len(rows) >= 4 for rows in expected.values())
    # keep_last: 2 complete checkpoints, the newest among them, no temporaries.
    for run_dir in runs.values():
        names = os.listdir(os.path.join(run_dir, "checkpoints"))
        assert len(names) == 2 and not any(n.startswith(".tmp") for n in names), names


SAVE_THEN_DIE = r'''
import os, shutil, sys
import utils
import nnabla as nn
import nnabla.parametric_functions as PF
import nnabla.solvers as S
from utils import checkpoint

run_dir, death = sys.argv[1], sys.argv[2]
with nn.parameter_scope("net"):
    PF.affine(nn.Variable((2, 3)), 4)
    params = nn.get_parameters()
solver = S.Adam(1e-3)
solver.set_parameters(params)
networks, solvers = {{"net": "net"}}, {{"net": solver}}
checkpoint.save_checkpoint(run_dir, 2, networks, solvers, keep_last=1)
checkpoint.save_checkpoint(run_dir, 4, networks, solvers, keep_last=1)

def die(*args, **kwargs):
    os._exit(137)  # what SIGKILL leaves: no cleanup, no exception handlers

if death == "params":      # first file half done
    checkpoint.save_parameters_atomic = lambda path, scope: (open(path, "wb").write(b"\x89HDF"), die())
elif death == "solver":    # parameters written, solver state half done
    class DyingSolver:
        def save_states(self, path):
            open(path, "wb").write(b"\x89HDF")
            die()
    solvers = {{"net": DyingSolver()}}
elif death == "state":     # every file but state.json written
    checkpoint._fsync = die
elif death == "rename":    # complete, not yet renamed into place
    os.rename = die
elif death == "prune":     # the new one in place, the old one half deleted
    shutil.rmtree = lambda path, ignore_errors=False: (
        os.remove(os.path.join(path, os.listdir(path)[0], "state.json")), die())
checkpoint.save_checkpoint(run_dir, 6, networks, solvers, keep_last=1)
'''


@pytest.mark.parametrize("death, survivor", [("params", 4), ("solver", 4), ("state", 4),
                                             ("rename", 4), ("prune", 6)])
def test_checkpoint_killed_while_saving_is_never_seen(tmp_path, death, survivor):
    import nnabla as nn
    import nnabla.parametric_functions as PF
    import nnabla.solvers as S
    from utils.checkpoint import load_checkpoint, save_checkpoint

    run_dir = str(tmp_path / "run")
    script = tmp_path / "save_then_die.py"
    script.write_text(SAVE_THEN_DIE.format())
    result = subprocess.run([sys.executable, str(script), run_dir, death], capture_output=True,
                            text=True)
    assert result.returncode == 137, result.stderr
    path = latest_checkpoint(run_dir)
    assert os.path.basename(path) == "iter_{:08d}".format(survivor)
    nn.clear_parameters()
    with nn.parameter_scope("net"):
        PF.affine(nn.Variable((2, 3)), 4)
        params = nn.get_parameters()
    solver = S.Adam(1e-3)
    solver.set_parameters(params)
    assert load_checkpoint(path, {"net": "net"}, {"net": solver})["iteration"] == survivor
    # The next save clears what the dead process left behind.
    save_checkpoint(run_dir, 8, {"net": "net"}, {"net": solver}, keep_last=1)
    assert os.listdir(os.path.join(run_dir, "checkpoints")) == ["iter_00000008"]
    nn.clear_parameters()


def test_nan_loss_stops_with_the_loss_the_iteration_and_a_good_checkpoint(data, tmp_path):
    script, config, relative = scripts(data)["transformer"]
    config = dict(config, logdir=str(tmp_path), experiment_name="run")
    config["train"] = dict(config["train"], lr=1e38)  # diverges within a few steps
    conf = tmp_path / "nan.yaml"
    conf.write_text(yaml.safe_dump(config))
    result = subprocess.run(command(script, "--conf", conf), cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    last = [line for line in result.stderr.splitlines() if line.strip()][-1]
    match = __import__("re").search(r"loss '(\w+)' became (nan|inf) at iteration (\d+); the "
                                    r"last good checkpoint is kept in (\S+)", last)
    assert match, last
    assert match.group(1) in ("loss_netG", "loss_netD")
    kept = match.group(4)
    assert os.path.isfile(os.path.join(kept, "state.json"))
    assert kept == latest_checkpoint(str(tmp_path / relative))
    # The kept checkpoint is from before the failure and holds finite parameters.
    kept_iteration = int(os.path.basename(kept).split("_")[1])
    assert kept_iteration <= int(match.group(3))
    for name in os.listdir(kept):
        if name.startswith("params_"):
            assert all(np.all(np.isfinite(a)) for a in
                       h5_arrays(os.path.join(kept, name)).values())
