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
"""Resumable training state: parameters, solver states, counters and RNGs.

A checkpoint is a folder ``<run_dir>/checkpoints/iter_<iteration:08d>/``::

    params_<network>.h5   nn.save_parameters of the network's scope
    solver_<name>.h5      solver.save_states
    rng_states.npz        numpy RandomState, python ``random`` and
                          ``nnabla.random.prng`` states (arrays, no pickle)
    state.json            iteration, epoch, caller's extra state; written last

It is written in a ``.tmp-iter_…`` sibling that is renamed when complete, so
a crash never leaves a folder that looks finished: a folder counts only if
its name is ``iter_<digits>`` and it holds ``state.json``.  Only one process
(rank 0) may save into a run folder, because a save removes the ``.tmp-*``
leftovers it finds.  The seeds of nnabla's random *functions* (F.rand,
F.dropout) live in C++ and cannot be saved; augmentations and dropout masks
that must resume exactly draw from a numpy RandomState passed in ``rngs``
(see utils.dropout_masks).
"""
import contextlib
import glob
import json
import os
import random
import re
import shutil
import tempfile

import h5py
import nnabla as nn
import nnabla.random as nn_random
import numpy as np

from .atomic_files import atomic_path, ensure_writable_dir, umask_mode
from .user_errors import UserError

CHECKPOINTS_DIR = "checkpoints"
STATE_FILE = "state.json"
RNG_FILE = "rng_states.npz"
FORMAT_VERSION = 1
_CHECKPOINT_NAME = re.compile(r"^iter_(\d{8,})$")


# ---------------------------------------------------------------- parameters

def _scope(scope):
    # An empty scope means the global one: nn.parameter_scope("") is invalid.
    return nn.parameter_scope(scope) if scope else contextlib.nullcontext()


def _scope_parameters(scope):
    with _scope(scope):
        return nn.get_parameters(grad_only=False)


def save_parameters_atomic(path, scope):
    """Save the parameters of ``scope`` (names relative to it) to an ``.h5``."""
    params = _scope_parameters(scope)
    if not params:
        raise ValueError("no parameters under scope '{}'".format(scope))
    with atomic_path(path) as tmp:
        nn.save_parameters(tmp, params)
    return path


_EPOCH_NUMBER = re.compile(r"(\d+)\.h5$")


def final_epoch_file(folder, pattern):
    """The file of ``folder`` matching ``pattern`` (``prefix_*.h5``) with the highest epoch
    number, or None.  By number, not by file time: a copied run has fresh times."""
    numbered = []
    for path in glob.glob(os.path.join(folder, pattern)):
        match = _EPOCH_NUMBER.search(os.path.basename(path))
        if match and os.path.isfile(path):
            numbered.append((int(match.group(1)), path))
    return max(numbered)[1] if numbered else None


# The file name of the trained runs that the public NNabla port published
# (a run folder with training_info.yaml and weights.h5, no epoch files).
PUBLISHED_WEIGHTS = "weights.h5"


def final_parameters(run_dir, pattern, subfolder=""):
    """A run's final parameters: the highest epoch of ``run_dir/subfolder/pattern``
    (:func:`final_epoch_file`), else the run's ``weights.h5`` as published by the
    public port, else None."""
    found = final_epoch_file(os.path.join(run_dir, subfolder), pattern)
    published = os.path.join(run_dir, PUBLISHED_WEIGHTS)
    if found is None and os.path.isfile(published):
        return published
    return found


def require_final_parameters(run_dir, pattern, what, options, subfolder=""):
    """:func:`final_parameters`, or a one-line error naming ``what`` and the ``options``
    that give the file instead."""
    found = final_parameters(run_dir, pattern, subfolder)
    if found is None:
        raise UserError("no {} ({}) in {}; pass {}".format(
            what, pattern, os.path.join(run_dir, subfolder), options))
    return found


def h5_parameter_shapes(path):
    """{name: shape} of an nnabla parameter file, checked (one-line errors) before loading it."""
    if not os.path.isfile(path):
        raise UserError("parameter file {} not found".format(path))
    if not h5py.is_hdf5(path):
        raise UserError("{} is not an nnabla parameter file (not HDF5)".format(path))
    shapes = {}

    def collect(name, node):
        if isinstance(node, h5py.Dataset):
            # nn.save_parameters marks every parameter with these attributes;
            # a solver-state or foreign h5 lacks them.
            if "need_grad" not in node.attrs:
                raise UserError("{} is not an nnabla parameter file "
                                "('{}' has no need_grad attribute)".format(path, name))
            shapes[name] = tuple(node.shape)

    try:
        with h5py.File(path, "r") as f:
            f.visititems(collect)
    except (OSError, RuntimeError, KeyError) as err:
        raise UserError("{} is a corrupt parameter file: {}".format(
            path, " ".join(str(err).split())))
    if not shapes:
        raise UserError("{} is not an nnabla parameter file (no parameters)".format(path))
    return shapes


