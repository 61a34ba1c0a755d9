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
"""`make demo`: both models trained and evaluated end to end on synthetic faces.

    python demo.py [--force] [--jobs 2] [--out-dir demo_output] [--mini]

Stages (each prints one line and shows a progress bar; finished stages are
skipped when the demo is run again, ``--force`` redoes them, and a training
stage that was interrupted resumes from its last checkpoint):

 1. data         synthetic CelebV (3 persons sharing expression sequences), WFLW
                 and celebA-style sets; CelebV split; WFLW preprocessed
 2. encoder      reenactgan/train_encoder.py     --conf config/demo/encoder.yaml
 3. ganimation   ganimation/train_ganimation.py  --conf config/demo/ganimation.yaml
 4. transformer  reenactgan/train_transformer.py --conf config/demo/transformer.yaml
 5. decoder      reenactgan/train_decoder.py     --conf config/demo/decoder.yaml
 6. au_regressor ganimation/evaluate.py train-regressor (the AU ruler of the evaluation)
 7. reenactment  reenactgan/test_reenactment.py on Person_A's test frames -> MP4 + GIF
 8. expressions  ganimation/test_ganimation.py --as-gif on test faces
 9. evaluation   reenactgan/evaluate.py and ganimation/evaluate.py -> metrics.json
10. report       report.html (metrics, loss curves, panels, videos)

The decoder and the transformer learn from the trained encoder's boundaries
(as the authors trained them; the public port's drawn boundaries leave a gap
between training and the reenactment chain), so they start after the encoder,
while GANimation trains; the AU regressor comes last (only the evaluation
needs it).  Stages start in this order as cores become free.

The configurations in config/demo/ are REDUCED (narrow networks, few epochs)
so that the whole demo runs in under 20 minutes on 2 CPU cores; they are not
the paper's settings.  Independent stages run in parallel (``--jobs``).

The evaluation compares each model with what it has to beat, on held-out data
whose truth is known (metrics.json "checks"): the reenacted frames with the
chain without the transformer and with the target's mean face, the
transformer's boundaries with the untranslated source's, the expression edits
with the unedited input (AU error, and PSNR to the true render of the target
expression).
``--mini`` shrinks everything to a few iterations (used by the tests).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

import yaml
from tqdm import tqdm

from utils.atomic_files import atomic_write_text, ensure_writable_dir
from utils.monitoring import progress
from utils.user_errors import UserError, run_main

REPO = os.path.dirname(os.path.abspath(__file__))
PYTHON = sys.executable
SOURCE, TARGET, OTHER = "Person_A", "Person_B", "Person_C"

# Data sizes: full demo and --mini.
DATA = {
    "full": {"frames": 300, "train": 250, "wflw_train": 600, "wflw_test": 50, "faces": 2400,
             "faces_test_fraction": 0.05},
    "mini": {"frames": 10, "train": 7, "wflw_train": 6, "wflw_test": 3, "faces": 24,
             "faces_test_fraction": 0.1},
}
# The AU regressor is the ruler of the GANimation evaluation; see the README's
# demo section for its measured error.
AU_REGRESSOR_EPOCHS = 25
# --mini: every training stage runs one or two iterations of a tiny network.
MINI_OVERRIDES = {
    "encoder": {"model": {"planes": 4, "hourglass_depth": 1},
                "train": {"epochs": 1, "batch_size": 2}, "test": {"batch_size": 3},
                "monitor": {"interval": 1}},
    "decoder": {"model": {"ngf": 4, "ndf": 4}, "train": {"epochs": 1, "batch_size": 4},
                "monitor": {"interval": 1}},
    "transformer": {"model": {"ngf": 4, "n_blocks": 1, "ndf": 4},
                    "train": {"epochs": 1, "batch_size": 4}, "monitor": {"interval": 1}},
    "ganimation": {"model": {"g_conv_dim": 4, "d_conv_dim": 4},
                   "train": {"epochs_no_decay": 1, "epochs_decay": 0, "batch_size": 8,
                             "critic_au_warmup_epochs": 1, "color_warmup_epochs": 1},
                   "monitor": {"interval": 1}},
}


def deep_update(base, overrides):
    """``base`` with ``overrides`` merged in (the training scripts check the keys)."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_update(merged[key], value)
        else:
            merged[key] = value
    return merged


