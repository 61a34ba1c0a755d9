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
"""ReenactGAN networks as pure graph-building functions.

Parameter names and shapes follow the public NNabla port, so converted weights
of the authors' PyTorch models load without renaming (see
``torch_to_nnabla_names.tsv`` in the specs and ``convert_weights.py``).  Widths
are arguments: the defaults are the paper sizes, tests and the demo pass
smaller ones.

Batch normalisation: ``test=False`` (training) uses batch statistics and
updates the running averages; ``test=True`` uses the running averages.  The
authors produced all their results with batch statistics even at test time
(their code never called ``.eval()``), so every network also takes
``batch_stat`` to choose the statistics independently of ``test``, and the
decoder takes ``dropout`` likewise.
"""
import nnabla as nn
import nnabla.functions as F
import nnabla.initializer as I
import nnabla.parametric_functions as PF

NUM_BOUNDARIES = 15
GAN_INIT_STD = 0.02  # CycleGAN/pix2pix initialisation, as the authors used


def _gan_init():
    return I.NormalInitializer(GAN_INIT_STD)


# The PF functions' default scopes ("conv", "deconv", "bn", "affine") are the
# names the port's weights use; passing ``name=`` would add a second level.

# Batch-norm modes: "train" (batch statistics, running averages updated),
# "running" (the running averages), "batch" (batch statistics at inference, as
# the authors ran their models: nothing is updated).
TRAIN, RUNNING, BATCH = "train", "running", "batch"


def _stat(test, batch_stat):
    """The batch-norm mode of a network built with ``test`` and ``batch_stat``."""
    if batch_stat is None:
        return RUNNING if test else TRAIN
    if not batch_stat:
        return RUNNING
    return BATCH if test else TRAIN


def _channel_mean(h):
    """Per-channel mean of (N, C, H, W), summed along rows, columns, then the batch.

    nnabla's CPU mean adds a whole channel into one float32 accumulator; short
    sums lose less.  At batch 1 the hourglass's 4x4 level normalises 16 values
    per channel, which magnifies any error in the statistics of earlier
    levels, so this alone moves the paper-size encoder ~6x closer to the
    float64 answer (to the level of PyTorch in float32).
    """
    return F.mean(F.mean(F.mean(h, axis=3, keepdims=True), axis=2, keepdims=True), axis=0,
                  keepdims=True)


def _batch_stat_inference(h, fix_parameters):
    """Batch normalisation with the batch's statistics, computed in two passes.

    nnabla's batch-statistics kernel takes the variance in one float32 pass,
    so inference in the authors' mode subtracts the mean first.  Parameters
    are the same as ``PF.batch_normalization``'s (``bn/beta``, ``bn/gamma``,
    ``bn/mean``, ``bn/var``).
    """
    shape = (1, h.shape[1], 1, 1)
    with nn.parameter_scope("bn"):
        beta = nn.parameter.get_parameter_or_create("beta", shape, I.ConstantInitializer(0),
                                                    not fix_parameters)
        gamma = nn.parameter.get_parameter_or_create("gamma", shape, I.ConstantInitializer(1),
                                                     not fix_parameters)
        nn.parameter.get_parameter_or_create("mean", shape, I.ConstantInitializer(0), False)
        nn.parameter.get_parameter_or_create("var", shape, I.ConstantInitializer(1), False)
    mean = _channel_mean(h)
    centred = h - mean
    variance = _channel_mean(centred * centred)
    return centred * F.pow_scalar(variance + 1e-5, -0.5) * gamma + beta


def batch_norm(h, mode, fix_parameters=False):
    """Batch normalisation in one of the modes above (True/False mean train/running)."""
    if mode is True:
        mode = TRAIN
    elif mode is False:
        mode = RUNNING
    if mode == BATCH:
        return _batch_stat_inference(h, fix_parameters)
    # torch momentum 0.1 == nnabla decay_rate 0.9; eps 1e-5 in both.
    return PF.batch_normalization(h, decay_rate=0.9, eps=1e-5, batch_stat=(mode == TRAIN),
                                  fix_parameters=fix_parameters)


