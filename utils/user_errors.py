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

A fault in one sample of a data set is a :class:`CorruptSampleError`: the
sample is skipped, counted in a :class:`SkipTally` and the count printed in
the script's summary.
"""
import collections
import math
import sys
import threading


class UserError(Exception):
    """A fault in the user's input that the user can fix (exit status 2)."""


class CorruptSampleError(UserError):
    """One sample of a data set cannot be used (unreadable image, bad line).

    Data loaders catch it, count it under its ``reason`` and skip the sample.
    """

    def __init__(self, message, reason="corrupt"):
        super().__init__(message)
        self.reason = reason


class SkipTally:
    """Skipped samples counted by reason, with the first message of each reason.

    ``add`` may be given a ``key`` (a sample index, a file name): a sample
    that fails again (in the next epoch, or as another edit's target) is
    counted once.  Safe to call from several loader threads.
    """

    def __init__(self):
        self.counts = collections.Counter()
        self.examples = {}
        self._keys = set()
        self._lock = threading.Lock()

    def add(self, error, key=None):
        with self._lock:
            if key is not None:
                if key in self._keys:
                    return
                self._keys.add(key)
            reason = getattr(error, "reason", "corrupt")
            self.counts[reason] += 1
            self.examples.setdefault(reason, " ".join(str(error).split()))

    def __len__(self):
        return sum(self.counts.values())

    def text(self):
        """``"1 bad annotation line, 2 corrupt image"``: the counts by reason."""
        return ", ".join("{} {}".format(n, reason) for reason, n in sorted(self.counts.items()))

    def example(self):
        """One message, to find the first bad sample ('' when nothing was skipped)."""
        return self.examples[sorted(self.examples)[0]] if self.examples else ""

    def summary(self, label):
        """One line for a script's summary: what ``label`` skipped, and an example."""
        return "{}: skipped {} ({}), e.g. {}".format(label, len(self), self.text(),
                                                     self.example())

    def report(self, label, written):
        """Print a data-preparation summary: ``label: <written> written, <n> skipped
        (counts by reason)``, then one example of each reason."""
        text = "{}: {} written, {} skipped".format(label, written, len(self))
        if len(self):
            text += " ({})".format(self.text())
        print(text)
        for reason, example in sorted(self.examples.items()):
            print("  e.g. {}: {}".format(reason, example))

    def finish(self, label, written):
        """End of a test script's loop: print what ``label`` skipped, if anything,
        and stop with a one-line error when not one sample could be used."""
        if len(self):
            print(self.summary(label))
        if not written:
            raise UserError("no readable sample among the {} ({})".format(label, self.text()))


def check_positive(value, option):
    """``value`` (None for unset) must be a finite number > 0, else a one-line error."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise UserError("{} must be a positive number, got {}".format(option, value))
    return value


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