class Demo:
    """Paths and helpers shared by the stages."""

    def __init__(self, args):
        self.args = args
        self.size = "mini" if args.mini else "full"
        self.out = os.path.abspath(args.out_dir)
        self.data = os.path.join(self.out, "data")
        self.monitor = os.path.join(self.out, "tmp.monitor")
        self.logs = os.path.join(self.out, "logs")
        self.stages = os.path.join(self.out, "stages")
        self.configs = os.path.join(self.out, "configs")

    def run_dir(self, module):
        return {"encoder": os.path.join(self.monitor, "encoder", "demo"),
                "transformer": os.path.join(self.monitor, "transformer",
                                            "{}2{}".format(SOURCE, TARGET), "demo"),
                "decoder": os.path.join(self.monitor, "decoder", TARGET, "demo"),
                "ganimation": os.path.join(self.monitor, "ganimation", "demo")}[module]

    def info(self, module):
        return os.path.join(self.run_dir(module), "training_info.yaml")

    def write_config(self, module):
        """config/demo/<module>.yaml with this demo's paths (and --mini sizes)."""
        with open(os.path.join(REPO, "config", "demo", module + ".yaml")) as f:
            config = yaml.safe_load(f)
        paths = {
            "encoder": {"path": {"data_dir": os.path.join(self.data, "WFLW_heatmaps"),
                                 "celebv_dir": os.path.join(self.data, "CelebV")}},
            "decoder": {"train_dir": os.path.join(self.data, "CelebV"),
                        "encoder": {"config": self.info("encoder")},
                        "test": {"logdir": os.path.join(self.out, "tmp.result")}},
            "transformer": {"train_dir": os.path.join(self.data, "CelebV"),
                            "encoder": {"config": self.info("encoder")},
                            "test": {"logdir": os.path.join(self.out, "tmp.result")}},
            "ganimation": {"data": {"data_dir": os.path.join(self.data, "celebA")},
                           "test": {"logdir": os.path.join(self.out, "tmp.result")}},
        }[module]
        config = deep_update(config, paths)
        config = deep_update(config, {"logdir": self.monitor, "experiment_name": "demo"})
        if self.args.mini:
            config = deep_update(config, MINI_OVERRIDES[module])
        path = os.path.join(self.configs, module + ".yaml")
        atomic_write_text(path, yaml.safe_dump(config, sort_keys=True))
        return path

    def train_command(self, module, script):
        """Train, or resume the run when an earlier demo was interrupted."""
        if os.path.isdir(os.path.join(self.run_dir(module), "checkpoints")):
            return [PYTHON, script, "--resume", self.run_dir(module), "--context", "cpu"]
        return [PYTHON, script, "--conf", self.write_config(module), "--context", "cpu"]


def data_stage(demo):
    size = DATA[demo.size]
    commands = [
        [PYTHON, "-m", "utils.synthetic_faces", "--out-dir", demo.data,
         "--celebv-persons", SOURCE, TARGET, OTHER, "--celebv-frames", str(size["frames"]),
         "--celebv-pose-amount", "1.2", "--wflw-train", str(size["wflw_train"]),
         "--wflw-test", str(size["wflw_test"]), "--ganimation-images", str(size["faces"]),
         "--ganimation-test-fraction", str(size["faces_test_fraction"]), "--seed", "0"],
        ["bash", "split_celebv.sh", os.path.join(demo.data, "CelebV"), str(size["train"])],
    ]
    for mode in ("train", "test"):
        commands.append([PYTHON, "preprocess.py", "--dataset", "WFLW", "--mode", mode,
                         "--src-dir", os.path.join(demo.data, "WFLW"),
                         "--out-dir", os.path.join(demo.data, "WFLW_heatmaps")])
    return commands


