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
"""Loss terms and the learning-rate schedule of GANimation, as the authors' code reduces them.

The reductions matter as much as the weights (as in the authors' code):
the AU term is an element mean (the authors' 4000 / batch 25 = 160 becomes
a weight that does not depend on the batch size), the attention magnitude is
a mean, and the attention total variation is a *sum* over the batch.
"""
import nnabla as nn
import nnabla.functions as F


def au_regression_loss(predicted, target):
    """Mean squared error over batch x AUs."""
    return F.mean(F.squared_error(predicted, target))


def cycle_loss(reconstruction, original):
    return F.mean(F.absolute_error(reconstruction, original))


def total_variation_sum(attention):
    """Sum over the batch of absolute differences between neighbouring pixels."""
    height, width = attention.shape[2], attention.shape[3]
    vertical = F.slice(attention, start=(0, 0, 1, 0), stop=attention.shape) - \
        F.slice(attention, start=(0, 0, 0, 0), stop=attention.shape[:2] + (height - 1, width))
    horizontal = F.slice(attention, start=(0, 0, 0, 1), stop=attention.shape) - \
        F.slice(attention, start=(0, 0, 0, 0), stop=attention.shape[:3] + (width - 1,))
    return F.sum(F.abs(vertical)) + F.sum(F.abs(horizontal))


def gradient_penalty(critic_scores, interpolates, eps=1e-12):
    """mean_b (||d sum(D(x_hat_b)) / d x_hat_b||_2 - 1)^2, the norm over C x H x W.

    ``interpolates`` must be a leaf variable with ``need_grad=True`` and
    ``critic_scores`` the critic's realness output on it.  Summing the patch
    scores before differentiating is what nn.grad does with its default
    all-ones output gradient.  ``eps`` keeps the square root differentiable
    at a zero gradient.
    """
    grads = nn.grad([critic_scores], [interpolates])[0]
    norms = (F.sum(grads ** 2, axis=(1, 2, 3)) + eps) ** 0.5
    return F.mean((norms - 1.0) ** 2)


def learning_rate(base_lr, epoch, epochs_no_decay, epochs_decay):
    """The authors' schedule for 0-based ``epoch``: constant, then linear decay.

    With 20 + 10 epochs, epochs 0-20 run at the base rate, epoch 21 at 0.9x,
    ..., epoch 29 at 0.1x, and the rate would reach 0 after the last epoch.
    """
    if epoch <= epochs_no_decay or epochs_decay <= 0:
        return base_lr
    return base_lr * max(0.0, 1.0 - (epoch - epochs_no_decay) / float(epochs_decay))
