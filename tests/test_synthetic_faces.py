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
"""utils.synthetic_faces: the face model, the renderer and the data set writers."""
import json
import os
import pickle
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from utils import synthetic_faces as sf
from utils.boundary_heatmaps import draw_boundary_heatmaps

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NEUTRAL = np.zeros(sf.NUM_AUS)
FRONTAL = np.array([0.0, 0.0, 1.0, 0.0, 0.0])


def au_vector(**intensities):
    aus = np.zeros(sf.NUM_AUS)
    for name, value in intensities.items():
        aus[sf.AU_INDEX[name]] = value
    return aus


def all_files(root):
    found = {}
    for folder, _, names in os.walk(str(root)):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, str(root))] = f.read()
    return found


def read_rgb(path):
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """Every writer run twice with one seed and once with another."""
    roots = {}
    for label, seed in (("first", 5), ("again", 5), ("other", 6)):
        root = tmp_path_factory.mktemp(label)
        sf.write_celebv(str(root / "CelebV"), ["Person_A", "Person B"], 5, seed=seed)
        sf.write_wflw(str(root / "WFLW"), 4, 2, seed=seed)
        sf.write_ganimation(str(root / "celebA"), 8, 0.25, seed=seed, num_identities=4)
        roots[label] = root
    return roots


# --- writers ----------------------------------------------------------------------------

def test_same_seed_gives_byte_identical_files(datasets):
    first, again = all_files(datasets["first"]), all_files(datasets["again"])
    assert sorted(first) == sorted(again)
    assert len(first) > 40
    for name in first:
        assert first[name] == again[name], name
    assert not [name for name in first if os.path.basename(name).startswith(".tmp")]


def test_other_seed_gives_other_images(datasets):
    first, other = all_files(datasets["first"]), all_files(datasets["other"])
    images = [name for name in first if name.endswith(".jpg")]
    assert len(images) == 2 * 5 + 6 + 8
    changed = [name for name in images if other.get(name) != first[name]]
    assert len(changed) >= len(images) - 1


def test_celebv_layout_and_lines(datasets):
    root = datasets["first"] / "CelebV"
    meta = json.loads((root / "synthetic_faces.json").read_text())
    assert meta["persons"] == ["Person_A", "Person B"] and meta["frames"] == 5
    for person in ("Person_A", "Person B"):
        folder = root / person
        lines = (folder / "all_98pt.txt").read_bytes().decode().split("\n")
        assert lines[-1] == "" and len(lines) == 6
        params = np.load(str(folder / "frame_params.npz"))
        assert params["aus"].shape == (5, 17) and params["aus"].dtype == np.float32
        assert params["poses"].shape == (5, 5) and params["poses"].dtype == np.float32
        for k, line in enumerate(lines[:-1]):
            tokens = line.split(" ")
            assert len(tokens) == 197
            assert tokens[-1] == "{:06d}.jpg".format(k) == params["names"][k]
            image = read_rgb(folder / "Image" / tokens[-1])
            assert image.shape == (256, 256, 3)
            landmarks = np.array(tokens[:-1], dtype=np.float64).reshape(98, 2)
            expected = sf.face_landmarks(sf.FaceIdentity.from_dict(json.loads(
                (folder / "identity.json").read_text())), params["aus"][k], params["poses"][k])
            assert np.abs(landmarks - expected).max() <= 0.0005 + 1e-9
            assert tokens[0] == "{:.3f}".format(expected[0, 0])