def short_list(names, limit=5):
    """``a, b, c and 4 more``: names for a one-line message, sorted."""
    names = sorted(names)
    text = ", ".join(names[:limit])
    if len(names) > limit:
        text += " and {} more".format(len(names) - limit)
    return text


def load_parameters_checked(path, scope, expected=None, strict=False):
    """Load a parameter ``.h5`` into ``scope`` after checking it.

    Shapes are compared with the parameters already in ``scope`` and with
    ``expected`` ({name: shape}, for parameters not created yet).  With
    ``strict`` the names must match too (missing: in the network but not in
    the file; unexpected: in the file but not in the network).
    """
    in_file = h5_parameter_shapes(path)
    reference = {name: tuple(v.shape) for name, v in _scope_parameters(scope).items()}
    if expected:
        reference.update({name: tuple(shape) for name, shape in expected.items()})
    mismatched = [name for name in sorted(in_file)
                  if name in reference and in_file[name] != reference[name]]
    if mismatched:
        first = mismatched[0]
        more = " (and {} more)".format(len(mismatched) - 1) if len(mismatched) > 1 else ""
        raise UserError(
            "{}: parameter '{}' has shape {} in the file but {} in the network "
            "under scope '{}'{}".format(path, first, in_file[first], reference[first],
                                        scope, more))
    if strict:
        missing = set(reference) - set(in_file)
        unexpected = set(in_file) - set(reference)
        problems = []
        if missing:
            problems.append("missing {}".format(short_list(missing)))
        if unexpected:
            problems.append("unexpected {}".format(short_list(unexpected)))
        if problems:
            raise UserError("{} does not match the network under scope '{}': {}".format(
                path, scope, "; ".join(problems)))
    try:
        with _scope(scope):
            nn.load_parameters(path)
    except Exception as err:
        raise UserError("cannot load parameter file {}: {}".format(
            path, " ".join(str(err).split())))


def load_network_parameters(path, scope):
    """Load a trained network's parameters, strictly checked, and say which file it was."""
    load_parameters_checked(path, scope, strict=True)
    print("loaded {} parameters from {}".format(scope, path))


# ---------------------------------------------------------------- RNG states

def _put_numpy_state(arrays, prefix, rng):
    algorithm, keys, pos, has_gauss, cached = rng.get_state()
    arrays[prefix + ".algorithm"] = np.array(algorithm)
    arrays[prefix + ".keys"] = keys
    arrays[prefix + ".pos"] = np.array(pos)
    arrays[prefix + ".has_gauss"] = np.array(has_gauss)
    arrays[prefix + ".cached_gaussian"] = np.array(cached)


def _get_numpy_state(arrays, prefix, path):
    try:
        return (str(arrays[prefix + ".algorithm"]), arrays[prefix + ".keys"],
                int(arrays[prefix + ".pos"]), int(arrays[prefix + ".has_gauss"]),
                float(arrays[prefix + ".cached_gaussian"]))
    except KeyError:
        raise UserError("{} has no random state '{}'".format(path, prefix))


def _rng_arrays(rngs):
    arrays = {}
    for name, rng in (rngs or {}).items():
        _put_numpy_state(arrays, "numpy." + name, rng)
    _put_numpy_state(arrays, "nnabla_prng", nn_random.prng)
    version, internal, gauss_next = random.getstate()
    arrays["python_random.version"] = np.array(version)
    arrays["python_random.internal"] = np.array(internal, dtype=np.int64)
    arrays["python_random.has_gauss"] = np.array(gauss_next is not None)
    arrays["python_random.gauss_next"] = np.array(gauss_next or 0.0)
    return arrays


def _restore_rngs(path, rngs):
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError) as err:
        raise UserError("cannot read random states {}: {}".format(path, err))
    for name, rng in (rngs or {}).items():
        rng.set_state(_get_numpy_state(arrays, "numpy." + name, path))
    nn_random.prng.set_state(_get_numpy_state(arrays, "nnabla_prng", path))
    try:
        gauss_next = (float(arrays["python_random.gauss_next"])
                      if bool(arrays["python_random.has_gauss"]) else None)
        random.setstate((int(arrays["python_random.version"]),
                         tuple(int(v) for v in arrays["python_random.internal"]),
                         gauss_next))
    except KeyError:
        raise UserError("{} has no python random state".format(path))


# ---------------------------------------------------------------- checkpoints

def checkpoints_dir(run_dir):
    return os.path.join(run_dir, CHECKPOINTS_DIR)


def _complete_checkpoints(run_dir):
    """[(iteration, path)] of finished checkpoints, oldest first."""
    root = checkpoints_dir(run_dir)
    if not os.path.isdir(root):
        return []
    found = []
    for name in os.listdir(root):
        match = _CHECKPOINT_NAME.match(name)
        path = os.path.join(root, name)
        if match and os.path.isfile(os.path.join(path, STATE_FILE)):
            found.append((int(match.group(1)), path))
    return sorted(found)


