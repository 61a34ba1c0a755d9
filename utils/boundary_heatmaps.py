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
"""Boundary heatmaps: the 15 face boundary lines drawn, blurred and resized.

The recipe is the public NNabla port's (``get_bod_map``), so that heatmaps made
here are interchangeable with its caches and weights:

1. per channel, a zero uint8 canvas of the image size;
2. each segment drawn with ``cv2.line`` (value 255, thickness
   ``int(line_thickness / 256 * max(H, W))``, 8-connected, integer endpoints
   truncated towards zero as the port does);
3. ``cv2.GaussianBlur`` with ``gaussian_kernel`` and ``gaussian_sigma``;
4. ``cv2.resize`` (bilinear) to ``out_size``.

The result is uint8 (15, out_h, out_w); data loaders divide it by 255.
"""
import cv2
import numpy as np

from .face_layout import NUM_BOUNDARIES, NUM_LANDMARKS, boundary_segments


def _check_landmarks(landmarks):
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape != (NUM_LANDMARKS, 2):
        raise ValueError("expected landmarks of shape (98, 2), got {}".format(points.shape))
    if not np.all(np.isfinite(points)):
        raise ValueError("landmarks contain NaN or inf")
    return points


def draw_boundary_heatmaps(landmarks, image_shape, out_size=(64, 64), line_thickness=3,
                           gaussian_kernel=(5, 5), gaussian_sigma=3, port_compatible=False):
    """Render the 15 boundary heatmaps of a face.

    Args:
        landmarks: (98, 2) array of (x, y) in pixels of an image of ``image_shape``.
        image_shape: (H, W) of that image (only the size is used).
        out_size: (H, W) of the returned maps.
        port_compatible: reproduce the port's upper-lip gap (segment 79-80 missing).

    Returns:
        uint8 array (15, out_h, out_w).
    """
    points = _check_landmarks(landmarks).astype(np.int64)  # truncation, as the port
    height, width = int(image_shape[0]), int(image_shape[1])
    thickness = max(1, int(line_thickness / 256.0 * max(height, width)))
    kernel = tuple(int(k) for k in gaussian_kernel)
    out_h, out_w = int(out_size[0]), int(out_size[1])
    maps = np.empty((NUM_BOUNDARIES, out_h, out_w), dtype=np.uint8)
    canvas = np.empty((height, width), dtype=np.uint8)
    for channel, segments in enumerate(boundary_segments(port_compatible)):
        canvas[...] = 0
        for i, j in segments:
            cv2.line(canvas, (int(points[i, 0]), int(points[i, 1])),
                     (int(points[j, 0]), int(points[j, 1])), 255, thickness)
        blurred = cv2.GaussianBlur(canvas, kernel, gaussian_sigma)
        if (out_h, out_w) == (height, width):
            maps[channel] = blurred
        else:
            maps[channel] = cv2.resize(blurred, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    return maps


def heatmaps_to_image(heatmaps, size=None):
    """One grey RGB picture of all boundaries: the max over channels.

    Accepts uint8 maps (0-255) or float maps (0-1, values outside are clipped,
    as encoder outputs are unbounded).  Returns uint8 (H, W, 3), resized to
    ``size`` (H, W) when given.
    """
    maps = np.asarray(heatmaps)
    if maps.dtype == np.uint8:
        grey = maps.max(axis=0)
    else:
        grey = (np.clip(maps.max(axis=0), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if size is not None and tuple(grey.shape) != tuple(size):
        grey = cv2.resize(grey, (int(size[1]), int(size[0])), interpolation=cv2.INTER_LINEAR)
    return np.repeat(grey[:, :, None], 3, axis=2)


def draw_boundary_image(landmarks, image_shape, out_size=(64, 64), line_thickness=3,
                        gaussian_kernel=(5, 5), gaussian_sigma=3, port_compatible=False):
    """All 15 boundaries on one canvas, as uint8 (H, W, 3): for looking at, not training."""
    maps = draw_boundary_heatmaps(landmarks, image_shape, out_size, line_thickness,
                                  gaussian_kernel, gaussian_sigma, port_compatible)
    return heatmaps_to_image(maps)
