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
"""GANimation networks as pure graph-building functions.

The generator takes a face and 17 Action Unit intensities and returns a
colour mask C and an attention mask A; the edited face is
``A * x + (1 - A) * C`` (:func:`compose`), so A = 1 keeps the input pixel.
The critic has no normalisation (the gradient penalty is per sample) and two
heads: patch realness scores and an AU regressor.

Widths, depth and image size are arguments: the defaults are the paper's,
for which the generator has 8,471,296 parameters and the critic 44,860,352.
Instance normalisation always uses the statistics of each instance, in
training and at test time alike, as the authors' PyTorch 0.3.1 did; it has no
running averages, so there is no train/test switch.
"""
import nnabla as nn
import nnabla.functions as F
import nnabla.initializer as I
import nnabla.parametric_functions as PF
import numpy as np

NUM_AUS = 17
G_SCOPE = "netG_ganimation"
D_SCOPE = "netD_ganimation"
GAN_INIT_STD = 0.02  # the authors' N(0, 0.02) for every convolution
LEAKY_SLOPE = 0.01


def _conv(h, outmaps, kernel, stride=1, pad=0, with_bias=False):
    return PF.convolution(h, outmaps, (kernel, kernel), pad=(pad, pad), stride=(stride, stride),
                          with_bias=with_bias, w_init=I.NormalInitializer(GAN_INIT_STD))


def _deconv(h, outmaps):
    # kernel 4, stride 2, pad 1 doubles the size exactly, as ConvTranspose2d(4, 2, 1).
    return PF.deconvolution(h, outmaps, (4, 4), pad=(1, 1), stride=(2, 2), with_bias=False,
                            w_init=I.NormalInitializer(GAN_INIT_STD))


def _instance_norm(h, affine):
    return PF.instance_normalization(h, eps=1e-5, no_scale=not affine, no_bias=not affine)


def _conv_weight(shape):
    # The weight _conv would create here: the same name, shape and initialiser.
    with nn.parameter_scope("conv"):
        return nn.parameter.get_parameter_or_create(
            "W", shape, I.NormalInitializer(GAN_INIT_STD), True)


def _conditioned_conv(x, aus, outmaps, kernel, portable):
    """conv(concat(x, AUs tiled to (B, n, H, W) maps)), with the weight ``conv/W``.

    The AU maps are constant, so their share of the convolution at a pixel is
    AUs x (the kernel summed over the taps that fall inside the image; zero
    padding is outside).  Those sums are one convolution of a map of ones,
    independent of the batch, so the tiles and their 7x7 patches, half of the
    generator's time on a CPU, are never built.  ``portable`` builds the tiles
    instead: the same function, in a graph that ONNX exporters can read
    (they refuse computations on weights).
    """
    batch, channels, height, width = x.shape
    count = aus.shape[1]
    pad = kernel // 2
    weight = _conv_weight((outmaps, channels + count, kernel, kernel))
    if portable:
        tiles = F.tile(F.reshape(aus, (batch, count, 1, 1)), (1, 1, height, width))
        return F.convolution(F.concatenate(x, tiles, axis=1), weight, pad=(pad, pad))
    image_part = F.convolution(x, weight[:, :channels], pad=(pad, pad))
    au_kernels = F.reshape(weight[:, channels:], (outmaps * count, 1, kernel, kernel))
    sums = F.convolution(F.constant(1.0, (1, 1, height, width)), au_kernels, pad=(pad, pad))
    sums = F.transpose(F.reshape(sums, (outmaps, count, height * width)), (1, 0, 2))
    au_part = F.affine(aus, F.reshape(sums, (count, outmaps * height * width)))
    return image_part + F.reshape(au_part, (batch, outmaps, height, width))


def _heads(h, portable):
    """The colour (tanh, 3 maps) and attention (sigmoid, 1 map) 7x7 heads on the same features.

    Unless ``portable``, as one convolution with the two weights stacked: the
    patches of the full-size map are gathered once instead of twice.
    """
    weights = []
    for name, maps in (("color", 3), ("attention", 1)):
        with nn.parameter_scope(name):
            weights.append(_conv_weight((maps, h.shape[1], 7, 7)))
    if portable:
        color, attention = (F.convolution(h, w, pad=(3, 3)) for w in weights)
    else:
        both = F.convolution(h, F.concatenate(*weights, axis=0), pad=(3, 3))
        color, attention = both[:, :3], both[:, 3:]
    return F.tanh(color), F.sigmoid(attention)


def _residual_block(x, affine):
    h = x
    for index in (1, 2):
        with nn.parameter_scope("conv{}".format(index)):
            h = _instance_norm(_conv(h, x.shape[1], 3, pad=1), affine)
        if index == 1:
            h = F.relu(h)
    # No activation after the sum, as in the authors' block.
    return x + h