def test_wflw_layout_and_lines(datasets):
    root = datasets["first"] / "WFLW"
    folder = root / "WFLW_annotations" / "list_98pt_rect_attr_train_test"
    for split, count in (("train", 4), ("test", 2)):
        text = (folder / "list_98pt_rect_attr_{}.txt".format(split)).read_text()
        lines = text.split("\n")
        assert lines[-1] == "" and len(lines) == count + 1
        for line in lines[:-1]:
            tokens = line.split(" ")
            assert len(tokens) == 207
            landmarks = np.array(tokens[:196], dtype=np.float64).reshape(98, 2)
            box = np.array(tokens[196:200], dtype=np.int64)
            attributes = [int(t) for t in tokens[200:206]]
            assert set(attributes) <= {0, 1}
            image = read_rgb(root / "WFLW_images" / tokens[206])
            height, width = image.shape[:2]
            assert 320 <= width <= 560 and 0.74 <= width / height <= 1.34
            inside = (landmarks[:, 0] >= 0) & (landmarks[:, 0] < width) & \
                (landmarks[:, 1] >= 0) & (landmarks[:, 1] < height)
            assert inside.mean() > 0.8
            in_box = (landmarks[:, 0] >= box[0] - 2) & (landmarks[:, 0] <= box[2] + 2) & \
                (landmarks[:, 1] >= box[1] - 2) & (landmarks[:, 1] <= box[3] + 2)
            assert in_box[inside].mean() > 0.8
            face_width = landmarks[:, 0].max() - landmarks[:, 0].min()
            assert 0.2 * width < face_width < 0.65 * width


def test_ganimation_layout(datasets):
    root = datasets["first"] / "celebA"
    with open(str(root / "aus_openface.pkl"), "rb") as f:
        table = pickle.load(f, encoding="latin1")
    assert isinstance(table, dict) and len(table) == 8
    for key, aus in table.items():
        assert isinstance(key, str) and not key.endswith(".jpg")
        assert aus.dtype == np.float64 and aus.shape == (17,)
        assert aus.min() >= 0 and aus.max() <= 5
        assert np.array_equal(aus, np.round(aus, 2))
    train = (root / "train_ids.csv").read_text()
    test = (root / "test_ids.csv").read_text()
    assert train.endswith(".jpg\n") and test.endswith(".jpg\n")
    names = train.split() + test.split()
    assert len(names) == 8 and len(set(names)) == 8 and len(test.split()) == 2
    for name in names:
        image = read_rgb(root / "imgs" / name)
        assert image.shape == (128, 128, 3)
        assert name[:-4] in table
    truth = np.load(str(root / "ground_truth.npz"))
    assert np.array_equal(truth["aus"], np.stack([table[i] for i in truth["ids"]]))
    assert len(set(truth["identity"].tolist())) > 1

    lines = (root / "openface" / "000003.csv").read_text().split("\n")
    header = lines[0].split(", ")
    assert len(header) == 37 and header[:2] == ["face", "confidence"]
    assert header[2:19] == [name + "_r" for name in sf.AU_NAMES]
    assert header[19:] == [name + "_c" for name in (
        "AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12", "AU14",
        "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU28", "AU45")]
    row = lines[1].split(", ")
    assert len(row) == 37 and row[:2] == ["0", "0.98"] and lines[2] == ""
    assert np.allclose(np.array(row[2:19], dtype=float), table["000003"])
    assert set(row[19:]) <= {"0", "1"}


def test_persons_share_expressions_but_not_looks(datasets):
    root = datasets["first"] / "CelebV"
    a, b = root / "Person_A", root / "Person B"
    params_a, params_b = np.load(str(a / "frame_params.npz")), np.load(str(b / "frame_params.npz"))
    assert np.array_equal(params_a["aus"], params_b["aus"])
    assert np.array_equal(params_a["poses"], params_b["poses"])
    assert (a / "identity.json").read_text() != (b / "identity.json").read_text()
    for k in range(5):
        name = "{:06d}.jpg".format(k)
        difference = np.abs(read_rgb(a / "Image" / name).astype(int) -
                             read_rgb(b / "Image" / name).astype(int))
        assert difference.mean() > 15
        marks_a, marks_b = params_a["landmarks"][k], params_b["landmarks"][k]
        opening_a = np.linalg.norm(marks_a[94] - marks_a[90])
        opening_b = np.linalg.norm(marks_b[94] - marks_b[90])
        assert opening_a == pytest.approx(opening_b, abs=1e-3)


