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
"""Square face crops from landmarks and a detection box, and horizontal flips.

The crop follows the public port's recipe (centre on the nose tip, half-extent
from the detection box, a margin, a square box, resize to 256) without its
quirks: the margin is a fixed, configurable number instead of one random draw
per process; the box is square in floating point, so the resize is isotropic;
any overshoot of the image border is filled by reflection however large it is;
landmarks stay floats; grayscale images are accepted.

Coordinates are pixel-centred: pixel ``i`` covers ``[i - 0.5, i + 0.5]``.
"""
import cv2
import numpy as np

from .face_layout import FLIP_CHANNEL_PERMUTATION, FLIP_PERMUTATION, NOSE_TIP

BORDER_MODES = {"reflect": cv2.BORDER_REFLECT_101, "constant": cv2.BORDER_CONSTANT,
                "replicate": cv2.BORDER_REPLICATE}


def square_face_box(landmarks, box, margin=0.1):
    """The square crop box (x0, y0, side) around a face.

    Args:
        landmarks: (98, 2) landmarks (x, y); the box is centred on the nose tip.
        box: detection rectangle (x_min, y_min, x_max, y_max).
        margin: relative enlargement of the half-extent (the port drew it
            from U(0, 0.15) once per process).
    """
    cx, cy = np.asarray(landmarks, dtype=np.float64)[NOSE_TIP]
    x_min, y_min, x_max, y_max = [float(v) for v in box]
    half_x = max(x_max - cx, cx - x_min)
    half_y = max(y_max - cy, cy - y_min)
    half = (1.0 + margin) * max(half_x, half_y, 1.0)
    return cx - half, cy - half, 2.0 * half


def crop_square(image, x0, y0, side, out_size=256, border="reflect"):
    """Crop the square [x0, x0+side] x [y0, y0+side] (pixel edges) to out_size.

    Returns the crop and the 2x3 affine matrix mapping source (x, y) to crop (x, y).
    """
    image = np.ascontiguousarray(image)
    scale = out_size / float(side)
    height, width = image.shape[:2]
    # Bilinear warping aliases when shrinking a lot; shrink the whole image
    # with area averaging first so that the warp scales by at least 1/2.
    pre_x = pre_y = 1.0
    source = image
    if scale < 0.5:
        new_w = max(1, int(round(width * scale * 2.0)))
        new_h = max(1, int(round(height * scale * 2.0)))
        source = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
        pre_x, pre_y = new_w / float(width), new_h / float(height)
    # crop = scale * (src - x0) - 0.5, with src = (pre + 0.5) / pre_x - 0.5
    matrix_pre = np.array([[scale / pre_x, 0.0, scale * (0.5 / pre_x - 0.5 - x0) - 0.5],
                           [0.0, scale / pre_y, scale * (0.5 / pre_y - 0.5 - y0) - 0.5]])
    crop = cv2.warpAffine(source, matrix_pre, (out_size, out_size), flags=cv2.INTER_LINEAR,
                          borderMode=BORDER_MODES[border])
    matrix = np.array([[scale, 0.0, -scale * x0 - 0.5], [0.0, scale, -scale * y0 - 0.5]])
    return crop, matrix


def transform_points(points, matrix):
    """Apply a 2x3 affine matrix to (N, 2) points."""
    points = np.asarray(points, dtype=np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def crop_face(image, landmarks, box, out_size=256, margin=0.1, border="reflect"):
    """Crop a face to a square ``out_size`` image.

    Args:
        image: (H, W, 3) or (H, W) uint8.
        landmarks: (98, 2) float landmarks in image pixels.
        box: detection rectangle (x_min, y_min, x_max, y_max).

    Returns:
        (crop, landmarks in crop pixels as float64 (98, 2)).
    """
    x0, y0, side = square_face_box(landmarks, box, margin)
    crop, matrix = crop_square(image, x0, y0, side, out_size, border)
    return crop, transform_points(landmarks, matrix)


def flip_landmarks(landmarks, width):
    """Mirror (98, 2) landmarks of an image ``width`` wide and swap left/right points."""
    points = np.asarray(landmarks, dtype=np.float64)
    mirrored = points.copy()
    mirrored[:, 0] = width - 1 - mirrored[:, 0]
    return mirrored[FLIP_PERMUTATION]


def flip_heatmaps(heatmaps):
    """Mirror (15, H, W) boundary heatmaps and swap the left/right channels."""
    return np.ascontiguousarray(np.asarray(heatmaps)[FLIP_CHANNEL_PERMUTATION, :, ::-1])


def flip_face(image=None, landmarks=None, heatmaps=None):
    """Horizontally flip any of an (H, W[, C]) image, its landmarks and heatmaps.

    Returns a tuple with the same entries (None where None was given).
    """
    flipped_image = None if image is None else np.ascontiguousarray(np.asarray(image)[:, ::-1])
    flipped_points = None
    if landmarks is not None:
        if image is None:
            raise ValueError("flipping landmarks needs the image (for its width)")
        flipped_points = flip_landmarks(landmarks, np.asarray(image).shape[1])
    flipped_maps = None if heatmaps is None else flip_heatmaps(heatmaps)
    return flipped_image, flipped_points, flipped_maps


def random_similarity(rng, size, max_shift, max_scale, max_rotate):
    """A random 2x3 similarity about the image centre, for augmentation.

    ``max_shift`` is in pixels, ``max_scale`` a relative zoom (0.03 = +-3 %),
    ``max_rotate`` in degrees; each is drawn uniformly in +-max.
    """
    centre = (size - 1) / 2.0
    angle = rng.uniform(-max_rotate, max_rotate)
    scale = 1.0 + rng.uniform(-max_scale, max_scale)
    matrix = cv2.getRotationMatrix2D((centre, centre), angle, scale)
    matrix[:, 2] += rng.uniform(-max_shift, max_shift, size=2)
    return matrix


def warp_image(image, matrix, size, border="constant", border_value=127):
    """Apply a 2x3 matrix to an (H, W[, C]) image, output ``size`` x ``size``.

    The authors' augmentation filled the border with grey 127.
    """
    return cv2.warpAffine(np.ascontiguousarray(image), matrix, (size, size),
                          flags=cv2.INTER_LINEAR, borderMode=BORDER_MODES[border],
                          borderValue=(border_value,) * 3)


def warp_heatmaps(heatmaps, matrix):
    """Apply a 2x3 matrix (in the heatmaps' pixel frame) to (C, H, W) maps."""
    maps = np.asarray(heatmaps)
    height, width = maps.shape[1:]
    warped = cv2.warpAffine(np.ascontiguousarray(maps.transpose(1, 2, 0)), matrix,
                            (width, height), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return warped.reshape(height, width, -1).transpose(2, 0, 1)


def scale_affine(matrix, factor):
    """The same transform in a frame scaled by ``factor`` (pixel-centre convention)."""
    # x_small = factor * (x + 0.5) - 0.5 maps the big frame to the small one.
    to_small = np.array([[factor, 0, 0.5 * factor - 0.5], [0, factor, 0.5 * factor - 0.5], [0, 0, 1]])
    full = np.vstack([matrix, [0, 0, 1]])
    return (to_small @ full @ np.linalg.inv(to_small))[:2]
