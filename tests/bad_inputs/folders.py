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
"""Output folders that cannot be written, and what a run left behind in a folder."""
import os
import stat

# Temporary names of the project's atomic writers (utils/atomic_files.py,
# utils/checkpoint.py) and of split_celebv.sh's mktemp.
TEMPORARY_PREFIXES = (".tmp-", ".train_98pt.", ".test_98pt.")


def running_as_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def unwritable_folder(parent, name="locked"):
    """An output folder below ``parent/name`` that nothing can write into.

    As a normal user it is ``parent/name`` itself, an existing folder with
    mode 0o555.  Root ignores permissions, so then it is ``parent/name/out``
    where ``parent/name`` is a regular file: no user can create that folder.
    """
    if running_as_root():
        blocker = os.path.join(parent, name)
        with open(blocker, "w") as f:
            f.write("a regular file where a folder is needed\n")
        return os.path.join(blocker, "out")
    folder = os.path.join(parent, name)
    os.makedirs(folder, exist_ok=True)
    os.chmod(folder, 0o555)
    return folder


def make_writable_again(root):
    """Undo :func:`unwritable_folder` below ``root`` so the folder can be deleted."""
    for folder, dirs, _ in os.walk(root):
        for name in dirs:
            path = os.path.join(folder, name)
            mode = os.stat(path).st_mode
            if not mode & stat.S_IWUSR:
                os.chmod(path, mode | stat.S_IWUSR | stat.S_IXUSR)


def snapshot(root):
    """``{relative path: (size, mtime_ns)}`` of every regular file below ``root``, and
    ``{relative path + "/": "folder"}`` of every folder (an empty one left behind counts)."""
    files = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs:
            files[os.path.relpath(os.path.join(folder, name), root) + os.sep] = "folder"
        for name in names:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and not os.path.islink(path):
                info = os.stat(path)
                files[os.path.relpath(path, root)] = (info.st_size, info.st_mtime_ns)
    return files


def new_or_changed(before, after):
    """Relative paths of the files that appeared or changed between two snapshots."""
    return sorted(path for path, state in after.items() if before.get(path) != state)


def temporary_leftovers(root):
    """Temporary files or folders of an interrupted atomic write below ``root``."""
    found = []
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            if name.startswith(TEMPORARY_PREFIXES):
                found.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(found)
