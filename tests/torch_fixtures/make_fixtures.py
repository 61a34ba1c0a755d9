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
"""Write the PyTorch fixtures of ``tests/test_convert_weights.py``.

Runs ONLY in a separate Python 3.11 venv with PyTorch 2.13.0 CPU, never in the
project's venv (the project must not import torch)::

    $(pyenv root)/versions/3.11.7/bin/python -m venv /tmp/torchvenv
    /tmp/torchvenv/bin/pip install torch==2.13.0 numpy
    /tmp/torchvenv/bin/python tests/torch_fixtures/make_fixtures.py

Every ``.pth`` is a real ``torch.save`` output, written twice: ``*_legacy.pth``
(``_use_new_zipfile_serialization=False``) and ``*_zip.pth``.  Each is loaded
back with ``torch.load`` and compared before the script trusts it.  Written:

* ``dtypes_*.pth`` / ``dtypes_expected.npz``: float16/32/64, bfloat16, int64,
  int32, int16, int8, uint8, bool, a 0-d tensor, an empty tensor, a stride-0
  (expanded) tensor, NaN/inf/-0.0, and a transposed slice (offset 12, strides
  (2, 10)) sharing its storage with another tensor.  The float64 storage is
  saved with location ``cuda:0``: a tagger registered with
  ``torch.serialization.register_package`` (priority 1, ahead of torch's own
  ``cpu`` tagger) names that storage ``cuda:0``, which is exactly what
  ``torch.save`` writes for a CUDA tensor; no CUDA is needed.
* ``bigendian_zip.pth``: the zip file of ``dtypes`` with ``byteorder`` set to
  ``big`` and every storage byte-swapped, as a big-endian machine writes it.
* ``py2_legacy.pth`` / ``py2_expected.npz``: a legacy file written by Python
  2.7's own ``pickle`` module (SHORT_BINSTRING keys, the 4-argument
  ``_rebuild_tensor``, the list-of-pairs OrderedDict, a storage view with
  ``view_metadata``, storages on ``cuda:0``), the layout of the authors'
  ``Align_40000.pth``.  The Python 2 writer is embedded below and uses stand-in
  ``torch`` modules, because no torch exists for Python 2 here; torch 2.13 must
  load the result identically.  Skipped when no Python 2.7 is found.
* reduced-width versions of the authors' networks, with randomised BN
  parameters and running statistics warmed up by a few training-mode passes:
  ``align_*`` (DataParallel ``module.`` prefix, storages on ``cuda:0``, like
  the real file), ``transformer_*`` (ResnetGenerator ngf=4, 2 blocks),
  ``transformerD_*`` (NLayerDiscriminator ndf=4), ``decoder_*`` (DeconvUnet
  ngf=2, dropout layers present), ``encoder_*`` (StackHourglassNet ngf=4 with
  num_feats = 2 ngf, i.e. the NNabla ``planes=4``), ``vgg16_*`` (torchvision's
  VGG16 layout with all widths divided by 32), and ``<net>_io.npz`` holding
  the fixed input ``x`` (float16, exact) and the torch outputs ``y_eval_<i>``
  (running statistics) and ``y_train_<i>`` (batch statistics) of output i;
  dropout is off in both.  The decoder's outputs keep every 2nd pixel
  (``subsample``) to stay small.

The files total about 3.5 MB.  A legacy file from Python 2 is the only one
that needs more than this venv: a Python 2.7 interpreter (``PYTHON2``, or
found on PATH or in pyenv).
"""
import collections
import glob
import os
import pickle
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------- helpers

_CUDA_POINTERS = set()


def _fake_cuda_tagger(storage):
    pointer = storage.data_ptr() if hasattr(storage, "data_ptr") else None
    return "cuda:0" if pointer in _CUDA_POINTERS else None


def _fake_cuda_deserializer(storage, location):
    return None  # let torch's own deserializers handle every location


torch.serialization.register_package(1, _fake_cuda_tagger, _fake_cuda_deserializer)


def _mark_cuda(tensors):
    """Make torch.save record ``cuda:0`` as the location of these tensors' storages.

    Only while the tensors are alive and being saved: a freed address may be
    reused by a later tensor, which must not inherit the mark.
    """
    _CUDA_POINTERS.clear()
    _CUDA_POINTERS.update(t.untyped_storage().data_ptr() for t in tensors)


