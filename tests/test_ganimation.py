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
"""GANimation: data, networks, losses, training and the test script, at toy sizes."""
import copy
import os
import pickle
import shutil
import subprocess
import sys

import nnabla as nn
import numpy as np
import pytest
import yaml

from config.config_ganimation import config as DEFAULTS
from ganimation import data as gdata
from ganimation import prepare_au_annotations as prepare
from ganimation.losses import gradient_penalty, learning_rate, total_variation_sum
from ganimation.models import D_SCOPE, compose, count_parameters, \
    discriminator, edit_faces, generator
from ganimation.test_ganimation import detect_face_box
from ganimation.train_ganimation import AttentionWatch, TrainingGraph, color_warmup_step, \
    critic_au_step, critic_step, generator_step, make_solvers
from utils import synthetic_faces
from utils.batching import BatchIterator
from utils.image_io import read_rgb, read_video_frames, write_video
from utils.user_errors import UserError

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TINY_MODEL = {"g_conv_dim": 8, "g_repeat_num": 1, "d_conv_dim": 8, "d_repeat_num": 3,
              "instance_norm_affine": True, "do_saturate_mask": False}

# The public sample's values (the authors' aus_openface.pkl), for a pickle written the way Python 2 wrote it.
SAMPLE_AUS = {
    "N_0000000356_00190": [2.86, 2.27, 1.45, 1.10, 0, 0.65, 0.05, 0, 0.75, 1.65, 0.60, 0, 1.86,
                           0, 0.62, 0.25, 0],
    "N_0000000437_00540": [0, 0.19, 0.02, 0.80, 0.24, 1.46, 1.18, 0.37, 0, 0, 1.13, 3.37, 1.24,
                           0.73, 0.13, 1.83, 0],
}


@pytest.fixture(autouse=True)
def clean_parameters():
    nn.clear_parameters()
    yield
    nn.clear_parameters()


@pytest.fixture(scope="module")
def celeba(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("ganimation") / "celebA")
    synthetic_faces.write_ganimation(root, num_images=24, test_fraction=0.25, seed=0,
                                     num_identities=4)
    return root


def tiny_config(**train):
    config = copy.deepcopy(DEFAULTS)
    config["data"]["image_size"] = 32
    config["model"].update(TINY_MODEL)
    config["train"].update(train)
    return config


def run_script(script, *args):
    result = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "ganimation", script)] +
                            [str(a) for a in args] + ["--context", "cpu"],
                            cwd=REPO_ROOT, capture_output=True, text=True)
    return result


def run_ok(script, *args):
    result = run_script(script, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


# ---------------------------------------------------------------- networks

def test_parameter_counts_at_paper_size():
    x = nn.Variable((1, 3, 128, 128))
    aus = nn.Variable((1, 17))
    with nn.parameter_scope("G"):
        color, attention = generator(x, aus)
    with nn.parameter_scope("D"):
        realness, au_estimate = discriminator(x)
    assert count_parameters("G") == 8471296
    assert count_parameters("D") == 44860352
    assert color.shape == (1, 3, 128, 128) and attention.shape == (1, 1, 128, 128)
    # Batch 1 keeps its batch axis in both critic heads.
    assert realness.shape == (1, 1, 2, 2) and au_estimate.shape == (1, 17)
    with nn.parameter_scope("G_plain"):
        generator(x, aus, affine=False)
    norm_parameters = 2 * (64 + 128 + 256 + 12 * 256 + 128 + 64)
    assert count_parameters("G_plain") == 8471296 - norm_parameters


def test_generator_has_no_bias_and_critic_has_trunk_biases():
    x = nn.Variable((2, 3, 32, 32))
    with nn.parameter_scope("G"):
        generator(x, nn.Variable((2, 17)), conv_dim=8, repeat_num=1)
        names = list(nn.get_parameters())
    assert not [n for n in names if "conv/b" in n or "deconv/b" in n]
    with nn.parameter_scope("D"):
        discriminator(x, conv_dim=8, repeat_num=3)
        names = list(nn.get_parameters())
    assert sum(n.endswith("conv/b") for n in names) == 3  # trunk only, heads have none


def test_composition_keeps_input_where_attention_is_one():
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, (2, 3, 4, 4)).astype(np.float32)
    color = rng.uniform(-1, 1, (2, 3, 4, 4)).astype(np.float32)
    attention = rng.uniform(0, 1, (2, 1, 4, 4)).astype(np.float32)
    attention[0] = 1.0
    attention[1, :, :2] = 0.0
    out = compose(nn.Variable.from_numpy_array(x), nn.Variable.from_numpy_array(color),
                  nn.Variable.from_numpy_array(attention))
    out.forward()
    np.testing.assert_allclose(out.d, attention * x + (1 - attention) * color, atol=1e-6)
    np.testing.assert_allclose(out.d[0], x[0], atol=1e-6)
    np.testing.assert_allclose(out.d[1, :, :2], color[1, :, :2], atol=1e-6)


