"""ReenactGAN scripts end to end on tiny synthetic data, learning, resume, bad input."""
import glob
import os
import shutil
import subprocess
import sys

import imageio.v3 as iio
import nnabla as nn
import nnabla.functions as F
import nnabla.solvers as S
import numpy as np
import pytest
import yaml

from reenactgan import models, test_decoder, test_reenactment, test_transformer
from reenactgan import train_decoder, train_encoder, train_transformer
from reenactgan.data import CelebVSource, WFLWSource
from reenactgan.vgg16 import VGG16_SCOPE, vgg16_features
from tests.conftest import REPO_ROOT, write_celebv_and_wflw
from utils.batching import BatchIterator
from utils.checkpoint import save_parameters_atomic
from utils.user_errors import run_main

PREPROCESS = {"resize_size": [64, 64], "line_thickness": 3, "gaussian_kernel": [5, 5],
              "gaussian_sigma": 3.0, "port_compatible_boundaries": False}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Synthetic CelebV (split 6 + 2) and WFLW caches, plus fixed Align/PCA/VGG files."""
    root = tmp_path_factory.mktemp("reenactgan")
    celebv, _ = write_celebv_and_wflw(root)
    weights = {}
    for scope, build in (("Align", lambda: models.align_resnet(nn.Variable((2, 15, 64, 64)))),
                         ("PCA", lambda: models.pca_projection(nn.Variable((2, 212)))),
                         (VGG16_SCOPE, lambda: vgg16_features(nn.Variable((1, 3, 256, 256))))):
        nn.clear_parameters()
        nn.random.seed(0)
        with nn.parameter_scope(scope):
            build()
        weights[scope] = str(root / "{}.h5".format(scope))
        save_parameters_atomic(weights[scope], scope)
    nn.clear_parameters()
    return {"root": root, "celebv": celebv, "weights": weights,
            "logdir": str(root / "tmp.monitor"), "results": str(root / "tmp.result")}


def write_yaml(path, data):
    with open(str(path), "w") as f:
        yaml.safe_dump(data, f)
    return str(path)


def only_run(folder):
    runs = [p for p in glob.glob(os.path.join(folder, "*")) if os.path.isdir(p)]
    assert len(runs) == 1, runs
    return runs[0]


def series(path):
    with open(path) as f:
        return [(int(line.split()[0]), float(line.split()[1])) for line in f if line.strip()]


@pytest.fixture(scope="module")
def encoder_run(workspace):
    conf = write_yaml(workspace["root"] / "encoder.yaml", {
        "logdir": workspace["logdir"], "path": {"data_dir": str(workspace["root"] / "WFLW_heatmaps")},
        "model": {"planes": 4, "num_stacks": 2, "hourglass_depth": 1},
        "train": {"epochs": 1, "batch_size": 2, "augmentation": True, "loader_threads": 1},
        "test": {"batch_size": 3}, "monitor": {"interval": 1, "num_images": 2}})
    train_encoder.main(["--conf", conf, "--context", "cpu", "--info", "tiny"])
    return only_run(os.path.join(workspace["logdir"], "encoder"))


def test_encoder_training_writes_info_parameters_and_metrics(encoder_run):
    info = yaml.safe_load(open(os.path.join(encoder_run, "training_info.yaml")))
    assert info["model"]["planes"] == 4 and info["experiment_name"].endswith("_tiny")
    assert os.path.isfile(os.path.join(encoder_run, "model", "model_epoch-0.h5"))
    assert os.path.isfile(os.path.join(encoder_run, "model", "best_model.h5"))
    assert len(series(os.path.join(encoder_run, "loss_total.series.txt"))) == 3  # 6 / 2 batches
    (epoch, distance), = series(os.path.join(encoder_run, "val_boundary_distance.series.txt"))
    assert epoch == 0 and 0 <= distance <= 16
    assert os.path.isfile(os.path.join(encoder_run, "result_val", "000000.png"))


@pytest.fixture(scope="module")
def transformer_run(workspace, encoder_run):
    conf = write_yaml(workspace["root"] / "transformer.yaml", {
        "logdir": workspace["logdir"], "train_dir": workspace["celebv"],
        "src_celeb_name": "Person_A", "trg_celeb_name": "Person_B",
        "boundary_source": "encoder",
        "encoder": {"config": os.path.join(encoder_run, "training_info.yaml")},
        "edge_filter": True, "model": {"ngf": 4, "n_blocks": 1, "ndf": 4},
        "train": {"epochs": 1, "batch_size": 2, "augmentation": True, "loader_threads": 1,
                  "shape_loss": {"lambda": 10.0,
                                 "align_param_path": workspace["weights"]["Align"],
                                 "PCA_param_path": workspace["weights"]["PCA"]}},
        "test": {"logdir": workspace["results"]},
        "monitor": {"interval": 1, "image_interval": 1}})
    train_transformer.main(["--conf", conf, "--context", "cpu"])
    return only_run(os.path.join(workspace["logdir"], "transformer", "Person_A2Person_B"))


def test_transformer_training_and_test_script(transformer_run, workspace):
    for name in ("netG_transformer_A2B_0.h5", "netG_transformer_B2A_0.h5",
                 "netD_transformer_A_0.h5", "netD_transformer_B_0.h5", "training_info.yaml"):
        assert os.path.isfile(os.path.join(transformer_run, name)), name
    shape = series(os.path.join(transformer_run, "loss_shape_A.series.txt"))
    assert len(shape) == 3 and all(np.isfinite(v) and v > 0 for _, v in shape)
    test_transformer.main([os.path.join(transformer_run, "training_info.yaml"), "-n", "2",
                           "--context", "cpu"])
    results = sorted(glob.glob(os.path.join(workspace["results"], "transformer", "*", "*",
                                            "result", "*.png")))
    assert len(results) == 2
    assert iio.imread(results[0]).shape == (64, 192, 3)


@pytest.fixture(scope="module")
def decoder_run(workspace):
    conf = write_yaml(workspace["root"] / "decoder.yaml", {
        "logdir": workspace["logdir"], "train_dir": workspace["celebv"],
        "trg_celeb_name": "Person_B", "model": {"ngf": 4, "ndf": 4},
        "train": {"epochs": 1, "batch_size": 2, "loader_threads": 1,
                  "feature_loss": {"lambda": 10.0,
                                   "vgg16_param_path": workspace["weights"][VGG16_SCOPE]}},
        "test": {"logdir": workspace["results"]},
        "monitor": {"interval": 1, "image_interval": 1, "checkpoint_interval": 1}})
    train_decoder.main(["--conf", conf, "--context", "cpu"])
    return only_run(os.path.join(workspace["logdir"], "decoder", "Person_B"))


def test_decoder_training_and_test_script(decoder_run, workspace):
    assert os.path.isfile(os.path.join(decoder_run, "netG_decoder_0.h5"))
    assert os.path.isfile(os.path.join(decoder_run, "netD_decoder_0.h5"))
    vgg = series(os.path.join(decoder_run, "vgg_feature_loss.series.txt"))
    assert len(vgg) == 3 and all(v > 0 for _, v in vgg)
    test_decoder.main([decoder_run, "-n", "2", "--context", "cpu"])
    results = sorted(glob.glob(os.path.join(workspace["results"], "decoder", "Person_B", "*",
                                            "result", "*.png")))
    assert len(results) == 2
    assert iio.imread(results[0]).shape == (256, 768, 3)


def test_resume_continues_the_iteration_count(decoder_run, workspace):
    more = write_yaml(workspace["root"] / "more_epochs.yaml", {"train": {"epochs": 2}})
    train_decoder.main(["--resume", decoder_run, "--conf", more, "--context", "cpu"])
    iterations = [i for i, _ in series(os.path.join(decoder_run, "L1_loss.series.txt"))]
    assert iterations == list(range(6))  # 0-2 from the first run, 3-5 after resuming
    checkpoints = sorted(os.listdir(os.path.join(decoder_run, "checkpoints")))
    assert checkpoints[-1] == "iter_00000006" and len(checkpoints) == 3  # keep_last
    assert os.path.isfile(os.path.join(decoder_run, "netG_decoder_1.h5"))


def test_reenactment_writes_panels_and_videos(workspace, encoder_run, transformer_run,
                                              decoder_run, tmp_path):
    out = tmp_path / "reenactment"
    mp4, gif = str(tmp_path / "chain.mp4"), str(tmp_path / "chain.gif")
    test_reenactment.main([
        "--encoder-config", os.path.join(encoder_run, "training_info.yaml"),
        "--transformer-config", os.path.join(transformer_run, "training_info.yaml"),
        "--decoder-config", os.path.join(decoder_run, "training_info.yaml"),
        "--src-celeb-name", "Person_A", "--trg-celeb-name", "Person_B", "-n", "2",
        "--batch-size", "3", "--video", mp4, gif, "--out-dir", str(out), "--context", "cpu"])
    panels = sorted(glob.glob(str(out / "Person_A2Person_B" / "*" / "result" / "*-000.png")))
    assert [os.path.basename(p) for p in panels] == ["000000-000.png", "000001-000.png"]
    panel = iio.imread(panels[0])
    assert panel.shape == (256, 1280, 3)
    assert panel[:, 1024:].max() > 100  # the ground-truth boundary of the source
    assert len(iio.imread(mp4, index=None)) == 2
    assert os.path.getsize(gif) > 0


# --- learning on a fixed batch ----------------------------------------------------

def fall(loss, solver, steps, inputs_fixed=True):
    values = []
    for _ in range(steps):
        loss.forward()
        values.append(float(loss.d))
        solver.zero_grad()
        loss.backward()
        solver.update()
    return values


def test_encoder_learns_a_fixed_batch(workspace):
    nn.clear_parameters()
    nn.random.seed(1)
    source = WFLWSource(str(workspace["root"] / "WFLW_heatmaps"), "train", PREPROCESS)
    images, maps = zip(*[source.get(i) for i in range(2)])
    x = nn.Variable.from_numpy_array(np.stack(images))
    t = nn.Variable.from_numpy_array(np.stack(maps))
    with nn.parameter_scope("enc"):
        preds = models.stacked_hourglass_net(x, planes=8, num_stacks=1, hourglass_depth=2)
        solver = S.Adam(2e-3)
        solver.set_parameters(nn.get_parameters())
    values = fall(F.mean(F.squared_error(preds[-1], t)), solver, 30)
    assert values[-1] < 0.5 * values[0]


def test_transformer_cycle_loss_falls_on_a_fixed_batch(workspace):
    nn.clear_parameters()
    nn.random.seed(2)
    maps = [CelebVSource(workspace["celebv"], p, "train", PREPROCESS).get(i)[0]
            for p in ("Person_A", "Person_B") for i in range(2)]
    real_A = nn.Variable.from_numpy_array(np.stack(maps[:2]))
    with nn.parameter_scope("A2B"):
        fake_B = models.netG_transformer(real_A, ngf=8, n_blocks=2)
    with nn.parameter_scope("B2A"):
        recon_A = models.netG_transformer(fake_B, ngf=8, n_blocks=2)
    solver = S.Adam(2e-3, 0.5)
    solver.set_parameters(nn.get_parameters())
    values = fall(F.mean(F.absolute_error(recon_A, real_A)), solver, 30)
    assert values[-1] < 0.5 * values[0]


def test_decoder_l1_falls_on_a_fixed_batch(workspace):
    nn.clear_parameters()
    nn.random.seed(3)
    source = CelebVSource(workspace["celebv"], "Person_B", "train", PREPROCESS,
                          outputs=("image", "heatmap"))
    images, maps = zip(*[source.get(i) for i in range(2)])
    real = nn.Variable.from_numpy_array(np.stack(images))
    boundary = nn.Variable.from_numpy_array(np.stack(maps))
    with nn.parameter_scope("dec"):
        fake = models.netG_decoder(boundary, ngf=8, dropout=False)
        solver = S.Adam(2e-3, 0.5)
        solver.set_parameters(nn.get_parameters())
    values = fall(F.mean(F.absolute_error(fake, real)), solver, 30)
    assert values[-1] < 0.6 * values[0]


# --- data order and sharding ----------------------------------------------------------

class Numbers:
    def __len__(self):
        return 10

    def get(self, index, rng):
        return (np.array([index], np.float32), np.array([rng.uniform()], np.float32))


def test_batches_shard_by_rank_and_resume_exactly():
    shards = [BatchIterator(Numbers(), 1, seed=3, rank=r, size=2, threads=1) for r in (0, 1)]
    seen = [set(np.concatenate([s.next()[0].ravel() for _ in range(len(s))])) for s in shards]
    assert not seen[0] & seen[1] and len(seen[0] | seen[1]) == 10
    loader = BatchIterator(Numbers(), 3, seed=4, threads=1)
    for _ in range(4):  # into the second epoch
        loader.next()
    state = loader.state()
    expected = [loader.next() for _ in range(3)]
    resumed = BatchIterator(Numbers(), 3, seed=4, threads=1)
    resumed.restore(state)
    for batch in expected:
        again = resumed.next()
        assert all(np.array_equal(a, b) for a, b in zip(batch, again))


# --- bad input ----------------------------------------------------------------------

def run_and_capture(module, argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_main(module.main, argv)
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    return err


def test_bad_inputs_give_one_line_errors(workspace, decoder_run, capsys, tmp_path):
    typo = write_yaml(tmp_path / "typo.yaml", {"train": {"lrr": 0.1}})
    err = run_and_capture(train_decoder, ["--conf", typo, "--context", "cpu"], capsys)
    assert "unknown key 'train.lrr'" in err and "lr" in err
    nobody = write_yaml(tmp_path / "nobody.yaml", {
        "train_dir": workspace["celebv"], "src_celeb_name": "Nobody",
        "trg_celeb_name": "Person_B", "logdir": str(tmp_path / "logs"),
        "train": {"shape_loss": {"lambda": 0}}})
    err = run_and_capture(train_transformer, ["--conf", nobody, "--context", "cpu"], capsys)
    assert "person 'Nobody' not found" in err and "Person_A" in err
    no_align = write_yaml(tmp_path / "no_align.yaml", {
        "train_dir": workspace["celebv"], "src_celeb_name": "Person_A",
        "trg_celeb_name": "Person_B", "logdir": str(tmp_path / "logs"),
        "train": {"shape_loss": {"align_param_path": str(tmp_path / "missing.h5")}}})
    err = run_and_capture(train_transformer, ["--conf", no_align, "--context", "cpu"], capsys)
    assert "convert_weights.py align" in err and "lambda: 0" in err
    soon = write_yaml(tmp_path / "soon.yaml", {
        "train_dir": workspace["celebv"], "src_celeb_name": "Person_A",
        "trg_celeb_name": "Person_B", "logdir": str(tmp_path / "soon_logs"),
        "train": {"shape_loss": {"lambda": 0}, "lr_decay_start_at": "soon"}})
    err = run_and_capture(train_transformer, ["--conf", soon, "--context", "cpu"], capsys)
    assert "train.lr_decay_start_at" in err and "'soon'" in err
    assert not os.path.exists(str(tmp_path / "soon_logs"))  # nothing written
    negative = write_yaml(tmp_path / "negative.yaml", {
        "train_dir": workspace["celebv"], "src_celeb_name": "Person_A",
        "trg_celeb_name": "Person_B", "logdir": str(tmp_path / "negative_logs"),
        "train": {"shape_loss": {"lambda": 0}, "identity_loss": {"foreground_weight": -2}}})
    err = run_and_capture(train_transformer, ["--conf", negative, "--context", "cpu"], capsys)
    assert "train.identity_loss.foreground_weight" in err and "-2" in err
    assert not os.path.exists(str(tmp_path / "negative_logs"))
    err = run_and_capture(test_decoder, [decoder_run, "--param-file", str(tmp_path / "no.h5"),
                                         "--context", "cpu"], capsys)
    assert "not found" in err
    # Parameters of a wider decoder do not fit this run's network.
    nn.clear_parameters()
    with nn.parameter_scope("wide"):
        models.netG_decoder(nn.Variable((1, 15, 64, 64)), ngf=8)
    wide = save_parameters_atomic(str(tmp_path / "wide.h5"), "wide")
    err = run_and_capture(test_decoder, [decoder_run, "--param-file", wide, "--context", "cpu"],
                          capsys)
    assert "shape" in err


def _place_workspace(workspace, where):
    """A copy of the workspace whose runs record ``where`` as the place they were trained."""
    shutil.copytree(str(workspace["root"]), where)
    for info in glob.glob(os.path.join(where, "tmp.monitor", "**", "training_info.yaml"),
                          recursive=True):
        with open(info) as f:
            text = f.read()
        with open(info, "w") as f:
            f.write(text.replace(str(workspace["root"]), where))


def test_a_moved_run_finds_its_data_and_encoder_and_writes_under_its_new_place(
        workspace, transformer_run, decoder_run, tmp_path, capsys):
    first, moved = str(tmp_path / "first"), str(tmp_path / "moved")
    _place_workspace(workspace, first)
    os.rename(first, moved)  # the recorded paths (data, encoder run, results) are gone
    relative = os.path.relpath(transformer_run, str(workspace["root"]))
    test_transformer.main([os.path.join(moved, relative), "-n", "1", "--context", "cpu"])
    out = capsys.readouterr().out
    assert "the run moved from {}".format(first) in out
    assert "encoder.config read from {}".format(moved) in out
    assert glob.glob(os.path.join(moved, "tmp.result", "transformer", "*", "*", "result",
                                  "*.png"))
    assert not os.path.exists(first)  # nothing written where the run used to be
    # The loaded parameters are named, from the new place.
    assert "loaded netG_transformer/netG_A2B parameters from {}".format(moved) in out


def test_a_run_whose_data_is_gone_names_the_option_to_pass(workspace, decoder_run, tmp_path,
                                                          capsys):
    place = str(tmp_path / "place")
    _place_workspace(workspace, place)
    run = os.path.join(place, os.path.relpath(decoder_run, str(workspace["root"])))
    shutil.rmtree(os.path.join(place, os.path.relpath(workspace["celebv"],
                                                      str(workspace["root"]))))
    err = run_and_capture(test_decoder, [run, "--context", "cpu"], capsys)
    assert "train_dir" in err and "not found" in err and "--data-dir" in err
    test_decoder.main([run, "-n", "1", "--context", "cpu", "--data-dir", workspace["celebv"],
                       "--out-dir", str(tmp_path / "out")])
    assert len(glob.glob(str(tmp_path / "out" / "*.png"))) == 1


def test_a_run_folder_as_the_port_publishes_it_is_tested(workspace, decoder_run, tmp_path,
                                                         capsys):
    # The port's training_info.yaml (its keys and value forms) beside a weights.h5.
    with open(os.path.join(REPO_ROOT, "tests", "data", "port_configs", "decoder.yaml")) as f:
        info = yaml.safe_load(f)
    info.update(train_dir=workspace["celebv"], trg_celeb_name="Person_B",
                model={"ngf": 4, "ndf": 4})
    published = tmp_path / "pretrained_weights" / "decoder" / "Person_B"
    published.mkdir(parents=True)
    write_yaml(published / "training_info.yaml", info)
    shutil.copy(os.path.join(decoder_run, "netG_decoder_0.h5"), str(published / "weights.h5"))
    test_decoder.main([str(published), "-n", "1", "--context", "cpu",
                       "--out-dir", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert "ignoring isTrain" in out and "train.with_memory_cache" in out
    assert "loaded netG_decoder parameters from {}".format(published / "weights.h5") in out
    assert len(glob.glob(str(tmp_path / "out" / "*.png"))) == 1


def _nested_update(base, changes):
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _nested_update(base[key], value)
        else:
            base[key] = value
    return base


def test_the_ports_default_configs_train_and_drive_the_reenactment(workspace, tmp_path, capsys):
    # Each of the port's configs as a YAML of its own (its keys and value forms), with
    # only what this machine needs changed: paths, tiny networks, one epoch.
    logdir = str(tmp_path / "tmp.monitor")

    def port_yaml(name, changes):
        with open(os.path.join(REPO_ROOT, "tests", "data", "port_configs", name + ".yaml")) as f:
            config = _nested_update(yaml.safe_load(f), changes)
        config.update(logdir=logdir, experiment_name="port", context="cpu")
        return write_yaml(tmp_path / (name + ".yaml"), config)

    train_encoder.main(["--conf", port_yaml("encoder", {
        "path": {"data_dir": str(workspace["root"] / "WFLW_heatmaps")}, "finetune": None,
        "model": {"planes": 4, "num_stacks": 1, "hourglass_depth": 1},
        "train": {"epochs": 1, "batch_size": 2}, "test": {"batch_size": 2}})])
    train_transformer.main(["--conf", port_yaml("transformer", {
        "train_dir": workspace["celebv"], "src_celeb_name": "Person_A",
        "trg_celeb_name": "Person_B", "model": {"ngf": 4, "n_blocks": 1, "ndf": 4},
        "train": {"epochs": 1, "batch_size": 2,
                  "shape_loss": {"align_param_path": workspace["weights"]["Align"],
                                 "PCA_param_path": workspace["weights"]["PCA"]}}})])
    train_decoder.main(["--conf", port_yaml("decoder", {
        "train_dir": workspace["celebv"], "trg_celeb_name": "Person_B",
        "model": {"ngf": 4, "ndf": 4},
        "train": {"epochs": 1, "batch_size": 2,
                  "feature_loss": {"vgg16_param_path": workspace["weights"][VGG16_SCOPE]}}})])
    notes = capsys.readouterr().out
    assert notes.count("keys of the public NNabla port that have no effect here") == 3
    runs = {"encoder": os.path.join(logdir, "encoder", "port"),
            "transformer": os.path.join(logdir, "transformer", "Person_A2Person_B", "port"),
            "decoder": os.path.join(logdir, "decoder", "Person_B", "port")}
    # The runs are in the port's layout, and their training_info.yaml drive the chain.
    assert os.path.isfile(os.path.join(runs["encoder"], "model", "model_epoch-0.h5"))
    out = tmp_path / "reenactment"
    test_reenactment.main([
        "--encoder-config", runs["encoder"], "--transformer-config", runs["transformer"],
        "--decoder-config", runs["decoder"], "--src-celeb-name", "Person_A",
        "--trg-celeb-name", "Person_B", "-n", "1", "--out-dir", str(out), "--context", "cpu"])
    assert len(glob.glob(str(out / "Person_A2Person_B" / "port" / "result" / "*.png"))) == 1


def test_reenactment_checks_persons(workspace, encoder_run, transformer_run, decoder_run,
                                    capsys):
    common = ["--encoder-config", os.path.join(encoder_run, "training_info.yaml"),
              "--transformer-config", os.path.join(transformer_run, "training_info.yaml"),
              "--decoder-config", os.path.join(decoder_run, "training_info.yaml"),
              "--context", "cpu"]
    err = run_and_capture(test_reenactment, common + ["--src-celeb-name", "Person_B",
                                                      "--trg-celeb-name", "Person_B"], capsys)
    assert "not a source of the transformer" in err
    err = run_and_capture(test_reenactment, common + ["--src-celeb-name", "Person_A",
                                                      "--trg-celeb-name", "Person_A"], capsys)
    assert "differs from the transformer's target" in err


def test_script_errors_have_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "reenactgan/train_encoder.py", "--context", "cpu",
                             "--conf", str(tmp_path / "missing.yaml")], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: config file")


def test_encoder_boundary_cache_gives_the_same_maps_and_skips_known_batches(encoder_run):
    from reenactgan.run_files import EncoderBoundaries
    nn.clear_parameters()
    info = os.path.join(encoder_run, "training_info.yaml")
    plain = EncoderBoundaries(info, batch_size=2)
    rng = np.random.RandomState(0)
    batches = [rng.uniform(-1, 1, (2, 3, 256, 256)).astype(np.float32) for _ in range(3)]
    expected = [plain(b) for b in batches]
    nn.clear_parameters()
    cached = EncoderBoundaries(info, batch_size=2, cache_size=4)
    forwards = []
    encode = cached._encode
    cached._encode = lambda images: forwards.append(1) or encode(images)
    for _ in range(2):
        for batch, truth in zip(batches[:2], expected[:2]):
            assert np.array_equal(cached(batch), truth)
    assert len(forwards) == 2  # the second pass came from the cache
    cached(batches[2])  # 6 maps seen, 4 kept: the oldest batch is forgotten
    assert len(cached.cache) == 4 and len(forwards) == 3
    assert np.array_equal(cached(batches[0]), expected[0]) and len(forwards) == 4
    nn.clear_parameters()
    # Batch statistics tie a sample's map to its batch: no cache then.
    assert EncoderBoundaries(info, batch_size=2, batch_stat=True, cache_size=4).cache_size == 0
    nn.clear_parameters()


def test_transformer_learning_rates_are_constant_or_decay_linearly_to_zero():
    train = {"lr": 4e-4, "lr_D_ratio": 0.5, "epochs": 8, "lr_decay_start_at": None}
    assert train_transformer.learning_rates(train, 1999, 250) == (4e-4, 2e-4)
    train["lr_decay_start_at"] = 4
    assert train_transformer.learning_rates(train, 999, 250) == (4e-4, 2e-4)
    lr_G, lr_D = train_transformer.learning_rates(train, 1500, 250)  # halfway down
    assert np.isclose(lr_G, 2e-4) and np.isclose(lr_D, 1e-4)
    lr_G, _ = train_transformer.learning_rates(train, 1999, 250)  # the last iteration
    assert 0 < lr_G < 1e-6


def test_encoder_boundaries_are_clipped_to_the_heatmap_range(encoder_run):
    from reenactgan.run_files import EncoderBoundaries, encoder_stacks, load_encoder
    from utils.checkpoint import load_network_parameters
    nn.clear_parameters()
    info = os.path.join(encoder_run, "training_info.yaml")
    images = np.random.RandomState(1).uniform(-1, 1, (2, 3, 256, 256)).astype(np.float32)
    clipped = EncoderBoundaries(info, batch_size=2)(images)
    nn.clear_parameters()
    config, param_file = load_encoder(info)
    raw = encoder_stacks(nn.Variable.from_numpy_array(images), config)[-1]
    load_network_parameters(param_file, config.get("model_name", "model"))
    raw.forward()
    nn.clear_parameters()
    assert raw.d.min() < 0  # the bare network leaves the range ...
    assert np.allclose(clipped, np.clip(raw.d, 0, 1), atol=1e-6)  # ... the boundaries do not