def _same(a, b):
    """Equal dtype, shape and bits (NaN == NaN, -0.0 != 0.0)."""
    return (a.dtype == b.dtype and a.shape == b.shape
            and to_numpy(a).tobytes() == to_numpy(b).tobytes())


def _check_loads(path, reference, on_cpu=True):
    # Without map_location torch refuses cuda:0 storages on this machine, which
    # proves that only the intended ones are marked.
    loaded = torch.load(path, map_location=None if on_cpu else "cpu", weights_only=False)
    assert list(loaded) == list(reference), path
    for key, value in reference.items():
        got = loaded[key]
        assert _same(got, value), (path, key)


def save_both(state, stem, cuda_keys=()):
    legacy = os.path.join(HERE, stem + "_legacy.pth")
    zipped = os.path.join(HERE, stem + "_zip.pth")
    _mark_cuda([state[key] for key in cuda_keys])
    try:
        torch.save(state, legacy, _use_new_zipfile_serialization=False)
        torch.save(state, zipped)
    finally:
        _CUDA_POINTERS.clear()
    for path in (legacy, zipped):
        _check_loads(path, state, on_cpu=not cuda_keys)
    return legacy, zipped


def to_numpy(tensor):
    tensor = tensor.detach().contiguous()
    if tensor.dtype == torch.bfloat16:
        return tensor.float().numpy()  # exact: bfloat16 is a truncated float32
    return tensor.numpy().copy()


def save_npz(name, arrays):
    np.savez_compressed(os.path.join(HERE, name), **arrays)


# ---------------------------------------------------------------- dtypes

def make_dtypes():
    generator = torch.Generator().manual_seed(0)
    shared = torch.randn(6, 10, generator=generator)
    state = collections.OrderedDict()
    state["float32"] = shared
    # Rows 1-4, columns 2, 4, 6, 8, transposed: offset 12, size (4, 4),
    # strides (2, 10) into the storage of "float32".
    state["view_t"] = shared[1:5, 2:9:2].t()
    state["float16"] = torch.randn(3, 4, generator=generator).half()
    state["float64"] = torch.randn(2, 3, generator=generator, dtype=torch.float64)
    state["bfloat16"] = torch.randn(5, generator=generator).bfloat16()
    state["int64"] = torch.tensor([-(2 ** 40), 0, 7, 2 ** 62], dtype=torch.int64)
    state["int32"] = torch.tensor([[-(2 ** 31), 1], [2, 2 ** 31 - 1]], dtype=torch.int32)
    state["int16"] = torch.tensor([-32768, 12345, 32767], dtype=torch.int16)
    state["int8"] = torch.tensor([-128, 5, 127], dtype=torch.int8)
    state["uint8"] = torch.arange(0, 256, 17, dtype=torch.uint8).reshape(4, 4)[:, 1:]
    state["bool"] = torch.tensor([True, False, True, True])
    state["scalar"] = torch.tensor(3.5)
    state["empty"] = torch.zeros(0, 3)
    state["expanded"] = torch.tensor([1.5, -2.0]).expand(3, 2)
    state["specials"] = torch.tensor([float("nan"), float("inf"), -float("inf"), -0.0, 1e-45])
    assert not state["view_t"].is_contiguous() and state["view_t"].storage_offset() == 12
    save_both(state, "dtypes", cuda_keys=["float64"])
    save_npz("dtypes_expected.npz", {key: to_numpy(value) for key, value in state.items()})
    return state


def _storage_itemsizes(zip_path):
    """{storage key: element size} from a zip file's data.pkl (trusted: our own file)."""
    sizes = {}

    class Scanner(pickle.Unpickler):
        def find_class(self, module, name):
            if name.startswith("_rebuild"):
                return lambda *args: None
            return super().find_class(module, name)

        def persistent_load(self, pid):
            sizes[pid[2]] = torch.empty(0, dtype=pid[1].dtype).element_size()

    with zipfile.ZipFile(zip_path) as archive:
        name = [n for n in archive.namelist() if n.endswith("/data.pkl")][0]
        Scanner(archive.open(name)).load()
    return sizes


