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
"""The torch-free reader and the weight converter, against real torch.save files.

The fixtures in ``tests/torch_fixtures`` were written by PyTorch 2.13 through
``make_fixtures.py`` (see its docstring); nothing here imports torch.

Set ``REENACTGAN_AUTHORS_DIR`` to the authors' ``pretrained_models`` folder
(with ``Align_40000.pth`` and ``pca_init/``) to also check their real files.
"""
import collections
import functools
import http.server
import os
import pickle
import shutil
import struct
import subprocess
import sys
import threading
import zipfile

import nnabla as nn
import numpy as np
import pytest

from reenactgan import convert_weights, models, vgg16
from utils import torch_checkpoint
from utils.checkpoint import load_parameters_checked
from utils.user_errors import UserError

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "torch_fixtures")
REPO = os.path.dirname(HERE)
SCRIPT = os.path.join(REPO, "reenactgan", "convert_weights.py")
FORMATS = ("legacy", "zip")
# Batch statistics at inference use reenactgan.models' two-pass batch norm:
# nnabla's one-pass kernel alone drifts ~1e-4 from torch in the encoder.
TOLERANCE = 1e-4


def fixture(name):
    return os.path.join(FIXTURES, name)


def silent(*args):
    pass


def one_line(err):
    text = str(err.value if hasattr(err, "value") else err)
    assert "\n" not in text
    return text


def assert_bit_exact(got, expected, name=""):
    assert got.dtype == expected.dtype, name
    assert got.shape == expected.shape, name
    assert got.flags.c_contiguous, name
    assert got.tobytes() == expected.tobytes(), name


def h5_files(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".h5"))


# ------------------------------------------------------------------ reading

@pytest.mark.parametrize("name,format,byteorder", [
    ("dtypes_legacy.pth", "legacy", "little"), ("dtypes_zip.pth", "zip", "little"),
    ("bigendian_zip.pth", "zip", "big")])
def test_dtype_fixtures_read_back_bit_exactly(name, format, byteorder):
    checkpoint = torch_checkpoint.load(fixture(name))
    expected = np.load(fixture("dtypes_expected.npz"), allow_pickle=False)
    assert list(checkpoint.obj) == list(expected.files)
    for key in expected.files:
        assert_bit_exact(checkpoint.obj[key], expected[key], key)
    assert (checkpoint.format, checkpoint.byteorder) == (format, byteorder)
    # The float64 storage was saved with location cuda:0, the rest on cpu.
    assert checkpoint.locations == ["cpu", "cuda:0"]
    assert checkpoint.dtypes["bfloat16"] == 1 and checkpoint.dtypes["bool"] == 1


def test_view_fixture_keeps_offset_and_strides():
    obj = torch_checkpoint.load(fixture("dtypes_zip.pth")).obj
    np.testing.assert_array_equal(obj["view_t"], obj["float32"][1:5, 2:9:2].T)
    assert obj["scalar"].shape == () and obj["empty"].shape == (0, 3)
    np.testing.assert_array_equal(obj["expanded"], [[1.5, -2.0]] * 3)


def test_python2_legacy_fixture_reads_back_bit_exactly():
    raw = open(fixture("py2_legacy.pth"), "rb").read()
    assert b"U\x12module.conv.weight" in raw  # Python 2 SHORT_BINSTRING keys
    state, checkpoint = torch_checkpoint.load_state_dict(fixture("py2_legacy.pth"),
                                                         return_checkpoint=True)
    expected = np.load(fixture("py2_expected.npz"), allow_pickle=False)
    assert list(state) == list(expected.files)
    for key in expected.files:
        assert_bit_exact(state[key], expected[key], key)
    assert checkpoint.format == "legacy" and checkpoint.locations == ["cuda:0"]


@pytest.mark.parametrize("network", ["align", "transformer", "transformerD", "decoder",
                                     "encoder", "vgg16"])
def test_network_fixtures_read_identically_in_both_formats(network):
    legacy = torch_checkpoint.load_state_dict(fixture(network + "_legacy.pth"))
    zipped = torch_checkpoint.load_state_dict(fixture(network + "_zip.pth"))
    assert list(legacy) == list(zipped)
    for key in legacy:
        assert_bit_exact(legacy[key], zipped[key], key)
    if network != "vgg16":
        assert any(key.endswith("num_batches_tracked") for key in legacy)


