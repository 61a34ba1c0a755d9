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
"""Convert the ReenactGAN authors' PyTorch weights to NNabla ``.h5`` files.

One command per network::

    python reenactgan/convert_weights.py align Align_40000.pth -o Align_40000.h5
    python reenactgan/convert_weights.py pca pretrained_models/pca_init -o PCA_weights.h5
    python reenactgan/convert_weights.py encoder v8_net_boundary_detection.pth -o encoder.h5
    python reenactgan/convert_weights.py transformer G_BA_500000.pth -o transformer.h5
    python reenactgan/convert_weights.py decoder 15_net_G.pth -o decoder.h5
    python reenactgan/convert_weights.py vgg16 vgg16-397923af.pth -o vgg16.h5
    python reenactgan/convert_weights.py verify align Align_40000.h5 pca PCA_weights.h5

PyTorch is not needed: ``utils.torch_checkpoint`` reads both ``torch.save``
formats and refuses any pickle that would run code.  The ``transformer`` and
``decoder`` commands also accept the authors' discriminators (detected from
the keys).  Parameter names in the ``.h5`` are relative to the network's
scope (``Align``, ``PCA``, ``model``, ``netG_transformer/netG_A2B``,
``netG_decoder``, ``vgg16``), as the public NNabla port stores them.

After writing, the file is loaded with strict checking into the NNabla network
built with the widths found in the file; any missing, unexpected or mis-shaped
parameter is an error and no output is left behind.
"""
import argparse
import collections
import os
import re

import nnabla as nn
import numpy as np

from reenactgan import models, vgg16
from utils import torch_checkpoint
from utils.atomic_files import atomic_path
from utils.checkpoint import h5_parameter_shapes, load_parameters_checked, \
    short_list
from utils.user_errors import UserError, run_main


NETWORKS = ("align", "pca", "encoder", "transformer", "decoder", "vgg16")

# Leaf names per module kind.  BN statistics are not trained (need_grad False).
_CONV = {"weight": "conv/W", "bias": "conv/b"}
_DECONV = {"weight": "deconv/W", "bias": "deconv/b"}
_BN = {"weight": "bn/gamma", "bias": "bn/beta", "running_mean": "bn/mean",
       "running_var": "bn/var"}
_LINEAR = {"weight": "affine/W", "bias": "affine/b"}
_KINDS = {"conv": _CONV, "deconv": _DECONV, "bn": _BN, "linear": _LINEAR}
_NOT_TRAINED = ("bn/mean", "bn/var")


# ------------------------------------------------------------ name mapping

def _strip_prefix(state, prefix):
    """Drop ``prefix`` (e.g. DataParallel's ``module.``) when every key has it."""
    if state and all(key.startswith(prefix) for key in state):
        return collections.OrderedDict((key[len(prefix):], v) for key, v in state.items())
    return state


# Key patterns that identify each of the authors' networks, for hints only.
_SIGNATURES = (
    ("align", r"(^|\.)mlp\.5\."),
    ("encoder", r"(^|\.)hg\.\d+\.hg\."),
    ("transformer", r"\.conv_block\."),
    ("decoder", r"^(module\.)?model\.model\."),
    ("vgg16", r"(^|\.)(features|slice\d)\."),
    ("a discriminator (use the transformer or decoder command)", r"^(module\.)?model\.11\."),
)


def _guess_network(keys):
    for network, pattern in _SIGNATURES:
        if any(re.search(pattern, key) for key in keys):
            return network
    return None


def _map_state(state, rule, network, source):
    """Apply ``rule(module path) -> (nnabla scope, kind) or None`` to every tensor.

    Returns OrderedDict {nnabla name: float32 array}.  Every tensor must map.
    """
    params = collections.OrderedDict()
    unknown = []
    for key, value in state.items():
        module, _, leaf = key.rpartition(".")
        target = rule(module) if module else None
        leaves = _KINDS[target[1]] if target else {}
        if leaf not in leaves:
            unknown.append(key)
            continue
        name = "{}/{}".format(target[0], leaves[leaf]) if target[0] else leaves[leaf]
        if name in params:
            raise UserError("{}: two tensors map to the NNabla parameter {}".format(source, name))
        array = np.asarray(value)
        if array.dtype.kind != "f":
            raise UserError("{}: tensor {} has dtype {}, expected floating point".format(
                source, key, array.dtype))
        array = array.astype(np.float32)
        if target[1] == "bn":
            array = array.reshape(1, -1, 1, 1)
        elif target[1] == "linear" and leaf == "weight":
            if array.ndim != 2:
                raise UserError("{}: {} is not a matrix".format(source, key))
            array = np.ascontiguousarray(array.T)  # torch (out, in) -> nnabla (in, out)
        params[name] = array
    if unknown:
        guess = _guess_network(state)
        hint = ""
        if guess and guess != network:
            hint = " (the keys look like {}; is this the right command?)".format(guess)
        raise UserError("{}: {} tensor(s) have no counterpart in the NNabla {} network: {}{}"
                        .format(source, len(unknown), network, short_list(unknown), hint))
    return params