def make_bigendian(state):
    source = os.path.join(HERE, "dtypes_zip.pth")
    target = os.path.join(HERE, "bigendian_zip.pth")
    sizes = _storage_itemsizes(source)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as new:
        for info in old.infolist():
            data = old.read(info)
            prefix, _, rest = info.filename.partition("/")
            if rest == "byteorder":
                data = b"big"
            elif rest.startswith("data/") and sizes[rest[5:]] > 1:
                swapped = np.frombuffer(data, dtype="u{}".format(sizes[rest[5:]])).byteswap()
                data = swapped.tobytes()
            new.writestr("bigendian_zip/" + rest, data)
    _check_loads(target, state, on_cpu=False)


# ---------------------------------------------------------------- Python 2

PY2_WRITER = r'''
import collections, pickle, struct, sys, types

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
torch._utils = torch_utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils


def _declare(module, name, value):
    value.__module__ = module.__name__
    setattr(module, name, value)
    return value


FloatStorage = _declare(torch, "FloatStorage", type("FloatStorage", (object,), {}))
DoubleStorage = _declare(torch, "DoubleStorage", type("DoubleStorage", (object,), {}))
LongStorage = _declare(torch, "LongStorage", type("LongStorage", (object,), {}))


def _rebuild_tensor(storage, storage_offset, size, stride):
    raise RuntimeError("only for pickling")
_declare(torch_utils, "_rebuild_tensor", _rebuild_tensor)


class Storage(object):
    def __init__(self, cls, fmt, key, values, view=None):
        self.cls, self.fmt, self.key, self.values, self.view = cls, fmt, key, values, view


class Tensor(object):
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride)

    def __reduce__(self):
        return (_rebuild_tensor, self.args)


def persistent_id(obj):
    if isinstance(obj, Storage):
        root = obj.view[0] if obj.view else obj
        view = (obj.key, obj.view[1], obj.view[2]) if obj.view else None
        return ("storage", root.cls, root.key, "cuda:0", len(root.values), view)
    return None


root = Storage(FloatStorage, "f", "92199440", [i * 0.25 - 2.0 for i in range(20)])
conv = Storage(FloatStorage, "f", "119794928", [(-1) ** i * (i + 0.5) / 7.0 for i in range(6)])
var = Storage(FloatStorage, "f", "1266996192", [1e-3, 2.5e-4])
steps = Storage(LongStorage, "q", "119794992", [123456789012])
double = Storage(DoubleStorage, "d", "88", [1.0 / 3.0, -2.0 ** -40])
view = Storage(FloatStorage, "f", "92199696", None, view=(root, 4, 12))

state = collections.OrderedDict()
state["module.conv.weight"] = Tensor(conv, 0, (2, 3, 1, 1), (3, 1, 1, 1))
state["module.bn.running_var"] = Tensor(var, 0, (2,), (1,))
state["module.fc.weight"] = Tensor(view, 0, (3, 4), (4, 1))
state["module.fc.bias"] = Tensor(root, 16, (4,), (1,))
state["module.fc.weight_t"] = Tensor(view, 1, (3, 3), (1, 4))
state["module.steps"] = Tensor(steps, 0, (1,), (1,))
state["module.double"] = Tensor(double, 0, (2,), (1,))

roots = dict((s.key, s) for s in (root, conv, var, steps, double))
with open(sys.argv[1], "wb") as f:
    pickle.dump(0x1950a86a20f9469cfc6c, f, protocol=2)
    pickle.dump(1001, f, protocol=2)
    pickle.dump(dict(protocol_version=1001, little_endian=True,
                     type_sizes=dict(short=2, int=4, long=4)), f, protocol=2)
    pickler = pickle.Pickler(f, protocol=2)
    pickler.persistent_id = persistent_id
    pickler.dump(state)
    keys = sorted(roots)
    pickle.dump(keys, f, protocol=2)
    for key in keys:
        storage = roots[key]
        f.write(struct.pack("<q", len(storage.values)))
        f.write(struct.pack("<%d%s" % (len(storage.values), storage.fmt), *storage.values))
'''


def find_python2():
    candidates = [os.environ.get("PYTHON2"), shutil.which("python2.7"), shutil.which("python2")]
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("pyenv") else ""
    if root:
        candidates += sorted(glob.glob(os.path.join(root, "versions", "2.7*", "bin", "python")))
    for candidate in candidates:
        if candidate and os.path.isfile(candidate):
            version = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[0])"],
                                     capture_output=True, text=True)
            if version.stdout.strip() == "2":
                return candidate
    return None


