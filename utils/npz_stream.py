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
"""Write an ``.npz`` one array at a time, so memory does not grow with its size.

An ``.npz`` file is a zip archive of ``<key>.npy`` members; ``np.savez`` needs
every array in memory at once (the public port held ~50 GB per CelebV person).
:class:`NpzStreamWriter` appends members one by one to the zip instead.  The
file appears under its final name only when it is closed without an error.

Compression is most of the cost of writing.  :func:`pack_member` does it
where the array is made (in a worker process, say) and
:meth:`NpzStreamWriter.add_packed` only copies the bytes into the archive:
the file is the same as with :meth:`NpzStreamWriter.add`.
"""
import io
import os
import time
import zipfile
import zlib

import numpy as np

from .atomic_files import atomic_path


class NpzStreamWriter:
    """Context manager: ``with NpzStreamWriter(path) as npz: npz.add(key, array)``.

    The result loads with ``np.load(path)[key]``.  ``compress`` uses deflate as
    ``np.savez_compressed`` does.
    """

    def __init__(self, path, compress=True):
        self.path = path
        self.compress = compress
        self.keys = set()
        self._atomic = None
        self._zip = None

    def __enter__(self):
        self._atomic = atomic_path(self.path)
        tmp = self._atomic.__enter__()
        compression = zipfile.ZIP_DEFLATED if self.compress else zipfile.ZIP_STORED
        self._zip = zipfile.ZipFile(tmp, mode="w", compression=compression, allowZip64=True)
        return self

    def _claim(self, key):
        if key in self.keys:
            raise ValueError("duplicate key {!r} in {}".format(key, self.path))
        self.keys.add(key)

    def add(self, key, array):
        self._claim(key)
        array = np.asanyarray(array)
        with self._zip.open(key + ".npy", mode="w", force_zip64=True) as member:
            np.lib.format.write_array(member, array, allow_pickle=False)

    def add_packed(self, key, packed):
        """Add a member made by :func:`pack_member` (deflated already)."""
        if not self.compress:
            raise ValueError("packed members are deflated; {} is not compressed".format(
                self.path))
        self._claim(key)
        size, crc, data = packed
        info = zipfile.ZipInfo(key + ".npy", date_time=time.localtime(time.time())[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        with self._zip.open(info, mode="w", force_zip64=True) as member:
            # zipfile has no public way to store deflated bytes as they are:
            # its writer gets a compressor that passes them through, then the
            # CRC and size of the data they decompress to (zipfile of Python
            # 3.6-3.12; the tests check the archive member by member).
            member._compressor = _PassThrough()
            member.write(data)
            member._crc, member._file_size = crc, size

    def __exit__(self, exc_type, exc, tb):
        try:
            self._zip.close()
        finally:
            self._atomic.__exit__(exc_type, exc, tb)
        return False

    def __len__(self):
        return len(self.keys)


class _PassThrough:
    @staticmethod
    def compress(data):
        return data

    @staticmethod
    def flush():
        return b""


def pack_member(array):
    """``array`` as a deflated ``.npy`` member for :meth:`NpzStreamWriter.add_packed`:
    (size, CRC-32, bytes), compressed as zipfile compresses (zlib level 6, raw deflate)."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
    raw = buffer.getvalue()
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return len(raw), zlib.crc32(raw), compressor.compress(raw) + compressor.flush()


def npz_keys(path):
    """The keys of an npz without loading any array."""
    with zipfile.ZipFile(path) as archive:
        return [os.path.splitext(name)[0] for name in archive.namelist()]
