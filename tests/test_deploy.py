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
"""NNP/ONNX export, the export cache and the onnxruntime backend of the test scripts.

Skipped without the deploy packages (requirements-deploy.txt and
nnabla-converter); tiny runs are trained here so that the exported networks
carry real parameters and running statistics.
"""
import glob
import json
import os
import shutil
import subprocess
import sys

import h5py
import nnabla as nn
import numpy as np
import pytest
import yaml

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("nnabla.utils.converter.onnx")

import export  # noqa: E402
from ganimation import test_ganimation  # noqa: E402
from ganimation import train_ganimation  # noqa: E402
from reenactgan import test_reenactment, train_decoder, train_encoder, \
    train_transformer  # noqa: E402
from reenactgan.run_files import decoder_param_file, encoder_param_file, load_run_config, \
    transformer_param_file  # noqa: E402
from tests.conftest import REPO_ROOT  # noqa: E402
from utils import deploy, synthetic_faces  # noqa: E402
from utils.image_io import read_rgb, read_video_frames, video_fps, write_video  # noqa: E402
from utils.user_errors import UserError  # noqa: E402

PIXEL_TOLERANCE = 2  # uint8 levels between the two backends' pictures
OUTPUT_TOLERANCE = 1e-4
# With batch statistics the tiny encoder (4 planes, batch 2) divides by small
# variances, which amplifies the different summation order of the reductions
# to a few 1e-4; that mode is not the deployment default.
BATCH_STAT_TOLERANCE = 1e-3


def write_yaml(path, data):
    path.write_text(yaml.safe_dump(data))
    return str(path)


