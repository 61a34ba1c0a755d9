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
"""Measures of boundary heatmaps (faces: utils.image_metrics).

Boundary distance: each channel's boundary is reduced to its ridge (the
one-pixel centre line of the region above half the channel's peak), and the
distance between a predicted and a ground-truth ridge is the symmetric mean
of point-to-ridge distances, in heatmap pixels.  A channel whose prediction
has no ridge counts as ``max_distance`` (so an empty prediction is not free).
"""
import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

MIN_PEAK = 0.1         # below this a channel has no boundary at all
RIDGE_LEVEL = 0.5      # ridge region: values above this fraction of the peak
MAX_DISTANCE = 16.0    # cap (pixels of a 64 px map) for missing or far ridges


def boundary_ridge(heatmap, min_peak=MIN_PEAK, level=RIDGE_LEVEL):
    """Boolean one-pixel centre line of a (H, W) heatmap, or None if it is empty."""
    heatmap = np.asarray(heatmap, dtype=np.float64)
    peak = heatmap.max()
    if not np.isfinite(peak) or peak < min_peak:
        return None
    ridge = skeletonize(heatmap >= level * peak)
    return ridge if ridge.any() else None


def _mean_distance_to(points_mask, target_mask, max_distance):
    distance = ndimage.distance_transform_edt(~target_mask)
    return float(np.minimum(distance[points_mask], max_distance).mean())


def boundary_distance(predicted, target, max_distance=MAX_DISTANCE):
    """Mean symmetric ridge distance (pixels) over the channels of (C, H, W) maps.

    Channels whose target has no boundary are left out; returns NaN if none has one.
    """
    predicted = np.asarray(predicted)
    target = np.asarray(target)
    if predicted.shape != target.shape:
        raise ValueError("shapes differ: {} vs {}".format(predicted.shape, target.shape))
    distances = []
    for pred_map, true_map in zip(predicted, target):
        true_ridge = boundary_ridge(true_map)
        if true_ridge is None:
            continue
        pred_ridge = boundary_ridge(pred_map)
        if pred_ridge is None:
            distances.append(max_distance)
            continue
        forward = _mean_distance_to(pred_ridge, true_ridge, max_distance)
        backward = _mean_distance_to(true_ridge, pred_ridge, max_distance)
        distances.append(0.5 * (forward + backward))
    return float(np.mean(distances)) if distances else float("nan")


def batch_boundary_distance(predicted, target, max_distance=MAX_DISTANCE):
    """Per-sample boundary distances of (N, C, H, W) batches."""
    return np.array([boundary_distance(p, t, max_distance) for p, t in zip(predicted, target)])