def latest_checkpoint(run_dir):
    """Path of the newest complete checkpoint of ``run_dir``, or None."""
    found = _complete_checkpoints(run_dir)
    return found[-1][1] if found else None


def _fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_temporaries(root):
    for name in os.listdir(root):
        if name.startswith(".tmp-"):
            path = os.path.join(root, name)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.remove(path)


def _move_aside(path):
    """Rename a checkpoint folder into a ``.tmp-old-*`` folder, which never counts
    as complete and which the next save removes; return that folder."""
    name = os.path.basename(path)
    trash = tempfile.mkdtemp(prefix=".tmp-old-{}-".format(name), dir=os.path.dirname(path))
    os.rename(path, os.path.join(trash, name))
    return trash


def _prune(run_dir, keep_last):
    found = _complete_checkpoints(run_dir)
    for _, path in found[:-keep_last]:
        # Moved aside first: a kill while deleting leaves a temporary folder,
        # never a checkpoint with missing files.
        shutil.rmtree(_move_aside(path), ignore_errors=True)


def save_checkpoint(run_dir, iteration, networks, solvers, epoch=0,
                    extra_state=None, rngs=None, keep_last=3):
    """Write checkpoint ``iteration`` atomically and keep the last ``keep_last``.

    ``networks`` maps a file name to a parameter scope, ``solvers`` a file
    name to a solver, ``rngs`` a name to a ``np.random.RandomState``;
    ``extra_state`` must be JSON-serialisable.  Returns the folder.
    """
    if keep_last < 1:
        raise ValueError("keep_last must be at least 1, got {}".format(keep_last))
    # Fail before writing anything if the caller's state cannot be stored.
    state_text = json.dumps({
        "format": FORMAT_VERSION, "iteration": int(iteration), "epoch": int(epoch),
        "extra": extra_state or {}, "networks": sorted(networks),
        "solvers": sorted(solvers), "rngs": sorted(rngs or {})}, indent=2, sort_keys=True)
    root = ensure_writable_dir(checkpoints_dir(run_dir))
    _remove_temporaries(root)
    name = "iter_{:08d}".format(iteration)
    final = os.path.join(root, name)
    tmp = tempfile.mkdtemp(prefix=".tmp-{}-".format(name), dir=root)
    try:
        for net, scope in networks.items():
            save_parameters_atomic(os.path.join(tmp, "params_{}.h5".format(net)), scope)
        for solver_name, solver in solvers.items():
            solver.save_states(os.path.join(tmp, "solver_{}.h5".format(solver_name)))
        np.savez(os.path.join(tmp, RNG_FILE), **_rng_arrays(rngs))
        for file_name in os.listdir(tmp):
            _fsync(os.path.join(tmp, file_name))
        with open(os.path.join(tmp, STATE_FILE), "w") as f:
            f.write(state_text)
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(final):
            # Saving an iteration again (e.g. after a resume): move the old one
            # out of the way under a name that never counts as complete.
            _move_aside(final)
        os.chmod(tmp, umask_mode(directory=True))  # mkdtemp's folders are 0700
        os.rename(tmp, final)
        _fsync(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove_temporaries(root)
    _prune(run_dir, keep_last)
    return final


def _read_state(path):
    state_path = os.path.join(path, STATE_FILE)
    if not os.path.isfile(state_path):
        raise UserError("checkpoint {} is incomplete: {} is missing".format(path, STATE_FILE))
    try:
        with open(state_path) as f:
            state = json.load(f)
        return {"iteration": int(state["iteration"]), "epoch": int(state["epoch"]),
                "extra": state.get("extra") or {}}
    except (ValueError, KeyError, TypeError) as err:
        raise UserError("{} is corrupt: {}".format(state_path, err))


def load_checkpoint(path, networks, solvers, rngs=None, strict=True):
    """Restore a checkpoint written by :func:`save_checkpoint`.

    The networks must be built and each solver must already have its
    parameters set (nnabla matches solver states to them by name).  Returns
    ``{"iteration", "epoch", "extra"}``.
    """
    if not os.path.isdir(path):
        raise UserError("checkpoint {} not found".format(path))
    state = _read_state(path)
    for net, scope in networks.items():
        load_parameters_checked(os.path.join(path, "params_{}.h5".format(net)),
                                scope, strict=strict)
    for solver_name, solver in solvers.items():
        file_name = os.path.join(path, "solver_{}.h5".format(solver_name))
        if not os.path.isfile(file_name):
            raise UserError("solver state {} not found".format(file_name))
        if not h5py.is_hdf5(file_name):
            raise UserError("{} is not a solver state file (not HDF5)".format(file_name))
        try:
            solver.load_states(file_name)
        except Exception as err:
            raise UserError("cannot load solver state {}: {}".format(
                file_name, " ".join(str(err).split())))
    rng_path = os.path.join(path, RNG_FILE)
    if not os.path.isfile(rng_path):
        raise UserError("random states {} not found".format(rng_path))
    _restore_rngs(rng_path, rngs)
    return state