def only_run(folder):
    runs = [p for p in glob.glob(os.path.join(folder, "*")) if os.path.isdir(p)]
    assert len(runs) == 1, runs
    return runs[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Tiny trained encoder, transformer, decoder and GANimation runs (losses off where slow)."""
    root = tmp_path_factory.mktemp("deploy")
    logdir = str(root / "monitor")
    celebv = root / "CelebV"
    synthetic_faces.write_celebv(str(celebv), ["Person_A", "Person_B"], 7, seed=5)
    subprocess.run(["bash", os.path.join(REPO_ROOT, "split_celebv.sh"), str(celebv), "4"],
                   check=True, capture_output=True)
    import preprocess
    synthetic_faces.write_wflw(str(root / "WFLW"), 4, 2, seed=6)
    for mode in ("train", "test"):
        preprocess.main(["--dataset", "WFLW", "--mode", mode, "--src-dir", str(root / "WFLW"),
                         "--out-dir", str(root / "WFLW_heatmaps")])
    nn.clear_parameters()
    train_encoder.main(["--context", "cpu", "--conf", write_yaml(root / "encoder.yaml", {
        "logdir": logdir, "path": {"data_dir": str(root / "WFLW_heatmaps")},
        "model": {"planes": 4, "num_stacks": 2, "hourglass_depth": 2},
        "train": {"epochs": 1, "batch_size": 2, "loader_threads": 1},
        "test": {"batch_size": 2}, "monitor": {"interval": 1, "num_images": 1}})])
    encoder = only_run(os.path.join(logdir, "encoder"))
    nn.clear_parameters()
    train_transformer.main(["--context", "cpu", "--conf", write_yaml(root / "transformer.yaml", {
        "logdir": logdir, "train_dir": str(celebv), "src_celeb_name": "Person_A",
        "trg_celeb_name": "Person_B", "model": {"ngf": 4, "n_blocks": 1, "ndf": 4},
        "train": {"epochs": 1, "batch_size": 2, "loader_threads": 1,
                  "shape_loss": {"lambda": 0}},
        "test": {"logdir": str(root / "results")},
        "monitor": {"interval": 1, "image_interval": 100}})])
    transformer = only_run(os.path.join(logdir, "transformer", "Person_A2Person_B"))
    nn.clear_parameters()
    train_decoder.main(["--context", "cpu", "--conf", write_yaml(root / "decoder.yaml", {
        "logdir": logdir, "train_dir": str(celebv), "trg_celeb_name": "Person_B",
        "model": {"ngf": 4, "ndf": 4},
        "train": {"epochs": 1, "batch_size": 2, "loader_threads": 1,
                  "feature_loss": {"lambda": 0}},
        "test": {"logdir": str(root / "results")},
        "monitor": {"interval": 1, "image_interval": 100}})])
    decoder = only_run(os.path.join(logdir, "decoder", "Person_B"))
    celeba = str(root / "celebA")
    synthetic_faces.write_ganimation(celeba, num_images=12, test_fraction=0.25, seed=0,
                                     num_identities=2)
    nn.clear_parameters()
    train_ganimation.main(["--context", "cpu", "--data-dir", celeba, "--conf", write_yaml(
        root / "ganimation.yaml", {
            "experiment_name": "tiny", "logdir": logdir,
            "data": {"image_size": 32, "loader_threads": 1},
            "model": {"g_conv_dim": 8, "g_repeat_num": 1, "d_conv_dim": 8, "d_repeat_num": 3,
                      "instance_norm_affine": True, "do_saturate_mask": False},
            "train": {"batch_size": 3, "epochs_no_decay": 1, "epochs_decay": 0,
                      "critic_iterations": 2},
            "test": {"logdir": str(root / "results")},
            "monitor": {"interval": 1, "image_interval": 100, "checkpoint_interval": 100}})])
    nn.clear_parameters()
    return {"root": root, "celebv": str(celebv), "encoder": encoder,
            "transformer": transformer, "decoder": decoder,
            "ganimation": os.path.join(logdir, "ganimation", "tiny")}


def run_config_and_parameters(runs, network):
    config = load_run_config(runs[network])
    finders = {"encoder": encoder_param_file, "transformer": transformer_param_file,
               "decoder": decoder_param_file,
               "ganimation": lambda c: export.find_param_file("ganimation", c, None)}
    return config, finders[network](config)


def network_inputs(runner, rng):
    arrays = []
    for name, shape in zip(runner.input_names, runner.input_shapes):
        low = 0.0 if name in ("boundary", "aus") else -1.0
        arrays.append(rng.uniform(low, 1.0, shape).astype(np.float32))
    return arrays


# ---------------------------------------------------------------- export

@pytest.mark.parametrize("batch_stat", [False, True], ids=["running", "batch_stat"])
@pytest.mark.parametrize("network", export.NETWORK_NAMES)
def test_onnx_outputs_equal_nnabla(runs, network, batch_stat):
    config, param_file = run_config_and_parameters(runs, network)
    reference = deploy.nnabla_runner(network, config, param_file, 2, batch_stat)
    exported = deploy.onnx_runner(network, config, param_file, 2, batch_stat)
    assert exported.input_names == reference.input_names
    assert exported.output_names == reference.output_names
    inputs = network_inputs(reference, np.random.RandomState(0))
    for name, want, got in zip(reference.output_names, reference(*inputs), exported(*inputs)):
        assert got.shape == want.shape, name
        tolerance = BATCH_STAT_TOLERANCE if batch_stat else OUTPUT_TOLERANCE
        assert np.abs(got - want).max() <= tolerance, (network, name)
        assert np.abs(want).max() > 1e-3, (network, name)  # not a trivially zero output


def test_rewritten_graph_equals_the_converters(runs, tmp_path):
    """The ConvTranspose rewrite and BN folding do not change the decoder's outputs."""
    import onnx
    config, param_file = run_config_and_parameters(runs, "decoder")
    nnp, plain, rewritten = (str(tmp_path / n) for n in ("d.nnp", "plain.onnx", "fast.onnx"))
    deploy.export_network("decoder", config, param_file, 1, nnp_path=nnp)
    deploy.nnp_to_onnx(nnp, plain, optimize=False)
    deploy.nnp_to_onnx(nnp, rewritten)
    ops = [n.op_type for n in onnx.load(rewritten).graph.node]
    assert "ConvTranspose" not in ops and "DepthToSpace" in ops
    assert ops.count("BatchNormalization") < \
        [n.op_type for n in onnx.load(plain).graph.node].count("BatchNormalization")
    boundary = np.random.RandomState(1).uniform(0, 1, (1, 15, 64, 64)).astype(np.float32)
    want, = deploy.OnnxRunner(plain)(boundary)
    got, = deploy.OnnxRunner(rewritten)(boundary)
    assert np.abs(got - want).max() <= 1e-5


def test_export_script_writes_nnp_and_onnx(runs, tmp_path):
    from nnabla.utils.nnp_graph import NnpLoader
    prefix = str(tmp_path / "decoder")
    export.main(["decoder", runs["decoder"], "--batch-size", "2", "-o", prefix])
    config, param_file = run_config_and_parameters(runs, "decoder")
    boundary = np.random.RandomState(2).uniform(0, 1, (2, 15, 64, 64)).astype(np.float32)
    want, = deploy.nnabla_runner("decoder", config, param_file, 2)(boundary)
    got, = deploy.OnnxRunner(prefix + ".onnx")(boundary)
    assert np.abs(got - want).max() <= OUTPUT_TOLERANCE
    nn.clear_parameters()
    network = NnpLoader(prefix + ".nnp").get_network("decoder", batch_size=2)
    network.inputs["boundary"].d = boundary
    network.outputs["face"].forward()
    assert np.abs(network.outputs["face"].d - want).max() <= OUTPUT_TOLERANCE
    nn.clear_parameters()

    export.main(["ganimation", runs["ganimation"], "--formats", "nnp", "-o",
                 str(tmp_path / "g")])
    assert os.path.isfile(str(tmp_path / "g.nnp")) and not os.path.exists(str(tmp_path / "g.onnx"))
    # All three outputs of the table, also the masks that feed the output.
    nn.clear_parameters()
    edit = NnpLoader(str(tmp_path / "g.nnp")).get_network("ganimation", batch_size=1)
    assert sorted(edit.outputs) == ["attention", "color", "output"]
    rng = np.random.RandomState(0)
    edit.inputs["face"].d = rng.uniform(-1, 1, edit.inputs["face"].shape)
    edit.inputs["aus"].d = rng.uniform(0, 1, edit.inputs["aus"].shape)
    for name in ("output", "color", "attention"):
        edit.outputs[name].forward()
    a, c = edit.outputs["attention"].d, edit.outputs["color"].d
    np.testing.assert_allclose(edit.outputs["output"].d, a * edit.inputs["face"].d + (1 - a) * c,
                               atol=1e-5)
    assert 0 < a.min() and a.max() < 1
    with pytest.raises(UserError, match="is it the encoder's run"):
        export.main(["encoder", runs["decoder"], "--param-file", param_file])
    empty_run = tmp_path / "empty_run"
    empty_run.mkdir()
    shutil.copy(os.path.join(runs["decoder"], "training_info.yaml"), str(empty_run))
    with pytest.raises(UserError, match="no decoder parameters"):
        export.main(["decoder", str(empty_run)])


def test_cache_reuses_the_export_and_follows_the_parameters(runs, tmp_path, monkeypatch):
    config, original = run_config_and_parameters(runs, "transformer")
    param_file = str(tmp_path / "netG_transformer_A2B_0.h5")
    shutil.copy(original, param_file)
    exports = []
    real_export = deploy.export_network
    monkeypatch.setattr(deploy, "export_network",
                        lambda *a, **k: exports.append(a) or real_export(*a, **k))
    first = deploy.cached_onnx("transformer", config, param_file, 1, verbose=False)
    assert os.path.dirname(first) == str(tmp_path)
    assert os.path.basename(first).startswith("netG_transformer_A2B_0.transformer.b1.")
    assert deploy.cached_onnx("transformer", config, param_file, 1, verbose=False) == first
    assert len(exports) == 1
    other_batch = deploy.cached_onnx("transformer", config, param_file, 2, verbose=False)
    assert len(exports) == 2 and os.path.isfile(first) and other_batch != first
    other_mode = deploy.cached_onnx("transformer", config, param_file, 1, batch_stat=True,
                                    verbose=False)
    assert ".batchstat.b1." in other_mode and os.path.isfile(first)

    def scale(name, node):
        if isinstance(node, h5py.Dataset) and name.endswith("/W"):
            node[...] = node[...] * 1.5

    with h5py.File(param_file, "r+") as f:  # new parameters under the same name
        f.visititems(scale)
    second = deploy.cached_onnx("transformer", config, param_file, 1, verbose=False)
    assert len(exports) == 4 and second != first
    assert not os.path.exists(first) and os.path.isfile(other_batch)
    assert os.path.isfile(other_mode)
    boundary = np.random.RandomState(3).uniform(0, 1, (1, 15, 64, 64)).astype(np.float32)
    want, = deploy.nnabla_runner("transformer", config, param_file, 1)(boundary)
    got, = deploy.OnnxRunner(second)(boundary)
    assert np.abs(got - want).max() <= OUTPUT_TOLERANCE


def test_missing_packages_say_how_to_install_them(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes the import fail
    with pytest.raises(UserError) as err:
        deploy.require_deploy_packages()
    assert "onnxruntime missing" in str(err.value)
    assert "pip install --no-deps nnabla-converter==1.39.0" in str(err.value)


# ---------------------------------------------------------------- the test scripts

def image_files(folder):
    return sorted(os.path.relpath(p, folder) for p in glob.glob(os.path.join(folder, "**", "*"),
                                                                 recursive=True)
                  if os.path.isfile(p))


def assert_close_pictures(path_a, path_b):
    if path_a.endswith((".mp4", ".gif")):
        frames_a, frames_b = list(read_video_frames(path_a)), list(read_video_frames(path_b))
        assert len(frames_a) == len(frames_b) > 0
        pairs = list(zip(frames_a, frames_b))
    else:
        pairs = [(read_rgb(path_a), read_rgb(path_b))]
    for a, b in pairs:
        assert a.shape == b.shape
        difference = np.abs(a.astype(int) - b.astype(int))
        if path_a.endswith((".mp4", ".gif")):
            # x264 and the GIF palette may send a one-level difference of the
            # panels to different codes; compare the frames on average.
            assert difference.mean() <= 1.0, path_a
        else:
            assert difference.max() <= PIXEL_TOLERANCE, path_a


def reenact(runs, out, backend, *extra):
    nn.clear_parameters()
    test_reenactment.main([
        "--encoder-config", runs["encoder"], "--transformer-config", runs["transformer"],
        "--decoder-config", runs["decoder"], "--src-celeb-name", "Person_A",
        "--trg-celeb-name", "Person_B", "--out-dir", str(out), "--context", "cpu",
        "--backend", backend] + [str(e) for e in extra])


def test_reenactment_backends_write_the_same_files(runs, tmp_path):
    for backend in ("nnabla", "onnxruntime"):
        out = tmp_path / backend
        reenact(runs, out, backend, "-n", "3", "--batch-size", "2",
                "--video", out / "chain.mp4", out / "chain.gif")
    files = image_files(str(tmp_path / "nnabla"))
    assert files == image_files(str(tmp_path / "onnxruntime"))
    assert len([f for f in files if f.endswith("-000.png")]) == 3
    assert {"chain.mp4", "chain.gif"} <= set(files)
    for name in files:
        assert_close_pictures(str(tmp_path / "nnabla" / name),
                              str(tmp_path / "onnxruntime" / name))


def test_reenactment_streams_a_video_source_to_a_video(runs, tmp_path):
    frames = [read_rgb(p) for p in sorted(glob.glob(os.path.join(
        runs["celebv"], "Person_A", "Image", "*")))[:5]]
    clip = str(tmp_path / "clip.mp4")
    write_video(clip, frames, fps=5)
    out = tmp_path / "out"
    reenact(runs, out, "onnxruntime", "--source", clip, "--batch-size", "2",
            "--video", out / "clip_reenacted.mp4")
    written = list(read_video_frames(str(out / "clip_reenacted.mp4")))
    assert len(written) == 5 and written[0].shape == (256, 1280, 3)
    assert video_fps(str(out / "clip_reenacted.mp4")) == pytest.approx(5.0)  # the source's rate
    assert len(glob.glob(str(out / "clip2Person_B" / "*" / "result" / "*.png"))) == 5


def test_ganimation_backends_write_the_same_files(runs, tmp_path):
    for backend in ("nnabla", "onnxruntime"):
        nn.clear_parameters()
        test_ganimation.main([runs["ganimation"], "-n", "2", "--num-steps", "3", "--as-gif",
                              "--save-masks", "--out-dir", str(tmp_path / backend),
                              "--context", "cpu", "--backend", backend])
    files = image_files(str(tmp_path / "nnabla"))
    assert files == image_files(str(tmp_path / "onnxruntime"))
    assert len([f for f in files if f.endswith(".gif")]) == 2
    for name in files:
        assert_close_pictures(str(tmp_path / "nnabla" / name),
                              str(tmp_path / "onnxruntime" / name))


def test_frame_groups_side_by_side_give_the_same_outputs(runs):
    config, param_file = run_config_and_parameters(runs, "decoder")
    path = deploy.cached_onnx("decoder", config, param_file, 1, verbose=False)
    boundary = np.random.RandomState(4).uniform(0, 1, (2, 15, 64, 64)).astype(np.float32)
    together = deploy.OnnxRunner(path, threads=2, streams=2)
    assert together.batch_size == 2 and together.input_shapes == [(2, 15, 64, 64)]
    alone = deploy.OnnxRunner(path, threads=1)
    want = np.concatenate([alone(boundary[i:i + 1])[0] for i in range(2)])
    got, = together(boundary)
    assert np.abs(got - want).max() <= 1e-6
    assert [deploy.parallel_streams(b, 2) for b in (1, 2, 5, 8)] == [1, 2, 1, 2]
    assert deploy.parallel_streams(6, 4) == 3
    assert deploy.parallel_streams(8, 2, batch_stat=True) == 1  # statistics of the whole batch


def test_benchmark_runs_and_reports(tmp_path):
    out = str(tmp_path / "bench.json")
    result = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "benchmarks", "inference_bench.py"), "--quick",
         "--networks", "decoder", "chain", "--batch-sizes", "1", "2", "--repeats", "1",
         "--min-seconds", "0", "--work-dir", str(tmp_path / "work"), "--json", out],
        cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| chain | 2 |" in result.stdout
    with open(out) as f:
        report = json.load(f)
    assert [(r["network"], r["batch_size"]) for r in report["results"]] == \
        [("decoder", 1), ("decoder", 2), ("chain", 1), ("chain", 2)]
    for row in report["results"]:
        for backend in ("nnabla", "onnxruntime"):
            assert row[backend]["fps"] > 0 and row[backend]["peak_rss_mb"] > 10
    assert report["machine"]["matmul_gflops_all_cores"] > 0
    assert 0 < report["decoder_efficiency"][0]["onnxruntime_fraction"]


def test_benchmark_without_onnxruntime_says_what_to_install(tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "onnxruntime.py").write_text("raise ImportError('no onnxruntime in this test')\n")
    result = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "benchmarks", "inference_bench.py"), "--quick"],
        cwd=REPO_ROOT, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=str(hidden)))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    message = result.stderr.strip().splitlines()
    assert len(message) == 1 and message[0].startswith("error:")
    assert "onnxruntime" in message[0] and "cannot be imported" in message[0]
    assert "requirements-deploy.txt" in message[0]


def test_benchmark_names_the_measurement_that_failed():
    from benchmarks import inference_bench
    # Integer arguments (as the parent passes them) and a worker that fails.
    with pytest.raises(SystemExit) as failure:
        inference_bench.spawn(["--worker", "matmul", "--repeats", 0])
    text = str(failure.value)
    assert text.startswith("error: the measurement `--worker matmul --repeats 0` failed (exit 2)")
    assert "--repeats must be at least 1" in text
