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
"""Shuffled mini-batches whose position can be checkpointed and resumed exactly.

nnabla's ``DataIterator`` prefetches in a background thread and keeps its
shuffle state inside, so a run killed mid-epoch cannot continue with the same
batches.  :class:`BatchIterator` keeps the whole state in three numbers and a
RandomState (``state()``/``restore()``), and gives every sample its own random
generator derived from (seed, epoch, index), so augmentations do not depend on
prefetching, threads or where a run was resumed.

A *source* is any object with ``__len__`` and ``get(index, rng)`` returning a
tuple of numpy arrays (see ``reenactgan/data.py``).  A sample that raises
:class:`~utils.user_errors.CorruptSampleError` is replaced by the next index
and counted once in ``skipped`` (by reason); :meth:`BatchIterator.close`
prints that count, so every script that reads through a loader reports the
samples it skipped.
"""
import concurrent.futures

import numpy as np

from .context import shard_indices
from .user_errors import CorruptSampleError, SkipTally, UserError

MAX_CONSECUTIVE_SKIPS = 100


def sample_rng(seed, epoch, index):
    """The random generator of one sample in one epoch (independent of order)."""
    return np.random.RandomState(np.random.SeedSequence([seed, epoch, index]).generate_state(1))


class BatchIterator:
    """Mini-batches of ``source``; ``next()`` returns a tuple of stacked arrays.

    Args:
        shuffle: a new permutation each epoch (from ``seed`` and the epoch).
        drop_last: drop the incomplete last batch (training); otherwise the
            last batch is short (evaluation).
        rank, size: data-parallel shard of this process.
        threads: samples loaded in parallel (image decoding releases the GIL).
    """

    def __init__(self, source, batch_size, shuffle=True, seed=0, drop_last=True, augment=True,
                 rank=0, size=1, threads=2):
        if len(source) == 0:
            raise UserError("the data set is empty")
        self.source = source
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        self.augment = augment
        self.indices = np.asarray(shard_indices(len(source), rank, size), dtype=np.int64)
        if drop_last and len(self.indices) < self.batch_size:
            raise UserError("the data set has {} samples, fewer than the batch size {}".format(
                len(self.indices), self.batch_size))
        self.epoch = 0
        self.position = 0
        self.label = getattr(source, "label", None) or "data"
        # Unreadable samples, each counted once however often it is drawn.
        self.skips = SkipTally()
        self._order = self._permutation(0)
        self._pool = concurrent.futures.ThreadPoolExecutor(max(1, threads)) if threads > 1 else None

    def __len__(self):
        """Batches per epoch."""
        if self.drop_last:
            return len(self.indices) // self.batch_size
        return -(-len(self.indices) // self.batch_size)

    @property
    def size(self):
        return len(self.indices)

    def _permutation(self, epoch):
        if not self.shuffle:
            return self.indices
        rng = np.random.RandomState(np.random.SeedSequence([self.seed, epoch]).generate_state(1))
        return self.indices[rng.permutation(len(self.indices))]

    def _load(self, index):
        index = int(index)
        last = None
        for attempt in range(MAX_CONSECUTIVE_SKIPS):
            candidate = (index + attempt) % len(self.source)
            rng = sample_rng(self.seed, self.epoch, candidate) if self.augment else None
            try:
                return self.source.get(candidate, rng)
            except CorruptSampleError as err:
                self.skips.add(err, key=candidate)
                last = err
        raise UserError("{} consecutive samples of {} could not be read; the last: {}".format(
            MAX_CONSECUTIVE_SKIPS, self.label, last))

    @property
    def skipped(self):
        """Counter of the unreadable samples by reason."""
        return self.skips.counts

    def next(self):
        if self.position >= len(self):
            self.epoch += 1
            self.position = 0
            self._order = self._permutation(self.epoch)
        start = self.position * self.batch_size
        chosen = self._order[start:start + self.batch_size]
        if self._pool is not None:
            samples = list(self._pool.map(self._load, chosen))
        else:
            samples = [self._load(i) for i in chosen]
        self.position += 1
        return tuple(np.stack(parts) for parts in zip(*samples))

    def epoch_batches(self):
        """Iterate over one whole epoch from its start (for evaluation)."""
        self.epoch, self.position = 0, 0
        self._order = self._permutation(0)
        for _ in range(len(self)):
            yield self.next()

    def state(self):
        """JSON-serialisable position, for checkpoints."""
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def restore(self, state):
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        self.seed = int(state.get("seed", self.seed))
        self._order = self._permutation(self.epoch)

    def close(self):
        """Stop the loading threads and print what was skipped, if anything."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        if len(self.skips):
            print(self.skips.summary("{} (while loading)".format(self.label)))


class ConcatSource:
    """Several sources read as one (e.g. WFLW and CelebV frames for the encoder)."""

    def __init__(self, sources):
        self.sources = [s for s in sources if len(s) > 0]
        if not self.sources:
            raise UserError("the data set is empty")
        self.offsets = np.cumsum([0] + [len(s) for s in self.sources])
        self.label = " + ".join(getattr(s, "label", "data") for s in self.sources)

    def __len__(self):
        return int(self.offsets[-1])

    def get(self, index, rng=None):
        part = int(np.searchsorted(self.offsets, index, side="right") - 1)
        return self.sources[part].get(int(index - self.offsets[part]), rng)