def test_generator_output_is_the_composition_and_conditions_matter():
    rng = np.random.RandomState(1)
    x = nn.Variable.from_numpy_array(rng.uniform(-1, 1, (2, 3, 16, 16)))
    aus = nn.Variable.from_numpy_array(np.stack([np.zeros(17), np.ones(17)]))
    output, color, attention = edit_faces(x, aus, dict(TINY_MODEL, g_repeat_num=1))
    for v in (color, attention):
        v.persistent = True
    output.forward()
    np.testing.assert_allclose(output.d, attention.d * x.d + (1 - attention.d) * color.d,
                               atol=1e-5)
    assert 0 < attention.d.min() and attention.d.max() < 1
    assert np.abs(color.d).max() < 1
    # Same image, different AUs: the conditions reach the output.
    x.d = np.repeat(x.d[:1], 2, axis=0)
    output.forward()
    assert np.abs(output.d[0] - output.d[1]).max() > 1e-4


def test_fast_generator_equals_the_literal_graph_with_its_gradients():
    # The training graph folds the tiled AU maps into the stem and stacks the
    # two heads; the portable graph builds both literally.  Same parameters,
    # same outputs, same gradients, with AUs that move the output (and zero
    # padding at the borders, where the fold must count only the inside taps).
    rng = np.random.RandomState(3)
    x = nn.Variable.from_numpy_array(rng.uniform(-1, 1, (2, 3, 12, 16)))
    aus = nn.Variable.from_numpy_array(rng.uniform(0, 1, (2, 17)) * 3)
    color_weights = nn.Variable.from_numpy_array(rng.uniform(-1, 1, (2, 3, 12, 16)))
    attention_weights = nn.Variable.from_numpy_array(rng.uniform(-1, 1, (2, 1, 12, 16)))
    results = []
    for portable in (True, False):
        color, attention = generator(x, aus, conv_dim=4, repeat_num=1, portable=portable)
        loss = nn.functions.sum(color * color_weights) + \
            nn.functions.sum(attention * attention_weights)
        for v in (color, attention):
            v.persistent = True
        parameters = nn.get_parameters()
        for p in parameters.values():
            p.grad.zero()
        loss.forward()
        loss.backward()
        results.append((color.d.copy(), attention.d.copy(),
                        {k: p.g.copy() for k, p in parameters.items()}))
    assert len(results[1][2]) == len(results[0][2])  # no parameter added by the fast graph
    for literal, fast in zip(results[0][:2], results[1][:2]):
        np.testing.assert_allclose(fast, literal, atol=1e-5)
    for name, grad in results[0][2].items():
        scale = np.abs(grad).max()
        assert scale > 0, name
        np.testing.assert_allclose(results[1][2][name], grad, atol=1e-4 * scale, err_msg=name)


def test_instance_norm_results_do_not_depend_on_the_batch():
    rng = np.random.RandomState(2)
    faces = rng.uniform(-1, 1, (3, 3, 16, 16)).astype(np.float32)
    conditions = rng.uniform(0, 1, (3, 17)).astype(np.float32)
    single = nn.Variable((1, 3, 16, 16))
    single_aus = nn.Variable((1, 17))
    batch = nn.Variable.from_numpy_array(faces)
    batch_aus = nn.Variable.from_numpy_array(conditions)
    out_single = edit_faces(single, single_aus, TINY_MODEL)[0]
    out_batch = edit_faces(batch, batch_aus, TINY_MODEL)[0]
    out_batch.forward()
    for i in range(3):
        single.d, single_aus.d = faces[i:i + 1], conditions[i:i + 1]
        out_single.forward()
        np.testing.assert_allclose(out_single.d[0], out_batch.d[i], atol=1e-5)


# ---------------------------------------------------------------- losses

def test_total_variation_is_a_sum_of_absolute_differences():
    mask = np.random.RandomState(3).uniform(0, 1, (2, 1, 5, 6)).astype(np.float32)
    tv = total_variation_sum(nn.Variable.from_numpy_array(mask))
    tv.forward()
    expected = np.abs(np.diff(mask, axis=2)).sum() + np.abs(np.diff(mask, axis=3)).sum()
    assert tv.d == pytest.approx(expected, rel=1e-5)


def _critic_scores(x_numpy):
    x = nn.Variable.from_numpy_array(x_numpy)
    with nn.parameter_scope("critic"):
        scores, _ = discriminator(x, conv_dim=4, repeat_num=2)
    scores.forward()
    return float(scores.d.sum())


def test_gradient_penalty_matches_finite_differences():
    rng = np.random.RandomState(4)
    batch, shape = 2, (3, 8, 8)
    x_hat = nn.Variable((batch,) + shape, need_grad=True)
    x_hat.d = rng.uniform(-1, 1, x_hat.shape)
    with nn.parameter_scope("critic"):
        scores, _ = discriminator(x_hat, conv_dim=4, repeat_num=2)
    # Larger weights than the N(0, 0.02) initialisation give gradient norms near 1.
    with nn.parameter_scope("critic"):
        for p in nn.get_parameters().values():
            p.d = rng.normal(0, 0.3, p.shape)
    penalty = gradient_penalty(scores, x_hat, eps=0.0)
    penalty.forward()

    # d sum(D(x)) / dx by central differences, sample by sample.  The critic
    # is piecewise linear in its input, so a small step is exact up to rounding.
    step = 1e-2
    norms = []
    for b in range(batch):
        grad = np.zeros(shape)
        for index in np.ndindex(*shape):
            plus, minus = x_hat.d.copy(), x_hat.d.copy()
            plus[(b,) + index] += step
            minus[(b,) + index] -= step
            grad[index] = (_critic_scores(plus) - _critic_scores(minus)) / (2 * step)
        norms.append(np.sqrt((grad ** 2).sum()))
    expected = np.mean((np.array(norms) - 1.0) ** 2)
    assert 0.05 < np.mean(norms) < 20
    assert float(penalty.d) == pytest.approx(expected, rel=2e-3, abs=1e-5)