def generator(x, aus, conv_dim=64, repeat_num=6, affine=True, portable=False):
    """(B, 3, H, W) faces in [-1, 1] and (B, n) AUs in ~[0, 1] -> (color, attention).

    color is (B, 3, H, W) in (-1, 1), attention (B, 1, H, W) in (0, 1).  H and
    W must be divisible by 4.  No convolution has a bias.  The AUs enter as
    constant maps concatenated to the face; ``portable`` (for export) builds
    them literally, otherwise an equal but faster graph is used.
    """
    if x.shape[2] % 4 or x.shape[3] % 4:
        raise ValueError("image size {} is not divisible by 4".format(x.shape[2:]))
    with nn.parameter_scope("stem"):
        h = F.relu(_instance_norm(_conditioned_conv(x, aus, conv_dim, 7, portable), affine))
    maps = conv_dim
    for index in (1, 2):
        maps *= 2
        with nn.parameter_scope("down{}".format(index)):
            h = F.relu(_instance_norm(_conv(h, maps, 4, stride=2, pad=1), affine))
    for index in range(1, repeat_num + 1):
        with nn.parameter_scope("res{}".format(index)):
            h = _residual_block(h, affine)
    for index in (1, 2):
        maps //= 2
        with nn.parameter_scope("up{}".format(index)):
            h = F.relu(_instance_norm(_deconv(h, maps), affine))
    return _heads(h, portable)


def compose(x, color, attention):
    """The edited face: attention keeps the input, its complement takes the colour mask."""
    return attention * x + (1.0 - attention) * color


def saturate_attention(attention):
    """The authors' optional ``do_saturate_mask`` curve, pushing A towards 0 or 1."""
    return F.clip_by_value(0.55 * F.tanh(3.0 * (attention - 0.5)) + 0.5, 0.0, 1.0)


def discriminator(x, num_aus=NUM_AUS, conv_dim=64, repeat_num=6):
    """Critic: (B, 3, S, S) -> (realness (B, 1, p, p), AUs (B, num_aus)), p = S / 2^repeat.

    Both heads are linear; the realness map is kept 4-D and the AU head is
    reshaped with the batch size, so a batch of 1 keeps its batch axis.
    """
    size = x.shape[2]
    if size % (2 ** repeat_num):
        raise ValueError("image size {} is not divisible by 2^{}".format(size, repeat_num))
    h = x
    maps = conv_dim
    for index in range(1, repeat_num + 1):
        with nn.parameter_scope("conv{}".format(index)):
            h = F.leaky_relu(_conv(h, maps, 4, stride=2, pad=1, with_bias=True), LEAKY_SLOPE)
        maps *= 2
    with nn.parameter_scope("realness"):
        realness = _conv(h, 1, 3, pad=1)
    with nn.parameter_scope("aus"):
        aus = _conv(h, num_aus, size // (2 ** repeat_num))
    return realness, F.reshape(aus, (x.shape[0], num_aus))


def edit_faces(x, aus, model, portable=False):
    """The generator of a config's ``model`` section under G_SCOPE: (output, color, attention).

    ``attention`` is the mask used in the composition (saturated when the
    config says so).  ``portable`` as in :func:`generator`.
    """
    with nn.parameter_scope(G_SCOPE):
        color, attention = generator(x, aus, conv_dim=model["g_conv_dim"],
                                     repeat_num=model["g_repeat_num"],
                                     affine=model["instance_norm_affine"], portable=portable)
    if model["do_saturate_mask"]:
        attention = saturate_attention(attention)
    return compose(x, color, attention), color, attention


def criticise(x, model, num_aus=NUM_AUS):
    """The critic of a config's ``model`` section under D_SCOPE: (realness, AUs)."""
    with nn.parameter_scope(D_SCOPE):
        return discriminator(x, num_aus=num_aus, conv_dim=model["d_conv_dim"],
                             repeat_num=model["d_repeat_num"])


def count_parameters(scope):
    """Number of scalar parameters under ``scope``."""
    with nn.parameter_scope(scope):
        return int(sum(np.prod(p.shape) for p in nn.get_parameters(grad_only=False).values()))


REGRESSOR_SCOPE = "au_regressor"


def au_regressor(x, widths=(16, 32, 64, 128), num_aus=NUM_AUS, test=False):
    """A small CNN that reads 17 AU intensities (/ 5) from a face: the evaluation's ruler.

    Trained separately from GANimation (``ganimation/evaluate.py train-regressor``),
    so that edited faces are judged by a network that took no part in making them.
    The head reads the last feature map whole, not pooled: where a feature is
    (brow or mouth) tells which AU it shows.
    """
    h = x
    for index, maps in enumerate(widths):
        with nn.parameter_scope("conv{}".format(index)):
            h = PF.convolution(h, maps, (4, 4), pad=(1, 1), stride=(2, 2))
            h = PF.batch_normalization(h, batch_stat=not test)
        h = F.leaky_relu(h, 0.2)
    with nn.parameter_scope("head"):
        return F.sigmoid(PF.affine(h, num_aus))
