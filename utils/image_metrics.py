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
"""PSNR and SSIM of generated faces, for both models' evaluations."""
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def _to_hwc01(image):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
        image = image.transpose(1, 2, 0)
    return image


def psnr(generated, reference):
    """PSNR (dB) of images in [0, 1] (CHW or HWC)."""
    return float(peak_signal_noise_ratio(_to_hwc01(reference), _to_hwc01(generated),
                                         data_range=1.0))


def ssim(generated, reference):
    """SSIM of RGB images in [0, 1] (CHW or HWC)."""
    return float(structural_similarity(_to_hwc01(reference), _to_hwc01(generated),
                                       data_range=1.0, channel_axis=-1))


def network_image_scores(generated, reference):
    """PSNR and SSIM of two network images, (3, H, W) in [-1, 1]."""
    a, b = (np.clip((np.asarray(x) + 1.0) / 2.0, 0.0, 1.0) for x in (generated, reference))
    return psnr(a, b), ssim(a, b)