def test_gradient_penalty_trains_the_critic_by_double_backward():
    rng = np.random.RandomState(5)
    x_hat = nn.Variable((2, 3, 8, 8), need_grad=True)
    x_hat.d = rng.uniform(-1, 1, x_hat.shape)
    with nn.parameter_scope("critic"):
        scores, _ = discriminator(x_hat, conv_dim=4, repeat_num=2)
        params = nn.get_parameters()
        for p in params.values():
            p.d = rng.normal(0, 0.3, p.shape)
    penalty = gradient_penalty(scores, x_hat)
    penalty.forward()
    for p in params.values():
        p.grad.zero()
    penalty.backward()
    weight = params["conv1/conv/W"]
    analytic = weight.g.copy()
    step = 1e-2
    for index in [(0, 0, 0, 0), (1, 2, 3, 1), (3, 1, 2, 2)]:
        original = weight.d[index]
        values = []
        for delta in (step, -step):
            data = weight.d.copy()
            data[index] = original + delta
            weight.d = data
            penalty.forward()
            values.append(float(penalty.d))
        data = weight.d.copy()
        data[index] = original
        weight.d = data
        numeric = (values[0] - values[1]) / (2 * step)
        assert analytic[index] == pytest.approx(numeric, rel=5e-2, abs=1e-3)


def test_critic_step_interpolates_with_one_alpha_per_sample():
    config = tiny_config(gradient_penalty_mode="authors")
    graph = TrainingGraph(config, 3)
    solvers = make_solvers(config)
    rng = np.random.RandomState(6)
    graph.fill((rng.uniform(-1, 1, graph.real.shape), rng.uniform(0, 1, (3, 17)),
                rng.uniform(0, 1, (3, 17))))
    graph.fake.forward()
    critic_step(graph, solvers["netD"], np.random.RandomState(0), "authors")
    real, fake = graph.real.d, graph.fake.d
    alpha = (graph.interpolates.d - fake) / (real - fake)
    expected = np.random.RandomState(0).uniform(0, 1, 3)
    for b in range(3):
        np.testing.assert_allclose(alpha[b], expected[b], atol=2e-3)


def test_au_loss_weight_does_not_depend_on_the_batch_size():
    assert DEFAULTS["train"]["lambda_au"] == 160.0  # the authors' 4000 / batch 25
    rng = np.random.RandomState(7)
    half = (rng.uniform(-1, 1, (2, 3, 32, 32)), rng.uniform(0, 1, (2, 17)),
            rng.uniform(0, 1, (2, 17)))
    results = []
    for copies in (1, 2):
        nn.clear_parameters()
        nn.random.seed(0)
        config = tiny_config()
        graph = TrainingGraph(config, 2 * copies)
        graph.fill(tuple(np.concatenate([part] * copies) for part in half))
        graph.D_au_mse.forward()
        with nn.parameter_scope(D_SCOPE):
            params = nn.get_parameters()
        for p in params.values():
            p.grad.zero()
        graph.D_au_mse.backward()
        results.append((float(graph.D_au_mse.d), {k: p.g.copy() for k, p in params.items()}))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-5)
    for name, grad in results[0][1].items():
        np.testing.assert_allclose(grad, results[1][1][name], rtol=1e-4, atol=1e-7)


def test_learning_rate_schedule_is_the_authors():
    rates = [learning_rate(1e-4, epoch, 20, 10) for epoch in range(30)]
    assert rates[:21] == [1e-4] * 21
    np.testing.assert_allclose(rates[21:], 1e-4 * np.arange(9, 0, -1) / 10.0)


def test_attention_watch_warns_once_when_attention_saturates():
    watch = AttentionWatch(0.02, 0.98, patience=3)
    assert [watch.update(0.99) for _ in range(2)] == [None, None]
    message = watch.update(0.995)
    assert message and "near 1" in message
    assert watch.update(0.999) is None
    resumed = AttentionWatch(0.02, 0.98, 3, watch.state())
    assert resumed.update(0.999) is None
    assert resumed.update(0.5) is None and resumed.outside == 0


# ---------------------------------------------------------------- AU files and data

def _short_string(text_bytes):
    return b"U" + bytes([len(text_bytes)]) + text_bytes