def _kind(part):
    return "bn" if part.startswith("bn") else "conv"


def _align_rule(module):
    simple = {"model.0": ("layer0", "conv"), "model.1": ("layer1", "conv"),
              "model.2": ("layer2", "bn"), "mlp.1": ("mlp1", "linear"),
              "mlp.3": ("mlp3", "linear"), "mlp.5": ("mlp5", "linear")}
    if module in simple:
        return simple[module]
    match = re.match(r"^model\.([5-8])\.(\d+)\.(conv[12]|bn[12]|downsample\.[01])$", module)
    if not match:
        return None
    layer, block, part = match.groups()
    scope = "layer{}_{}".format(layer, block)
    if part.startswith("downsample"):
        return scope + "/downsample", "conv" if part.endswith("0") else "bn"
    return "{}/{}".format(scope, part), _kind(part)


def _encoder_rule(module):
    patterns = (
        (r"^conv1$", lambda m: ("conv1", "conv")),
        (r"^bn1$", lambda m: ("bn1", "bn")),
        (r"^layer(\d+)\.0\.(bn\d|conv\d)$",
         lambda m: ("layer{}/{}".format(*m.groups()), _kind(m.group(2)))),
        (r"^layer(\d+)\.0\.downsample\.0$",
         lambda m: ("layer{}/downsample".format(m.group(1)), "conv")),
        (r"^hg\.(\d+)\.hg\.(\d+)\.(\d+)\.0\.(bn\d|conv\d)$",
         lambda m: ("hourglass{}/{}.{}.0/{}".format(*m.groups()), _kind(m.group(4)))),
        (r"^res\.(\d+)\.0\.(bn\d|conv\d)$",
         lambda m: ("res{}/{}".format(*m.groups()), _kind(m.group(2)))),
        (r"^fc\.(\d+)\.0$", lambda m: ("fc{}".format(m.group(1)), "conv")),
        (r"^fc\.(\d+)\.1$", lambda m: ("fc{}".format(m.group(1)), "bn")),
        (r"^score\.(\d+)$", lambda m: ("score{}".format(m.group(1)), "conv")),
        # The port names the stack-0 feedback convolutions without a number.
        (r"^(fc_|score_)\.(\d+)$",
         lambda m: (m.group(1) + ("" if m.group(2) == "0" else m.group(2)), "conv")),
    )
    for pattern, make in patterns:
        match = re.match(pattern, module)
        if match:
            return make(match)
    return None