def make_py2():
    python2 = find_python2()
    if python2 is None:
        print("no Python 2.7 found: py2_legacy.pth not regenerated")
        return
    path = os.path.join(HERE, "py2_legacy.pth")
    subprocess.run([python2, "-c", PY2_WRITER, path], check=True)
    raw = open(path, "rb").read()
    assert b"U\x12module.conv.weight" in raw, "expected Python 2 SHORT_BINSTRING keys"
    loaded = torch.load(path, map_location="cpu", weights_only=False)
    # The values the writer stored, computed independently.
    root = torch.tensor([i * 0.25 - 2.0 for i in range(20)])
    expected = collections.OrderedDict([
        ("module.conv.weight", torch.tensor([(-1) ** i * (i + 0.5) / 7.0 for i in range(6)])
         .reshape(2, 3, 1, 1)),
        ("module.bn.running_var", torch.tensor([1e-3, 2.5e-4])),
        ("module.fc.weight", root[4:16].reshape(3, 4)),
        ("module.fc.bias", root[16:20]),
        ("module.fc.weight_t", torch.as_strided(root[4:16].clone(), (3, 3), (1, 4), 1)),
        ("module.steps", torch.tensor([123456789012])),
        ("module.double", torch.tensor([1.0 / 3.0, -2.0 ** -40], dtype=torch.float64)),
    ])
    assert list(loaded) == list(expected)
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key
    save_npz("py2_expected.npz", {key: to_numpy(value) for key, value in loaded.items()})


# ---------------------------------------------------------------- networks
# The authors' module layouts, rewritten here so that state_dict keys match
# theirs exactly (checked against torch_to_nnabla_names.tsv by the tests).

class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        skip = x if self.downsample is None else self.downsample(x)
        return self.relu(out + skip)


class Flatten(nn.Module):
    def forward(self, x):
        return x.reshape(x.shape[0], -1)