# ------------------------------------------------------------------ conversion

def run_network(network, path, x, batch_stat):
    """Outputs of the converted file's network on ``x``, built in a private scope."""
    with nn.parameter_scope("", collections.OrderedDict()):
        load_parameters_checked(path, network.scope, strict=False)
        with nn.parameter_scope(network.scope):
            outputs = network.build(nn.Variable.from_numpy_array(x), batch_stat=batch_stat)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        nn.forward_all(outputs)
        return [v.d.copy() for v in outputs]


def compare_with_torch(network, path, io_name, mode, tolerance):
    data = np.load(fixture(io_name + "_io.npz"), allow_pickle=False)
    x = data["x"].astype(np.float32)
    step = int(data["subsample"])
    outputs = run_network(network, path, x, batch_stat=(mode == "train"))
    errors = []
    for index, got in enumerate(outputs):
        if got.ndim == 4:
            got = got[:, :, ::step, ::step]
        expected = data["y_{}_{}".format(mode, index)]
        assert got.shape == expected.shape
        errors.append(float(np.abs(got - expected).max()))
    assert max(errors) < tolerance, (io_name, mode, errors)
    return errors


NETWORK_CASES = [("align", "align"), ("transformer", "transformer"),
                 ("transformerD", "transformer"), ("decoder", "decoder"), ("encoder", "encoder")]


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("name,command", NETWORK_CASES)
def test_converted_networks_reproduce_torch_in_both_bn_modes(tmp_path, name, command, format):
    out = str(tmp_path / (name + ".h5"))
    network = convert_weights.convert(command, [fixture("{}_{}.pth".format(name, format))], out,
                                      log=silent)
    compare_with_torch(network, out, name, "eval", TOLERANCE)
    compare_with_torch(network, out, name, "train", TOLERANCE)
    assert h5_files(str(tmp_path)) == [name + ".h5"]


@pytest.mark.parametrize("format", FORMATS)
def test_converted_vgg16_reproduces_torch_features(tmp_path, format):
    out = str(tmp_path / "vgg16.h5")
    network = convert_weights.convert("vgg16", [fixture("vgg16_{}.pth".format(format))], out,
                                      log=silent)
    data = np.load(fixture("vgg16_io.npz"), allow_pickle=False)
    with nn.parameter_scope("", collections.OrderedDict()):
        with nn.parameter_scope(network.scope):
            features = network.build(nn.Variable.from_numpy_array(data["x"]))
        load_parameters_checked(out, network.scope, strict=True)
        nn.forward_all(list(features.values()))
        for layer in ("relu2_2", "relu3_3"):
            assert np.abs(features[layer].d - data[layer]).max() < TOLERANCE, layer


def test_vgg16_full_size_names_and_shapes(tmp_path):
    """torchvision's layout: features.0 ... features.14 become conv1_1 ... conv3_3."""
    shapes = {0: (64, 3), 2: (64, 64), 5: (128, 64), 7: (128, 128), 10: (256, 128),
              12: (256, 256), 14: (256, 256)}
    state = collections.OrderedDict()
    for index, (out_maps, in_maps) in shapes.items():
        state["features.{}.weight".format(index)] = np.zeros((out_maps, in_maps, 3, 3), np.float32)
        state["features.{}.bias".format(index)] = np.zeros(out_maps, np.float32)
    params = convert_weights._map_state(state, convert_weights._vgg16_rule, "vgg16", "test")
    assert list(params)[:2] == ["conv1_1/conv/W", "conv1_1/conv/b"]
    network = convert_weights._save_checked(str(tmp_path / "v.h5"), params, "vgg16", silent)
    assert "widths={}".format(vgg16.VGG16_WIDTHS) in network.description


