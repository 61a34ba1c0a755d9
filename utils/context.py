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
"""Choose where nnabla computes, and split data between MPI processes.

``get_context("cudnn")`` falls back to the CPU with one warning when the CUDA
extension is not installed, so every script also runs (slowly) on a laptop.
Multi-GPU training follows nnabla-examples: launch with ``mpirun -n N`` and
each process trains on its own shard of the data (:func:`shard_indices`).
"""
import os
import warnings

import nnabla as nn
from nnabla.ext_utils import get_extension_context

from .user_errors import UserError

CONTEXT_NAMES = ("cpu", "cuda", "cudnn")

# One warning per process: a script asks for a context several times
# (training, validation, export) and repeating the advice is noise.
_cpu_fallback_warned = False

_MPI_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE")


def _cuda_available():
    try:
        import nnabla_ext.cuda  # noqa: F401
    except Exception:
        # A broken install (missing libcudart, driver mismatch) raises other
        # errors than ImportError; either way CUDA cannot be used.
        return False
    return True


def _warn_cpu_fallback(name):
    global _cpu_fallback_warned
    if _cpu_fallback_warned:
        return
    _cpu_fallback_warned = True
    warnings.warn(
        "context '{}' requested but the nnabla CUDA extension is not installed: "
        "nnabla runs on the CPU and is slow. Install the extension matching "
        "your CUDA version, e.g. `pip install nnabla-ext-cuda120` for CUDA 12.0, "
        "or pass `--context cpu` to silence this warning.".format(name),
        RuntimeWarning, stacklevel=3)


def get_context(name="cudnn", device_id=0, type_config="float"):
    """Return an nnabla context; 'cuda'/'cudnn' become 'cpu' without CUDA."""
    if name not in CONTEXT_NAMES:
        raise UserError("unknown context '{}'; valid choices: {}".format(
            name, ", ".join(CONTEXT_NAMES)))
    if name != "cpu" and not _cuda_available():
        _warn_cpu_fallback(name)
        name = "cpu"
    return get_extension_context(name, device_id=str(device_id),
                                 type_config=type_config)


def setup_context(name, device_id=0, type_config="float"):
    """Make :func:`get_context` the default context of nnabla and return it."""
    ctx = get_context(name, device_id=device_id, type_config=type_config)
    nn.set_default_context(ctx)
    return ctx


def add_inference_arguments(parser, what="networks"):
    """--backend, --threads, --context and --device-id of the scripts that run trained networks."""
    parser.add_argument("--backend", choices=("nnabla", "onnxruntime"), default="nnabla",
                        help="run the {} in nnabla (--context) or exported to ONNX on "
                             "onnxruntime (CPU)".format(what))
    parser.add_argument("--threads", type=int, default=None,
                        help="onnxruntime threads (default: all cores)")
    parser.add_argument("--context", default="cudnn")
    parser.add_argument("--device-id", type=int, default=0)
    return parser


def setup_inference(args):
    """The context for :func:`add_inference_arguments`' options: onnxruntime runs on the
    CPU, and nnabla then only builds the graphs it exports (on the CPU too)."""
    if args.threads is not None and args.threads < 1:
        raise UserError("--threads must be at least 1")
    return setup_context(args.context if args.backend == "nnabla" else "cpu", args.device_id)


def _mpi_world_size():
    for variable in _MPI_SIZE_VARIABLES:
        value = os.environ.get(variable)
        if value:
            try:
                return int(value)
            except ValueError:
                continue
    return 1


def data_parallel_communicator(ctx):
    """Return an initialised data-parallel communicator under mpirun, else None.

    Sets ``ctx.device_id`` to the local rank so that each process uses its own
    GPU.  On the CPU, or without an MPI launch, training is single-process.
    """
    if _mpi_world_size() <= 1 or ctx.backend[0].split(":")[0] not in ("cuda", "cudnn"):
        return None
    import nnabla.communicators as C
    try:
        # nnabla spells the class "Paralell".
        comm = C.MultiProcessDataParalellCommunicator(ctx)
        comm.init()
    except Exception as err:
        # Under mpirun, running without a communicator would make every
        # process train on the whole data set independently: stop instead.
        raise UserError(
            "launched with MPI but the multi-process communicator cannot start "
            "({}); install nnabla-ext-cuda with distributed support "
            "(e.g. nnabla-ext-cuda120-nccl2-mpi...)".format(err))
    ctx.device_id = str(comm.local_rank)
    return comm


def rank_and_size(comm):
    """(rank, number of processes) of ``comm``; (0, 1) without a communicator."""
    if comm is None:
        return 0, 1
    return comm.rank, comm.size


def shard_indices(num_samples, rank, size, drop_last=False):
    """Sample indices read by process ``rank`` of ``size``, as nnabla slices data.

    Mirrors ``nnabla.utils.data_iterator.DataIterator.slice(num_of_slices=size,
    slice_pos=rank, drop_last=...)`` so the sharding can be tested without GPUs.
    Every rank gets one contiguous range of the same length:

    * ``drop_last=False`` (nnabla's default): length ``ceil(n / size)``.  All
      samples are covered; when ``n`` is not divisible by ``size`` the last
      ranges are shifted back so they end at ``n``, which makes them overlap
      the previous range (those samples are read twice per epoch).  With
      fewer samples than processes the start positions wrap around ``n``.
    * ``drop_last=True``: length ``n // size``; ranges are disjoint and the
      last ``n % size`` samples are never read.
    """
    if size < 1 or not 0 <= rank < size:
        raise ValueError("rank {} is not in [0, {})".format(rank, size))
    if num_samples < 1:
        return []
    if drop_last:
        length = num_samples // size
        start = length * rank
        end = start + length
    else:
        length = (num_samples + size - 1) // size
        start = (length * rank) % num_samples
        end = start + length
        if end > num_samples:
            start -= end - num_samples
            end = num_samples
    return list(range(start, end))