class AlignNet(nn.Module):
    """ResNetForFaceAlignment(BasicBlock, [2, 2, 2, 2]) with a base width argument."""

    def __init__(self, base=16):
        super().__init__()

        def layer(inplanes, planes, stride):
            return nn.Sequential(BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes))
        self.model = nn.Sequential(
            nn.Conv2d(15, 3, 3, 1, 1), nn.Conv2d(3, base, 7, 2, 3, bias=False),
            nn.BatchNorm2d(base), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
            layer(base, base, 1), layer(base, 2 * base, 2), layer(2 * base, 4 * base, 2),
            layer(4 * base, 8 * base, 2))
        self.mlp = nn.Sequential(Flatten(), nn.Linear(8 * base * 4, 128), nn.ReLU(),
                                 nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 212))

    def forward(self, x):
        return self.mlp(self.model(x))


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=False), nn.BatchNorm2d(dim),
            nn.ReLU(), nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=False),
            nn.BatchNorm2d(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, channels=15, ngf=64, n_blocks=9):
        super().__init__()
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(channels, ngf, 7, bias=False),
                  nn.BatchNorm2d(ngf), nn.ReLU()]
        for mult in (1, 2):
            layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, 2, 1, bias=False),
                       nn.BatchNorm2d(ngf * mult * 2), nn.ReLU()]
        layers += [ResnetBlock(4 * ngf) for _ in range(n_blocks)]
        for mult in (4, 2):
            layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, 2, 1, 1, bias=False),
                       nn.BatchNorm2d(ngf * mult // 2), nn.ReLU()]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, channels, 7), nn.Sigmoid()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    def __init__(self, channels=15, ndf=64, sigmoid=False):
        super().__init__()
        layers = [nn.Conv2d(channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        previous = ndf
        for index, stride in ((1, 2), (2, 2), (3, 1)):
            maps = ndf * min(2 ** index, 8)
            layers += [nn.Conv2d(previous, maps, 4, stride, 1, bias=False),
                       nn.BatchNorm2d(maps), nn.LeakyReLU(0.2)]
            previous = maps
        layers += [nn.Conv2d(previous, 1, 4, 1, 1)]
        if sigmoid:
            layers += [nn.Sigmoid()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class UnetBlock(nn.Module):
    """One U-Net level; the output concatenates (input, decoded) except outermost."""

    def __init__(self, outer, inner, in_channels=None, sub=None, outermost=False,
                 innermost=False, dropout=False, pre=None):
        super().__init__()
        in_channels = in_channels or outer
        down = nn.Conv2d(in_channels, inner, 4, 2, 1, bias=False)
        if outermost:
            layers = ([pre] if pre is not None else []) + [
                down, sub, nn.ReLU(), nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1), nn.Tanh()]
        elif innermost:
            layers = [nn.LeakyReLU(0.2), down, nn.ReLU(),
                      nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=False), nn.BatchNorm2d(outer)]
        else:
            layers = [nn.LeakyReLU(0.2), down, nn.BatchNorm2d(inner), sub, nn.ReLU(),
                      nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=False),
                      nn.BatchNorm2d(outer)] + ([nn.Dropout(0.5)] if dropout else [])
        self.outermost = outermost
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        y = self.model(x)
        return y if self.outermost else torch.cat([x, y], 1)


class UpsampleBlock(nn.Module):
    """The decoder's two-step transposed-conv pre-upsampler (no skip connection)."""

    def __init__(self, channels, sub=None, outermost=False):
        super().__init__()
        if outermost:
            layers = [sub, nn.ReLU(), nn.ConvTranspose2d(channels, channels, 4, 2, 1), nn.Tanh()]
        else:
            layers = [nn.ReLU(), nn.ConvTranspose2d(channels, channels, 4, 2, 1, bias=False),
                      nn.BatchNorm2d(channels)]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class DeconvUnet(nn.Module):
    def __init__(self, channels=15, out_channels=3, ngf=64, dropout=True):
        super().__init__()
        pre = UpsampleBlock(channels, UpsampleBlock(channels), outermost=True)
        block = UnetBlock(ngf * 8, ngf * 8, innermost=True)
        for _ in range(3):
            block = UnetBlock(ngf * 8, ngf * 8, sub=block, dropout=dropout)
        block = UnetBlock(ngf * 4, ngf * 8, sub=block)
        block = UnetBlock(ngf * 2, ngf * 4, sub=block)
        block = UnetBlock(ngf, ngf * 2, sub=block)
        self.model = UnetBlock(out_channels, ngf, in_channels=channels, sub=block,
                               outermost=True, pre=pre)

    def forward(self, x):
        return self.model(x)


class Bottleneck(nn.Module):
    """Pre-activation residual (BN-ReLU-conv) x 3 with a 1x1 projection skip."""

    def __init__(self, inplanes, planes):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.conv1 = nn.Conv2d(inplanes, planes, 1)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1)
        self.bn3 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 2, 1)
        self.relu = nn.ReLU()
        self.downsample = None
        if inplanes != planes * 2:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes * 2, 1))

    def forward(self, x):
        out = self.conv1(self.relu(self.bn1(x)))
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        return out + (x if self.downsample is None else self.downsample(x))


class Hourglass(nn.Module):
    def __init__(self, planes, depth):
        super().__init__()
        self.depth = depth
        self.upsample = nn.Upsample(scale_factor=2)
        self.hg = nn.ModuleList(
            nn.ModuleList(nn.Sequential(Bottleneck(2 * planes, planes))
                          for _ in range(4 if level == 0 else 3))
            for level in range(depth))

    def _forward(self, n, x):
        up1 = self.hg[n - 1][0](x)
        low1 = self.hg[n - 1][1](nn.functional.max_pool2d(x, 2, 2))
        low2 = self._forward(n - 1, low1) if n > 1 else self.hg[n - 1][3](low1)
        return up1 + self.upsample(self.hg[n - 1][2](low2))

    def forward(self, x):
        return self._forward(self.depth, x)


