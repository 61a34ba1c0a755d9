"""preprocess.py and split_celebv.sh on synthetic CelebV and WFLW trees."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import preprocess
from tests.conftest import REPO_ROOT
from utils import synthetic_faces
from utils.boundary_heatmaps import draw_boundary_heatmaps
from utils.face_crop import crop_face
from utils.image_io import read_rgb
from utils.landmark_files import parse_wflw_line, read_celebv_annotations

PERSONS = ["Person_A", "Somebody Else"]  # any folder name works, even with a space


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("datasets")
    synthetic_faces.write_celebv(str(root / "CelebV"), PERSONS, 6, seed=1)
    synthetic_faces.write_wflw(str(root / "WFLW"), 5, 3, seed=2)
    return root


def copy_tree(data_root, tmp_path):
    target = tmp_path / "data"
    shutil.copytree(str(data_root), str(target))
    return target


def run_script(args, cwd=REPO_ROOT):
    return subprocess.run([sys.executable] + args, cwd=cwd, capture_output=True, text=True)


def test_celebv_caches_keys_shapes_dtypes_values(data_root, tmp_path):
    out = tmp_path / "out"
    preprocess.main(["--dataset", "CelebV", "--src-dir", str(data_root), "--out-dir", str(out)])
    for person in PERSONS:
        folder = data_root / "CelebV" / person
        entries, bad = read_celebv_annotations(str(folder / "all_98pt.txt"))
        assert not bad and len(entries) == 6
        images = np.load(str(out / (person + "_image.npz")))
        heatmaps = np.load(str(out / (person + "_heatmap.npz")))
        resized = np.load(str(out / (person + "_resized_heatmap.npz")))
        names = [name for name, _ in entries]
        for npz in (images, heatmaps, resized):
            assert sorted(npz.keys()) == sorted(names)
        for name, landmarks in entries:
            image = images[name]
            assert image.shape == (3, 256, 256) and image.dtype == np.uint8
            assert np.array_equal(image, read_rgb(str(folder / "Image" / name)).transpose(2, 0, 1))
            assert heatmaps[name].shape == (15, 64, 64) and heatmaps[name].dtype == np.uint8
            assert np.array_equal(heatmaps[name], draw_boundary_heatmaps(landmarks, (256, 256)))
            assert resized[name].shape == (15, 256, 256) and resized[name].dtype == np.uint8
            assert np.array_equal(resized[name], draw_boundary_heatmaps(
                landmarks, (256, 256), out_size=(256, 256)))
            assert heatmaps[name].max() > 150  # real boundaries were drawn


def test_celebv_cache_covers_test_split_and_workers_agree(data_root, tmp_path):
    data = copy_tree(data_root, tmp_path)
    result = subprocess.run(["bash", os.path.join(REPO_ROOT, "split_celebv.sh"),
                             str(data / "CelebV"), "4"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    one, two = tmp_path / "one", tmp_path / "two"
    preprocess.main(["--dataset", "CelebV", "--src-dir", str(data), "--out-dir", str(one),
                     "--celeb-name-list", "Person_A"])
    preprocess.main(["--dataset", "CelebV", "--src-dir", str(data), "--out-dir", str(two),
                     "--celeb-name-list", "Person_A", "--workers", "2"])
    for kind in ("image", "heatmap", "resized_heatmap"):
        first = np.load(str(one / "Person_A_{}.npz".format(kind)))
        second = np.load(str(two / "Person_A_{}.npz".format(kind)))
        assert first.files == second.files and len(first.files) == 6  # train (4) + test (2)
        for key in first.files:
            assert first[key].dtype == second[key].dtype
            assert np.array_equal(first[key], second[key])
    assert not (one / "Somebody Else_image.npz").exists()


def test_packed_members_make_the_same_npz_as_plain_ones(tmp_path):
    # The workers compress; the file must be what writing the arrays gives.
    import zipfile
    from utils.npz_stream import NpzStreamWriter, pack_member
    rng = np.random.RandomState(0)
    arrays = {"a.jpg": rng.randint(0, 255, (3, 256, 256)).astype(np.uint8),
              "b.jpg": np.zeros((15, 64, 64), np.uint8), "c": np.arange(7.0)}
    with NpzStreamWriter(str(tmp_path / "plain.npz")) as plain, \
            NpzStreamWriter(str(tmp_path / "packed.npz")) as packed:
        for key, array in arrays.items():
            plain.add(key, array)
            packed.add_packed(key, pack_member(array))
    loaded = np.load(str(tmp_path / "packed.npz"))
    assert loaded.files == list(arrays)
    for key, array in arrays.items():
        assert loaded[key].dtype == array.dtype and np.array_equal(loaded[key], array)
    with zipfile.ZipFile(str(tmp_path / "plain.npz")) as a, \
            zipfile.ZipFile(str(tmp_path / "packed.npz")) as b:
        assert b.testzip() is None  # every CRC checks
        for x, y in zip(a.infolist(), b.infolist()):
            assert (x.filename, x.CRC, x.file_size, x.compress_size, x.compress_type) == \
                (y.filename, y.CRC, y.file_size, y.compress_size, y.compress_type)


def test_cli_tuple_options_work(data_root, tmp_path):
    out = tmp_path / "out"
    preprocess.main(["--dataset", "CelebV", "--src-dir", str(data_root), "--out-dir", str(out),
                     "--celeb-name-list", "Person_A", "--resize-size", "32", "48",
                     "--gaussian-kernel", "3", "3", "--line-thickness", "2"])
    heatmaps = np.load(str(out / "Person_A_heatmap.npz"))
    assert heatmaps[heatmaps.files[0]].shape == (15, 32, 48)


def test_wflw_outputs(data_root, tmp_path):
    out = tmp_path / "wflw"
    wflw = data_root / "WFLW"
    for mode, count in (("train", 5), ("test", 3)):
        preprocess.main(["--dataset", "WFLW", "--mode", mode, "--src-dir", str(wflw),
                         "--out-dir", str(out), "--crop-margin", "0.1"])
        crops = np.load(str(out / "WFLW_cropped_image_{}.npz".format(mode)))
        maps = np.load(str(out / "WFLW_heatmap_{}.npz".format(mode)))
        marks = np.load(str(out / "WFLW_landmarks_{}.npz".format(mode)))
        keys = ["{}_{}.png".format(mode, i) for i in range(count)]
        assert sorted(crops.files) == sorted(keys) == sorted(maps.files) == sorted(marks.files)
        with open(str(out / "{}_data.csv".format(mode))) as f:
            rows = [line.rstrip("\n").split(",") for line in f]
        assert rows[0] == ["saved_name", "real_name"] and len(rows) == count + 1
        annotation = wflw / "WFLW_annotations" / "list_98pt_rect_attr_train_test" / \
            "list_98pt_rect_attr_{}.txt".format(mode)
        lines = annotation.read_text().splitlines()
        for saved_name, real_name in rows[1:]:
            index = int(saved_name.split("_")[1].split(".")[0])
            face = parse_wflw_line(lines[index])
            assert face.image_path == real_name
            image = read_rgb(str(wflw / "WFLW_images" / real_name))
            crop, landmarks = crop_face(image, face.landmarks, face.box, 256, 0.1)
            assert crops[saved_name].shape == (3, 256, 256) and crops[saved_name].dtype == np.uint8
            assert np.array_equal(crops[saved_name], crop.transpose(2, 0, 1))
            assert maps[saved_name].shape == (15, 64, 64) and maps[saved_name].dtype == np.uint8
            assert np.array_equal(maps[saved_name], draw_boundary_heatmaps(landmarks, (256, 256)))
            assert marks[saved_name].dtype == np.float32
            assert np.allclose(marks[saved_name], landmarks, atol=1e-3)
            assert np.allclose(landmarks[54], 127.5)


def test_bad_samples_are_skipped_and_counted(data_root, tmp_path, capsys):
    data = copy_tree(data_root, tmp_path)
    folder = data / "CelebV" / "Person_A"
    names = sorted(os.listdir(str(folder / "Image")))
    with open(str(folder / "Image" / names[0]), "r+b") as f:
        f.truncate(300)  # a truncated JPEG
    (folder / "Image" / names[1]).write_bytes(b"")  # a zero-byte file
    lines = (folder / "all_98pt.txt").read_text().splitlines()
    lines.append("1 2 3 broken.jpg")
    lines.append(" ".join(["nan"] * 196) + " " + names[2])
    lines.append(lines[3].rsplit(" ", 1)[0] + " missing.jpg")
    (folder / "all_98pt.txt").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    preprocess.main(["--dataset", "CelebV", "--src-dir", str(data), "--out-dir", str(out),
                     "--celeb-name-list", "Person_A"])
    summary = capsys.readouterr().out
    assert "Person_A: 4 written, 5 skipped" in summary
    assert "2 bad annotation line" in summary and "2 corrupt image" in summary
    assert "1 missing image" in summary
    images = np.load(str(out / "Person_A_image.npz"))
    assert sorted(images.files) == sorted(names[2:])


def test_wflw_bad_lines_are_skipped(data_root, tmp_path, capsys):
    data = copy_tree(data_root, tmp_path)
    annotation = data / "WFLW" / "WFLW_annotations" / "list_98pt_rect_attr_train_test" / \
        "list_98pt_rect_attr_train.txt"
    lines = annotation.read_text().splitlines()
    tokens = lines[1].split()
    lines[1] = " ".join(tokens[:150] + tokens[196:])  # too few numbers
    far = tokens[:]
    far[0] = "99999"
    lines[2] = " ".join(far)  # a landmark far outside the image
    annotation.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    preprocess.main(["--dataset", "WFLW", "--src-dir", str(data / "WFLW"), "--out-dir", str(out)])
    summary = capsys.readouterr().out
    assert "3 written, 2 skipped" in summary
    assert "1 landmarks outside the image" in summary
    assert sorted(np.load(str(out / "WFLW_heatmap_train.npz")).files) == \
        ["train_0.png", "train_3.png", "train_4.png"]


@pytest.mark.parametrize("args, message", [
    (["--dataset", "WFLW", "--src-dir", "does/not/exist"], "WFLW annotation file"),
    (["--dataset", "CelebV", "--src-dir", "does/not/exist"], "CelebV folder"),
    (["--dataset", "CelebV", "--celeb-name-list", "Nobody"], "person folder"),
])
def test_missing_inputs_give_one_line_errors(data_root, tmp_path, args, message):
    if "--src-dir" not in args:
        args = args + ["--src-dir", str(data_root)]
    result = run_script(["preprocess.py"] + args + ["--out-dir", str(tmp_path / "out")])
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_person_without_landmark_list_is_an_error_when_named(data_root, tmp_path):
    data = copy_tree(data_root, tmp_path)
    os.remove(str(data / "CelebV" / "Person_A" / "all_98pt.txt"))
    result = run_script(["preprocess.py", "--dataset", "CelebV", "--src-dir", str(data),
                         "--celeb-name-list", "Person_A", "--out-dir", str(tmp_path / "out")])
    assert result.returncode == 2 and "has no all_98pt.txt" in result.stderr
    # Found (not named): skipped with a note, the other person is processed.
    result = run_script(["preprocess.py", "--dataset", "CelebV", "--src-dir", str(data),
                         "--out-dir", str(tmp_path / "out")])
    assert result.returncode == 0, result.stderr
    assert "skipping" in result.stdout
    assert sorted(os.listdir(str(tmp_path / "out"))) == [
        "Somebody Else_heatmap.npz", "Somebody Else_image.npz",
        "Somebody Else_resized_heatmap.npz"]


def test_all_samples_bad_leaves_no_output(data_root, tmp_path):
    data = copy_tree(data_root, tmp_path)
    image_dir = data / "CelebV" / "Person_A" / "Image"
    for name in os.listdir(str(image_dir)):
        (image_dir / name).write_bytes(b"not a jpeg")
    out = tmp_path / "out"
    result = run_script(["preprocess.py", "--dataset", "CelebV", "--src-dir", str(data),
                         "--celeb-name-list", "Person_A", "--out-dir", str(out)])
    assert result.returncode == 2 and "no usable image" in result.stderr
    assert "Traceback" not in result.stderr
    assert os.listdir(str(out)) == []  # no half-written npz, no temporary file


def test_unwritable_output_folder(data_root, tmp_path):
    if os.geteuid() == 0:
        target = "/proc/forbidden"  # root ignores permissions; /proc refuses new folders
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = str(locked / "out")
    result = run_script(["preprocess.py", "--dataset", "CelebV", "--src-dir", str(data_root),
                         "--out-dir", target])
    assert result.returncode == 2 and "output folder" in result.stderr
    assert "Traceback" not in result.stderr


# --- split_celebv.sh ------------------------------------------------------------

def split(root, *args):
    return subprocess.run(["bash", os.path.join(REPO_ROOT, "split_celebv.sh"), str(root)]
                          + [str(a) for a in args], capture_output=True, text=True)


def test_split_every_person_and_idempotent(data_root, tmp_path):
    data = copy_tree(data_root, tmp_path)
    result = split(data, 4)  # the parent of CelebV works too
    assert result.returncode == 0, result.stderr
    for person in PERSONS:
        folder = data / "CelebV" / person
        all_lines = (folder / "all_98pt.txt").read_text().splitlines()
        train = (folder / "train_98pt.txt").read_text().splitlines()
        test = (folder / "test_98pt.txt").read_text().splitlines()
        assert train == all_lines[:4] and test == all_lines[4:]
    before = (data / "CelebV" / "Person_A" / "test_98pt.txt").read_bytes()
    assert split(data / "CelebV", 4).returncode == 0
    assert (data / "CelebV" / "Person_A" / "test_98pt.txt").read_bytes() == before
    leftovers = [n for n in os.listdir(str(data / "CelebV" / "Person_A")) if n.startswith(".")]
    assert leftovers == []


def test_split_errors(data_root, tmp_path):
    data = copy_tree(data_root, tmp_path)
    result = split(data / "CelebV", 6)  # 6 lines: nothing left for testing
    assert result.returncode == 2 and "has 6 lines" in result.stderr
    assert not (data / "CelebV" / "Person_A" / "train_98pt.txt").exists()
    os.remove(str(data / "CelebV" / "Somebody Else" / "all_98pt.txt"))
    result = split(data / "CelebV", 3)
    assert result.returncode == 2 and "all_98pt.txt not found" in result.stderr
    assert not (data / "CelebV" / "Person_A" / "train_98pt.txt").exists()
    assert split(data / "CelebV", "x").returncode == 2
    assert split(tmp_path / "nowhere").returncode == 2


def test_bounded_map_keeps_the_order_and_stops_when_the_caller_does():
    # In a child process with a timeout: a pool feeder left waiting would hang.
    code = ("import operator, preprocess\n"
            "results = preprocess.bounded_map(operator.neg, range(5000), workers=2, window=8)\n"
            "assert [next(results) for _ in range(50)] == [-i for i in range(50)]\n"
            "results.close()\n"
            "print('closed')\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "closed" in result.stdout, result.stderr
