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
"""The VGG16 feature extractor of the decoder's perceptual (feature) loss.

The authors compare torchvision's ImageNet VGG16 features ``relu2_2`` and
``relu3_3`` of the generated and the real face.  Only the convolutions up to
``conv3_3`` are needed, so only those are converted
(``convert_weights.py vgg16``) and built here.
"""
from collections import OrderedDict

import nnabla as nn
import nnabla.functions as F
import nnabla.parametric_functions as PF
import numpy as np

VGG16_SCOPE = "vgg16"
# (layer name, torchvision ``features`` index) of every convolution kept.
VGG16_CONVS = (("conv1_1", 0), ("conv1_2", 2), ("conv2_1", 5), ("conv2_2", 7),
               ("conv3_1", 10), ("conv3_2", 12), ("conv3_3", 14))
VGG16_WIDTHS = (64, 64, 128, 128, 256, 256, 256)
# A 2x2 max pooling follows these convolutions.
_POOL_AFTER = ("conv1_2", "conv2_2")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_normalise(x):
    """[-1, 1] RGB -> ImageNet-normalised RGB, as the authors feed VGG16.

    They de-normalise to [0, 255], divide by 255 and subtract the mean /
    divide by the std per channel; the first two steps amount to (x + 1) / 2.
    """
    mean = nn.Variable.from_numpy_array(
        np.array(IMAGENET_MEAN, dtype=np.float32).reshape(1, 3, 1, 1), need_grad=False)
    std = nn.Variable.from_numpy_array(
        np.array(IMAGENET_STD, dtype=np.float32).reshape(1, 3, 1, 1), need_grad=False)
    return ((x + 1.0) * 0.5 - mean) / std


def vgg16_features(x, layers=("relu2_2", "relu3_3"), widths=VGG16_WIDTHS, fix_parameters=True):
    """VGG16 activations of RGB images.

    Contract:
        x: (N, 3, H, W) RGB images in [-1, 1] (the generator's output range),
            H and W multiples of 4.  They are converted inside to
            ImageNet-normalised RGB exactly as the authors do.
        layers: any of ``relu1_1`` ... ``relu3_3``; only the convolutions up to
            the deepest requested one are built.
        widths: output channels of the seven convolutions; the default is
            torchvision's VGG16 (tests pass smaller ones).
        fix_parameters: the loss network is frozen (``need_grad=False``).

    Returns:
        OrderedDict {layer: Variable} in the order of ``layers``; ``relu2_2`` is
        (N, 128, H/2, W/2) and ``relu3_3`` (N, 256, H/4, W/4).

    Parameters are ``conv1_1/conv/{W,b}`` ... ``conv3_3/conv/{W,b}`` under the
    current scope.  Build this inside ``nn.parameter_scope(VGG16_SCOPE)`` and
    load the file written by ``convert_weights.py vgg16`` into that scope, e.g.
    with ``utils.checkpoint.load_parameters_checked(path, VGG16_SCOPE)``.
    """
    names = [name for name, _ in VGG16_CONVS]
    wanted = []
    for layer in layers:
        if not layer.startswith("relu") or "conv" + layer[4:] not in names:
            raise ValueError("unknown VGG16 layer {!r}; choose from {}".format(
                layer, ", ".join("relu" + n[4:] for n in names)))
        wanted.append(layer)
    if len(widths) != len(names):
        raise ValueError("widths needs {} values, got {}".format(len(names), len(widths)))
    deepest = max(names.index("conv" + layer[4:]) for layer in wanted)
    found = {}
    h = imagenet_normalise(x)
    for index, (name, maps) in enumerate(zip(names[:deepest + 1], widths)):
        with nn.parameter_scope(name):
            h = PF.convolution(h, maps, (3, 3), pad=(1, 1), fix_parameters=fix_parameters)
        h = F.relu(h)
        found["relu" + name[4:]] = h
        if name in _POOL_AFTER and index < deepest:
            h = F.max_pooling(h, (2, 2))
    return OrderedDict((layer, found[layer]) for layer in wanted)