def python2_pickle(table):
    """The bytes cPickle.dump(table, f, 2) writes in Python 2 with numpy 1.x.

    Strings are byte strings (SHORT_BINSTRING), arrays are rebuilt through
    numpy.core.multiarray._reconstruct with the raw data as a byte string.
    """
    out = bytearray(b"\x80\x02}q\x00(")
    for key, values in table.items():
        out += _short_string(key.encode("latin1"))
        out += b"cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02"
        out += b"K\x00\x85q\x03" + _short_string(b"b") + b"\x87Rq\x04"
        out += b"(K\x01K\x11\x85"
        out += b"cnumpy\ndtype\nq\x05" + _short_string(b"f8") + b"K\x00K\x01\x87Rq\x06"
        out += b"(K\x03" + _short_string(b"<") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
        out += b"\x89" + _short_string(np.asarray(values, dtype="<f8").tobytes()) + b"tb"
    out += b"u."
    return bytes(out)


class _RunsCommand(object):
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch {}".format(self.marker),))


def test_au_pickle_of_python2_is_read(tmp_path):
    path = tmp_path / "aus_openface.pkl"
    path.write_bytes(python2_pickle(SAMPLE_AUS))
    aus = gdata.load_au_pickle(str(path))
    assert sorted(aus) == sorted(SAMPLE_AUS)
    for key, values in SAMPLE_AUS.items():
        assert aus[key].dtype == np.float64 and aus[key].shape == (17,)
        np.testing.assert_array_equal(aus[key], values)


def test_au_pickle_of_python3_is_read(celeba):
    aus = gdata.load_au_pickle(os.path.join(celeba, "aus_openface.pkl"))
    truth = np.load(os.path.join(celeba, "ground_truth.npz"))
    assert len(aus) == 24
    np.testing.assert_array_equal(aus[str(truth["ids"][5])], truth["aus"][5])


def test_au_pickle_refuses_code_and_other_contents(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"x": _RunsCommand(marker)}, protocol=2))
    with pytest.raises(UserError, match="refusing to load 'posix.system'"):
        gdata.load_au_pickle(str(evil))
    assert not marker.exists()
    for contents, message in (([1, 2], "not a dict"), ({"a": np.zeros(3)}, "17 AU"),
                              ({"a": "text"}, "17 AU")):
        path = tmp_path / "other.pkl"
        path.write_bytes(pickle.dumps(contents, protocol=2))
        with pytest.raises(UserError, match=message):
            gdata.load_au_pickle(str(path))


def test_au_assignments_and_vector_files(tmp_path):
    base = np.full(17, 0.5)
    aus = gdata.parse_au_assignments("AU12=3, au25=2,AU1=1.5", base=base)
    assert aus[8] == 3 and aus[14] == 2 and aus[0] == 1.5 and aus[1] == 0.5
    with pytest.raises(UserError, match="AU99"):
        gdata.parse_au_assignments("AU99=1")
    path = tmp_path / "targets.txt"
    path.write_text("# name then 17 values\nsmile.jpg " + " ".join(["1"] * 17) + "\n" +
                    ",".join(["2"] * 17) + "\n")
    vectors = gdata.read_au_vectors(str(path))
    assert [name for name, _ in vectors] == ["smile", "aus1"]
    np.testing.assert_array_equal(vectors[1][1], np.full(17, 2.0))
    assert gdata.assignments_label("au12=3, AU25=2.50") == "AU12-3_AU25-2.5"
    # OpenFace's intensities run from 0 to 5: more (or less) is refused, not fed to the network.
    for bad in ("AU12=7", "AU12=-1"):
        with pytest.raises(UserError, match="0 to 5"):
            gdata.parse_au_assignments(bad)
    path.write_text("loud " + " ".join(["1"] * 16 + ["9"]) + "\n")
    with pytest.raises(UserError, match="line 1: AU intensities run from 0 to 5.*9"):
        gdata.read_au_vectors(str(path))


def test_source_skips_bad_ids_and_draws_targets_from_the_sample_rng(tmp_path, celeba):
    root = tmp_path / "celebA"
    import shutil
    shutil.copytree(celeba, str(root))
    ids = gdata.read_id_list(str(root / "train_ids.csv"))
    os.remove(str(root / "imgs" / (ids[0] + ".jpg")))
    (root / "imgs" / (ids[1] + ".jpg")).write_bytes(b"not a jpeg")
    with open(str(root / "train_ids.csv"), "a") as f:
        f.write("unknown_id.jpg\n")
    source = gdata.AUFaceSource(str(root), "train", image_size=32, verbose=False)
    assert len(source) == len(ids) - 1
    assert source.skipped == {"missing image": 1, "no AUs": 1}
    global_state = np.random.get_state()[1].copy()

    image, real, target = source.get(3, np.random.RandomState(11))
    again = source.get(3, np.random.RandomState(11))
    np.testing.assert_array_equal(target, again[2])
    np.testing.assert_array_equal(image, again[0])
    assert image.shape == (3, 32, 32) and image.dtype == np.float32
    np.testing.assert_allclose(real * 5.0, gdata.load_au_pickle(
        str(root / "aus_openface.pkl"))[source.ids[3]], atol=1e-5)
    # The target is another sample's AUs plus at most 0.1 of noise per AU.
    distances = np.abs(source.aus - target[None]).max(axis=1)
    assert distances.min() <= 0.1 + 1e-6
    np.testing.assert_array_equal(np.random.get_state()[1], global_state)
    flips = [np.array_equal(source.get(3, np.random.RandomState(s))[0][:, :, ::-1], image)
             for s in range(12)]
    assert any(flips)

    loader = BatchIterator(source, 4, seed=0, threads=1)
    for _ in range(len(loader)):
        loader.next()
    assert loader.skipped["corrupt image"] >= 1


