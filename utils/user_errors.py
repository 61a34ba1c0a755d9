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
"""Expected faults (bad input, missing files) end a script with one line.

Scripts raise :class:`UserError` for anything the user can fix, and wrap
their ``main`` with :func:`run_main`, which prints ``error: <message>`` to
stderr and exits with status 2 instead of showing a traceback.  Unexpected
exceptions still show their traceback: those are bugs.
"""
import sys


class UserError(Exception):
    """A fault in the user's input that the user can fix (exit status 2)."""


class CorruptSampleError(UserError):
    """One sample of a data set cannot be used (unreadable image, bad line).

    Data loaders catch it, count it under its ``reason`` and skip the sample.
    """

    def __init__(self, message, reason="corrupt"):
        super().__init__(message)
        self.reason = reason


def run_main(main, argv=None):
    """Run ``main(argv)``; turn a :class:`UserError` into one line and exit 2."""
    try:
        return main(argv)
    except UserError as err:
        message = " ".join(str(err).split())
        print("error: {}".format(message), file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
