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
"""Config keys that several training configs share.

Every run is named, placed, seeded and put on a device the same way.  The
boundary drawing must be the same for the encoder, the transformer and the
decoder, or the chain feeds each network maps unlike the ones it learned;
the augmentation keys mean the same in the three ReenactGAN training scripts.
"""
import time


def run_settings():
    """The keys every training config starts with."""
    return {
        "experiment_name": time.strftime("%Y%m%d%H%M"),
        "logdir": "tmp.monitor",
        "seed": 42,
        # The context to train on (cpu, cuda, cudnn; cudnn falls back to the CPU
        # without CUDA) and the GPU; --context and --device-id win over these.
        "context": "cudnn",
        "device_id": 0,
    }


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
