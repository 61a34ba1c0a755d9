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
"""Measure a trained GANimation: do edited faces show the target Action Units?

    # 1. an AU regressor trained on the real training faces (the ruler)
    python ganimation/evaluate.py train-regressor --data-dir datasets/celebA --out au_regressor
    # 2. edit every test face towards another test face's AUs and measure
    python ganimation/evaluate.py evaluate tmp.monitor/ganimation/<exp> --regressor au_regressor \
        [--json metrics.json]

The AU error is the mean absolute difference, on OpenFace's 0-5 scale, between
the regressor's reading of a face and the target AUs.  The edited faces are
compared with the baseline of the unedited inputs (how far the input already
is from the target).  Also reported: the regressor's own error on the real
test faces next to predicting the mean AUs, and the mean attention value (a
mask stuck at 0 or 1 is the known failure mode of GANimation).

On the synthetic celebA set (utils/synthetic_faces.py), whose faces are
rendered from a person and AUs, the true edit is known: the same person, pose
and crop rendered with the target AUs.  The edited faces and the inputs are
then also compared with that render (PSNR, SSIM), and the regressor reads the
render too (the least AU error a perfect edit would show).
"""
import argparse
import json
import os

import cv2
import nnabla as nn
import nnabla.functions as F
import nnabla.solvers as S
import numpy as np
import yaml

from ganimation.data import AU_SCALE, NUM_AUS, AUFaceSource, mask_to_uint8, \
    resize_face
from ganimation.editor import ExpressionEditor, generator_param_file, load_run
from ganimation.models import REGRESSOR_SCOPE, au_regressor
from utils.atomic_files import atomic_write_text, ensure_writable_dir
from utils.checkpoint import load_parameters_checked, save_parameters_atomic
from utils.context import setup_context
from utils.image_io import to_network_image, to_uint8_image, write_image
from utils.image_metrics import network_image_scores
from utils.monitoring import labelled_row, progress
from utils.run_paths import RunPaths
from utils.synthetic_faces import GanimationTruth
from utils.training_run import make_loader, seed_everything
from utils.user_errors import UserError, run_main

REGRESSOR_INFO = "regressor.yaml"
REGRESSOR_PARAMS = "params.h5"


class Regressor:
    """A trained AU regressor: faces (N, 3, S, S) in [-1, 1] -> AUs / 5."""

    def __init__(self, folder, batch_size=16):
        info_path = os.path.join(folder, REGRESSOR_INFO)
        if not os.path.isfile(info_path):
            raise UserError("{} not found: train the regressor first (train-regressor)".format(
                info_path))
        with open(info_path) as f:
            self.info = yaml.safe_load(f)
        size = self.info["image_size"]
        self.batch_size = batch_size
        self.faces = nn.Variable((batch_size, 3, size, size))
        with nn.parameter_scope(REGRESSOR_SCOPE):
            self.aus = au_regressor(self.faces, tuple(self.info["widths"]), test=True)
        load_parameters_checked(os.path.join(folder, REGRESSOR_PARAMS), REGRESSOR_SCOPE,
                                strict=True)

    def __call__(self, faces):
        faces = np.asarray(faces, dtype=np.float32)
        size = self.faces.shape[-1]
        if faces.shape[-1] != size:
            faces = _resize_batch(faces, size)
        out = []
        for start in range(0, len(faces), self.batch_size):
            chunk = faces[start:start + self.batch_size]
            padded = np.concatenate([chunk, np.repeat(chunk[-1:], self.batch_size - len(chunk), 0)])
            self.faces.d = padded
            self.aus.forward(clear_buffer=True)
            out.append(self.aus.d[:len(chunk)].copy())
        return np.concatenate(out)


def _resize_batch(faces, size):
    return np.stack([cv2.resize(f.transpose(1, 2, 0), (size, size),
                                interpolation=cv2.INTER_AREA).transpose(2, 0, 1) for f in faces])


def au_errors(read_edited, read_inputs, targets, sources):
    """Mean absolute AU errors on OpenFace's 0-5 scale, from readings and vectors / 5."""
    return {
        "edited_au_error": float(np.abs(read_edited - targets).mean() * AU_SCALE),
        "input_au_error": float(np.abs(read_inputs - targets).mean() * AU_SCALE),
        "regressor_au_error": float(np.abs(read_inputs - sources).mean() * AU_SCALE),
    }