def conv(h, outmaps, kernel, stride=1, pad=0, with_bias=True, w_init=None, fix=False):
    return PF.convolution(h, outmaps, (kernel, kernel), pad=(pad, pad), stride=(stride, stride),
                          with_bias=with_bias, w_init=w_init, fix_parameters=fix)


def deconv(h, outmaps, kernel, stride=2, pad=1, output_padding=0, with_bias=True, w_init=None):
    kwargs = {}
    if output_padding:
        kwargs["output_padding"] = (output_padding, output_padding)
    return PF.deconvolution(h, outmaps, (kernel, kernel), pad=(pad, pad),
                            stride=(stride, stride), with_bias=with_bias, w_init=w_init,
                            **kwargs)


def reflection_pad(h, width):
    return F.pad(h, (width, width, width, width), mode="reflect")


# --- Encoder: stacked hourglass (face -> boundary heatmaps) -------------------

def preact_bottleneck(x, mid_maps, out_maps, batch_stat, fix=False):
    """Pre-activation residual: BN-ReLU-1x1, BN-ReLU-3x3, BN-ReLU-1x1, plus skip."""
    h = x
    for index, (maps, kernel) in enumerate(((mid_maps, 1), (mid_maps, 3), (out_maps, 1)), 1):
        with nn.parameter_scope("bn{}".format(index)):
            h = F.relu(batch_norm(h, batch_stat, fix))
        with nn.parameter_scope("conv{}".format(index)):
            h = conv(h, maps, kernel, pad=kernel // 2, fix=fix)
    skip = x
    if x.shape[1] != out_maps:
        with nn.parameter_scope("downsample"):
            skip = conv(x, out_maps, 1, fix=fix)
    return skip + h


def hourglass(x, depth, mid_maps, batch_stat, fix=False):
    """Recursive hourglass; scopes ``<level>.<branch>.0`` as the authors' modules.

    level = depth - 1 counts from the innermost (0) outwards; branch 0 is the
    skip path, 1 the path after pooling, 2 the path before upsampling, and 3 the
    extra residual at the innermost level.
    """
    out_maps = x.shape[1]

    def residual(branch, h):
        with nn.parameter_scope("{}.{}.0".format(depth - 1, branch)):
            return preact_bottleneck(h, mid_maps, out_maps, batch_stat, fix)

    up1 = residual(0, x)
    low1 = residual(1, F.max_pooling(x, (2, 2)))
    if depth > 1:
        low2 = hourglass(low1, depth - 1, mid_maps, batch_stat, fix)
    else:
        low2 = residual(3, low1)
    low3 = residual(2, low2)
    return up1 + F.unpooling(low3, (2, 2))  # nearest-neighbour x2


def stacked_hourglass_net(x, planes=64, output_nc=NUM_BOUNDARIES, num_stacks=2,
                          hourglass_depth=4, test=False, batch_stat=None, fix_parameters=False):
    """Encoder: (N, 3, 256, 256) faces in [-1, 1] -> list of (N, 15, 64, 64) per stack.

    The last element is the boundary estimate; earlier ones are the
    intermediate supervision outputs.  Outputs are unbounded (no activation).
    """
    stat = _stat(test, batch_stat)
    fix = fix_parameters
    with nn.parameter_scope("conv1"):
        h = conv(x, planes, 7, stride=2, pad=3, fix=fix)
    with nn.parameter_scope("bn1"):
        h = F.relu(batch_norm(h, stat, fix))
    with nn.parameter_scope("layer1"):
        h = preact_bottleneck(h, planes, 2 * planes, stat, fix)
    h = F.max_pooling(h, (2, 2))
    with nn.parameter_scope("layer2"):
        h = preact_bottleneck(h, 2 * planes, 4 * planes, stat, fix)
    with nn.parameter_scope("layer3"):
        h = preact_bottleneck(h, 2 * planes, 4 * planes, stat, fix)
    features = 4 * planes
    outputs = []
    for stack in range(num_stacks):
        with nn.parameter_scope("hourglass{}".format(stack)):
            y = hourglass(h, hourglass_depth, 2 * planes, stat, fix)
        with nn.parameter_scope("res{}".format(stack)):
            y = preact_bottleneck(y, 2 * planes, features, stat, fix)
        with nn.parameter_scope("fc{}".format(stack)):
            y = F.relu(batch_norm(conv(y, features, 1, fix=fix), stat, fix))
        with nn.parameter_scope("score{}".format(stack)):
            score = conv(y, output_nc, 1, fix=fix)
        outputs.append(score)
        if stack < num_stacks - 1:
            # The port's names for stack 0 are "fc_" and "score_"; later stacks
            # (num_stacks > 2) get the stack number appended.
            suffix = "" if stack == 0 else str(stack)
            with nn.parameter_scope("fc_" + suffix):
                fc_back = conv(y, features, 1, fix=fix)
            with nn.parameter_scope("score_" + suffix):
                score_back = conv(score, features, 1, fix=fix)
            h = h + fc_back + score_back
    return outputs


# --- Transformer: ResNet generator and PatchGAN discriminator ------------------

def resnet_block(x, batch_stat):
    h = x
    for index in (1, 2):
        with nn.parameter_scope("block{}".format(index)):
            h = conv(reflection_pad(h, 1), x.shape[1], 3, with_bias=False, w_init=_gan_init())
            h = batch_norm(h, batch_stat)
            if index == 1:
                h = F.relu(h)
    return x + h


def netG_transformer(x, ngf=64, n_blocks=9, output_nc=NUM_BOUNDARIES, test=False,
                     batch_stat=None):
    """Boundary transformer: (N, 15, 64, 64) -> (N, 15, 64, 64) in (0, 1)."""
    stat = _stat(test, batch_stat)
    init = _gan_init()
    with nn.parameter_scope("conv1"):
        h = F.relu(batch_norm(conv(reflection_pad(x, 3), ngf, 7, with_bias=False, w_init=init),
                              stat))
    for index, maps in ((2, 2 * ngf), (3, 4 * ngf)):
        with nn.parameter_scope("conv{}".format(index)):
            h = F.relu(batch_norm(conv(h, maps, 3, stride=2, pad=1, with_bias=False,
                                       w_init=init), stat))
    for block in range(1, n_blocks + 1):
        with nn.parameter_scope("res{}".format(block)):
            h = resnet_block(h, stat)
    for index, maps in ((1, 2 * ngf), (2, ngf)):
        with nn.parameter_scope("deconv{}".format(index)):
            h = deconv(h, maps, 3, stride=2, pad=1, output_padding=1, with_bias=False,
                       w_init=init)
            h = F.relu(batch_norm(h, stat))
    with nn.parameter_scope("deconv3"):
        h = conv(reflection_pad(h, 3), output_nc, 7, w_init=init)
    return F.sigmoid(h)


def patchgan_discriminator(x, ndf=64, n_layers=3, test=False, batch_stat=None, sigmoid=False):
    """PatchGAN: 4x4 convs, stride 2 then 1; (N, C, 64, 64) -> (N, 1, 6, 6)."""
    stat = _stat(test, batch_stat)
    init = _gan_init()
    with nn.parameter_scope("conv0"):
        h = F.leaky_relu(conv(x, ndf, 4, stride=2, pad=1, w_init=init), 0.2)
    for index in range(1, n_layers + 1):
        maps = ndf * min(2 ** index, 8)
        stride = 2 if index < n_layers else 1
        with nn.parameter_scope("conv{}".format(index)):
            h = conv(h, maps, 4, stride=stride, pad=1, with_bias=False, w_init=init)
            h = F.leaky_relu(batch_norm(h, stat), 0.2)
    with nn.parameter_scope("conv{}".format(n_layers + 1)):
        h = conv(h, 1, 4, stride=1, pad=1, w_init=init)
    return F.sigmoid(h) if sigmoid else h


def netD_transformer(x, ndf=64, test=False, batch_stat=None):
    """Transformer discriminator (LSGAN, no sigmoid): (N, 15, 64, 64) -> (N, 1, 6, 6)."""
    return patchgan_discriminator(x, ndf, 3, test, batch_stat, sigmoid=False)


# --- Decoder: boundaries -> face ----------------------------------------------

UNET_LEVELS = 8
UNET_DROPOUT_UPS = (1, 2, 3)


def unet_down(h, maps, batch_stat, name, activation=True, norm=True):
    with nn.parameter_scope(name):
        if activation:
            h = F.leaky_relu(h, 0.2)
        h = conv(h, maps, 4, stride=2, pad=1, with_bias=False, w_init=_gan_init())
        return batch_norm(h, batch_stat) if norm else h


def unet_up(h, maps, batch_stat, name, dropout=False, outermost=False):
    with nn.parameter_scope(name):
        h = deconv(F.relu(h), maps, 4, with_bias=outermost, w_init=_gan_init())
        if outermost:
            return F.tanh(h)
        h = batch_norm(h, batch_stat)
        if callable(dropout):
            return dropout(h)
        return F.dropout(h, 0.5) if dropout else h


def netG_decoder(x, ngf=64, output_nc=3, test=False, batch_stat=None, dropout=None):
    """Decoder: (N, 15, 64, 64) boundaries -> (N, 3, 256, 256) face in [-1, 1].

    A transposed-conv pre-upsampler (64 -> 256) feeds an 8-level U-Net.
    ``dropout`` (default: not test) applies the 0.5 dropout of the three
    innermost decoder levels; the authors kept it on at test time.  A
    callable ``h -> h`` replaces ``F.dropout`` (training uses
    utils.dropout_masks.DropoutMasks, whose random state is checkpointed).
    """
    stat = _stat(test, batch_stat)
    use_dropout = (not test) if dropout is None else dropout
    channels = x.shape[1]
    init = _gan_init()
    with nn.parameter_scope("ReluDeconvBN1"):
        h = batch_norm(deconv(F.relu(x), channels, 4, with_bias=False, w_init=init), stat)
    with nn.parameter_scope("ReluDeconvBN2"):
        h = F.tanh(deconv(F.relu(h), channels, 4, w_init=init))
    widths = [ngf * min(2 ** level, 8) for level in range(UNET_LEVELS)]
    skips = []
    for level, maps in enumerate(widths):
        h = unet_down(h, maps, stat, "down{}".format(level), activation=level > 0,
                      norm=0 < level < UNET_LEVELS - 1)
        skips.append(h)
    h = unet_up(h, widths[-2], stat, "up0")
    for index in range(1, UNET_LEVELS):
        skip = skips[UNET_LEVELS - 1 - index]
        h = F.concatenate(skip, h, axis=1)
        outermost = index == UNET_LEVELS - 1
        maps = output_nc if outermost else widths[UNET_LEVELS - 2 - index]
        h = unet_up(h, maps, stat, "up{}".format(index),
                    dropout=use_dropout if index in UNET_DROPOUT_UPS else False,
                    outermost=outermost)
    return h


def netD_decoder(x, ndf=64, test=False, batch_stat=None):
    """Decoder discriminator on cat(boundary256, face): (N, 18, 256, 256) -> (N, 1, 30, 30)."""
    return patchgan_discriminator(x, ndf, 3, test, batch_stat, sigmoid=True)


# --- a run's networks at inference ----------------------------------------------

TRANSFORMER_SCOPE = "netG_transformer"
TRANSFORMER_A2B_SCOPE = TRANSFORMER_SCOPE + "/netG_A2B"
DECODER_SCOPE = "netG_decoder"


def _inference_stat(batch_stat):
    # At inference, running statistics (None: the test mode's choice) unless
    # the authors' batch statistics are asked for.
    return True if batch_stat else None


def transform_boundaries(boundary, config, batch_stat=False):
    """A transformer run's A -> B generator (``config``: its training_info) on
    ``boundary`` (N, 15, 64, 64), under ``TRANSFORMER_A2B_SCOPE``."""
    with nn.parameter_scope(TRANSFORMER_A2B_SCOPE):
        return netG_transformer(boundary, ngf=config["model"]["ngf"],
                                n_blocks=config["model"]["n_blocks"], test=True,
                                batch_stat=_inference_stat(batch_stat))


def decode_boundaries(boundary, config, batch_stat=False, dropout=False):
    """A decoder run's generator on ``boundary`` (N, 15, 64, 64) -> faces (N, 3, 256, 256),
    under ``DECODER_SCOPE``; ``dropout`` keeps the authors' test-time dropout."""
    with nn.parameter_scope(DECODER_SCOPE):
        return netG_decoder(boundary, ngf=config["model"]["ngf"], test=True,
                            batch_stat=_inference_stat(batch_stat), dropout=dropout)


# --- Align network and PCA (the transformer's shape loss) -----------------------

ALIGN_OUTPUTS = 212  # 106 landmarks (x, y) in 64 px heatmap coordinates


def basic_block(x, maps, stride, batch_stat, fix):
    h = x
    for index in (1, 2):
        with nn.parameter_scope("conv{}".format(index)):
            h = conv(h, maps, 3, stride=stride if index == 1 else 1, pad=1, with_bias=False,
                     fix=fix)
        with nn.parameter_scope("bn{}".format(index)):
            h = batch_norm(h, batch_stat, fix)
        if index == 1:
            h = F.relu(h)
    skip = x
    if stride != 1 or x.shape[1] != maps:
        with nn.parameter_scope("downsample"):
            skip = batch_norm(conv(x, maps, 1, stride=stride, with_bias=False, fix=fix),
                              batch_stat, fix)
    return F.relu(h + skip)


def align_resnet(x, base_maps=16, test=False, batch_stat=None, fix_parameters=True):
    """Align: (N, 15, 64, 64) boundaries -> (N, 212) landmark coordinates.

    A ResNet-18 layout.  Both public implementations run it with batch
    statistics (``batch_stat=True``) whatever the mode; pass that to match them.
    """
    stat = _stat(test, batch_stat)
    fix = fix_parameters
    with nn.parameter_scope("layer0"):
        h = conv(x, 3, 3, pad=1, fix=fix)
    with nn.parameter_scope("layer1"):
        h = conv(h, base_maps, 7, stride=2, pad=3, with_bias=False, fix=fix)
    with nn.parameter_scope("layer2"):
        h = F.relu(batch_norm(h, stat, fix))
    h = F.max_pooling(h, (3, 3), stride=(2, 2), pad=(1, 1))
    for layer, multiplier in ((5, 1), (6, 2), (7, 4), (8, 8)):
        maps = base_maps * multiplier
        for block in (0, 1):
            stride = 2 if (block == 0 and layer > 5) else 1
            with nn.parameter_scope("layer{}_{}".format(layer, block)):
                h = basic_block(h, maps, stride, stat, fix)
    for index, maps in ((1, 128), (3, 128), (5, ALIGN_OUTPUTS)):
        with nn.parameter_scope("mlp{}".format(index)):
            h = PF.affine(h, maps, fix_parameters=fix)
        if index != 5:
            h = F.relu(h)
    return h


def pca_projection(x, fix_parameters=True):
    """Whitened PCA of the 212-vector: y = x W + b (W is the authors' weight transposed)."""
    return PF.affine(x, ALIGN_OUTPUTS, fix_parameters=fix_parameters)