def test_empty_data_set_is_a_one_line_error(tmp_path, celeba):
    root = tmp_path / "empty"
    (root / "imgs").mkdir(parents=True)
    (root / "train_ids.csv").write_text("nobody.jpg\n")
    with open(os.path.join(celeba, "aus_openface.pkl"), "rb") as f:
        (root / "aus_openface.pkl").write_bytes(f.read())
    with pytest.raises(UserError, match="no usable train samples.*1 no AUs"):
        gdata.AUFaceSource(str(root), "train", verbose=False)


# ---------------------------------------------------------------- OpenFace CSVs

FEATURE_EXTRACTION_HEADER = (["frame", "face_id", "timestamp", "confidence", "success",
                              "pose_Tx", "pose_Ty"] +
                             [name + "_r" for name in gdata.AU_NAMES] +
                             [name + "_c" for name in synthetic_faces.OPENFACE_CLASS_NAMES])


def feature_extraction_row(frame, confidence, success, aus):
    values = [frame, 0, 0.04 * frame, confidence, success, 12.5, -3.0] + list(aus) + [1] * 18
    return ", ".join(str(v) for v in values)


def test_openface_csvs_of_both_tools_become_the_annotation_files(tmp_path, celeba):
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    truth = gdata.load_au_pickle(os.path.join(celeba, "aus_openface.pkl"))
    for sample_id in sorted(truth)[:6]:  # FaceLandmarkImg -aus, one file per image
        synthetic_faces.write_openface_csv(str(csv_dir / (sample_id + ".csv")), truth[sample_id])
    synthetic_faces.write_openface_csv(str(csv_dir / "blurry.csv"), np.ones(17), confidence=0.3)
    header = ", ".join(synthetic_faces.OPENFACE_HEADER)
    row = ", ".join(["{}", "0.98"] + ["1.00"] * 17 + ["0"] * 18)
    (csv_dir / "two_faces.csv").write_text(
        header + "\n" + row.format(0) + "\n" + row.format(1) + "\n")
    (csv_dir / "no_aus.csv").write_text("face, confidence, x_0\n0, 0.98, 12\n")

    # FeatureExtraction -fdir: one CSV for a folder, frames in sorted file order.
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    for name in ("b_frame", "a_frame", "c_frame"):
        (frames_dir / (name + ".jpg")).write_bytes(b"")
    sequence_aus = np.round(np.random.RandomState(8).uniform(0, 5, (3, 17)), 2)
    lines = [", ".join(FEATURE_EXTRACTION_HEADER)]
    lines += [feature_extraction_row(k + 1, 0.97, int(k != 2), sequence_aus[k]) for k in range(3)]
    (csv_dir / "sequence.csv").write_text("\n".join(lines) + "\n")
    # FeatureExtraction -f image.jpg: one frame, named by the file.
    single = [", ".join(FEATURE_EXTRACTION_HEADER),
              feature_extraction_row(1, 0.95, 1, sequence_aus[0][::-1])]
    (csv_dir / "single_image.csv").write_text("\n".join(single) + "\n")

    out_dir = tmp_path / "dataset"
    with pytest.raises(UserError, match="--frame-image-dir"):
        prepare.main(["-ia", str(csv_dir), "-op", str(out_dir)])
    prepare.main(["-ia", str(csv_dir), "-op", str(out_dir), "--frame-image-dir",
                  str(frames_dir), "--test-ratio", "0.25", "--seed", "3"])

    aus = gdata.load_au_pickle(str(out_dir / "aus_openface.pkl"))
    expected_ids = set(sorted(truth)[:6]) | {"a_frame", "b_frame", "single_image"}
    assert set(aus) == expected_ids
    for sample_id in sorted(truth)[:6]:
        np.testing.assert_array_equal(aus[sample_id], truth[sample_id])
    np.testing.assert_array_equal(aus["a_frame"], sequence_aus[0])  # frame 1 = first name
    np.testing.assert_array_equal(aus["b_frame"], sequence_aus[1])
    np.testing.assert_array_equal(aus["single_image"], sequence_aus[0][::-1])
    train = gdata.read_id_list(str(out_dir / "train_ids.csv"))
    test = gdata.read_id_list(str(out_dir / "test_ids.csv"))
    assert len(test) == 2 and set(train) | set(test) == expected_ids and not set(train) & set(test)
    assert (out_dir / "train_ids.csv").read_text().splitlines()[0].endswith(".jpg")

    _, skipped = prepare.collect_aus(prepare._csv_paths([str(csv_dir)]), 0.88,
                                     prepare.list_frame_images(str(frames_dir)))
    assert skipped == {"low confidence": 1, "several faces": 1, "no AU intensity columns": 1,
                       "tracking failed": 1}


