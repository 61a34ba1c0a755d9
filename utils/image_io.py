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
"""Read images and write images and videos in one well-defined format.

Every image enters the project as an ``HxWx3`` uint8 RGB array, whatever its
file held (grayscale, palette, alpha, CMYK, 16 bits, rotated by EXIF), and
every unreadable file raises :class:`CorruptImageError` so that data loaders
can skip it.  Writers go through :func:`~utils.atomic_files.atomic_path`.
"""
import contextlib
import os
import subprocess
import warnings

import imageio.v2 as imageio_v2
import imageio.v3 as imageio_v3
import numpy as np
from PIL import Image, ImageFile, ImageOps, ImageSequence

from .atomic_files import atomic_path
from .user_errors import CorruptSampleError, UserError

VIDEO_EXTENSIONS = (".mp4", ".gif")


class CorruptImageError(CorruptSampleError):
    """An image file exists but cannot be decoded completely."""

    def __init__(self, message):
        super().__init__(message, reason="corrupt image")


def _refuse_truncated_images():
    # Another library may have switched this on for its own reads; with it,
    # Pillow pads a truncated file with gray and we would train on that.
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        warnings.warn("PIL.ImageFile.LOAD_TRUNCATED_IMAGES was set to True by "
                      "another module; resetting it to False so truncated images "
                      "are reported as corrupt", RuntimeWarning, stacklevel=3)
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def _high_bit_depth_to_uint8(img):
    # 16-bit PNGs open as one-channel integer modes ("I;16", "I").
    values = np.asarray(img)
    if img.mode == "F":
        values = np.clip(values, 0, 255)
    else:
        values = np.clip(values.astype(np.float64) / 257.0, 0, 255)
    gray = np.rint(values).astype(np.uint8)
    return np.repeat(gray[:, :, None], 3, axis=2)


def _to_rgb_array(img):
    if img.mode.startswith("I") or img.mode == "F":
        return _high_bit_depth_to_uint8(img)
    if img.mode in ("P", "PA"):
        # Pillow asks palettes with transparency to go through RGBA.
        img = img.convert("RGBA")
    if img.mode != "RGB":
        # Alpha is dropped, not composited: the networks take 3 channels, and
        # blending onto an arbitrary background would invent colours the
        # photo never had.  Face photos are opaque in practice.
        img = img.convert("RGB")
    return np.array(img, dtype=np.uint8)


def read_rgb(path):
    """Decode an image file into an ``HxWx3`` uint8 RGB array (EXIF-rotated)."""
    if os.path.isdir(path):
        raise CorruptSampleError("{} is a folder, not an image file".format(path),
                                 reason="not an image file")
    if not os.path.isfile(path):
        raise CorruptSampleError("image {} not found".format(path), reason="missing image")
    _refuse_truncated_images()
    try:
        with Image.open(path) as img:
            # Image.open reads only the header; load() decodes every byte so
            # that a truncated file fails here and not later in a worker.
            img.load()
            img = ImageOps.exif_transpose(img)
            rgb = _to_rgb_array(img)
    except PermissionError as err:
        raise CorruptSampleError("cannot read image {}: {}".format(path, err.strerror),
                                 reason="unreadable image")
    except Exception as err:
        # Pillow signals bad data with many exception types (OSError,
        # SyntaxError, ValueError, struct.error, ...): all mean "corrupt".
        raise CorruptImageError("corrupt image {}: {}".format(
            path, " ".join(str(err).split()) or type(err).__name__))
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.size == 0:
        raise CorruptImageError("corrupt image {}: decoded shape {}".format(path, rgb.shape))
    return rgb


# The photo formats read_rgb reads (Pillow), for every folder of images.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".ppm", ".tif", ".tiff")


def list_images(folder):
    """The image files of ``folder``, by name; the other files are counted in a notice."""
    if not os.path.isdir(folder):
        raise UserError("{} is not a folder".format(folder))
    names = sorted(os.listdir(folder))
    images = [n for n in names if n.lower().endswith(IMAGE_EXTENSIONS)]
    if not images:
        raise UserError("no image ({}) in {}".format(", ".join(IMAGE_EXTENSIONS), folder))
    others = [n for n in names if n not in images and not n.startswith(".") and
              os.path.isfile(os.path.join(folder, n))]
    if others:
        shown = ", ".join(others[:3]) + (" and {} more".format(len(others) - 3)
                                         if len(others) > 3 else "")
        print("note: {} file(s) of {} are not images ({}) and are skipped: {}".format(
            len(others), folder, ", ".join(IMAGE_EXTENSIONS), shown))
    return images


def _check_rgb(array, what):
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError("{} must be an HxWx3 uint8 array, got {} {}".format(
            what, array.dtype, array.shape))
    return array


def to_network_image(rgb_uint8_hwc):
    """An HxWx3 uint8 picture as a network image, (3, H, W) float32 in [-1, 1]."""
    return rgb_uint8_hwc.transpose(2, 0, 1).astype(np.float32) / 127.5 - 1.0


def to_uint8_image(chw):
    """A network image, (3, H, W) in [-1, 1], as an HxWx3 uint8 picture."""
    return np.rint(np.clip((np.asarray(chw).transpose(1, 2, 0) + 1.0) * 127.5, 0, 255)
                   ).astype(np.uint8)