def _transformer_rule(state):
    """ResnetGenerator keys ``model.<i>``: the indices after the blocks depend on n_blocks."""
    blocks = sorted({int(m.group(1)) for m in
                     (re.match(r"^model\.(\d+)\.conv_block\.", k) for k in state) if m})
    n_blocks = len(blocks)
    if blocks and blocks != list(range(10, 10 + n_blocks)):
        raise UserError("residual blocks at unexpected positions {}".format(blocks))
    # Inside a block the two convolutions and the two BNs are told apart by
    # their tensors (a BN has running statistics), so that the dropout
    # variant of the block, with one more layer, maps too.
    bn_modules = {key.rsplit(".", 1)[0] for key in state if key.endswith(".running_mean")}
    block_parts = collections.defaultdict(lambda: {"conv": set(), "bn": set()})
    for key in state:
        match = re.match(r"^model\.(\d+)\.conv_block\.(\d+)\.", key)
        if match:
            kind = "bn" if key.rsplit(".", 1)[0] in bn_modules else "conv"
            block_parts[int(match.group(1))][kind].add(int(match.group(2)))
    fixed = {1: ("conv1", "conv"), 2: ("conv1", "bn"), 4: ("conv2", "conv"),
             5: ("conv2", "bn"), 7: ("conv3", "conv"), 8: ("conv3", "bn"),
             10 + n_blocks: ("deconv1", "deconv"), 11 + n_blocks: ("deconv1", "bn"),
             13 + n_blocks: ("deconv2", "deconv"), 14 + n_blocks: ("deconv2", "bn"),
             17 + n_blocks: ("deconv3", "conv")}

    def rule(module):
        match = re.match(r"^model\.(\d+)$", module)
        if match:
            return fixed.get(int(match.group(1)))
        match = re.match(r"^model\.(\d+)\.conv_block\.(\d+)$", module)
        if not match:
            return None
        block, index = int(match.group(1)), int(match.group(2))
        parts = block_parts[block]
        for kind in ("conv", "bn"):
            ordered = sorted(parts[kind])
            if index in ordered and len(ordered) == 2:
                return "res{}/block{}".format(block - 9, ordered.index(index) + 1), kind
        return None
    return rule