def test_prepare_refuses_when_nothing_is_usable(tmp_path):
    (tmp_path / "bad.csv").write_text("face, confidence\n0, 0.9\n")
    result = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "ganimation",
                                                          "prepare_au_annotations.py"),
                             "-ia", str(tmp_path), "-op", str(tmp_path / "out")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no usable AU rows" in result.stderr


# ---------------------------------------------------------------- training

def test_critic_au_error_and_cycle_loss_fall_on_a_fixed_batch(celeba):
    config = tiny_config(critic_iterations=1, lr_G=5e-4, lr_D=5e-4)
    source = gdata.AUFaceSource(celeba, "train", image_size=32, verbose=False)
    batch = [source.get(i, np.random.RandomState(i)) for i in range(4)]
    nn.random.seed(0)
    graph = TrainingGraph(config, 4)
    graph.fill(tuple(np.stack(parts) for parts in zip(*batch)))
    solvers = make_solvers(config)
    alpha_rng = np.random.RandomState(0)
    au_errors, cycle = [], []
    for _ in range(30):
        graph.fake.forward(clear_no_need_grad=True)
        au_errors.append(critic_step(graph, solvers["netD"], alpha_rng, "authors")["D_au_mse"])
        cycle.append(generator_step(graph, solvers["netG"])["G_cycle_l1"])
    assert np.mean(au_errors[-5:]) < 0.5 * np.mean(au_errors[:5])
    assert np.mean(cycle[-5:]) < 0.8 * np.mean(cycle[:5])


def graph_on_a_fixed_batch(celeba, config):
    """The training graph of ``config`` filled with 4 training faces, and its solvers."""
    source = gdata.AUFaceSource(celeba, "train", image_size=32, verbose=False)
    batch = [source.get(i) for i in range(4)]
    nn.random.seed(0)
    graph = TrainingGraph(config, 4)
    graph.fill(tuple(np.stack(parts) for parts in zip(*batch)))
    return graph, make_solvers(config)


def test_critic_au_warmup_trains_the_critic_alone(celeba):
    graph, solvers = graph_on_a_fixed_batch(celeba, tiny_config(lr_D=2e-3))
    with nn.parameter_scope("netG_ganimation"):
        generator_before = {k: v.d.copy() for k, v in nn.get_parameters().items()}
    errors = [critic_au_step(graph, solvers["netD"])["D_au_mse"] for _ in range(40)]
    assert np.mean(errors[-5:]) < 0.3 * np.mean(errors[:5])
    with nn.parameter_scope("netG_ganimation"):
        for key, value in nn.get_parameters().items():
            assert np.array_equal(value.d, generator_before[key]), key


def test_color_warmup_teaches_the_colour_mask_to_reproduce_the_face(celeba):
    graph, solvers = graph_on_a_fixed_batch(celeba, tiny_config())
    solvers["netG"].set_learning_rate(1e-3)
    with nn.parameter_scope("netD_ganimation"):
        critic_before = {k: v.d.copy() for k, v in nn.get_parameters().items()}
    errors = [color_warmup_step(graph, solvers["netG"])["G_color_l1"] for _ in range(40)]
    assert np.mean(errors[-5:]) < 0.5 * np.mean(errors[:5])
    with nn.parameter_scope("netD_ganimation"):  # the critic is left alone
        for key, value in nn.get_parameters().items():
            assert np.array_equal(value.d, critic_before[key]), key


def test_training_with_critic_warmup_saves_only_the_game_epochs(tmp_path, celeba):
    conf = tmp_path / "warm.yaml"
    conf.write_text(yaml.safe_dump({
        "experiment_name": "warm", "logdir": str(tmp_path / "monitor"),
        "data": {"image_size": 32, "loader_threads": 1}, "model": TINY_MODEL,
        "train": {"batch_size": 6, "critic_au_warmup_epochs": 2, "color_warmup_epochs": 1,
                  "epochs_no_decay": 1, "epochs_decay": 0, "critic_iterations": 1},
        "monitor": {"interval": 1, "image_interval": 100, "checkpoint_interval": 100}}))
    run_ok("train_ganimation.py", "--data-dir", celeba, "--conf", conf)
    run_dir = tmp_path / "monitor" / "ganimation" / "warm"
    # 18 faces at batch 6: 3 iterations an epoch; 2 warm-up epochs, then 1 of the game.
    assert sorted(p.name for p in run_dir.glob("netG_ganimation_*.h5")) == \
        ["netG_ganimation_2.h5"]
    assert len((run_dir / "D_au_mse.series.txt").read_text().split("\n")) - 1 == 9
    assert len((run_dir / "loss_G.series.txt").read_text().split("\n")) - 1 == 3
    assert len((run_dir / "D_real.series.txt").read_text().split("\n")) - 1 == 3
    # The colour warm-up ran in the last warm-up epoch only.
    assert [int(line.split()[0]) for line in
            (run_dir / "G_color_l1.series.txt").read_text().splitlines()] == [3, 4, 5]


@pytest.mark.parametrize("train, key", [({"critic_au_warmup_epochs": -1}, "critic_au_warmup_epochs"),
                                        ({"critic_au_warmup_lr": 0}, "critic_au_warmup_lr"),
                                        ({"critic_au_warmup_lr": "fast"}, "critic_au_warmup_lr"),
                                        ({"critic_au_warmup_epochs": 1, "color_warmup_epochs": 2},
                                         "color_warmup_epochs"),
                                        ({"lambda_color_cycle": -1.0}, "lambda_color_cycle")])