def test_person_statistics_on_known_shapes():
    base = sf.face_landmarks(sf.FaceIdentity(), NEUTRAL)
    still = np.stack([base] * 4)
    moved = still + np.array([12.0, 16.0])  # 20 px at 256 = 5 px at 64
    stats = sf.person_statistics(np.stack([still, moved]))
    assert stats["between_persons_px"] == pytest.approx(5.0)
    assert stats["within_person_px"] == pytest.approx(0.0)
    # Two frames 8 px apart at 256: each is 1 px (at 64) from their mean.
    swaying = np.stack([base - [4.0, 0.0], base + [4.0, 0.0]])
    assert sf.person_statistics(swaying[None])["within_person_px"] == pytest.approx(1.0)


def test_contrasting_identities_sit_at_opposite_ends():
    people = sf.sample_contrasting_identities(np.random.default_rng(7), 3)
    for name, (low, high) in sf._PERSON_SHAPE_RANGES.items():
        values = [getattr(p, name) for p in people]
        if name == "eye_spacing":
            continue  # clipped so that the eyes fit the face
        assert abs(values[0] - values[1]) >= 0.8 * (high - low), name
        assert all(low <= v <= high for v in values), name


def test_celebv_persons_differ_like_people_and_frames_move(tmp_path):
    """The demo's data: two persons in one frame >= 2 px apart, frames >= 2 px from the mean."""
    summary = sf.write_celebv(str(tmp_path), ["A", "B", "C"], 60, seed=0, pose_amount=1.2)
    assert summary["between_persons_px"] >= 2.0
    assert summary["within_person_px"] >= 2.0
    aus = np.load(str(tmp_path / "A" / "frame_params.npz"))["aus"]
    opening = aus[:, sf.AU_INDEX["AU26"]]
    assert opening.max() >= 3.5  # wide mouth openings
    assert (aus[:, sf.AU_INDEX["AU45"]] >= 4.5).any()  # blinks
    # The old, quiet sequences of the same length stay close to their mean.
    quiet = sf.expression_sequence(sf._child_rng(0, 1), 60, 0.35, lively=False)[0]
    assert np.abs(np.diff(aus, axis=0)).mean() > np.abs(np.diff(quiet, axis=0)).mean()


def test_ganimation_truth_renders_the_data_set_faces_and_their_edits(datasets, tmp_path):
    root = datasets["first"] / "celebA"
    truth = sf.GanimationTruth(str(root))
    table = pickle.load(open(str(root / "aus_openface.pkl"), "rb"), encoding="latin1")
    from skimage.metrics import peak_signal_noise_ratio as psnr
    for sample_id in ("000000", "000005"):
        picture = read_rgb(root / "imgs" / (sample_id + ".jpg"))
        own = truth.render(sample_id, table[sample_id])
        # The same face: only the JPEG compression differs.
        assert psnr(picture, own) > 33
        smiling = truth.render(sample_id, au_vector(AU06=5, AU12=5, AU25=5, AU26=5))
        assert psnr(picture, smiling) < psnr(picture, own) - 6
    with pytest.raises(sf.UserError):
        sf.GanimationTruth(str(tmp_path))


def test_write_openface_csv_rejects_wrong_length(tmp_path):
    with pytest.raises(ValueError):
        sf.write_openface_csv(str(tmp_path / "x.csv"), np.zeros(16))


def test_bad_person_name_is_a_user_error(tmp_path):
    with pytest.raises(sf.UserError):
        sf.write_celebv(str(tmp_path), ["a/b"], 2, seed=0)


# --- the face model ---------------------------------------------------------------------

IDENTITY = sf.FaceIdentity()


def moved(aus):
    before = sf.face_landmarks(IDENTITY, NEUTRAL, FRONTAL)
    after = sf.face_landmarks(IDENTITY, aus, FRONTAL)
    return before, after


def mouth_width(points):
    return points[82, 0] - points[76, 0]


def lip_thickness(points):
    return (points[90, 1] - points[79, 1]) + (points[85, 1] - points[94, 1])


