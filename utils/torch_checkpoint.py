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
"""Read PyTorch ``.pth`` files without PyTorch and without running their pickles.

Both formats written by ``torch.save`` are understood:

* **zip** (torch >= 1.6): ``<name>/data.pkl`` holds the object pickle, each
  storage is the raw entry ``<name>/data/<key>`` and ``<name>/byteorder`` says
  ``little`` or ``big`` (files older than torch 2.1 have no such entry and are
  little-endian);
* **legacy** (``_use_new_zipfile_serialization=False`` and every torch before
  1.6, Python 2 included): five pickles in a row (magic number, protocol 1001,
  sys info, the object, the sorted storage keys) followed by each storage as an
  int64 element count and its raw bytes.

A pickle is a program: loading an untrusted one with ``pickle.load`` or
``torch.load(weights_only=False)`` can run anything.  Here the unpickler only
resolves the handful of globals these formats need, each to a stand-in of this
module that merely records arguments (no torch function is ever imported or
called).  Any other global is refused with ``unsafe pickle: <module>.<name>``
before it could be called.  Tensors are materialised afterwards from the
recorded (storage, offset, size, stride), with every index checked against the
storage, so a hostile file cannot read outside the data it contains.

Faults in the file (truncated, corrupt, unsupported) raise a one-line
:class:`~utils.user_errors.UserError` naming the file.
"""
import collections
import io
import os
import pickle
import struct
import tarfile
import zipfile

import numpy as np

from .user_errors import UserError

LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
LEGACY_PROTOCOL = 1001

# Storage class name -> numpy type code (without byte order).  bfloat16 has no
# numpy type: it is read as uint16 and widened exactly to float32.
_STORAGE_TYPES = {
    "FloatStorage": "f4", "DoubleStorage": "f8", "HalfStorage": "f2",
    "BFloat16Storage": "bf16", "LongStorage": "i8", "IntStorage": "i4",
    "ShortStorage": "i2", "CharStorage": "i1", "ByteStorage": "u1",
    "BoolStorage": "b1", "ComplexFloatStorage": "c8", "ComplexDoubleStorage": "c16",
    # torch >= 2 can pickle untyped (byte) storages; tensors then carry a dtype.
    "UntypedStorage": "u1",
}
_DTYPE_NAMES = {
    "float32": "f4", "float": "f4", "float64": "f8", "double": "f8", "float16": "f2",
    "half": "f2", "bfloat16": "bf16", "int64": "i8", "long": "i8", "int32": "i4",
    "int": "i4", "int16": "i2", "short": "i2", "int8": "i1", "uint8": "u1", "bool": "b1",
    "complex64": "c8", "complex128": "c16",
}
_TORCH_DTYPE_OF = {"f4": "float32", "f8": "float64", "f2": "float16", "bf16": "bfloat16",
                   "i8": "int64", "i4": "int32", "i2": "int16", "i1": "int8", "u1": "uint8",
                   "b1": "bool", "c8": "complex64", "c16": "complex128"}
_ITEMSIZE = {"f4": 4, "f8": 8, "f2": 2, "bf16": 2, "i8": 8, "i4": 4, "i2": 2, "i1": 1,
             "u1": 1, "b1": 1, "c8": 8, "c16": 16}

# A tensor may not have more elements than this (stride-0 tensors could
# otherwise expand a tiny storage into an arbitrarily large copy).
MAX_TENSOR_ELEMENTS = 1 << 31
# Compressed zip entries may not expand by more than this (zip bombs); torch
# itself always stores entries uncompressed.
_MAX_ZIP_RATIO = 1000


class _CorruptFile(Exception):
    """Raised inside the parser; turned into a UserError naming the file."""


def _short(text, limit=80):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------ pickle stand-ins

class _Frozen(object):
    """Base of the stand-ins: a pickle may not rewrite them with BUILD."""
    __slots__ = ()

    def __setstate__(self, state):
        raise _CorruptFile("the pickle modifies a {} object".format(type(self).__name__))


class _StorageType(_Frozen):
    """Stands for ``torch.<X>Storage``: only its element type matters."""
    __slots__ = ("name", "code")

    def __init__(self, name, code):
        self.name = name
        self.code = code


