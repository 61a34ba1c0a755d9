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
"""Dropout whose random masks can be checkpointed.

``F.dropout`` draws its masks from a generator inside nnabla's C++ code whose
state cannot be saved: a run resumed from a checkpoint would draw other masks
than the run that was never interrupted.  Here every mask is an input
variable that :meth:`DropoutMasks.resample` refills from a numpy RandomState
before each training step; that RandomState goes into the checkpoint.
"""
import nnabla as nn
import numpy as np


class DropoutMasks:
    """A callable ``h -> h * mask`` for graph builders, with inverted scaling
    (kept units are divided by ``1 - p``, as ``F.dropout`` does)."""

    def __init__(self, p, seed):
        if not 0.0 <= p < 1.0:
            raise ValueError("dropout probability must be in [0, 1), got {}".format(p))
        self.p = float(p)
        self.rng = np.random.RandomState(seed)
        self.masks = []

    def __call__(self, h):
        mask = nn.Variable(h.shape, need_grad=False)
        mask.persistent = True
        self.masks.append(mask)
        self._fill(mask)
        return h * mask

    def _fill(self, mask):
        keep = self.rng.random_sample(mask.shape) >= self.p
        mask.d = keep.astype(np.float32) / (1.0 - self.p)

    def resample(self):
        """New masks for the next step (call once per step, before the forward)."""
        for mask in self.masks:
            self._fill(mask)