# AU -> check(before, after) of its landmark effect at intensity 5 (pixels of a 256 frame).
AU_EFFECTS = {
    "AU01": lambda b, a: np.all(a[[37, 38, 42, 50], 1] < b[[37, 38, 42, 50], 1] - 4),
    "AU02": lambda b, a: np.all(a[[33, 41, 46, 47], 1] < b[[33, 41, 46, 47], 1] - 4),
    "AU04": lambda b, a: (a[33:51, 1].mean() > b[33:51, 1].mean() + 3 and
                          a[42, 0] - a[37, 0] < b[42, 0] - b[37, 0] - 4),
    "AU05": lambda b, a: np.all(a[[62, 70], 1] < b[[62, 70], 1] - 2),
    "AU06": lambda b, a: np.all(a[[66, 74], 1] < b[[66, 74], 1] - 1.5),
    "AU07": lambda b, a: np.all(a[[66, 74], 1] < b[[66, 74], 1] - 1.5),
    "AU09": lambda b, a: a[57, 1] < b[57, 1] - 3 and a[79, 1] < b[79, 1] - 0.8,
    "AU10": lambda b, a: a[79, 1] < b[79, 1] - 3 and a[90, 1] < b[90, 1] - 3,
    "AU12": lambda b, a: (np.all(a[[76, 82], 1] < b[[76, 82], 1] - 6) and
                          mouth_width(a) > mouth_width(b) + 4),
    "AU14": lambda b, a: mouth_width(a) < mouth_width(b) - 2,
    "AU15": lambda b, a: np.all(a[[76, 82], 1] > b[[76, 82], 1] + 5),
    "AU17": lambda b, a: a[16, 1] < b[16, 1] - 2 and a[85, 1] < b[85, 1] - 1,
    "AU20": lambda b, a: (mouth_width(a) > mouth_width(b) + 6 and
                          lip_thickness(a) < lip_thickness(b) - 1.5),
    "AU23": lambda b, a: lip_thickness(a) < lip_thickness(b) - 3,
    "AU25": lambda b, a: (a[94, 1] - a[90, 1]) > (b[94, 1] - b[90, 1]) + 3,
    "AU26": lambda b, a: (a[16, 1] > b[16, 1] + 10 and a[85, 1] > b[85, 1] + 10 and
                          a[94, 1] > b[94, 1] + 10),
    "AU45": lambda b, a: (np.abs(a[[61, 62, 63], :] - a[[67, 66, 65], :]).max() < 1e-9 and
                          np.abs(a[[69, 70, 71], :] - a[[75, 74, 73], :]).max() < 1e-9 and
                          np.array_equal(a[96:98], b[96:98])),
}


@pytest.mark.parametrize("name", sf.AU_NAMES)
def test_each_au_moves_its_landmarks(name):
    before, after = moved(au_vector(**{name: 5.0}))
    assert np.abs(after - before).max() > 1.5
    assert AU_EFFECTS[name](before, after)


def test_neutral_face_is_centred_and_sized_like_celebv():
    for seed in range(10):
        identity = sf.sample_identity(np.random.default_rng(seed))
        points = sf.face_landmarks(identity, NEUTRAL, FRONTAL, size=256)
        width = points[:, 0].max() - points[:, 0].min()
        assert 0.55 * 256 < width < 0.75 * 256
        assert abs(points[:, 0].mean() - 128) < 10 and 100 < points[54, 1] < 156


def test_landmarks_stay_consistent_under_random_expressions():
    rng = np.random.default_rng(0)
    for _ in range(200):
        identity = sf.sample_identity(rng)
        aus = rng.uniform(0, 5, sf.NUM_AUS) * (rng.random(sf.NUM_AUS) < 0.5)
        p = sf.face_landmarks(identity, aus, FRONTAL)
        outer = p[76:88].astype(np.float32).reshape(-1, 1, 2)
        for k in (89, 90, 91, 93, 94, 95):
            assert cv2.pointPolygonTest(outer, tuple(float(v) for v in p[k]), True) > -0.01
        assert np.all(p[[88, 92], 0] > p[76, 0]) and np.all(p[[88, 92], 0] < p[82, 0])
        assert np.all(p[[61, 62, 63, 69, 70, 71], 1] <= p[[67, 66, 65, 75, 74, 73], 1] + 1e-9)
        assert np.all(p[[89, 90, 91], 1] <= p[[95, 94, 93], 1] + 1e-9)
        assert p[33:51, 1].max() < p[60:76, 1].min()
        assert p[55:60, 1].max() < p[77:82, 1].min()
        assert p[85, 1] < p[16, 1] and np.all(np.diff(p[0:17, 1]) > 0)
        assert np.all(np.diff(p[33:38, 0]) > 0) and np.all(np.diff(p[42:47, 0]) > 0)