def test_conversion_maps_names_like_the_port(tmp_path):
    """A few names and layouts of the torch -> nnabla name table on the fixtures."""
    out = str(tmp_path / "align.h5")
    convert_weights.convert("align", [fixture("align_zip.pth")], out, log=silent)
    state = torch_checkpoint.load_state_dict(fixture("align_zip.pth"))
    import h5py
    with h5py.File(out, "r") as f:
        np.testing.assert_array_equal(f["mlp5/affine/W"][...], state["module.mlp.5.weight"].T)
        np.testing.assert_array_equal(f["layer8_0/downsample/bn/var"][...],
                                      state["module.model.8.0.downsample.1.running_var"]
                                      .reshape(1, -1, 1, 1))
        assert not f["layer2/bn/mean"].attrs["need_grad"] and f["layer0/conv/W"].attrs["need_grad"]
        assert len([1 for _ in _datasets(f)]) == 108
    out = str(tmp_path / "decoder.h5")
    convert_weights.convert("decoder", [fixture("decoder_legacy.pth")], out, log=silent)
    state = torch_checkpoint.load_state_dict(fixture("decoder_legacy.pth"))
    innermost = "model.model.2" + ".model.3" * 6
    with h5py.File(out, "r") as f:
        np.testing.assert_array_equal(f["up0/deconv/W"][...], state[innermost + ".model.3.weight"])
        np.testing.assert_array_equal(f["up1/bn/beta"][...].ravel(),
                                      state["model.model.2" + ".model.3" * 5 + ".model.6.bias"])


def _datasets(group):
    import h5py
    for value in group.values():
        if isinstance(value, h5py.Dataset):
            yield value
        else:
            for item in _datasets(value):
                yield item


NAMES_TABLE = os.path.join(HERE, "data", "torch_to_nnabla_names.tsv")


def test_every_tensor_of_the_names_table_maps_exactly():
    sections = collections.OrderedDict()
    for line in open(NAMES_TABLE):
        line = line.rstrip("\n")
        if line.startswith("###"):
            section = sections.setdefault(line.split()[1].rstrip(":"), [])
        elif line.strip():
            torch_name, torch_shape, name, shape = line.split("\t")
            section.append((torch_name, eval(torch_shape), name, eval(shape)))
    assert set(sections) == {"align", "encoder", "transformer_G", "transformer_D", "decoder_G",
                             "decoder_D"}
    cw = convert_weights
    for section, rows in sections.items():
        state = collections.OrderedDict((t, np.zeros(s, np.float32)) for t, s, _, _ in rows)
        if section == "align":
            state, rule = cw._strip_prefix(state, "module."), cw._align_rule
        elif section == "encoder":
            state, rule = cw._strip_prefix(state, "model.0."), cw._encoder_rule
        elif section == "transformer_G":
            rule = cw._transformer_rule(state)
        elif section == "decoder_G":
            rule = cw._decoder_rule(state)
        else:
            rule = cw._discriminator_rule
        params = cw._map_state(state, rule, section, section)
        assert [(n, p.shape) for n, p in params.items()] == [(n, s) for _, _, n, s in rows]


def test_pca_conversion_transposes_and_checks_the_inverse(tmp_path):
    rng = np.random.RandomState(0)
    size = models.ALIGN_OUTPUTS
    basis, _ = np.linalg.qr(rng.randn(size, size))
    sigma = np.sort(rng.uniform(0.1, 90, size))[::-1]
    mean = rng.uniform(10, 50, size)
    weight = np.diag(1 / sigma).dot(basis.T)
    folder = tmp_path / "pca_init"
    folder.mkdir()
    np.savetxt(str(folder / "weight_212.txt"), weight)
    np.savetxt(str(folder / "bias_212.txt"), -weight.dot(mean))
    np.savetxt(str(folder / "inverse_weight_212.txt"), basis.dot(np.diag(sigma)))
    np.savetxt(str(folder / "inverse_bias_212.txt"), mean)
    out = str(tmp_path / "PCA_weights.h5")
    convert_weights.convert("pca", [str(folder)], out, log=silent)
    import h5py
    with h5py.File(out, "r") as f:
        np.testing.assert_allclose(f["affine/W"][...], weight.T.astype(np.float32))
        np.testing.assert_allclose(f["affine/b"][...], -weight.dot(mean), rtol=1e-6)
    np.savetxt(str(folder / "inverse_bias_212.txt"), mean + 1.0)
    with pytest.raises(UserError, match="do not belong together"):
        convert_weights.convert("pca", [str(folder)], str(tmp_path / "bad.h5"), log=silent)
    (folder / "bias_212.txt").write_text("1 2 x\n")
    with pytest.raises(UserError, match="not a whitespace-separated table"):
        convert_weights.convert("pca", [str(folder / "weight_212.txt"),
                                        str(folder / "bias_212.txt")],
                                str(tmp_path / "bad.h5"), log=silent)
    assert h5_files(str(tmp_path)) == ["PCA_weights.h5"]