def test_bad_critic_warmup_is_a_one_line_error(tmp_path, celeba, train, key):
    conf = tmp_path / "bad.yaml"
    conf.write_text(yaml.safe_dump({"logdir": str(tmp_path / "monitor"), "train": train}))
    result = run_script("train_ganimation.py", "--data-dir", celeba, "--conf", conf)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "train." + key in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "monitor").exists()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, celeba):
    work = tmp_path_factory.mktemp("run")
    conf = work / "tiny.yaml"
    conf.write_text(yaml.safe_dump({
        "experiment_name": "tiny", "logdir": str(work / "monitor"),
        "data": {"image_size": 32, "loader_threads": 1},
        "model": TINY_MODEL,
        "train": {"batch_size": 6, "epochs_no_decay": 1, "epochs_decay": 0,
                  "critic_iterations": 2},
        "test": {"logdir": str(work / "results")},
        "monitor": {"interval": 1, "image_interval": 2, "checkpoint_interval": 2}}))
    result = run_ok("train_ganimation.py", "--data-dir", celeba, "--conf", conf)
    return work / "monitor" / "ganimation" / "tiny", result


def test_training_writes_checkpoints_series_and_strips(trained_run):
    run_dir, _ = trained_run
    for name in ("training_info.yaml", "netG_ganimation_0.h5", "netD_ganimation_0.h5",
                 "D_au_mse.series.txt", "G_cycle_l1.series.txt", "mean_attention.series.txt",
                 "D_gradient_penalty.series.txt", "result/000000.png"):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "checkpoints" / "iter_00000003" / "state.json").is_file()  # 18 // 6
    info = yaml.safe_load((run_dir / "training_info.yaml").read_text())
    assert info["model"]["g_conv_dim"] == 8 and info["data"]["image_size"] == 32
    strip = read_rgb(str(run_dir / "result" / "000000.png"))
    assert strip.shape == (4 * 32, 5 * 32, 3)  # input | output | A | C | reconstruction
    # G is updated on the 2nd iteration only: one G line, three critic lines.
    assert len((run_dir / "loss_G.series.txt").read_text().split("\n")) - 1 == 1
    assert len((run_dir / "D_real.series.txt").read_text().split("\n")) - 1 == 3


def test_training_resumes_with_more_epochs(tmp_path, trained_run, celeba):
    import shutil
    run_dir, _ = trained_run
    copy_dir = tmp_path / "tiny"
    shutil.copytree(str(run_dir), str(copy_dir))
    more = tmp_path / "more.yaml"
    more.write_text("train: {epochs_no_decay: 2}\n")
    run_ok("train_ganimation.py", "--resume", copy_dir, "--conf", more)
    assert (copy_dir / "checkpoints" / "iter_00000006" / "state.json").is_file()
    assert (copy_dir / "netG_ganimation_1.h5").is_file()


def test_test_script_writes_strips_masks_and_gifs(trained_run, tmp_path):
    run_dir, _ = trained_run
    out = tmp_path / "transfer"
    run_ok("test_ganimation.py", run_dir, "-n", "2", "--num-steps", "3", "--as-gif",
           "--save-masks", "--out-dir", out)
    strips = sorted(p for p in os.listdir(str(out)) if p.endswith(".png") and "_" in p
                    and not p.endswith(("_attention.png", "_color.png")))
    assert len(strips) == 2
    strip = read_rgb(str(out / strips[0]))
    assert strip.shape == (32, (1 + 3 + 1) * 32, 3)  # source, 3 steps, target image
    gif = str(out / strips[0].replace(".png", ".gif"))
    frames = list(read_video_frames(gif))
    assert len(frames) == 2 * (3 + 1)
    assert frames[0].shape == (32, 32, 3)
    assert read_rgb(str(out / strips[0].replace(".png", "_attention.png"))).shape == (32, 96, 3)

    listed = tmp_path / "targets.txt"
    listed.write_text("happy " + " ".join(["2"] * 17) + "\n")
    run_ok("test_ganimation.py", run_dir, "-n", "1", "--num-steps", "2", "--aus-file", listed,
           "--out-dir", tmp_path / "listed")
    run_ok("test_ganimation.py", run_dir, "-n", "1", "--num-steps", "1", "--aus", "AU12=4",
           "--out-dir", tmp_path / "explicit")
    assert [p.endswith("_happy.png") for p in os.listdir(str(tmp_path / "listed"))] == [True]
    explicit = os.listdir(str(tmp_path / "explicit"))
    assert len(explicit) == 1 and read_rgb(str(tmp_path / "explicit" / explicit[0])).shape == \
        (32, 64, 3)