class _DType(_Frozen):
    """Stands for ``torch.<dtype>`` (pickled as a global by torch >= 1.12)."""
    __slots__ = ("code",)

    def __init__(self, code):
        self.code = code


class _TensorClass(_Frozen):
    """Stands for ``torch.Tensor`` / ``torch.nn.Parameter`` in ``_rebuild_from_type_v2``."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class StorageRef(_Frozen):
    """A storage named by a persistent id; its bytes are read later."""
    __slots__ = ("key", "code", "location", "numel", "view")

    def __init__(self, key, code, location, numel, view=None):
        self.key = key
        self.code = code
        self.location = location
        self.numel = numel
        self.view = view  # legacy storage views: (root key, element offset, size)


class TensorRef(_Frozen):
    """A tensor as recorded by a rebuild call: a strided window into a storage."""
    __slots__ = ("storage", "offset", "size", "stride", "code")

    def __init__(self, storage, offset, size, stride, code=None):
        self.storage = storage
        self.offset = offset
        self.size = size
        self.stride = stride
        self.code = code or storage.code


def _int(value, what):
    if isinstance(value, bool) or not isinstance(value, int):
        raise _CorruptFile("{} is {!r}, not an integer".format(what, type(value).__name__))
    return value


def _int_tuple(value, what):
    if not isinstance(value, (tuple, list)):
        raise _CorruptFile("{} is not a tuple".format(what))
    return tuple(_int(v, what) for v in value)


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored, **_kw):
    if not isinstance(storage, StorageRef):
        raise _CorruptFile("a tensor is built from {!r}, not a storage".format(
            type(storage).__name__))
    size = _int_tuple(size, "tensor size")
    stride = _int_tuple(stride, "tensor stride")
    if len(size) != len(stride):
        raise _CorruptFile("tensor size {} and stride {} differ in length".format(size, stride))
    return TensorRef(storage, _int(storage_offset, "storage offset"), size, stride)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, hooks, dtype,
                       *_ignored):
    tensor = _rebuild_tensor(storage, storage_offset, size, stride)
    if not isinstance(dtype, _DType):
        raise _CorruptFile("tensor dtype is {!r}".format(type(dtype).__name__))
    tensor.code = dtype.code
    return tensor


def _rebuild_parameter(data, *_ignored):
    if not isinstance(data, TensorRef):
        raise _CorruptFile("a parameter wraps {!r}, not a tensor".format(type(data).__name__))
    return data


def _rebuild_from_type(func, new_type, args, state=None):
    if not isinstance(func, _SafeCallable) or not func.rebuilds_tensor:
        raise _CorruptFile("_rebuild_from_type_v2 is given a function other than a rebuild")
    if not isinstance(new_type, _TensorClass):
        raise _CorruptFile("_rebuild_from_type_v2 is given a type that is not a tensor type")
    if not isinstance(args, tuple):
        raise _CorruptFile("_rebuild_from_type_v2 arguments are not a tuple")
    return func(*args)


def _ordered_dict(*args):
    # Python 3 pickles call OrderedDict() then SETITEMS; Python 2 pickles pass
    # a list of [key, value] pairs.
    if len(args) > 1:
        raise _CorruptFile("OrderedDict called with {} arguments".format(len(args)))
    items = args[0] if args else ()
    if not isinstance(items, (list, tuple, dict)):
        raise _CorruptFile("OrderedDict built from {!r}".format(type(items).__name__))
    try:
        return collections.OrderedDict(items)
    except (TypeError, ValueError) as err:
        raise _CorruptFile("OrderedDict items: {}".format(err))


class _SafeCallable(_Frozen):
    """What ``find_class`` hands to the unpickler: our function, never torch's."""
    __slots__ = ("name", "function", "rebuilds_tensor")

    def __init__(self, name, function, rebuilds_tensor=False):
        self.name = name
        self.function = function
        self.rebuilds_tensor = rebuilds_tensor

    def __call__(self, *args):
        return self.function(*args)