def stage_list(demo):
    """(name, description, dependencies, commands-builder)."""
    reenact_dir = os.path.join(demo.out, "reenactment")
    expressions_dir = os.path.join(demo.out, "expressions")
    frames = "50" if not demo.args.mini else "3"
    return [
        ("data", "generating synthetic faces and preparing them", [], data_stage),
        ("encoder", "training the encoder (reduced)", ["data"],
         lambda d: [d.train_command("encoder", "reenactgan/train_encoder.py")]),
        # GANimation and the AU regressor run while the encoder trains; the
        # decoder and the transformer learn from the encoder's boundaries.
        ("ganimation", "training GANimation (reduced)", ["data"],
         lambda d: [d.train_command("ganimation", "ganimation/train_ganimation.py")]),
        ("transformer", "training the transformer {} -> {} (reduced)".format(SOURCE, TARGET),
         ["encoder"],
         lambda d: [d.train_command("transformer", "reenactgan/train_transformer.py")]),
        ("decoder", "training the decoder for {} (reduced)".format(TARGET), ["encoder"],
         lambda d: [d.train_command("decoder", "reenactgan/train_decoder.py")]),
        ("au_regressor", "training the AU regressor used to measure expressions", ["data"],
         lambda d: [[PYTHON, "ganimation/evaluate.py", "train-regressor",
                     "--data-dir", os.path.join(d.data, "celebA"),
                     "--out", os.path.join(d.out, "au_regressor"), "--context", "cpu",
                     "--epochs", "1" if d.args.mini else str(AU_REGRESSOR_EPOCHS)]]),
        ("reenactment", "reenacting {}'s test frames as {}".format(SOURCE, TARGET),
         ["encoder", "transformer", "decoder"],
         lambda d: [[PYTHON, "reenactgan/test_reenactment.py",
                     "--encoder-config", d.info("encoder"),
                     "--transformer-config", d.info("transformer"),
                     "--decoder-config", d.info("decoder"),
                     "--src-celeb-name", SOURCE, "--trg-celeb-name", TARGET, "-n", frames,
                     "--batch-size", "5", "--out-dir", reenact_dir, "--fps", "12",
                     "--video", os.path.join(d.out, "reenactment.mp4"),
                     os.path.join(d.out, "reenactment.gif"), "--context", "cpu"]]),
        ("expressions", "editing expressions of test faces", ["ganimation"],
         lambda d: [[PYTHON, "ganimation/test_ganimation.py", d.run_dir("ganimation"),
                     "-n", "2" if d.args.mini else "4", "--as-gif", "--save-masks",
                     "--out-dir", expressions_dir,
                     "--context", "cpu"]]),
        ("evaluation", "measuring the models on held-out data",
         ["encoder", "transformer", "decoder", "ganimation", "au_regressor"],
         lambda d: [[PYTHON, "reenactgan/evaluate.py", "--encoder-config", d.info("encoder"),
                     "--transformer-config", d.info("transformer"),
                     "--decoder-config", d.info("decoder"), "--src-celeb-name", SOURCE,
                     "--trg-celeb-name", TARGET, "--paired", "--context", "cpu",
                     "--json", os.path.join(d.out, "metrics_reenactgan.json"),
                     "--panels", os.path.join(d.out, "panels", "reenactment"),
                     "--num-panels", "1" if d.args.mini else "4"],
                    [PYTHON, "ganimation/evaluate.py", "evaluate", d.run_dir("ganimation"),
                     "--regressor", os.path.join(d.out, "au_regressor"), "--context", "cpu",
                     "--json", os.path.join(d.out, "metrics_ganimation.json"),
                     "--panels", os.path.join(d.out, "panels", "expressions"),
                     "--num-panels", "2" if d.args.mini else "4"]]),
        ("report", "writing the report", ["evaluation", "reenactment", "expressions"],
         lambda d: [[PYTHON, "demo_report.py", d.out]]),
    ]


