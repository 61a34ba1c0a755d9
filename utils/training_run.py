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
"""What every training script does around its update step.

A :class:`TrainingRun` owns a run folder (``tmp.monitor/<module>/...``): it
writes ``training_info.yaml`` (the merged config, read back by the test
scripts), the monitor series and images, periodic checkpoints with solver and
data-order state, and it restores all of that for ``--resume``.  Losses are
checked before each update, so a NaN/inf stops the run while the last saved
checkpoint is still good.

Under MPI (several GPUs) only rank 0 writes files; every rank restores.
"""
import os

import nnabla as nn

from .batching import BatchIterator
from .checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint, \
    save_parameters_atomic
from .config import TRAINING_INFO_NAME, load_config, load_yaml, merge_config, read_training_info, \
    save_training_info
from .context import data_parallel_communicator, rank_and_size, setup_context
from .monitoring import TrainingMonitor, check_finite
from .user_errors import UserError


def training_setup(defaults, args):
    """What every training script does first: a fresh graph (also when ``main``
    runs twice in a process), the run's config (:func:`config_for_run`), the
    seeds, the context and, under MPI, the communicator.

    Returns ``(config, resume_dir, comm)``.
    """
    nn.clear_parameters()
    config, resume_dir = config_for_run(defaults, args)
    seed_everything(config["seed"])
    comm = data_parallel_communicator(setup_context(config["context"], config["device_id"]))
    return config, resume_dir, comm


def config_for_run(defaults, args):
    """The run's config and, with ``--resume RUN_DIR``, that folder.

    ``--resume RUN_DIR`` takes the config from ``RUN_DIR/training_info.yaml``
    (a ``--conf`` file may still override values, e.g. more epochs);
    otherwise the defaults are merged with ``--conf`` and named with ``--info``.
    ``--context`` and ``--device-id``, when given, replace the config's.
    """
    run_dir = None
    if isinstance(args.resume, str):
        info_path = os.path.join(args.resume, TRAINING_INFO_NAME)
        if not os.path.isdir(args.resume):
            raise UserError("run folder {} to resume not found".format(args.resume))
        config = merge_config(defaults, read_training_info(info_path), source=info_path)
        if args.conf:
            config = merge_config(config, load_yaml(args.conf), source=args.conf)
        run_dir = args.resume
    else:
        config = load_config(defaults, args.conf, args.info)
    if args.context is not None:
        config["context"] = args.context
    if args.device_id is not None:
        config["device_id"] = args.device_id
    return config, run_dir