def _allowed_globals():
    allowed = {
        ("collections", "OrderedDict"): _SafeCallable("OrderedDict", _ordered_dict),
        ("torch._utils", "_rebuild_tensor"):
            _SafeCallable("_rebuild_tensor", _rebuild_tensor, True),
        ("torch._utils", "_rebuild_tensor_v2"):
            _SafeCallable("_rebuild_tensor_v2", _rebuild_tensor, True),
        ("torch._utils", "_rebuild_tensor_v3"):
            _SafeCallable("_rebuild_tensor_v3", _rebuild_tensor_v3, True),
        ("torch._utils", "_rebuild_parameter"):
            _SafeCallable("_rebuild_parameter", _rebuild_parameter, True),
        ("torch._utils", "_rebuild_parameter_with_state"):
            _SafeCallable("_rebuild_parameter_with_state", _rebuild_parameter, True),
        ("torch._tensor", "_rebuild_from_type_v2"):
            _SafeCallable("_rebuild_from_type_v2", _rebuild_from_type),
        ("torch", "Tensor"): _TensorClass("Tensor"),
        ("torch.nn.parameter", "Parameter"): _TensorClass("Parameter"),
    }
    for name, code in _STORAGE_TYPES.items():
        allowed[("torch", name)] = _StorageType(name, code)
        # Python 2 era files sometimes name the CUDA storage class itself.
        allowed[("torch.cuda", name)] = _StorageType(name, code)
    for name, code in _DTYPE_NAMES.items():
        allowed[("torch", name)] = _DType(code)
    return allowed