def _discriminator_rule(module):
    match = re.match(r"^model\.(\d+)$", module)
    if not match:
        return None
    index = int(match.group(1))
    if index == 0:
        return "conv0", "conv"
    # NLayerDiscriminator: conv k at 3k - 1 and its BN at 3k; the last conv
    # (no BN) at 3(n + 1) - 1, which the same formula covers.
    if index % 3 == 2:
        return "conv{}".format((index + 1) // 3), "conv"
    if index % 3 == 0:
        return "conv{}".format(index // 3), "bn"
    return None


def _decoder_rule(state):
    """DeconvUnet: nested ``model.model.2(.model.3)*.model.<i>`` blocks, innermost last."""
    pattern = re.compile(r"^model\.model\.2((?:\.model\.3)*)\.model\.(\d+)$")
    depths = [m.group(1).count(".model.3") + 1 for m in
              (pattern.match(k.rpartition(".")[0]) for k in state) if m]
    innermost = max(depths) if depths else 0
    levels = models.UNET_LEVELS - 1
    if depths and innermost != levels:
        raise UserError("the U-Net has {} levels, the NNabla decoder {}".format(
            innermost + 1, levels + 1))
    simple = {"model.model.0.model.0.model.1": ("ReluDeconvBN1", "deconv"),
              "model.model.0.model.0.model.2": ("ReluDeconvBN1", "bn"),
              "model.model.0.model.2": ("ReluDeconvBN2", "deconv"),
              "model.model.1": ("down0", "conv"),
              "model.model.4": ("up{}".format(levels), "deconv")}

    def rule(module):
        if module in simple:
            return simple[module]
        match = pattern.match(module)
        if not match:
            return None
        level = match.group(1).count(".model.3") + 1
        index = int(match.group(2))
        if level == innermost:
            parts = {1: ("down{}".format(level), "conv"), 3: ("up0", "deconv"), 4: ("up0", "bn")}
        else:
            up = "up{}".format(levels - level)
            parts = {1: ("down{}".format(level), "conv"), 2: ("down{}".format(level), "bn"),
                     5: (up, "deconv"), 6: (up, "bn")}
        return parts.get(index)
    return rule


def _vgg16_rule(module):
    match = re.match(r"^features\.(\d+)$", module)
    if not match:
        return None
    names = dict((index, name) for name, index in vgg16.VGG16_CONVS)
    index = int(match.group(1))
    return (names[index], "conv") if index in names else None


# ------------------------------------------------------------ networks

class Network(object):
    """How to build one NNabla network for checking a converted file."""

    def __init__(self, kind, scope, build, input_shape, description):
        self.kind = kind
        self.scope = scope
        self.build = build  # build(x, batch_stat) -> output Variable(s)
        self.input_shape = input_shape
        self.description = description


def _shape(shapes, name, source):
    if name not in shapes:
        raise UserError("{}: parameter {} is missing, so the network size cannot be "
                        "determined".format(source, name))
    return shapes[name]


def network_for(kind, shapes, source):
    """The NNabla network matching parameter ``shapes`` ({nnabla name: shape})."""
    if kind == "align":
        base = _shape(shapes, "layer1/conv/W", source)[0]

        def build(x, batch_stat=True):
            return models.align_resnet(x, base_maps=base, batch_stat=batch_stat)
        return Network(kind, "Align", build, (1, models.NUM_BOUNDARIES, 64, 64),
                       "align_resnet(base_maps={})".format(base))
    if kind == "pca":
        size = _shape(shapes, "affine/W", source)[0]

        def build(x, batch_stat=True):
            return models.pca_projection(x)
        return Network(kind, "PCA", build, (1, size), "pca_projection")
    if kind == "encoder":
        planes, channels = _shape(shapes, "conv1/conv/W", source)[:2]
        stacks = len([n for n in shapes if re.match(r"^score\d+/conv/W$", n)])
        outputs = _shape(shapes, "score0/conv/W", source)[0]
        levels = [int(m.group(1)) for m in
                  (re.match(r"^hourglass0/(\d+)\.", n) for n in shapes) if m]
        depth = max(levels) + 1 if levels else 4

        def build(x, batch_stat=True):
            return models.stacked_hourglass_net(x, planes=planes, output_nc=outputs,
                                                num_stacks=stacks, hourglass_depth=depth,
                                                test=True, batch_stat=batch_stat)
        return Network(kind, "model", build, (1, channels, 256, 256),
                       "stacked_hourglass_net(planes={}, output_nc={}, num_stacks={}, "
                       "hourglass_depth={})".format(planes, outputs, stacks, depth))
    if kind == "transformer":
        ngf, channels = _shape(shapes, "conv1/conv/W", source)[:2]
        blocks = len([n for n in shapes if re.match(r"^res\d+/block1/conv/W$", n)])
        outputs = _shape(shapes, "deconv3/conv/W", source)[0]

        def build(x, batch_stat=True):
            return models.netG_transformer(x, ngf=ngf, n_blocks=blocks, output_nc=outputs,
                                           test=True, batch_stat=batch_stat)
        return Network(kind, models.TRANSFORMER_A2B_SCOPE, build, (1, channels, 64, 64),
                       "netG_transformer(ngf={}, n_blocks={})".format(ngf, blocks))
    if kind in ("transformer_D", "decoder_D"):
        ndf, channels = _shape(shapes, "conv0/conv/W", source)[:2]
        layers = len([n for n in shapes if re.match(r"^conv\d+/bn/gamma$", n)])
        sigmoid = kind == "decoder_D"
        size = 256 if sigmoid else 64

        def build(x, batch_stat=True):
            return models.patchgan_discriminator(x, ndf=ndf, n_layers=layers, test=True,
                                                 batch_stat=batch_stat, sigmoid=sigmoid)
        scope = "netD_decoder" if sigmoid else "netD_transformer"
        return Network(kind, scope, build, (1, channels, size, size),
                       "patchgan_discriminator(ndf={}, n_layers={})".format(ndf, layers))
    if kind == "decoder":
        ngf = _shape(shapes, "down0/conv/W", source)[0]
        channels = _shape(shapes, "ReluDeconvBN1/deconv/W", source)[0]
        outputs = _shape(shapes, "up{}/deconv/W".format(models.UNET_LEVELS - 1), source)[1]

        def build(x, batch_stat=True, dropout=False):
            return models.netG_decoder(x, ngf=ngf, output_nc=outputs, test=True,
                                       batch_stat=batch_stat, dropout=dropout)
        return Network(kind, models.DECODER_SCOPE, build, (1, channels, 64, 64),
                       "netG_decoder(ngf={})".format(ngf))
    if kind == "vgg16":
        widths = tuple(_shape(shapes, "{}/conv/W".format(name), source)[0]
                       for name, _ in vgg16.VGG16_CONVS)

        def build(x, batch_stat=True):
            return vgg16.vgg16_features(x, layers=("relu2_2", "relu3_3"), widths=widths)
        return Network(kind, vgg16.VGG16_SCOPE, build, (1, 3, 64, 64),
                       "vgg16_features(widths={})".format(widths))
    raise ValueError("unknown network kind {}".format(kind))


def verify_file(path, kind, expected=None):
    """Build the ``kind`` network in a private scope and load ``path`` strictly.

    ``expected`` ({name: array}) is compared with what was loaded.  Returns
    the :class:`Network`.  Raises UserError on any mismatch.
    """
    network = network_for(kind, h5_parameter_shapes(path), path)
    private = collections.OrderedDict()
    with nn.parameter_scope("", private):
        with nn.parameter_scope(network.scope):
            network.build(nn.Variable(network.input_shape))
        load_parameters_checked(path, network.scope, strict=True)
        if expected is not None:
            with nn.parameter_scope(network.scope):
                loaded = nn.get_parameters(grad_only=False)
            for name, array in expected.items():
                if not np.array_equal(loaded[name].d, array):
                    raise UserError("{}: parameter {} changed on the way through the file".format(
                        path, name))
    return network


def write_parameters(path, params):
    """Write {name: float32 array} in nnabla's ``.h5`` parameter layout (not atomic)."""
    variables = collections.OrderedDict()
    for name, array in params.items():
        variables[name] = nn.Variable.from_numpy_array(
            array, need_grad=not name.endswith(_NOT_TRAINED))
    nn.save_parameters(path, variables)


def _save_checked(output, params, kind, log):
    with atomic_path(output) as tmp:
        write_parameters(tmp, params)
        try:
            network = verify_file(tmp, kind, expected=params)
        except UserError as err:
            message = str(err).replace(tmp, output)
            raise UserError("the converted file does not fit the NNabla network, nothing was "
                            "written: {}".format(message))
    log("checked: the {} parameters load strictly into {} under scope '{}' (no missing, "
        "unexpected or mis-shaped parameter)".format(len(params), network.description,
                                                     network.scope))
    log("wrote {}".format(output))
    return network


# ------------------------------------------------------------ commands

def _read_state(path, log):
    state, checkpoint = torch_checkpoint.load_state_dict(path, return_checkpoint=True)
    log("read {} tensors from {} ({})".format(len(state), path, checkpoint.describe()))
    dropped = [key for key in state if key.rsplit(".", 1)[-1] == "num_batches_tracked"]
    for key in dropped:
        del state[key]
    if dropped:
        log("dropped {} num_batches_tracked counters".format(len(dropped)))
    return state


def _one_input(inputs, command):
    if len(inputs) != 1:
        raise UserError("{} takes one input file, got {}".format(command, len(inputs)))
    return inputs[0]


def convert_align(inputs, output, log=print):
    source = _one_input(inputs, "align")
    state = _strip_prefix(_read_state(source, log), "module.")
    params = _map_state(state, _align_rule, "align", source)
    return _save_checked(output, params, "align", log)


def convert_encoder(inputs, output, log=print):
    source = _one_input(inputs, "encoder")
    state = _strip_prefix(_read_state(source, log), "module.")
    state = _strip_prefix(state, "model.0.")
    params = _map_state(state, _encoder_rule, "encoder", source)
    return _save_checked(output, params, "encoder", log)


def _is_discriminator(state):
    """NLayerDiscriminator: one flat Sequential whose first layer is a 4x4 convolution."""
    flat = all(re.match(r"^model\.\d+\.[a-z_]+$", key) for key in state)
    first = state.get("model.0.weight")
    return flat and first is not None and np.ndim(first) == 4 and first.shape[2:] == (4, 4)


def _convert_gan_network(kind, generator_rule, inputs, output, log):
    """A transformer or decoder file: its generator, or its PatchGAN discriminator."""
    source = _one_input(inputs, kind)
    state = _strip_prefix(_read_state(source, log), "module.")
    if _is_discriminator(state):
        log("the keys are those of a PatchGAN discriminator: converting netD_" + kind)
        params = _map_state(state, _discriminator_rule, kind + " discriminator", source)
        return _save_checked(output, params, kind + "_D", log)
    try:
        rule = generator_rule(state)
    except UserError as err:
        raise UserError("{}: {}".format(source, err))
    params = _map_state(state, rule, kind, source)
    return _save_checked(output, params, kind, log)


def convert_transformer(inputs, output, log=print):
    base = os.path.basename(_one_input(inputs, "transformer"))
    if base.startswith("G_AB"):
        log("warning: {} is a G_AB (target -> source) generator; the authors' G_BA files are "
            "the source -> target transformer that NNabla calls netG_A2B".format(base))
    return _convert_gan_network("transformer", _transformer_rule, inputs, output, log)


def convert_decoder(inputs, output, log=print):
    return _convert_gan_network("decoder", _decoder_rule, inputs, output, log)


def convert_vgg16(inputs, output, log=print):
    source = _one_input(inputs, "vgg16")
    state = _strip_prefix(_read_state(source, log), "module.")
    # The authors' Vgg16 / Vgg16Net wrappers keep torchvision's feature
    # indices inside slice1..slice4.
    state = _strip_prefix(state, "model.0.")
    state = collections.OrderedDict(
        (re.sub(r"^slice\d+\.", "features.", key), value) for key, value in state.items())
    kept = collections.OrderedDict(
        (key, value) for key, value in state.items()
        if _vgg16_rule(key.rpartition(".")[0]) is not None)
    other = [key for key in state if key not in kept and not re.match(
        r"^(features|classifier)\.\d+\.(weight|bias)$", key)]
    if other:
        raise UserError("{}: {} tensor(s) are not VGG16 layers: {}".format(
            source, len(other), short_list(other)))
    log("kept the {} tensors of conv1_1 ... conv3_3 (relu2_2 and relu3_3 need no more); "
        "dropped {}".format(len(kept), len(state) - len(kept)))
    params = _map_state(kept, _vgg16_rule, "vgg16", source)
    return _save_checked(output, params, "vgg16", log)


PCA_FILES = ("weight", "bias", "inverse_weight", "inverse_bias")


def _pca_files(inputs):
    """{role: path} from a pca_init folder or the files themselves."""
    paths = []
    for item in inputs:
        if os.path.isdir(item):
            paths.extend(os.path.join(item, name) for name in sorted(os.listdir(item))
                         if name.endswith(".txt"))
        elif os.path.isfile(item):
            paths.append(item)
        else:
            raise UserError("PCA input {} not found".format(item))
    found = {}
    for path in paths:
        match = re.match(r"^(inverse_weight|inverse_bias|weight|bias)_(\d+)\.txt$",
                         os.path.basename(path))
        if match:
            if match.group(1) in found:
                raise UserError("two PCA {} files: {} and {}".format(
                    match.group(1), found[match.group(1)], path))
            found[match.group(1)] = path
    for role in ("weight", "bias"):
        if role not in found:
            raise UserError("no {}_<n>.txt among the PCA inputs {}".format(role, " ".join(inputs)))
    return found


def _load_text_matrix(path):
    try:
        values = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except (ValueError, OSError) as err:
        raise UserError("{} is not a whitespace-separated table of numbers: {}".format(
            path, " ".join(str(err).split())[:200]))
    if not np.all(np.isfinite(values)):
        raise UserError("{} contains NaN or infinite values".format(path))
    return values


def _check_pca_shape(role, files, values, shape):
    if values.shape != shape:
        raise UserError("PCA {} {} holds {} values, expected {}".format(
            role, files[role], "x".join(str(n) for n in values.shape),
            "x".join(str(n) for n in shape)))


def convert_pca(inputs, output, log=print):
    files = _pca_files(inputs)
    weight = _load_text_matrix(files["weight"])
    bias = _load_text_matrix(files["bias"]).reshape(-1)
    size = models.ALIGN_OUTPUTS
    _check_pca_shape("weight", files, weight, (size, size))
    _check_pca_shape("bias", files, bias, (size,))
    log("read PCA weight {} and bias {}".format(files["weight"], files["bias"]))
    if "inverse_weight" in files and "inverse_bias" in files:
        inverse = _load_text_matrix(files["inverse_weight"])
        mean = _load_text_matrix(files["inverse_bias"]).reshape(-1)
        _check_pca_shape("inverse_weight", files, inverse, (size, size))
        _check_pca_shape("inverse_bias", files, mean, (size,))
        identity_error = np.abs(inverse.dot(weight) - np.eye(size)).max()
        bias_error = np.abs(bias + weight.dot(mean)).max() / max(np.abs(bias).max(), 1e-12)
        if identity_error > 1e-6 or bias_error > 1e-6:
            raise UserError("the PCA files do not belong together: |W_inv W - I| = {:.3g}, "
                            "|b + W mu| / |b| = {:.3g}".format(identity_error, bias_error))
        log("checked: W_inv W = I to {:.2g}, b = -W mu to {:.2g} (relative); the inverse "
            "files are not needed by training".format(identity_error, bias_error))
    params = collections.OrderedDict()
    # nnabla's affine computes x W + b with W (in, out): the transpose of
    # torch's Linear weight (out, in).
    params["affine/W"] = np.ascontiguousarray(weight.T.astype(np.float32))
    params["affine/b"] = bias.astype(np.float32)
    return _save_checked(output, params, "pca", log)


CONVERTERS = {"align": convert_align, "pca": convert_pca, "encoder": convert_encoder,
              "transformer": convert_transformer, "decoder": convert_decoder,
              "vgg16": convert_vgg16}


def convert(network, inputs, output, log=print):
    """Convert ``inputs`` of ``network`` to ``output``; returns the checked Network."""
    if network not in CONVERTERS:
        raise UserError("unknown network {}; choose from {}".format(network, ", ".join(NETWORKS)))
    if not output.endswith(".h5"):
        raise UserError("the output file must end in .h5, got {}".format(output))
    return CONVERTERS[network](list(inputs), output, log)


_VERIFY_KINDS = ("align", "pca", "encoder", "transformer", "transformer_D", "decoder",
                 "decoder_D", "vgg16", "any", "yaml")


def verify(kind, path, log=print):
    """Check an existing file against a network.

    ``any``: only that it is an nnabla parameter file; ``yaml``: that it is a
    YAML mapping (a ``training_info.yaml``).  Used by
    ``download_pretrained_weight.sh`` on what it downloads.
    """
    if kind not in _VERIFY_KINDS:
        raise UserError("unknown kind {}; choose from {}".format(kind, ", ".join(_VERIFY_KINDS)))
    if not os.path.isfile(path):
        raise UserError("file {} not found".format(path))
    if kind == "yaml":
        import yaml
        try:
            with open(path) as f:
                content = yaml.safe_load(f)
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            raise UserError("{} is not valid YAML: {}".format(path, " ".join(str(err).split())))
        if not isinstance(content, dict):
            raise UserError("{} is not a YAML mapping".format(path))
        log("{}: a YAML mapping with {} keys".format(path, len(content)))
        return None
    if kind == "any":
        private = collections.OrderedDict()
        with nn.parameter_scope("", private):
            load_parameters_checked(path, "")
            count = len(nn.get_parameters(grad_only=False))
        log("{}: a valid nnabla parameter file with {} parameters".format(path, count))
        return None
    import h5py
    if not h5py.is_hdf5(path):
        raise UserError("{} is not an nnabla parameter file (not HDF5)".format(path))
    network = verify_file(path, kind)
    log("{}: loads strictly into {} under scope '{}'".format(path, network.description,
                                                              network.scope))
    return network


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Convert the ReenactGAN authors' PyTorch weights to NNabla .h5 files "
                    "(no PyTorch needed; pickles are never executed).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    helps = {
        "align": "Align_40000.pth (the transformer's shape loss)",
        "pca": "the pca_init folder or its weight/bias(/inverse_*) _212.txt files",
        "encoder": "v8_net_boundary_detection.pth (stacked hourglass)",
        "transformer": "G_BA_<step>.pth (source -> target; or a D_* discriminator)",
        "decoder": "<epoch>_net_G.pth / <name>_net_decoder.pth (or <epoch>_net_D.pth)",
        "vgg16": "torchvision's VGG16 .pth (keeps conv1_1 ... conv3_3)",
    }
    for name in NETWORKS:
        command = commands.add_parser(name, help=helps[name])
        command.add_argument("inputs", nargs="+", metavar="INPUT")
        command.add_argument("-o", "--output", required=True, metavar="OUTPUT.h5")
    checker = commands.add_parser(
        "verify", help="check files: KIND FILE [KIND FILE ...], KIND one of {}".format(
            ", ".join(_VERIFY_KINDS)))
    checker.add_argument("pairs", nargs="+", metavar="KIND FILE")
    args = parser.parse_args(argv)
    if args.command == "verify":
        if len(args.pairs) % 2:
            raise UserError("verify takes pairs of KIND FILE")
        for kind, path in zip(args.pairs[::2], args.pairs[1::2]):
            verify(kind, path)
    else:
        convert(args.command, args.inputs, args.output)
    return 0


if __name__ == "__main__":
    run_main(main)