class TrainingRun:
    """Monitors, checkpoints and resume for one run folder.

    Args:
        run_dir: the run folder.
        config: the merged config (saved as ``training_info.yaml``).
        series_names: loss series logged with :meth:`log`.
        monitor_interval: iterations averaged per line of a series file.
        series_intervals: other intervals for some series, e.g. {"val_loss": 1}
            for a series logged once per epoch.
        keep_last: checkpoints kept (older ones are pruned, never the newest).
        comm: the data-parallel communicator or None.
    """

    def __init__(self, run_dir, config, series_names, monitor_interval, keep_last=3, comm=None,
                 series_intervals=None):
        self.run_dir = run_dir
        self.config = config
        self.series_names = list(series_names)
        self.monitor_interval = max(1, int(monitor_interval))
        self.series_intervals = dict(series_intervals or {})
        self.keep_last = max(1, int(keep_last))
        self.comm = comm
        self.rank, self.size = rank_and_size(comm)
        self.is_main = self.rank == 0
        self.monitor = None
        self.networks = {}
        self.solvers = {}
        self.loaders = {}
        self.rngs = {}
        self.last_checkpoint = None

    def start(self, networks, solvers, loaders=None, rngs=None, resume=False):
        """Register what a checkpoint holds; restore it when resuming.

        Returns ``(iteration, extra_state)``: 0 and {} for a fresh run.
        """
        self.networks = dict(networks)
        self.solvers = dict(solvers)
        self.loaders = dict(loaders or {})
        self.rngs = dict(rngs or {})
        if resume:
            path = latest_checkpoint(self.run_dir)
            if path is None:
                raise UserError("no checkpoint to resume in {}".format(self.run_dir))
            state = load_checkpoint(path, self.networks, self.solvers, self.rngs)
            extra = state.get("extra") or {}
            for name, loader_state in (extra.get("loaders") or {}).items():
                if name in self.loaders:
                    self.loaders[name].restore(loader_state)
            iteration = int(state["iteration"])
            self._open_monitor(resume_iteration=iteration)
            if self.monitor is not None and extra.get("monitor"):
                self.monitor.restore(extra["monitor"])
            self.last_checkpoint = path
            if self.is_main:
                print("resumed {} at iteration {}".format(self.run_dir, iteration))
            return iteration, extra.get("user") or {}
        if self.is_main:
            save_training_info(self.config, self.run_dir)
        self._open_monitor(resume_iteration=None)
        # A checkpoint of the initial state, so that even an early NaN leaves
        # something to resume from.
        self.checkpoint(0, 0)
        return 0, {}

    def _open_monitor(self, resume_iteration):
        if self.is_main:
            self.monitor = TrainingMonitor(self.run_dir, self.series_names, self.monitor_interval,
                                           verbose=False, resume_iteration=resume_iteration,
                                           intervals=self.series_intervals)

    def check(self, iteration, losses):
        """Stop with a clear message if a loss is NaN/inf (call before updating)."""
        check_finite(iteration, losses, self.last_checkpoint)

    def update(self, iteration, name, loss, solver, weight_decay=0.0):
        """One :func:`solver_step` on ``loss``, its value checked as ``name``."""
        solver_step(loss, solver, lambda value: self.check(iteration, {name: value}), self.comm,
                    weight_decay)

    def log(self, iteration, losses):
        """Record losses ``{series: value}`` for ``iteration``."""
        if self.monitor is not None:
            self.monitor.add(iteration, {k: v for k, v in losses.items()
                                         if k in self.monitor.series})

    def images(self, name, iteration, array):
        if self.monitor is not None:
            return self.monitor.images(name, iteration, array)
        return None

    def checkpoint(self, iteration, epoch, user_state=None):
        """Save parameters, solver states, data order, RNGs and the monitors'
        unwritten averages after ``iteration`` steps."""
        extra = {"loaders": {name: loader.state() for name, loader in self.loaders.items()},
                 "user": user_state or {},
                 "monitor": self.monitor.state() if self.monitor is not None else None}
        if self.is_main:
            self.last_checkpoint = save_checkpoint(
                self.run_dir, iteration, self.networks, self.solvers, epoch=epoch,
                extra_state=extra, rngs=self.rngs, keep_last=self.keep_last)
        return self.last_checkpoint

    def save_parameters(self, filename, scope):
        """Write a network's ``.h5`` (names relative to ``scope``) into the run folder."""
        if self.is_main:
            return save_parameters_atomic(os.path.join(self.run_dir, filename), scope)
        return None


def solver_step(loss, solver, check=None, comm=None, weight_decay=0.0):
    """Forward ``loss``, ``check(value)`` it (the NaN guard), backward, all-reduce the
    gradients across processes, weight decay, update."""
    loss.forward(clear_no_need_grad=True)
    if check is not None:
        check(loss.d)
    solver.zero_grad()
    loss.backward(clear_buffer=True)
    if comm is not None:
        grads = [p.grad for p in solver.get_parameters().values()]
        comm.all_reduce(grads, division=True, inplace=False)
    if weight_decay:
        solver.weight_decay(weight_decay)
    solver.update()


def make_loader(source, batch_size, seed, train=True, comm=None, threads=2):
    """A :class:`BatchIterator` for training (shuffled, sharded) or evaluation."""
    rank, size = rank_and_size(comm) if train else (0, 1)
    return BatchIterator(source, batch_size, shuffle=train, seed=seed, drop_last=train,
                         augment=train, rank=rank, size=size, threads=threads)


def seed_everything(seed):
    """Seed numpy's and Python's global generators and nnabla's (parameters, functions)."""
    import random

    import nnabla.random
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    nnabla.random.seed(seed)
