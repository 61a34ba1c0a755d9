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
"""
import os
import zipfile

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

    def add(self, key, array):
        if key in self.keys:
            raise ValueError("duplicate key {!r} in {}".format(key, self.path))
        self.keys.add(key)
        array = np.asanyarray(array)
        with self._zip.open(key + ".npy", mode="w", force_zip64=True) as member:
            np.lib.format.write_array(member, array, allow_pickle=False)

    def __exit__(self, exc_type, exc, tb):
        try:
            self._zip.close()
        finally:
            self._atomic.__exit__(exc_type, exc, tb)
        return False

    def __len__(self):
        return len(self.keys)


def npz_keys(path):
    """The keys of an npz without loading any array."""
    with zipfile.ZipFile(path) as archive:
        return [os.path.splitext(name)[0] for name in archive.namelist()]