def train_regressor(args):
    seed_everything(args.seed)
    train = AUFaceSource(args.data_dir, "train", args.image_size, flip=True, target_noise=0.0,
                         verbose=False)
    test = AUFaceSource(args.data_dir, "test", args.image_size, flip=False, target_noise=0.0,
                        verbose=False)
    loader = make_loader(train, args.batch_size, args.seed, train=True, threads=2)
    faces = nn.Variable((args.batch_size, 3, args.image_size, args.image_size))
    targets = nn.Variable((args.batch_size, NUM_AUS))
    widths = tuple(args.widths)
    with nn.parameter_scope(REGRESSOR_SCOPE):
        predicted = au_regressor(faces, widths)
        solver = S.Adam(args.lr)
        solver.set_parameters(nn.get_parameters())
    loss = F.mean(F.squared_error(predicted, targets))
    steps = args.epochs * len(loader)
    for step in progress(range(steps), total=steps, desc="AU regressor"):
        # Constant, then linearly to 0 over the second half: the last steps
        # settle instead of jittering around the minimum.
        solver.set_learning_rate(args.lr * min(1.0, 2.0 * (1.0 - step / float(steps))))
        images, aus, _ = loader.next()
        faces.d, targets.d = images, aus
        loss.forward(clear_no_need_grad=True)
        solver.zero_grad()
        loss.backward(clear_buffer=True)
        solver.update()
    loader.close()
    ensure_writable_dir(args.out)
    save_parameters_atomic(os.path.join(args.out, REGRESSOR_PARAMS), REGRESSOR_SCOPE)
    atomic_write_text(os.path.join(args.out, REGRESSOR_INFO), yaml.safe_dump(
        {"image_size": args.image_size, "widths": list(widths), "data_dir": args.data_dir}))
    nn.clear_parameters()
    regressor = Regressor(args.out)
    images = np.stack([test.image(i) for i in range(len(test))])
    error = float(np.abs(regressor(images) - test.aus).mean() * AU_SCALE)
    mean_baseline = float(np.abs(train.aus.mean(axis=0) - test.aus).mean() * AU_SCALE)
    print("AU regressor: mean absolute error {:.3f} on the test faces (predicting the mean: "
          "{:.3f}), saved to {}".format(error, mean_baseline, args.out))


def truth_renderer(data_dir):
    """The synthetic set's re-renderer (:class:`GanimationTruth`), or None for real data
    (and, with a notice, for a synthetic set written by an older generator)."""
    if not os.path.isfile(os.path.join(data_dir, "ground_truth.npz")):
        return None
    try:
        return GanimationTruth(data_dir)
    except UserError as err:
        print("note: {}; the edits are not compared with true renders".format(err))
        return None


def truth_scores(edited, inputs, truths):
    """How close the edited faces and the unedited inputs are to the true renders."""
    edited_scores = np.array([network_image_scores(e, t) for e, t in zip(edited, truths)])
    input_scores = np.array([network_image_scores(i, t) for i, t in zip(inputs, truths)])
    return {"edited_psnr": float(edited_scores[:, 0].mean()),
            "input_psnr": float(input_scores[:, 0].mean()),
            "edited_ssim": float(edited_scores[:, 1].mean()),
            "input_ssim": float(input_scores[:, 1].mean())}


def write_panels(folder, index, face, steps, truth, target_face, attention):
    """One labelled strip: input | steps | truth render | target | attention mask."""
    panels = [to_uint8_image(face)] + [to_uint8_image(s) for s in steps]
    labels = ["input"] + ["step {}/{}".format(k + 1, len(steps)) for k in range(len(steps))]
    if truth is not None:
        panels.append(to_uint8_image(truth))
        labels.append("truth render")
    panels += [to_uint8_image(target_face), mask_to_uint8(attention)]
    labels += ["target AUs' face", "attention (final)"]
    write_image(os.path.join(folder, "edit_{:03d}.png".format(index)),
                labelled_row(panels, labels, height=96))