def test_a_moved_run_writes_its_results_under_its_new_place(trained_run, tmp_path):
    run_dir, _ = trained_run
    work = str(run_dir.parent.parent.parent)  # holds monitor/ and the results folder
    first, moved = str(tmp_path / "first"), str(tmp_path / "moved")
    shutil.copytree(os.path.join(work, "monitor"), os.path.join(first, "monitor"))
    info = os.path.join(first, "monitor", "ganimation", "tiny", "training_info.yaml")
    with open(info) as f:
        text = f.read()
    with open(info, "w") as f:
        f.write(text.replace(work, first))  # as if trained in `first`
    os.rename(first, moved)
    result = run_ok("test_ganimation.py", os.path.join(moved, "monitor", "ganimation", "tiny"),
                    "-n", "1", "--num-steps", "1")
    assert len(os.listdir(os.path.join(moved, "results", "ganimation", "tiny"))) == 1
    assert not os.path.exists(first)
    assert "loaded netG_ganimation parameters from {}".format(moved) in result.stdout


def test_test_script_edits_a_photo_and_pastes_it_back(trained_run, tmp_path):
    import skimage.data
    from utils.image_io import write_image
    run_dir, _ = trained_run
    photo_path = str(tmp_path / "astronaut.jpg")
    write_image(photo_path, skimage.data.astronaut())
    photo = read_rgb(photo_path)
    box = detect_face_box(photo)
    assert box is not None
    x0, y0, side = box
    assert 150 < x0 + side / 2 < 300 and 60 < y0 + side / 2 < 200  # the astronaut's face

    out = tmp_path / "photo"
    result = run_ok("test_ganimation.py", run_dir, "--image", photo_path, "--aus",
                    "AU12=4,AU25=3", "--num-steps", "2", "--paste-back", "--as-gif",
                    "--out-dir", out)
    assert "face at x={} y={} size {}".format(x0, y0, side) in result.stdout
    pasted = read_rgb(str(out / "astronaut_AU12-4_AU25-3_pasted.png"))
    assert pasted.shape == photo.shape
    outside = np.ones(photo.shape[:2], dtype=bool)
    outside[y0:y0 + side, x0:x0 + side] = False
    np.testing.assert_array_equal(pasted[outside], photo[outside])
    assert np.abs(pasted[~outside].astype(int) - photo[~outside]).max() > 0
    assert read_rgb(str(out / "astronaut_AU12-4_AU25-3.png")).shape == (32, 3 * 32, 3)
    frames = list(read_video_frames(str(out / "astronaut_AU12-4_AU25-3.gif")))
    assert len(frames) == 2 * 3 and frames[0].shape == photo.shape
    # A second edit of the same photo gets files of its own.
    run_ok("test_ganimation.py", run_dir, "--image", photo_path, "--aus", "au12=1.5",
           "--num-steps", "1", "--out-dir", out)
    assert os.path.isfile(str(out / "astronaut_AU12-1.5.png"))
    assert os.path.isfile(str(out / "astronaut_AU12-4_AU25-3.png"))

    # Expression transfer from a test image, source AUs from the critic.
    run_ok("test_ganimation.py", run_dir, "--image", photo_path, "--num-steps", "1",
           "--out-dir", tmp_path / "transfer")
    assert len(os.listdir(str(tmp_path / "transfer"))) == 1

    blank = str(tmp_path / "blank.png")
    write_image(blank, np.full((64, 64, 3), 128, np.uint8))
    result = run_script("test_ganimation.py", run_dir, "--image", blank, "--aus", "AU12=1")
    assert result.returncode == 2 and "no face found" in result.stderr


def test_gif_writer_can_keep_repeated_frames(tmp_path):
    frames = [np.full((8, 10, 3), v, np.uint8) for v in (10, 10, 200, 200, 10)]
    path = str(tmp_path / "repeat.gif")
    write_video(path, frames, fps=10, keep_repeated_frames=True)
    read = list(read_video_frames(path))
    assert len(read) == 5
    assert [int(f.mean()) for f in read] == [10, 10, 200, 200, 10]


def test_sample_config_matches_the_defaults():
    from utils.config import load_config
    config = load_config(DEFAULTS, os.path.join(REPO_ROOT, "config", "ganimation_synthetic.yaml"))
    size, depth = config["data"]["image_size"], config["model"]["d_repeat_num"]
    assert size % (2 ** depth) == 0 and size // 2 ** depth == 2


def test_colour_cycle_term_adds_its_weighted_l1(celeba):
    """``lambda_color_cycle`` adds exactly its term to the generator's loss: the
    colour mask of the way back (the fake edited to the face's AUs) against the face."""
    graph, _ = graph_on_a_fixed_batch(celeba, tiny_config())
    graph.loss_G.forward()
    plain = float(graph.loss_G.d)
    weighted = TrainingGraph(tiny_config(lambda_color_cycle=3.0), 4)
    weighted.fill((graph.real.d, graph.real_aus.d, graph.target_aus.d))
    weighted.loss_G.forward()

    fake = nn.Variable.from_numpy_array(graph.fake.d)
    _, color_back, _ = edit_faces(fake, nn.Variable.from_numpy_array(graph.real_aus.d),
                                  tiny_config()["model"])
    color_back.forward()
    expected = 3.0 * np.abs(color_back.d - graph.real.d).mean()
    assert expected > 0.05
    assert np.isclose(float(weighted.loss_G.d) - plain, expected, rtol=1e-4)
