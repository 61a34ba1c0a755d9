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
import io
import os

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFile

from utils.image_io import (CorruptImageError, read_rgb, read_video_frames, video_fps,
                            write_image, write_video)
from utils.user_errors import CorruptSampleError, UserError


def noise(height, width, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (height, width, 3), dtype=np.uint8)


def assert_rgb(array, height, width):
    assert array.dtype == np.uint8 and array.shape == (height, width, 3)


def test_grayscale_png(tmp_path):
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    Image.fromarray(gray, "L").save(tmp_path / "g.png")
    rgb = read_rgb(str(tmp_path / "g.png"))
    assert_rgb(rgb, 3, 4)
    for c in range(3):
        np.testing.assert_array_equal(rgb[:, :, c], gray)


def test_rgba_png_drops_alpha(tmp_path):
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = 10, 20, 30
    rgba[0, 0, 3] = 0  # transparent pixel keeps its colour
    rgba[1, 1, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    rgb = read_rgb(str(tmp_path / "a.png"))
    assert_rgb(rgb, 2, 3)
    assert (rgb == [10, 20, 30]).all()


def test_cmyk_jpeg(tmp_path):
    Image.new("CMYK", (16, 8), (0, 255, 255, 0)).save(tmp_path / "c.jpg", quality=95)
    rgb = read_rgb(str(tmp_path / "c.jpg"))
    assert_rgb(rgb, 8, 16)
    assert np.abs(rgb.astype(int) - [255, 0, 0]).max() <= 4


def test_palette_png_with_transparency(tmp_path):
    img = Image.new("P", (3, 2))
    img.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    img.putdata([0, 1, 2, 2, 1, 0])
    img.save(tmp_path / "p.png", transparency=1)
    rgb = read_rgb(str(tmp_path / "p.png"))
    assert_rgb(rgb, 2, 3)
    np.testing.assert_array_equal(rgb[0], [[255, 0, 0], [0, 255, 0], [0, 0, 255]])
    np.testing.assert_array_equal(rgb[1], [[0, 0, 255], [0, 255, 0], [255, 0, 0]])


def test_16bit_grayscale_png_is_scaled(tmp_path):
    values = np.array([[0, 257 * 100, 128 * 257, 65535]], np.uint16)
    Image.fromarray(values).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode.startswith("I")
    rgb = read_rgb(str(tmp_path / "g16.png"))
    assert_rgb(rgb, 1, 4)
    np.testing.assert_array_equal(rgb[0, :, 1], [0, 100, 128, 255])


def test_16bit_colour_png(tmp_path):
    bgr = np.zeros((2, 2, 3), np.uint16)
    bgr[..., 0], bgr[..., 1], bgr[..., 2] = 257 * 10, 257 * 200, 65535
    cv2.imwrite(str(tmp_path / "c16.png"), bgr)
    rgb = read_rgb(str(tmp_path / "c16.png"))
    assert_rgb(rgb, 2, 2)
    assert (rgb == [255, 200, 10]).all()


def test_one_bit_image(tmp_path):
    Image.new("1", (5, 4), 1).save(tmp_path / "b.png")
    assert (read_rgb(str(tmp_path / "b.png")) == 255).all()


def test_exif_orientation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(noise(4, 6)).save(tmp_path / "r.jpg", exif=exif)
    assert_rgb(read_rgb(str(tmp_path / "r.jpg")), 6, 4)


def truncated(tmp_path, name, fmt):
    buffer = io.BytesIO()
    Image.fromarray(noise(64, 64)).save(buffer, format=fmt)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return str(path)


@pytest.mark.parametrize("name, fmt", [("t.jpg", "JPEG"), ("t.png", "PNG")])
def test_truncated_images_are_corrupt(tmp_path, name, fmt):
    path = truncated(tmp_path, name, fmt)
    with pytest.raises(CorruptImageError) as err:
        read_rgb(path)
    assert err.value.reason == "corrupt image"
    assert path in str(err.value) and "\n" not in str(err.value)


def test_truncated_image_is_corrupt_even_if_pillow_was_told_otherwise(tmp_path, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    path = truncated(tmp_path, "t.jpg", "JPEG")
    with pytest.warns(RuntimeWarning, match="LOAD_TRUNCATED_IMAGES"):
        with pytest.raises(CorruptImageError):
            read_rgb(path)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("content", [b"", b"this is not an image"])
def test_empty_and_non_image_files_are_corrupt(tmp_path, content):
    path = tmp_path / "x.jpg"
    path.write_bytes(content)
    with pytest.raises(CorruptImageError, match="corrupt image .*x.jpg"):
        read_rgb(str(path))


def test_missing_image(tmp_path):
    with pytest.raises(CorruptSampleError) as err:
        read_rgb(str(tmp_path / "missing.png"))
    assert err.value.reason == "missing image"
    assert not isinstance(err.value, CorruptImageError)


def test_write_image_round_trip(tmp_path):
    image = noise(5, 7)
    write_image(str(tmp_path / "out.png"), image)
    np.testing.assert_array_equal(read_rgb(str(tmp_path / "out.png")), image)
    flat = np.full((16, 16, 3), 120, np.uint8)
    write_image(str(tmp_path / "out.jpg"), flat)
    assert np.abs(read_rgb(str(tmp_path / "out.jpg")).astype(int) - 120).max() <= 2
    with pytest.raises(UserError, match="unknown extension"):
        write_image(str(tmp_path / "out.xyz"), image)
    assert sorted(os.listdir(tmp_path)) == ["out.jpg", "out.png"]


def distinct_frames(count, height=33, width=50):
    for i in range(count):
        frame = np.zeros((height, width, 3), np.uint8)
        frame[:, : (i + 1) * width // (count + 1)] = 255
        frame[..., 1] = 40 * i
        yield frame


def test_write_mp4_streams_and_pads_to_even_size(tmp_path):
    path = str(tmp_path / "out.mp4")
    write_video(path, distinct_frames(5), fps=10)
    assert os.listdir(tmp_path) == ["out.mp4"]
    frames = list(read_video_frames(path))
    assert len(frames) == 5
    assert all(f.shape == (34, 50, 3) and f.dtype == np.uint8 for f in frames)
    assert video_fps(path) == pytest.approx(10.0)


def test_write_gif(tmp_path):
    path = str(tmp_path / "out.gif")
    write_video(path, distinct_frames(4), fps=10)
    assert os.listdir(tmp_path) == ["out.gif"]
    frames = list(read_video_frames(path))
    assert len(frames) == 4
    assert all(f.shape == (33, 50, 3) for f in frames)
    with Image.open(path) as img:
        assert img.info["loop"] == 0
        assert img.info["duration"] == 100
    assert video_fps(path) == pytest.approx(10.0)


@pytest.mark.parametrize("name", ["broken.mp4", "broken.gif"])
def test_failed_write_leaves_no_file(tmp_path, name):
    def frames():
        yield from distinct_frames(2)
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        write_video(str(tmp_path / name), frames())
    assert os.listdir(tmp_path) == []


def test_write_video_refuses_bad_input(tmp_path):
    with pytest.raises(UserError, match="extension must be one of .mp4, .gif"):
        write_video(str(tmp_path / "out.avi"), distinct_frames(2))
    with pytest.raises(UserError, match="no frames"):
        write_video(str(tmp_path / "out.mp4"), [])
    mixed = [noise(8, 8), noise(10, 8)]
    with pytest.raises(ValueError, match="frame 1 has shape"):
        write_video(str(tmp_path / "out.gif"), mixed)
    assert os.listdir(tmp_path) == []


def test_reading_bad_videos(tmp_path):
    with pytest.raises(UserError, match="not found"):
        read_video_frames(str(tmp_path / "missing.mp4"))
    with pytest.raises(UserError, match="not found"):
        video_fps(str(tmp_path / "missing.mp4"))
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    with pytest.raises(UserError, match="cannot read video"):
        list(read_video_frames(str(bad)))


def test_a_variable_rate_video_gives_the_frames_it_holds_once(tmp_path):
    # Frames 40 ms apart, then 200 ms apart: resampled to a constant rate, the
    # slow part would come out as repeated frames.
    import subprocess
    import imageio_ffmpeg
    path = str(tmp_path / "vfr.mp4")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi",
                    "-i", "testsrc=size=64x48:rate=10:duration=1", "-vf",
                    "setpts='if(lt(N,5),N*0.04,0.2+(N-5)*0.2)/TB'", "-fps_mode", "vfr",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", path], check=True)
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", path, "-f", "null", "-"],
                           capture_output=True, text=True).stderr
    coded = int(probe.rsplit("frame=", 1)[1].split()[0])
    frames = list(read_video_frames(path))
    assert len(frames) == coded
    for a, b in zip(frames, frames[1:]):
        assert np.abs(a.astype(int) - b.astype(int)).max() > 0  # no repeated frame


def test_list_images_reads_every_photo_format_and_counts_the_other_files(tmp_path, capsys):
    from utils.image_io import list_images
    for name in ("b.ppm", "a.tif", "c.JPG", "d.png", "notes.txt", ".hidden"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    assert list_images(str(tmp_path)) == ["a.tif", "b.ppm", "c.JPG", "d.png"]
    assert "1 file(s) of {} are not images".format(tmp_path) in capsys.readouterr().out
    with pytest.raises(UserError, match="no image"):
        list_images(str(tmp_path / "sub"))
