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
"""Write files so that readers never see a half-written one.

Everything the project writes (parameters, npz caches, videos, configs) goes
through :func:`atomic_path`: the writer fills a temporary file in the same
folder, and only a complete file is renamed onto the final name.  On an
exception the temporary file is removed and the previous file, if any, stays.
"""
import contextlib
import os
import tempfile

from .user_errors import UserError


def _current_umask():
    # Linux states it; elsewhere setting and restoring is the only way to read it.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def umask_mode(directory=False):
    """The mode a plain ``open`` (0666) or ``mkdir`` (0777) would give under the umask.

    tempfile's files are 0600 and its folders 0700 whatever the umask; what is
    renamed into place gets this mode instead, so that results and data sets
    can be shared as the user's umask allows.
    """
    return (0o777 if directory else 0o666) & ~_current_umask()


def ensure_writable_dir(path):
    """Create ``path`` if needed; a one-line UserError when it is not writable."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise UserError("cannot create output folder {}: {}".format(path, err.strerror))
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError("output folder {} is not writable".format(path))
    return path


def check_creatable_dir(path):
    """A one-line UserError unless ``path`` is a writable folder or could be created as one.

    Nothing is created: a script checks its output folders before the work and
    makes them when it first writes, so that a failure leaves no empty folder.
    """
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise UserError("cannot create output folder {}: {} is not a folder".format(
            path, existing))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError("output folder {} is not writable".format(path) if existing ==
                        os.path.abspath(path) else "cannot create output folder {}: {} is not "
                        "writable".format(path, existing))
    return path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path`` that is renamed onto it on success.

    The temporary name keeps the extension of ``path`` because several writers
    (``nn.save_parameters``, imageio) choose the format from it.
    """
    folder = os.path.dirname(os.path.abspath(path))
    ensure_writable_dir(folder)
    base = os.path.basename(path)
    stem, ext = os.path.splitext(base)
    if base.endswith(".tar.gz"):
        ext = ".tar.gz"
    fd, tmp = tempfile.mkstemp(prefix=".tmp-{}-".format(stem), suffix=ext, dir=folder)
    os.close(fd)
    try:
        yield tmp
        # Writers may also have replaced the file, so the mode is set at the end.
        os.chmod(tmp, umask_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path, text):
    """Write a text file atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            f.write(text)
