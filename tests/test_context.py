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
import sys
import warnings

import pytest

import utils.context as context
from utils.context import get_context, rank_and_size, setup_context, shard_indices
from utils.user_errors import UserError


@pytest.fixture
def no_cuda(monkeypatch):
    # A None entry in sys.modules makes `import nnabla_ext.cuda` fail even on
    # a machine where the extension is installed.
    monkeypatch.setitem(sys.modules, "nnabla_ext.cuda", None)
    monkeypatch.setattr(context, "_cpu_fallback_warned", False)


def test_cudnn_falls_back_to_cpu_with_one_warning(no_cuda):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = get_context("cudnn")
        second = get_context("cuda", device_id=1)
    assert first.backend == ["cpu:float"] and second.backend == ["cpu:float"]
    messages = [str(w.message) for w in caught if "CUDA extension" in str(w.message)]
    assert len(messages) == 1
    assert "CPU" in messages[0] and "slow" in messages[0]
    assert "pip install nnabla-ext-cuda120" in messages[0]
    # Said by test scripts too, so it does not claim that training is running.
    assert "training" not in messages[0]


def test_cpu_context_never_warns(no_cuda):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ctx = get_context("cpu")
    assert ctx.backend == ["cpu:float"]


def test_unknown_context_lists_choices():
    with pytest.raises(UserError, match="unknown context 'gpu'; valid choices: cpu, cuda, cudnn"):
        get_context("gpu")


def test_setup_context_sets_default():
    import nnabla as nn
    previous = nn.get_current_context()
    try:
        ctx = setup_context("cpu")
        assert nn.get_current_context().backend == ctx.backend == ["cpu:float"]
    finally:
        nn.set_default_context(previous)


def test_communicator_is_none_without_mpi(monkeypatch):
    monkeypatch.delenv("OMPI_COMM_WORLD_SIZE", raising=False)
    monkeypatch.setenv("PMI_SIZE", "1")
    assert context.data_parallel_communicator(get_context("cpu")) is None
    assert rank_and_size(None) == (0, 1)


def test_communicator_is_none_on_cpu_even_under_mpi(monkeypatch):
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert context.data_parallel_communicator(get_context("cpu")) is None


@pytest.mark.parametrize("num_samples, size", [(10, 3), (12, 4), (7, 7), (100, 8), (3, 5)])
def test_shards_cover_all_samples_with_equal_length(num_samples, size):
    shards = [shard_indices(num_samples, rank, size) for rank in range(size)]
    assert {len(s) for s in shards} == {-(-num_samples // size)}
    assert set().union(*map(set, shards)) == set(range(num_samples))
    for s in shards:
        assert s == list(range(s[0], s[0] + len(s)))  # contiguous


@pytest.mark.parametrize("num_samples, size", [(10, 3), (12, 4), (100, 8)])
def test_shards_with_drop_last_are_disjoint(num_samples, size):
    shards = [shard_indices(num_samples, rank, size, drop_last=True) for rank in range(size)]
    flat = [i for s in shards for i in s]
    assert len(flat) == len(set(flat)) == (num_samples // size) * size
    assert {len(s) for s in shards} == {num_samples // size}


def test_shards_divisible_are_a_partition():
    shards = [shard_indices(12, rank, 4) for rank in range(4)]
    assert shards == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]


def test_shards_match_nnabla_slice():
    import numpy as np
    from nnabla.utils.data_iterator import data_iterator_simple
    for drop_last in (False, True):
        di = data_iterator_simple(lambda i: (np.array([i]),), 10, 1, shuffle=False,
                                  with_memory_cache=False, with_file_cache=False)
        for rank in range(3):
            sliced = di.slice(None, num_of_slices=3, slice_pos=rank, drop_last=drop_last)
            source = sliced._data_source
            assert shard_indices(10, rank, 3, drop_last) == \
                list(range(source._slice_start, source._slice_end))
        di.close()


def test_bad_rank_is_rejected():
    with pytest.raises(ValueError):
        shard_indices(10, 3, 3)


def test_context_cpu_argument_gives_cpu_context():
    import argparse
    from utils.config import add_config_arguments
    args = add_config_arguments(argparse.ArgumentParser()).parse_args(["--context", "cpu"])
    ctx = get_context(args.context, device_id=0)
    assert ctx.backend == ["cpu:float"]