def evaluate(args):
    config = load_run(args.run)
    param_file = generator_param_file(config, args.param_file)
    data_dir = args.data_dir or RunPaths.of(config).input(config, "data.data_dir", "--data-dir")
    size = config["data"]["image_size"]
    test = AUFaceSource(data_dir, "test", size, flip=False, target_noise=0.0, verbose=False)
    count = min(len(test), args.num_test or len(test))
    truth = truth_renderer(data_dir)
    editor = ExpressionEditor(config, param_file, num_steps=args.steps)
    regressor = Regressor(args.regressor)
    if args.panels:
        ensure_writable_dir(args.panels)
    inputs, edited, targets, sources, attention, truths = [], [], [], [], [], []
    for i in progress(range(count), total=count, desc="GANimation edits"):
        face = test.image(i)
        target = test.target_aus(i, None)  # another test face's AUs, no noise
        output, _, mask = editor(face, test.aus[i], target)
        inputs.append(face)
        edited.append(output[-1])
        targets.append(target)
        sources.append(test.aus[i])
        attention.append(float(mask[-1].mean()))
        rendered = None
        if truth is not None:
            # The same person, pose and crop showing the target AUs, at the network's size.
            rendered = to_network_image(resize_face(
                truth.render(test.ids[i], target * AU_SCALE), size))
            truths.append(rendered)
        if args.panels and i < args.num_panels:
            target_face = test.image(test.evaluation_target(i))
            write_panels(args.panels, i, face, output, rendered, target_face, mask[-1])
    inputs, edited = np.stack(inputs), np.stack(edited)
    targets, sources = np.stack(targets), np.stack(sources)
    read_inputs, read_edited = regressor(inputs), regressor(edited)
    metrics = au_errors(read_edited, read_inputs, targets, sources)
    metrics["mean_au_baseline_error"] = float(
        np.abs(np.mean(sources, axis=0) - sources).mean() * AU_SCALE)
    metrics.update({"mean_attention": float(np.mean(attention)), "faces": count})
    if truths:
        truths = np.stack(truths)
        metrics.update(truth_scores(edited, inputs, truths))
        # The ruler read on perfect edits: the least AU error an edit can show.
        metrics["truth_au_error"] = float(np.abs(regressor(truths) - targets).mean() * AU_SCALE)
    text = json.dumps(metrics, indent=2, sort_keys=True)
    print(text)
    if args.json:
        atomic_write_text(args.json, text + "\n")
    return metrics


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    trainer = commands.add_parser("train-regressor", help="train the AU regressor")
    trainer.add_argument("--data-dir", required=True)
    trainer.add_argument("--out", required=True, help="folder for the regressor")
    trainer.add_argument("--image-size", type=int, default=64)
    trainer.add_argument("--widths", type=int, nargs="+", default=[16, 32, 64, 128])
    trainer.add_argument("--epochs", type=int, default=40)
    trainer.add_argument("--batch-size", type=int, default=16)
    trainer.add_argument("--lr", type=float, default=2e-3)
    trainer.add_argument("--seed", type=int, default=0)
    trainer.add_argument("--context", default="cudnn")
    evaluator = commands.add_parser("evaluate", help="measure a GANimation run")
    evaluator.add_argument("run", help="the run folder or its training_info.yaml")
    evaluator.add_argument("--regressor", required=True, help="folder of train-regressor")
    evaluator.add_argument("--param-file", default=None)
    evaluator.add_argument("--data-dir", default=None, help="default: the run's data")
    evaluator.add_argument("-n", "--num-test", type=int, default=None)
    evaluator.add_argument("--steps", type=int, default=4,
                           help="interpolation steps (the last one is measured)")
    evaluator.add_argument("--panels", default=None,
                           help="folder for labelled strips of the first edits")
    evaluator.add_argument("--num-panels", type=int, default=4)
    evaluator.add_argument("--json", default=None)
    evaluator.add_argument("--context", default="cudnn")
    args = parser.parse_args(argv)
    nn.clear_parameters()
    setup_context(args.context)
    return train_regressor(args) if args.command == "train-regressor" else evaluate(args)


if __name__ == "__main__":
    run_main(main)
