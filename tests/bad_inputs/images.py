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
"""Bad and unusual image files, made from a good picture.

Each function reads ``source`` (any image Pillow opens) and writes ``target``;
the target may be the source itself, to damage a data set in place.
"""
import os

import numpy as np
from PIL import Image


def truncated_jpeg(source, target, keep=0.4):
    """The first ``keep`` fraction of a JPEG: a download that stopped half-way."""
    with open(source, "rb") as f:
        data = f.read()
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("{} is not a JPEG".format(source))
    with open(target, "wb") as f:
        f.write(data[:max(64, int(len(data) * keep))])
    return target


def zero_byte_file(target):
    """An empty file where an image (or any other file) should be."""
    open(target, "wb").close()
    return target


def _save(image, target, **options):
    # Pillow picks the encoder from the name; write to a temporary name first
    # so that ``target`` may be the source being converted.
    stem, ext = os.path.splitext(target)
    tmp = stem + ".converting" + ext
    image.save(tmp, **options)
    os.replace(tmp, target)
    return target


def grayscale_jpeg(source, target):
    """A one-channel (mode L) JPEG of the picture."""
    with Image.open(source) as image:
        return _save(image.convert("L"), target, format="JPEG", quality=95)


def cmyk_jpeg(source, target):
    """A four-channel CMYK JPEG of the picture, as print workflows save them."""
    with Image.open(source) as image:
        return _save(image.convert("CMYK"), target, format="JPEG", quality=95)


def rgba_png(source, target, alpha=128):
    """A PNG with an alpha channel (half transparent), whatever ``target``'s extension."""
    with Image.open(source) as image:
        rgba = image.convert("RGBA")
    rgba.putalpha(alpha)
    # format= makes it a PNG even under a ".jpg" name: data sets that name
    # every file "<id>.jpg" still receive PNGs in practice.
    return _save(rgba, target, format="PNG")


def no_face_photo(target, size=256):
    """A smooth colour gradient: a valid photo in which no detector finds a face."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / max(size - 1, 1)
    rgb = np.stack([200 * x + 30, 180 * y + 40, 120 + 60 * x * y], axis=2)
    return _save(Image.fromarray(np.rint(rgb).astype(np.uint8)), target, quality=95)