def write_image(path, rgb_uint8):
    """Write an ``HxWx3`` uint8 RGB array; the format follows the extension."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in Image.registered_extensions():
        raise UserError("cannot write image {}: unknown extension '{}'".format(path, ext))
    image = Image.fromarray(_check_rgb(rgb_uint8, "image"))
    options = {"quality": 95} if ext in (".jpg", ".jpeg") else {}
    with atomic_path(path) as tmp:
        image.save(tmp, **options)
    return path


def _pad_to_even(frame):
    # yuv420p stores colour at half resolution, so x264 needs even sizes.
    pad_h, pad_w = frame.shape[0] % 2, frame.shape[1] % 2
    if pad_h or pad_w:
        frame = np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return frame


def _checked_frames(frames, path):
    """Yield the frames, all the same size; at least one."""
    size = None
    for index, frame in enumerate(frames):
        frame = _check_rgb(frame, "frame {}".format(index))
        if size is None:
            size = frame.shape
        elif frame.shape != size:
            raise ValueError("{}: frame {} has shape {} but the first frame {}".format(
                path, index, frame.shape, size))
        yield frame
    if size is None:
        raise UserError("no frames to write to {}".format(path))


def _write_gif_with_ffmpeg(tmp, frames, fps, path):
    # Pillow merges identical consecutive GIF frames into one longer frame;
    # ffmpeg's GIF muxer writes every frame it is given.
    import imageio_ffmpeg
    checked = _checked_frames(frames, path)
    first = next(checked)
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
               "-f", "rawvideo", "-pix_fmt", "rgb24",
               "-s", "{}x{}".format(first.shape[1], first.shape[0]), "-r", str(fps), "-i", "-",
               "-filter_complex", "split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse",
               "-loop", "0", "-f", "gif", tmp]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        process.stdin.write(first.tobytes())
        for frame in checked:
            process.stdin.write(frame.tobytes())
    except BaseException:
        process.kill()
        process.wait()
        raise
    _, errors = process.communicate()
    if process.returncode != 0:
        raise UserError("ffmpeg could not write {}: {}".format(
            path, " ".join(errors.decode(errors="replace").split())))


def write_video(path, frames, fps=30, keep_repeated_frames=False):
    """Write ``HxWx3`` uint8 frames to ``.mp4`` (H.264) or ``.gif`` atomically.

    MP4 frames are streamed to ffmpeg one at a time; odd sizes are padded by
    one pixel.  A GIF loops forever and shows each frame ``1/fps`` seconds;
    Pillow writes it and merges identical consecutive frames, unless
    ``keep_repeated_frames`` asks for ffmpeg, which keeps every frame.
    """
    ext = os.path.splitext(path)[1].lower()
    if ext not in VIDEO_EXTENSIONS:
        raise UserError("cannot write video {}: extension must be one of {}".format(
            path, ", ".join(VIDEO_EXTENSIONS)))
    with atomic_path(path) as tmp:
        if ext == ".mp4":
            # macro_block_size=1: we pad to even sizes ourselves instead of
            # letting imageio resize every frame to a multiple of 16.
            writer = imageio_v2.get_writer(
                tmp, format="FFMPEG", mode="I", fps=fps, codec="libx264",
                pixelformat="yuv420p", macro_block_size=1, ffmpeg_log_level="error")
            try:
                for frame in _checked_frames(frames, path):
                    writer.append_data(_pad_to_even(frame))
            except BaseException:
                # imageio's context manager skips close() on errors, leaving
                # ffmpeg to write the file after we removed it: stop it now.
                with contextlib.suppress(Exception):
                    writer.close()
                raise
            writer.close()
        elif keep_repeated_frames:
            _write_gif_with_ffmpeg(tmp, frames, fps, path)
        else:
            with imageio_v3.imopen(tmp, "w", plugin="pillow") as writer:
                for frame in _checked_frames(frames, path):
                    writer.write(frame, is_batch=False, duration=1000.0 / fps, loop=0)
    return path


def _reader_error(err):
    """One readable line from a video reader's exception.

    imageio-ffmpeg appends ffmpeg's whole stderr (banner and build options,
    some 4 KB); its last line says what went wrong.
    """
    text = str(err)
    head, marker, tail = text.partition("=== stderr ===")
    if marker:
        lines = [line.strip() for line in tail.splitlines() if line.strip()]
        text = head.strip() + (" ({})".format(lines[-1]) if lines else "")
    return " ".join(text.split())


def _open_video_check(path):
    if not os.path.isfile(path):
        raise UserError("video {} not found".format(path))


def _gif_frames(path):
    with Image.open(path) as img:
        for frame in ImageSequence.Iterator(img):
            yield np.array(frame.convert("RGB"), dtype=np.uint8)


def _ffmpeg_frames(path):
    # The frames the file holds: by default ffmpeg resamples to a constant rate,
    # which repeats frames of a variable-rate (phone) video.
    with imageio_v2.get_reader(path, format="FFMPEG",
                               output_params=["-fps_mode", "passthrough"]) as reader:
        for frame in reader:
            yield np.asarray(frame, dtype=np.uint8)[:, :, :3]


def read_video_frames(path):
    """Return a generator of the ``HxWx3`` uint8 RGB frames of a video or GIF."""
    _open_video_check(path)
    is_gif = path.lower().endswith(".gif")

    def frames():
        try:
            yield from (_gif_frames(path) if is_gif else _ffmpeg_frames(path))
        except (OSError, ValueError, RuntimeError) as err:
            raise UserError("cannot read video {}: {}".format(path, _reader_error(err)))
    return frames()


def video_fps(path):
    """Frames per second of a video or GIF."""
    _open_video_check(path)
    try:
        if path.lower().endswith(".gif"):
            with Image.open(path) as img:
                duration_ms = img.info.get("duration") or 100
            return 1000.0 / duration_ms
        with imageio_v2.get_reader(path, format="FFMPEG") as reader:
            return float(reader.get_meta_data()["fps"])
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        raise UserError("cannot read video {}: {}".format(path, _reader_error(err)))