TQDM_COUNT = re.compile(r"(\d+)/(\d+) \[")


def log_progress(path):
    """(done, total) of the last tqdm bar in a log file, or None."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 4096))
            tail = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    matches = TQDM_COUNT.findall(tail)
    return (int(matches[-1][0]), int(matches[-1][1])) if matches else None


class RunningStage:
    def __init__(self, demo, index, count, name, description, commands, position):
        self.demo, self.name = demo, name
        self.commands = list(commands)
        self.log_path = os.path.join(demo.logs, name + ".log")
        self.log = open(self.log_path, "w")
        tqdm.write("[{}/{}] {}".format(index, count, description))
        self.bar = progress(None, total=len(self.commands), desc=name)
        self.bar.position = position
        self.process = None
        self.started = time.time()
        self.failed = False
        self._next_command()

    def _next_command(self):
        command = self.commands.pop(0)
        self.log.write("$ {}\n".format(" ".join(command)))
        self.log.flush()
        self.process = subprocess.Popen(command, cwd=REPO, stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def poll(self):
        """True when the stage has finished (successfully or not)."""
        found = log_progress(self.log_path)
        if found and found[1] > 0:
            if self.bar.total != found[1]:
                self.bar.reset(total=found[1])
            self.bar.n = found[0]
            self.bar.refresh()
        code = self.process.poll()
        if code is None:
            return False
        if code != 0:
            self.failed = True
            return True
        if self.commands:
            self._next_command()
            return False
        return True

    def close(self):
        self.bar.close()
        self.log.close()


def run_stages(demo):
    stages = stage_list(demo)
    names = [s[0] for s in stages]
    if demo.args.force:
        shutil.rmtree(demo.stages, ignore_errors=True)
    for folder in (demo.out, demo.logs, demo.stages, demo.configs):
        ensure_writable_dir(folder)

    def done(name):
        return os.path.isfile(os.path.join(demo.stages, name + ".done"))

    if demo.args.force:
        for module in ("encoder", "decoder", "transformer", "ganimation"):
            shutil.rmtree(demo.run_dir(module), ignore_errors=True)
    pending = [s for s in stages if not done(s[0])]
    for name in names:
        if done(name):
            print("[{}/{}] {}: done earlier (--force redoes it)".format(
                names.index(name) + 1, len(names), name))
    running = []
    started = time.time()
    while pending or running:
        for stage in list(running):
            if stage.poll():
                running.remove(stage)
                stage.close()
                if stage.failed:
                    for other in running:
                        other.process.terminate()
                    raise UserError("stage '{}' failed; see {}".format(stage.name, stage.log_path))
                atomic_write_text(os.path.join(demo.stages, stage.name + ".done"),
                                  "{:.0f} s\n".format(time.time() - stage.started))
        ready = [s for s in pending if all(done(d) for d in s[2])]
        while ready and len(running) < demo.args.jobs:
            name, description, _, build = ready.pop(0)
            pending = [s for s in pending if s[0] != name]
            running.append(RunningStage(demo, names.index(name) + 1, len(names), name,
                                        description, build(demo), len(running)))
        time.sleep(0.5)
    minutes = (time.time() - started) / 60.0
    print("demo finished in {:.1f} min: open {}".format(
        minutes, os.path.join(demo.out, "report.html")))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", default="demo_output")
    parser.add_argument("--force", action="store_true", help="redo every stage")
    parser.add_argument("--jobs", type=int, default=2, help="stages run in parallel")
    parser.add_argument("--mini", action="store_true",
                        help="tiny data and one or two iterations per stage (for tests)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    run_stages(Demo(args))


if __name__ == "__main__":
    run_main(main)