class HourglassNet(nn.Module):
    """The authors' HourglassNet with its hard-coded 128 features made ``2 * ngf``."""

    def __init__(self, ngf=64, num_stacks=2, num_classes=15):
        super().__init__()
        feats = 2 * ngf
        ch = 2 * feats
        self.num_stacks = num_stacks
        self.conv1 = nn.Conv2d(3, ngf, 7, 2, 3)
        self.bn1 = nn.BatchNorm2d(ngf)
        self.relu = nn.ReLU()
        self.layer1 = nn.Sequential(Bottleneck(ngf, ngf))
        self.layer2 = nn.Sequential(Bottleneck(2 * ngf, 2 * ngf))
        self.layer3 = nn.Sequential(Bottleneck(4 * ngf, feats))
        self.maxpool = nn.MaxPool2d(2, 2)
        self.hg = nn.ModuleList(Hourglass(feats, 4) for _ in range(num_stacks))
        self.res = nn.ModuleList(nn.Sequential(Bottleneck(ch, feats)) for _ in range(num_stacks))
        self.fc = nn.ModuleList(nn.Sequential(nn.Conv2d(ch, ch, 1), nn.BatchNorm2d(ch), self.relu)
                                for _ in range(num_stacks))
        self.score = nn.ModuleList(nn.Conv2d(ch, num_classes, 1) for _ in range(num_stacks))
        self.fc_ = nn.ModuleList(nn.Conv2d(ch, ch, 1) for _ in range(num_stacks - 1))
        self.score_ = nn.ModuleList(nn.Conv2d(num_classes, ch, 1) for _ in range(num_stacks - 1))

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.maxpool(self.layer1(x))))
        outputs = []
        for stack in range(self.num_stacks):
            y = self.fc[stack](self.res[stack](self.hg[stack](x)))
            score = self.score[stack](y)
            outputs.append(score)
            if stack < self.num_stacks - 1:
                x = x + self.fc_[stack](y) + self.score_[stack](score)
        return outputs


class StackHourglassNet(nn.Module):
    def __init__(self, ngf=64):
        super().__init__()
        self.model = nn.Sequential(HourglassNet(ngf))

    def forward(self, x):
        return self.model(x)


VGG_WIDTH_DIVISOR = 32


