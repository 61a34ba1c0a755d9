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
"""Loss terms and fixed filters of the ReenactGAN training scripts."""
import nnabla as nn
import nnabla.functions as F
import numpy as np


def lsgan_loss(d_out, real):
    """Least-squares GAN loss against an all-ones (real) or all-zeros target."""
    target = 1.0 if real else 0.0
    return F.mean(F.squared_error(d_out, F.constant(target, d_out.shape)))


def bce_gan_loss(d_out, real):
    """Binary cross-entropy GAN loss for a discriminator ending in a sigmoid."""
    target = F.constant(1.0 if real else 0.0, d_out.shape)
    return F.mean(F.binary_cross_entropy(d_out, target))


def l1_loss(x, y):
    return F.mean(F.absolute_error(x, y))


# Heatmap pixels above this value are "near a boundary".
BOUNDARY_LEVEL = 0.05


def boundary_weights(target, foreground_weight):
    """Per-pixel weights: ``foreground_weight`` near a boundary of ``target``, 1 elsewhere.

    Boundary pixels are a few per cent of a map, so an unweighted loss is first
    minimised by predicting zeros; small or short trainings then stay faint.
    """
    return 1.0 + (foreground_weight - 1.0) * F.greater_scalar(target, BOUNDARY_LEVEL)


def heatmap_l1_loss(x, target, foreground_weight=1.0):
    """L1 between heatmaps, the pixels near ``target``'s boundaries weighted (1: plain L1)."""
    if foreground_weight == 1.0:
        return l1_loss(x, target)
    return F.mean(boundary_weights(target, foreground_weight) * F.absolute_error(x, target))


_SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
_SOBEL_Y = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32)


def sobel_edges(x):
    """The authors' edge enhancement before the transformer's discriminators.

    Each channel is filtered by Sobel-x and then by Sobel-y (zero padding 1,
    no bias): a mixed second derivative, not the gradient magnitude.
    """
    channels = x.shape[1]
    h = x
    for kernel in (_SOBEL_X, _SOBEL_Y):
        weight = nn.Variable.from_numpy_array(
            np.tile(kernel[None, None], (channels, 1, 1, 1)), need_grad=False)
        h = F.convolution(h, weight, pad=(1, 1), group=channels)
    return h


def linear_decay_lr(base_lr, epoch, total_epochs, decay_start):
    """Constant ``base_lr`` for epochs < decay_start, then linear to 0 at total_epochs.

    Correct for any epoch count (the port divided by a hard-coded 50, which went
    negative past 150 epochs, and started one epoch late).
    """
    if epoch < decay_start or total_epochs <= decay_start:
        return base_lr
    return base_lr * max(0.0, 1.0 - (epoch - decay_start) / float(total_epochs - decay_start))