_ALLOWED = _allowed_globals()


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the globals of :data:`_ALLOWED`; persistent ids become StorageRefs."""

    def __init__(self, stream, path, storages=None):
        # latin1 turns Python 2 byte strings (SHORT_BINSTRING keys) into str
        # losslessly; the files hold no other byte strings.
        super().__init__(stream, encoding="latin1")
        self._path = path
        self._storages = storages

    def find_class(self, module, name):
        found = _ALLOWED.get((module, name))
        if found is None:
            raise UserError(
                "unsafe pickle: {}.{} in {} (only tensors, state dicts and plain containers "
                "are allowed; nothing was executed)".format(_short(module, 60), _short(name, 60),
                                                            self._path))
        return found

    def persistent_load(self, pid):
        if self._storages is None:
            raise _CorruptFile("unexpected persistent id in a header pickle")
        return _storage_from_pid(pid, self._storages)


def _text(value, what):
    if isinstance(value, bytes):
        value = value.decode("latin1")
    if not isinstance(value, str):
        raise _CorruptFile("{} is {!r}, not a string".format(what, type(value).__name__))
    return value


def _storage_from_pid(pid, storages):
    if not isinstance(pid, tuple) or len(pid) not in (5, 6) or _text(pid[0], "id") != "storage":
        raise _CorruptFile("unsupported persistent id {}".format(_short(repr(pid)[:80])))
    storage_type = pid[1]
    if not isinstance(storage_type, _StorageType):
        raise _CorruptFile("persistent id names no storage type")
    key = _text(pid[2], "storage key")
    location = _text(pid[3], "storage location")
    numel = _int(pid[4], "storage size")
    if numel < 0:
        raise _CorruptFile("negative storage size")
    view = pid[5] if len(pid) == 6 else None
    known = storages.get(key)
    if known is None:
        known = StorageRef(key, storage_type.code, location, numel)
        storages[key] = known
    elif known.code != storage_type.code or known.numel != numel:
        raise _CorruptFile("storage {} is declared twice differently".format(key))
    if view is None:
        return known
    # Storage views (torch < 0.4): a window of the root storage with its own key.
    if not isinstance(view, tuple) or len(view) != 3:
        raise _CorruptFile("malformed storage view {}".format(_short(repr(view))))
    view_key = _text(view[0], "view key")
    offset = _int(view[1], "view offset")
    size = _int(view[2], "view size")
    if offset < 0 or size < 0 or offset + size > numel:
        raise _CorruptFile("storage view {} lies outside storage {}".format(view_key, key))
    return StorageRef(view_key, storage_type.code, location, size, view=(key, offset, size))


def _unpickle(stream, path, storages=None):
    unpickler = _RestrictedUnpickler(stream, path, storages)
    try:
        return unpickler.load()
    except (UserError, _CorruptFile):
        raise
    except RecursionError:
        raise _CorruptFile("the pickle nests too deeply")
    except MemoryError:
        raise _CorruptFile("the pickle asks for more memory than available")
    except Exception as err:  # any fault of the pickle data itself
        if isinstance(err, EOFError) or "truncated" in str(err):
            raise _CorruptFile("it is truncated (pickle data ends early)")
        raise _CorruptFile("bad pickle data ({}: {})".format(type(err).__name__, _short(err)))


# ------------------------------------------------------------------ storages

def _numpy_dtype(code, byteorder):
    order = "<" if byteorder == "little" else ">"
    if code == "bf16":
        return np.dtype(order + "u2")
    if code == "b1":
        return np.dtype("?")
    return np.dtype(order + code[0] + str(_ITEMSIZE[code]))


def _to_native(array, code):
    if code == "bf16":
        widened = array.astype(np.uint32) << np.uint32(16)
        return widened.view(np.float32)
    return array.astype(array.dtype.newbyteorder("="), copy=False)


def _storage_array(buffer, code, byteorder, numel):
    dtype = _numpy_dtype(code, byteorder)
    array = np.frombuffer(buffer, dtype=dtype, count=numel)
    return _to_native(array, code)


def _materialise(tensor, arrays):
    """Copy a TensorRef out of its storage into a contiguous numpy array."""
    storage = tensor.storage
    data = arrays[storage.key]
    if tensor.code != storage.code:
        # torch >= 2 untyped storage with a typed tensor (``_rebuild_tensor_v3``).
        if storage.code != "u1":
            raise _CorruptFile("tensor dtype differs from its {} storage".format(storage.code))
        itemsize = _ITEMSIZE[tensor.code]
        usable = data.size - data.size % itemsize
        data = data[:usable].view(_numpy_dtype(tensor.code, "little"))
        data = _to_native(data, tensor.code)
    size, stride, offset = tensor.size, tensor.stride, tensor.offset
    count = 1
    for extent in size:
        if extent < 0:
            raise _CorruptFile("negative tensor size {}".format(size))
        count *= extent
    if count > MAX_TENSOR_ELEMENTS:
        raise _CorruptFile("a tensor of size {} is too large".format(size))
    dtype = data.dtype
    if count == 0:
        return np.zeros(size, dtype=dtype)
    if offset < 0 or any(s < 0 for s in stride):
        raise _CorruptFile("negative tensor offset or stride")
    last = offset + sum((extent - 1) * step for extent, step in zip(size, stride))
    if last >= data.size:
        raise _CorruptFile("a tensor of size {} stride {} offset {} lies outside its storage of "
                           "{} elements".format(size, stride, offset, data.size))
    window = data[offset:]
    view = np.lib.stride_tricks.as_strided(
        window, shape=size, strides=tuple(step * dtype.itemsize for step in stride),
        writeable=False)
    return np.array(view, dtype=dtype, order="C", copy=True)


def _replace_tensors(obj, arrays, depth=0):
    if depth > 100:
        raise _CorruptFile("the object nests too deeply")
    if isinstance(obj, TensorRef):
        return _materialise(obj, arrays)
    if isinstance(obj, StorageRef):
        return arrays[obj.key].copy()
    if isinstance(obj, collections.OrderedDict):
        result = collections.OrderedDict(
            (key, _replace_tensors(value, arrays, depth + 1)) for key, value in obj.items())
        return result
    if isinstance(obj, dict):
        return {key: _replace_tensors(value, arrays, depth + 1) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_replace_tensors(value, arrays, depth + 1) for value in obj]
    if isinstance(obj, tuple):
        return tuple(_replace_tensors(value, arrays, depth + 1) for value in obj)
    if isinstance(obj, _Frozen):
        raise _CorruptFile("the file holds a bare {}".format(type(obj).__name__))
    return obj


def _resolve_views(storages, arrays):
    for key, ref in list(storages.items()):
        if ref.view is not None and key not in arrays:
            root_key, offset, size = ref.view
            arrays[key] = arrays[root_key][offset:offset + size]


def _collect_view_refs(obj, storages, depth=0):
    """Register the view StorageRefs (they are not in the root storage table)."""
    if depth > 100:
        raise _CorruptFile("the object nests too deeply")
    if isinstance(obj, TensorRef):
        obj = obj.storage
    if isinstance(obj, StorageRef):
        if obj.view is not None:
            storages.setdefault(obj.key, obj)
        return
    if isinstance(obj, dict):
        values = obj.values()
    elif isinstance(obj, (list, tuple)):
        values = obj
    else:
        return
    for value in values:
        _collect_view_refs(value, storages, depth + 1)


# ------------------------------------------------------------------ formats

class TorchCheckpoint(object):
    """The content of a ``.pth`` file.

    Attributes:
        obj: the saved object, with every tensor replaced by a numpy array.
        format: ``"zip"`` or ``"legacy"``.
        byteorder: ``"little"`` or ``"big"`` (of the stored data).
        locations: sorted device locations of the storages (``cpu``, ``cuda:0``...).
        dtypes: {torch dtype name: number of tensors}.
    """

    def __init__(self, obj, format, byteorder, locations, dtypes):
        self.obj = obj
        self.format = format
        self.byteorder = byteorder
        self.locations = locations
        self.dtypes = dtypes

    def describe(self):
        return "{} format, {}-endian, storages on {}".format(
            self.format, self.byteorder, ", ".join(self.locations) or "-")


def _dtype_counts(obj, counts, depth=0):
    if isinstance(obj, TensorRef):
        name = _TORCH_DTYPE_OF[obj.code]
        counts[name] = counts.get(name, 0) + 1
    elif isinstance(obj, dict) and depth < 100:
        for value in obj.values():
            _dtype_counts(value, counts, depth + 1)
    elif isinstance(obj, (list, tuple)) and depth < 100:
        for value in obj:
            _dtype_counts(value, counts, depth + 1)
    return counts


def _finish(obj, storages, arrays, format, byteorder):
    _collect_view_refs(obj, storages)
    _resolve_views(storages, arrays)
    locations = sorted({ref.location for ref in storages.values()})
    dtypes = _dtype_counts(obj, {})
    return TorchCheckpoint(_replace_tensors(obj, arrays), format, byteorder, locations, dtypes)


def _read_zip(path, handle):
    try:
        archive = zipfile.ZipFile(handle)
        names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as err:
        raise _CorruptFile("it is not a readable zip archive ({}); the file is truncated or "
                           "corrupt".format(_short(err)))
    pickles = [name for name in names if name.endswith("/data.pkl") and name.count("/") == 1]
    if len(pickles) != 1:
        if "data.pkl" in names or not pickles:
            raise _CorruptFile("the zip archive has no <name>/data.pkl: not a torch.save file")
        raise _CorruptFile("the zip archive has several data.pkl entries")
    prefix = pickles[0][:-len("data.pkl")]
    archive_size = os.fstat(handle.fileno()).st_size

    def read(name):
        try:
            info = archive.getinfo(name)
        except KeyError:
            raise _CorruptFile("the zip archive lacks {}".format(name))
        # Sizes come from the (untrusted) directory: bound them before reading.
        if info.compress_size > archive_size:
            raise _CorruptFile("entry {} claims more bytes than the file has; the file is "
                               "truncated or corrupt".format(name))
        if (info.compress_type != zipfile.ZIP_STORED
                and info.file_size > _MAX_ZIP_RATIO * max(info.compress_size, 1)):
            raise _CorruptFile("entry {} expands implausibly ({} -> {} bytes)".format(
                name, info.compress_size, info.file_size))
        try:
            return archive.read(info)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as err:
            raise _CorruptFile("entry {} is unreadable ({}); the file is truncated or "
                               "corrupt".format(name, _short(err)))

    byteorder = "little"
    if prefix + "byteorder" in names:
        byteorder = read(prefix + "byteorder").decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise _CorruptFile("unknown byte order {!r}".format(_short(byteorder)))
    storages = collections.OrderedDict()
    obj = _unpickle(io.BytesIO(read(pickles[0])), path, storages)
    arrays = {}
    for key, ref in storages.items():
        entry = "{}data/{}".format(prefix, key)
        nbytes = ref.numel * _ITEMSIZE[ref.code]
        try:
            declared = archive.getinfo(entry).file_size
        except KeyError:
            raise _CorruptFile("the zip archive lacks {}".format(entry))
        if declared != nbytes:
            raise _CorruptFile("storage {} has {} bytes, {} expected".format(
                entry, declared, nbytes))
        arrays[key] = _storage_array(read(entry), ref.code, byteorder, ref.numel)
    return _finish(obj, storages, arrays, "zip", byteorder)


def _read_exact(handle, count, what):
    # Checked before reading: a forged count must not trigger a huge allocation.
    remaining = os.fstat(handle.fileno()).st_size - handle.tell()
    if count > remaining:
        raise _CorruptFile("it is truncated ({} ends early)".format(what))
    data = handle.read(count)
    if len(data) != count:
        raise _CorruptFile("it is truncated ({} ends early)".format(what))
    return data


def _read_legacy(path, handle):
    magic = _unpickle(handle, path)
    if magic != LEGACY_MAGIC:
        raise _CorruptFile("it is not a torch.save file (wrong magic number)")
    protocol = _unpickle(handle, path)
    if protocol != LEGACY_PROTOCOL:
        raise _CorruptFile("unsupported legacy protocol version {!r}".format(_short(protocol)))
    sys_info = _unpickle(handle, path)
    if not isinstance(sys_info, dict):
        raise _CorruptFile("malformed sys info")
    byteorder = "little" if sys_info.get("little_endian", True) else "big"
    storages = collections.OrderedDict()
    obj = _unpickle(handle, path, storages)
    keys = _unpickle(handle, path)
    if not isinstance(keys, list):
        raise _CorruptFile("malformed storage key list")
    arrays = {}
    count_format = "<q" if byteorder == "little" else ">q"
    for key in keys:
        key = _text(key, "storage key")
        ref = storages.get(key)
        if ref is None or key in arrays:
            raise _CorruptFile("storage key {} is unknown or repeated".format(_short(key)))
        (numel,) = struct.unpack(count_format, _read_exact(handle, 8, "a storage header"))
        if numel != ref.numel:
            raise _CorruptFile("storage {} has {} elements, {} expected".format(
                key, numel, ref.numel))
        data = _read_exact(handle, numel * _ITEMSIZE[ref.code], "storage data")
        arrays[key] = _storage_array(data, ref.code, byteorder, numel)
    missing = [key for key, ref in storages.items() if ref.view is None and key not in arrays]
    if missing:
        raise _CorruptFile("storage {} has no data".format(_short(missing[0])))
    if handle.read(1):
        raise _CorruptFile("it has unexpected bytes after the last storage")
    return _finish(obj, storages, arrays, "legacy", byteorder)


def load(path):
    """Read a ``torch.save`` file; returns a :class:`TorchCheckpoint`."""
    if not os.path.isfile(path):
        raise UserError("PyTorch file {} not found".format(path))
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
            handle.seek(0)
            if not head:
                raise _CorruptFile("it is empty")
            if head.startswith(b"PK"):
                return _read_zip(path, handle)
            if head[:1] == b"\x80":
                return _read_legacy(path, handle)
            if tarfile.is_tarfile(path):
                raise _CorruptFile("it is a tar archive: the format of PyTorch before 0.1.10, "
                                   "which is not supported")
            raise _CorruptFile("it is neither a zip nor a legacy torch.save file")
    except _CorruptFile as err:
        raise UserError("cannot read {}: {}".format(path, err))
    except OSError as err:
        raise UserError("cannot read {}: {}".format(path, err.strerror or err))


def _is_tensor_mapping(obj):
    return (isinstance(obj, dict) and obj
            and all(isinstance(key, str) for key in obj)
            and all(isinstance(value, np.ndarray) for value in obj.values()))


def load_state_dict(path, return_checkpoint=False):
    """Read a saved state dict: an OrderedDict {name: numpy array} in file order.

    A dict that wraps the state dict under ``state_dict`` (a common training
    checkpoint layout) is unwrapped.
    """
    checkpoint = load(path)
    obj = checkpoint.obj
    if (isinstance(obj, dict) and not _is_tensor_mapping(obj)
            and _is_tensor_mapping(obj.get("state_dict"))):
        obj = obj["state_dict"]
    if not _is_tensor_mapping(obj):
        raise UserError("{} does not hold a state dict (a mapping of names to tensors); "
                        "found {}".format(path, type(checkpoint.obj).__name__))
    state = collections.OrderedDict(obj)
    return (state, checkpoint) if return_checkpoint else state