class VGG16(nn.Module):
    """torchvision's vgg16 layout (``features``/``classifier`` indices), narrower."""

    def __init__(self, divisor=VGG_WIDTH_DIVISOR):
        super().__init__()
        layers, channels = [], 3
        for item in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                     512, 512, 512, "M"):
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, item // divisor, 3, padding=1), nn.ReLU()]
                channels = item // divisor
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        hidden = 8
        self.classifier = nn.Sequential(
            nn.Linear(channels * 49, hidden), nn.ReLU(), nn.Dropout(), nn.Linear(hidden, hidden),
            nn.ReLU(), nn.Dropout(), nn.Linear(hidden, 10))

    def relu2_2_relu3_3(self, images):
        """The authors' feature-loss input: [-1, 1] -> [0, 255] -> /255 -> ImageNet norm."""
        x = (images + 1.0) / 2.0 * 255.0
        mean = torch.tensor([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)
        h = (x / 255.0 - mean) / std
        found = {}
        for index, layer in enumerate(self.features):
            h = layer(h)
            if index == 8:
                found["relu2_2"] = h
            if index == 15:
                found["relu3_3"] = h
                return found
        raise AssertionError("unreachable")


def randomise_bn(module, generator):
    """Non-trivial BN affine parameters (the default 1/0 would hide mistakes)."""
    for layer in module.modules():
        if isinstance(layer, nn.BatchNorm2d):
            with torch.no_grad():
                layer.weight.copy_(0.5 + torch.rand(layer.weight.shape, generator=generator))
                layer.bias.copy_(0.2 * torch.randn(layer.bias.shape, generator=generator))


def warm_up(module, make_input, steps=3):
    """Training-mode passes so the running statistics differ from 0/1."""
    module.train()
    with torch.no_grad():
        for _ in range(steps):
            module(make_input())


def dropout_off(module):
    for layer in module.modules():
        if isinstance(layer, nn.Dropout):
            layer.eval()


def outputs_both_modes(module, x):
    """(eval-mode outputs, train-mode outputs); the latter last since it moves the stats."""
    with torch.no_grad():
        module.eval()
        evaluated = module(x)
        module.train()
        dropout_off(module)
        trained = module(x)
    return evaluated, trained


def as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def smooth_images(shape, generator):
    """Images with coarse structure, like faces, in steps of 1/128 in [-1, 1).

    White noise would average out at the encoder's 2x2 hourglass level, where
    batch statistics of four almost equal values make the outputs depend on
    float32 rounding (torch's own float32 and float64 results then differ by
    1e-4); smooth images keep that level well conditioned (1e-5).
    """
    n, c, h, w = shape
    coarse = torch.rand((n, c, 4, 4), generator=generator) * 2 - 1
    field = nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    noise = (torch.rand(shape, generator=generator) * 2 - 1) * 0.2
    return torch.clamp(torch.round((field * 0.8 + noise) * 128), -128, 127) / 128.0


def make_network(name, module, input_shape, seed, prefix_module=False, cuda=False,
                 images=False, subsample=1):
    """Save ``module``'s state dict in both formats and its outputs on a fixed input.

    Inputs are multiples of 1/256 (heatmap-like: [0, 1), 70 % zeros) or of 1/128
    (image-like, [-1, 1)), exact in float16, so ``x`` is stored as float16
    (cast it to float32 before use).  ``subsample`` keeps every
    n-th output pixel of large outputs (all of them still depend on every
    layer) to keep the fixtures small.
    """
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    randomise_bn(module, generator)

    def make_input():
        if images:
            return smooth_images(input_shape, generator)
        codes = torch.randint(0, 256, input_shape, generator=generator).float()
        # Mostly zero, as boundary heatmaps are.
        keep = torch.rand(input_shape, generator=generator) < 0.3
        return codes * keep / 256.0
    warm_up(module, make_input)
    x = make_input()
    saved = nn.DataParallel(module) if prefix_module else module
    state = saved.state_dict()
    save_both(state, name, cuda_keys=list(state) if cuda else ())
    evaluated, trained = outputs_both_modes(module, x)
    x16 = to_numpy(x).astype(np.float16)
    assert np.array_equal(x16.astype(np.float32), to_numpy(x))
    arrays = {"x": x16, "subsample": np.array(subsample)}
    for index, (e, t) in enumerate(zip(as_list(evaluated), as_list(trained))):
        if e.ndim == 4:
            e, t = e[:, :, ::subsample, ::subsample], t[:, :, ::subsample, ::subsample]
        arrays["y_eval_{}".format(index)] = to_numpy(e)
        arrays["y_train_{}".format(index)] = to_numpy(t)
    save_npz(name + "_io.npz", arrays)
    return state


def make_vgg16():
    torch.manual_seed(7)
    generator = torch.Generator().manual_seed(7)
    module = VGG16().eval()
    save_both(module.state_dict(), "vgg16")
    x = torch.rand((2, 3, 32, 32), generator=generator) * 2.0 - 1.0
    with torch.no_grad():
        found = module.relu2_2_relu3_3(x)
    save_npz("vgg16_io.npz", {"x": to_numpy(x), "relu2_2": to_numpy(found["relu2_2"]),
                              "relu3_3": to_numpy(found["relu3_3"])})


def main():
    torch.set_num_threads(1)
    for path in glob.glob(os.path.join(HERE, "*.pth")) + glob.glob(os.path.join(HERE, "*.npz")):
        if not os.path.basename(path).startswith("py2_"):
            os.remove(path)
    state = make_dtypes()
    make_bigendian(state)
    make_py2()
    # Batch 1 as the authors at test time where the spatial size allows it;
    # the networks with small outputs keep batch 2.
    make_network("align", AlignNet(base=4), (2, 15, 64, 64), 1, prefix_module=True, cuda=True)
    make_network("transformer", ResnetGenerator(15, ngf=4, n_blocks=2), (1, 15, 32, 32), 2)
    make_network("transformerD", NLayerDiscriminator(15, ndf=4), (2, 15, 32, 32), 3)
    make_network("decoder", DeconvUnet(15, 3, ngf=2, dropout=True), (1, 15, 64, 64), 4,
                 subsample=2)
    make_network("encoder", StackHourglassNet(ngf=4), (1, 3, 128, 128), 5, images=True)
    make_vgg16()
    total = 0
    for path in sorted(glob.glob(os.path.join(HERE, "*.pth")) +
                       glob.glob(os.path.join(HERE, "*.npz"))):
        size = os.path.getsize(path)
        total += size
        print("{:>9}  {}".format(size, os.path.basename(path)))
    print("{:>9}  total".format(total))


if __name__ == "__main__":
    sys.exit(main())