@pytest.mark.parametrize("command,source,guess", [
    ("align", "decoder", "decoder"), ("decoder", "align", "align"),
    ("transformer", "encoder", "encoder"), ("encoder", "transformer", "transformer")])
def test_wrong_command_names_the_likely_network(tmp_path, command, source, guess):
    with pytest.raises(UserError) as err:
        convert_weights.convert(command, [fixture(source + "_zip.pth")], str(tmp_path / "a.h5"),
                                log=silent)
    assert "look like {};".format(guess) in one_line(err)
    assert h5_files(str(tmp_path)) == []


def test_verify_command(tmp_path, capsys):
    out = str(tmp_path / "t.h5")
    convert_weights.convert("transformer", [fixture("transformer_zip.pth")], out, log=silent)
    assert convert_weights.main(["verify", "transformer", out]) == 0
    assert convert_weights.main(["verify", "any", out]) == 0
    with pytest.raises(UserError):
        convert_weights.main(["verify", "decoder", out])


# ------------------------------------------------------------------ hostile and broken files

def _header_pickles():
    return (pickle.dumps(torch_checkpoint.LEGACY_MAGIC, protocol=2)
            + pickle.dumps(torch_checkpoint.LEGACY_PROTOCOL, protocol=2)
            + pickle.dumps({"protocol_version": 1001, "little_endian": True,
                            "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2))


def write_legacy(path, object_pickle, keys=(), storages=b""):
    with open(path, "wb") as f:
        f.write(_header_pickles() + object_pickle + pickle.dumps(list(keys), protocol=2) + storages)
    return str(path)


def write_zip(path, data_pkl, entries=None):
    with zipfile.ZipFile(str(path), "w") as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/byteorder", "little")
        for name, data in (entries or {}).items():
            archive.writestr("archive/data/" + name, data)
    return str(path)


class _RunsCode(object):
    def __init__(self, function, argument):
        self.function, self.argument = function, argument

    def __reduce__(self):
        return (self.function, (self.argument,))


@pytest.mark.parametrize("container", ["legacy", "zip", "header"])
@pytest.mark.parametrize("attack", ["os.system", "builtins.exec", "protocol4"])
def test_malicious_pickle_is_refused_without_side_effects(tmp_path, container, attack):
    marker = tmp_path / "pwned"
    if attack == "os.system":
        payload = pickle.dumps(_RunsCode(os.system, "touch " + str(marker)), protocol=2)
        refused = "{}.system".format(os.system.__module__)
    else:
        payload = pickle.dumps(_RunsCode(exec, "open({!r}, 'w')".format(str(marker))),
                               protocol=4 if attack == "protocol4" else 2)
        # Protocol 2 spells the module as Python 2 did.
        refused = "builtins.exec" if attack == "protocol4" else "__builtin__.exec"
    if container == "legacy":
        path = write_legacy(tmp_path / "evil.pth", payload)
    elif container == "zip":
        path = write_zip(tmp_path / "evil.pth", payload)
    else:
        path = str(tmp_path / "evil.pth")
        with open(path, "wb") as f:
            f.write(pickle.dumps(torch_checkpoint.LEGACY_MAGIC, protocol=2) + payload)
    with pytest.raises(UserError) as err:
        torch_checkpoint.load(path)
    assert "unsafe pickle: {} in {}".format(refused, path) in one_line(err)
    assert not marker.exists()


def _uni(text):
    data = text.encode("utf-8")
    return b"X" + struct.pack("<I", len(data)) + data


def _ints(values):
    return b"(" + b"".join(b"J" + struct.pack("<i", v) for v in values) + b"t"


def tensor_pickle(numel, offset, size, stride, key="0"):
    """A protocol-2 state dict {'w': tensor}, assembled opcode by opcode like torch writes it."""
    return (b"\x80\x02ccollections\nOrderedDict\n)R(" + _uni("w")
            + b"ctorch._utils\n_rebuild_tensor_v2\n("
            + b"(" + _uni("storage") + b"ctorch\nFloatStorage\n" + _uni(key) + _uni("cpu")
            + b"J" + struct.pack("<i", numel) + b"tQ"
            + b"J" + struct.pack("<i", offset) + _ints(size) + _ints(stride)
            + b"\x89ccollections\nOrderedDict\n)RtRu.")


def float_storage(values):
    return struct.pack("<q", len(values)) + struct.pack("<{}f".format(len(values)), *values)


def test_handmade_files_read_and_out_of_bounds_views_are_refused(tmp_path):
    values = [float(v) for v in range(6)]
    good = write_legacy(tmp_path / "good.pth", tensor_pickle(6, 1, (2, 2), (1, 2)), ["0"],
                        float_storage(values))
    np.testing.assert_array_equal(torch_checkpoint.load_state_dict(good)["w"], [[1, 3], [2, 4]])
    good_zip = write_zip(tmp_path / "good_zip.pth", tensor_pickle(6, 0, (3, 2), (2, 1)),
                         {"0": struct.pack("<6f", *values)})
    np.testing.assert_array_equal(torch_checkpoint.load_state_dict(good_zip)["w"],
                                  np.arange(6).reshape(3, 2))
    for name, (offset, size, stride) in {"beyond": (4, (2, 2), (2, 1)),
                                         "negative": (5, (2,), (-1,)),
                                         "huge": (0, (1 << 20, 1 << 20), (0, 0))}.items():
        path = write_legacy(tmp_path / (name + ".pth"), tensor_pickle(6, offset, size, stride),
                            ["0"], float_storage(values))
        with pytest.raises(UserError, match="cannot read"):
            torch_checkpoint.load(path)
    # A BUILD opcode on a stand-in must not rewrite it.
    build = b"\x80\x02ctorch._utils\n_rebuild_tensor\n}" + _uni("function") + b"Nsb."
    with pytest.raises(UserError, match="modifies"):
        torch_checkpoint.load(write_legacy(tmp_path / "build.pth", build))


def _flip(raw, position, mask=0xFF):
    return raw[:position] + bytes([raw[position] ^ mask]) + raw[position + 1:]


def _damaged_copies(tmp_path, name):
    raw = open(fixture(name), "rb").read()
    copies = {"empty": b"", "header": raw[:10], "half": raw[:len(raw) // 2],
              "last_byte": raw[:-1], "garbage": bytes(range(256)) * 4,
              # An invalid opcode where the first rebuild call starts.
              "pickle_byte": _flip(raw, raw.index(b"ctorch._utils\n"))}
    if name.endswith("_zip.pth"):
        # One bit of the largest storage: only the zip CRC can tell.
        with zipfile.ZipFile(fixture(name)) as archive:
            info = max(archive.infolist(), key=lambda i: i.file_size)
        local_header = raw[info.header_offset:info.header_offset + 30]
        start = info.header_offset + 30 + sum(struct.unpack("<HH", local_header[26:30]))
        copies["data_bit"] = _flip(raw, start + info.file_size // 2, 0x01)
    else:
        copies["trailing"] = raw + b"\x00"
    paths = {}
    for label, data in copies.items():
        path = tmp_path / "{}-{}".format(label, name)
        path.write_bytes(data)
        paths[label] = str(path)
    return paths


@pytest.mark.parametrize("format", FORMATS)
def test_truncated_and_corrupt_files_give_one_line_errors_and_no_output(tmp_path, format):
    for label, path in _damaged_copies(tmp_path, "align_{}.pth".format(format)).items():
        with pytest.raises(UserError) as err:
            torch_checkpoint.load(path)
        assert one_line(err).startswith("cannot read " + path), label
        out = tmp_path / "out" / "align.h5"
        with pytest.raises(UserError):
            convert_weights.convert("align", [path], str(out), log=silent)
        assert not (tmp_path / "out").exists() or os.listdir(str(tmp_path / "out")) == [], label


def test_cli_exits_2_with_one_line(tmp_path):
    truncated = tmp_path / "Align_40000.pth"
    truncated.write_bytes(open(fixture("align_legacy.pth"), "rb").read()[:5000])
    evil = write_zip(tmp_path / "evil.pth", pickle.dumps(_RunsCode(os.system, "true"), protocol=2))
    for source, expected in ((truncated, "truncated"), (evil, "unsafe pickle")):
        out = tmp_path / "out.h5"
        result = subprocess.run([sys.executable, SCRIPT, "align", str(source), "-o", str(out)],
                                capture_output=True, text=True, cwd=str(tmp_path))
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines
        assert not out.exists() and h5_files(str(tmp_path)) == []


# ------------------------------------------------------------------ the authors' real files

AUTHORS_DIR = os.environ.get("REENACTGAN_AUTHORS_DIR")


@pytest.mark.skipif(not AUTHORS_DIR or not os.path.isfile(
    os.path.join(AUTHORS_DIR or "", "Align_40000.pth")),
    reason="set REENACTGAN_AUTHORS_DIR to the authors' pretrained_models folder")
def test_authors_align_and_pca_convert_and_run_in_the_shape_loss(tmp_path):
    from utils import boundary_heatmaps, synthetic_faces
    align_path = str(tmp_path / "Align_40000.h5")
    pca_path = str(tmp_path / "PCA_weights.h5")
    convert_weights.convert("align", [os.path.join(AUTHORS_DIR, "Align_40000.pth")], align_path,
                            log=silent)
    convert_weights.convert("pca", [os.path.join(AUTHORS_DIR, "pca_init")], pca_path, log=silent)
    state, checkpoint = torch_checkpoint.load_state_dict(
        os.path.join(AUTHORS_DIR, "Align_40000.pth"), return_checkpoint=True)
    assert len(state) == 108 and checkpoint.locations == ["cuda:0"]
    np.testing.assert_allclose(state["module.model.8.0.downsample.0.weight"].ravel()[:5],
                               [-0.0329794, 0.0047127, 0.0099319, 0.0001317, -0.0033009],
                               atol=1e-7)
    identity = synthetic_faces.sample_identity(np.random.RandomState(0))
    landmarks = synthetic_faces.face_landmarks(identity, np.zeros(17), None)
    maps = [boundary_heatmaps.draw_boundary_heatmaps(landmarks + shift, (256, 256))
            for shift in ((0, 0), (24, 0), (0, 24))]
    x = np.stack(maps).astype(np.float32) / 255.0
    with nn.parameter_scope("", collections.OrderedDict()):
        load_parameters_checked(align_path, "Align", strict=False)
        load_parameters_checked(pca_path, "PCA", strict=False)
        # Each face alone, as the authors ran Align: batch statistics of one sample.
        codes, points = [], []
        for sample in x:
            with nn.parameter_scope("Align"):
                landmarks_out = models.align_resnet(nn.Variable.from_numpy_array(sample[None]),
                                                    batch_stat=True)
            with nn.parameter_scope("PCA"):
                code = models.pca_projection(landmarks_out)
            nn.forward_all([landmarks_out, code])
            points.append(landmarks_out.d[0].copy())
            codes.append(code.d[0, :3].copy())
    points = np.array(points).reshape(3, 106, 2)
    assert np.all(points > 0) and np.all(points < 64)
    # A shift of 24 px in the 256 frame is 6 px in Align's 64 px coordinates.
    moved_x = points[1].mean(axis=0) - points[0].mean(axis=0)
    moved_y = points[2].mean(axis=0) - points[0].mean(axis=0)
    # (Measured: +3.8 px and +4.6 px, the other axis within 0.5 px.)
    assert moved_x[0] > 2 and abs(moved_x[1]) < 1.5
    assert moved_y[1] > 2 and abs(moved_y[0]) < 1.5
    # The first two PCA coefficients are global translations (the authors' pca_init);
    # measured shifts 0.23-0.44 whitened units.
    assert np.abs(codes[1][:2] - codes[0][:2]).max() > 0.1
    assert np.abs(codes[2][:2] - codes[0][:2]).max() > 0.1


# ------------------------------------------------------------------ download script

DOWNLOAD_SCRIPT = os.path.join(REPO, "download_pretrained_weight.sh")
needs_downloader = pytest.mark.skipif(
    not any(shutil.which(tool) for tool in ("curl", "wget")) or not shutil.which("bash"),
    reason="needs bash and curl or wget")


def run_download(base_url, dest):
    env = dict(os.environ, BASE_URL=base_url, DEST=str(dest), PYTHON=sys.executable)
    return subprocess.run(["bash", DOWNLOAD_SCRIPT], capture_output=True, text=True, env=env)


@pytest.fixture
def weight_server(tmp_path):
    """A loopback HTTP server with the port's file layout, filled with small valid files."""
    root = tmp_path / "server"
    (root / "encoder").mkdir(parents=True)
    convert_weights.convert("encoder", [fixture("encoder_zip.pth")],
                            str(root / "ReenactGAN_encoder_pretrained_weights.h5"), log=silent)
    convert_weights.convert("align", [fixture("align_zip.pth")], str(root / "Align_40000.h5"),
                            log=silent)
    size = models.ALIGN_OUTPUTS
    convert_weights.write_parameters(str(root / "PCA_weights.h5"), collections.OrderedDict([
        ("affine/W", np.eye(size, dtype=np.float32)), ("affine/b", np.zeros(size, np.float32))]))
    for part in ("encoder", "transformer", "decoder"):
        (root / part).mkdir(exist_ok=True)
        shutil.copy(str(root / "Align_40000.h5"), str(root / part / "weights.h5"))
        (root / part / "training_info.yaml").write_text("experiment_name: '202601010000'\n")
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, "http://127.0.0.1:{}".format(server.server_address[1])
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@needs_downloader
def test_download_script_checks_downloads_and_skips_present_files(tmp_path, weight_server):
    root, url = weight_server
    dest = tmp_path / "pretrained_weights"
    result = run_download(url, dest)
    assert result.returncode == 0, result.stderr
    expected = ["converted/Align_40000.h5", "converted/PCA_weights.h5",
                "converted/ReenactGAN_encoder_pretrained_weights.h5",
                "decoder/Donald_Trump/training_info.yaml", "decoder/Donald_Trump/weights.h5",
                "encoder/training_info.yaml", "encoder/weights.h5",
                "transformer/Kathleen2Donald_Trump/training_info.yaml",
                "transformer/Kathleen2Donald_Trump/weights.h5"]
    found = sorted(os.path.relpath(os.path.join(folder, name), str(dest))
                   for folder, _, names in os.walk(str(dest)) for name in names)
    assert found == sorted(expected + ["SHA256SUMS"])
    assert len((dest / "SHA256SUMS").read_text().splitlines()) == len(expected)
    again = run_download(url, dest)
    assert again.returncode == 0 and "all files present" in again.stdout

    # A damaged download is refused and nothing of it is kept.
    (root / "Align_40000.h5").write_bytes((root / "Align_40000.h5").read_bytes()[:2000])
    os.remove(str(dest / "converted" / "Align_40000.h5"))
    broken = run_download(url, dest)
    assert broken.returncode == 1
    lines = broken.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: a download failed its check"), lines
    assert sorted(os.listdir(str(dest / "converted"))) == [
        "PCA_weights.h5", "ReenactGAN_encoder_pretrained_weights.h5"]


@needs_downloader
def test_download_script_offline_says_so_in_one_line(tmp_path):
    result = run_download("http://127.0.0.1:1/pretrained-models/x", tmp_path / "pw")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: offline") \
        and "convert_weights.py" in lines[0], lines
    assert not [n for _, _, names in os.walk(str(tmp_path)) for n in names]
    assert not os.path.exists(str(tmp_path / "pw"))  # no empty pw/converted/ either
