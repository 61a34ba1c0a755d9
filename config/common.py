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
"""Config sections the three ReenactGAN networks share.

The boundary drawing must be the same for the encoder, the transformer and the
decoder, or the chain feeds each network maps unlike the ones it learned;
the augmentation keys mean the same in the three training scripts.
"""


def boundary_preprocess(**extra):
    """The ``preprocess`` section: how boundary heatmaps are drawn (the port's values)."""
    return dict({
        "resize_size": [64, 64],
        "line_thickness": 3,
        "gaussian_kernel": [5, 5],
        "gaussian_sigma": 3.0,
        "port_compatible_boundaries": False,
    }, **extra)


def augmentation():
    """``train`` keys: shift / scale / rotation / flip of the image and the landmarks
    (heatmaps are redrawn, so flips swap left and right); off by default."""
    return {
        "augmentation": False,
        "shift": 10.0 / 256,
        "scale": 0.03,
        "rotate": 5.0,
        "flip": True,
    }