def test_flip_symmetry_of_a_frontal_face():
    from utils.face_layout import FLIP_PERMUTATION
    p = sf.face_landmarks(IDENTITY, au_vector(AU12=3, AU26=2), FRONTAL)
    mirrored = p[FLIP_PERMUTATION].copy()
    mirrored[:, 0] = 2 * 128 - mirrored[:, 0]
    assert np.abs(mirrored - p).max() < 1e-6


def test_identity_round_trips_through_json():
    identity = sf.sample_identity(np.random.RandomState(3))
    again = sf.FaceIdentity.from_dict(json.loads(json.dumps(identity.to_dict())))
    assert again == identity
    with pytest.raises(ValueError):
        sf.FaceIdentity.from_dict(dict(identity.to_dict(), extra=1))


def test_distinct_identities_differ():
    people = sf.sample_distinct_identities(np.random.default_rng(1), 3)
    for i in range(3):
        for j in range(i):
            shape_i, colors_i = sf._identity_signature(people[i])
            shape_j, colors_j = sf._identity_signature(people[j])
            assert np.linalg.norm(shape_i - shape_j) > 1.3
            assert np.linalg.norm(colors_i - colors_j) > 90


def test_expression_sequence_is_smooth_sparse_and_in_range():
    aus, poses = sf.expression_sequence(np.random.default_rng(2), 500)
    assert aus.shape == (500, 17) and poses.shape == (500, 5)
    assert aus.min() >= 0 and aus.max() <= 5
    without_blinks = np.delete(aus, sf.AU_INDEX["AU45"], axis=1)
    assert np.abs(np.diff(without_blinks, axis=0)).max() < 1.5
    assert (aus > 1.0).mean() < 0.35
    assert (aus[:, sf.AU_INDEX["AU45"]] >= 4.5).any()
    assert np.abs(poses[:, 0]).max() < 15 and np.abs(np.diff(poses[:, 0])).max() < 2


# --- the renderer -----------------------------------------------------------------------

def rendered_faces():
    people = sf.sample_distinct_identities(np.random.default_rng(4), 3)
    expressions = [NEUTRAL, au_vector(AU06=3, AU12=5, AU25=3, AU26=3),
                   au_vector(AU04=4, AU45=5, AU23=3)]
    poses = [FRONTAL, np.array([10.0, 0.4, 1.05, 5, -4]), np.array([-6.0, -0.3, 0.95, 0, 0])]
    for identity, aus, pose in zip(people, expressions, poses):
        points = sf.face_landmarks(identity, aus, pose)
        yield identity, points, sf.render_face(identity, points, rng=1)


def test_boundaries_lie_on_drawn_edges():
    for identity, points, image in rendered_faces():
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        gradient = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
        maps = draw_boundary_heatmaps(points, (256, 256), out_size=(256, 256))
        on_boundary = maps.max(axis=0) > 128
        inside = np.zeros((256, 256), np.uint8)
        cv2.fillPoly(inside, [np.round(points[0:33]).astype(np.int32)], 1)
        skin = (inside > 0) & (maps.max(axis=0) == 0)
        assert skin.sum() > 2000
        assert gradient[on_boundary].mean() > 2.0 * gradient[skin].mean()
        for channel in range(15):  # every single boundary is an edge, not just on average
            band = maps[channel] > 128
            assert gradient[band].mean() > 1.5 * gradient[skin].mean(), channel


def test_lip_boundaries_on_lips_and_lid_boundaries_on_lids():
    luma = np.array([0.299, 0.587, 0.114])
    for identity, points, image in rendered_faces():
        maps = draw_boundary_heatmaps(points, (256, 256), out_size=(256, 256))
        inside = np.zeros((256, 256), np.uint8)
        cv2.fillPoly(inside, [np.round(points[0:33]).astype(np.int32)], 1)
        skin_mask = (inside > 0) & (maps.max(axis=0) == 0)
        skin = np.median(image[skin_mask].astype(float), axis=0)
        lips = np.asarray(identity.lip_color, dtype=float)
        pixels = image.reshape(-1, 3).astype(float)
        # Lip colour, or the dark lip line / mouth opening between the lips.
        lip_like = (np.linalg.norm(pixels - lips, axis=1) < np.linalg.norm(pixels - skin, axis=1)) \
            | (pixels @ luma < 0.6 * (skin @ luma))
        lip_like = lip_like.reshape(256, 256)
        assert lip_like[skin_mask].mean() < 0.05
        # Heatmaps truncate landmarks to whole pixels, so allow 2 px of slack.
        near_lips = cv2.dilate(lip_like.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        for channel in (11, 12, 13, 14):
            assert near_lips[maps[channel] > 128].mean() > 0.8, channel
        for channel in (7, 8, 9, 10):
            band = image[maps[channel] > 128].astype(float) @ luma
            # Dark lid lines (and the white sclera) make the band differ from skin.
            assert np.abs(band - skin @ luma).mean() > 25, channel


def test_render_anywhere_on_any_canvas_and_rng():
    identity = sf.sample_identity(np.random.RandomState(0))
    points = sf.face_landmarks(identity, NEUTRAL, np.array([20.0, 0.5, 0.5, 0, 0]))
    points = points + np.array([300.0, -60.0])  # partly above a wide canvas
    image = sf.render_face(identity, points, (200, 480), rng=np.random.RandomState(1))
    assert image.shape == (200, 480, 3) and image.dtype == np.uint8
    assert np.array_equal(image, sf.render_face(identity, points, (200, 480),
                                                rng=np.random.RandomState(1)))
    assert np.array_equal(sf.render_face(identity, points, (200, 480)),
                          sf.render_face(identity, points, (200, 480)))
    background = np.full((200, 480, 3), 40, np.uint8)
    on_background = sf.render_face(identity, points, (200, 480), rng=0, background=background)
    assert abs(float(on_background[:, :60].mean()) - 40) < 2


def test_render_speed(capsys):
    identity = sf.sample_identity(np.random.default_rng(0))
    points = sf.face_landmarks(identity, au_vector(AU12=3), FRONTAL)
    sf.render_face(identity, points)
    start = time.perf_counter()
    for k in range(20):
        sf.render_face(identity, points, rng=k)
    milliseconds = (time.perf_counter() - start) / 20 * 1000
    with capsys.disabled():
        print("\nrender_face 256x256: {:.1f} ms".format(milliseconds))


# --- command line -----------------------------------------------------------------------

def test_command_line_writes_all_three(tmp_path):
    out = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "-m", "utils.synthetic_faces", "--out-dir", str(out),
         "--celebv-persons", "X", "Y", "--celebv-frames", "2", "--wflw-train", "1",
         "--wflw-test", "1", "--ganimation-images", "3", "--seed", "1"],
        cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().split("\n")
    assert len(lines) == 4
    assert "between two persons in the same frame" in lines[1]
    assert (out / "CelebV" / "Y" / "Image" / "000001.jpg").exists()
    assert (out / "WFLW" / "WFLW_images").is_dir()
    assert (out / "celebA" / "aus_openface.pkl").exists()


def test_command_line_as_script_reports_unwritable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = subprocess.run(
        [sys.executable, os.path.join("utils", "synthetic_faces.py"), "--out-dir",
         str(blocker / "sub"), "--only", "wflw"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().split("\n")) == 1
