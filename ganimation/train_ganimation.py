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
"""Train GANimation: a face and target Action Units -> the face with that expression.

    python ganimation/train_ganimation.py --data-dir datasets/celebA [--conf my.yaml] \
        [--info name] [--context cpu]
    python ganimation/train_ganimation.py --resume tmp.monitor/ganimation/<experiment>

WGAN-GP as the authors' code runs it: each iteration is a
critic iteration (adversarial + AU regression on real faces, then the
gradient penalty, as two Adam steps in "authors" mode or one in "merged"
mode); every ``critic_iterations``-th iteration also updates the generator
with the adversarial term, the AU error of the critic on the fake, the L1
cycle loss and the attention regularisers on both passes.  With
``critic_au_warmup_epochs`` the run starts with that many epochs in which the
critic only learns to read the AUs of the real faces.

Writes ``tmp.monitor/ganimation/<experiment>/``: training_info.yaml, one
series per loss term, strips input | output | A | C | reconstruction,
``netG_ganimation_<e>.h5`` and ``netD_ganimation_<e>.h5`` every
``save_interval`` epochs and at the end, and resumable checkpoints.
"""
import argparse
import warnings

import nnabla as nn
import nnabla.functions as F
import nnabla.solvers as S
import numpy as np

from config.config_ganimation import config as DEFAULTS, run_folder
from ganimation.data import NUM_AUS, AUFaceSource, mask_to_uint8
from ganimation.losses import au_regression_loss, cycle_loss, gradient_penalty, \
    learning_rate, total_variation_sum
from ganimation.models import D_SCOPE, G_SCOPE, criticise, edit_faces
from utils.config import add_config_arguments
from utils.image_io import to_uint8_image
from utils.monitoring import progress, tile_images
from utils.training_run import TrainingRun, make_loader, solver_step, training_setup
from utils.user_errors import UserError, run_main

GRADIENT_PENALTY_MODES = ("authors", "merged")
CRITIC_SERIES = ["loss_D_total", "D_real", "D_fake", "D_au_mse", "D_gradient_penalty"]
GENERATOR_SERIES = ["loss_G", "G_adversarial", "G_au_mse", "G_cycle_l1", "G_attention_mean",
                    "G_attention_tv", "mean_attention"]
SERIES = CRITIC_SERIES + GENERATOR_SERIES + ["G_color_l1", "learning_rate"]
BASE_LR = {"netG": "lr_G", "netD": "lr_D"}


class TrainingGraph:
    """Every variable and loss of one training iteration, for a batch of ``batch_size``.

    Inputs to fill: ``real`` (B, 3, S, S) in [-1, 1], ``real_aus`` and
    ``target_aus`` (B, 17) in ~[0, 1], and ``interpolates`` (filled by
    :func:`critic_step`).  Losses are raw (unweighted) terms plus the
    weighted totals ``loss_G``, ``loss_D`` (without penalty) and
    ``loss_D_merged``.
    """

    def __init__(self, config, batch_size):
        model, train = config["model"], config["train"]
        size = config["data"]["image_size"]
        self.real = nn.Variable((batch_size, 3, size, size))
        self.real_aus = nn.Variable((batch_size, NUM_AUS))
        self.target_aus = nn.Variable((batch_size, NUM_AUS))

        # Generator: edit towards the target, then back towards the source.
        self.fake, self.color, self.attention = edit_faces(self.real, self.target_aus, model)
        self.reconstruction, color_back, attention_back = edit_faces(self.fake, self.real_aus,
                                                                     model)
        fake_scores, fake_aus = criticise(self.fake, model)
        self.G_adversarial = -F.mean(fake_scores)
        self.G_au_mse = au_regression_loss(fake_aus, self.target_aus)
        self.G_cycle_l1 = cycle_loss(self.reconstruction, self.real)
        # Loss terms are ancestors of the loss; a separate node would never be computed.
        self.mean_attention = F.mean(self.attention)
        self.G_attention_mean = self.mean_attention + F.mean(attention_back)
        self.G_attention_tv = total_variation_sum(self.attention) + \
            total_variation_sum(attention_back)
        self.loss_G = train["lambda_D_prob"] * self.G_adversarial + \
            train["lambda_au"] * self.G_au_mse + train["lambda_cyc"] * self.G_cycle_l1 + \
            train["lambda_mask"] * self.G_attention_mean + \
            train["lambda_mask_smooth"] * self.G_attention_tv
        if train["lambda_color_cycle"]:
            self.loss_G += train["lambda_color_cycle"] * cycle_loss(color_back, self.real)

        # Critic: the fake enters as data; its AU head learns from real faces only.
        fake_fixed = self.fake.get_unlinked_variable(need_grad=False)
        real_scores, real_aus_estimate = criticise(self.real, model)
        fixed_scores, _ = criticise(fake_fixed, model)
        self.D_real = -F.mean(real_scores)
        self.D_fake = F.mean(fixed_scores)
        self.D_au_mse = au_regression_loss(real_aus_estimate, self.real_aus)
        self.loss_D = train["lambda_D_prob"] * (self.D_real + self.D_fake) + \
            train["lambda_au"] * self.D_au_mse
        self.loss_D_au = train["lambda_au"] * self.D_au_mse
        # The colour warm-up: given its own AUs, the colour mask reproduces the face.
        _, own_color, _ = edit_faces(self.real, self.real_aus, model)
        self.G_color_l1 = cycle_loss(own_color, self.real)
        self.interpolates = nn.Variable(self.real.shape, need_grad=True)
        interpolate_scores, _ = criticise(self.interpolates, model)
        self.D_gradient_penalty = gradient_penalty(interpolate_scores, self.interpolates)
        self.loss_D_merged = self.loss_D + train["lambda_gp"] * self.D_gradient_penalty

        # Read after backward(clear_buffer=True), so their buffers must stay.
        for variable in (self.fake, self.color, self.attention, self.reconstruction,
                         self.G_adversarial, self.G_au_mse, self.G_cycle_l1,
                         self.G_attention_mean, self.G_attention_tv, self.mean_attention,
                         self.D_real, self.D_fake, self.D_au_mse, self.loss_D,
                         self.D_gradient_penalty, self.G_color_l1):
            variable.persistent = True

    def fill(self, batch):
        self.real.d, self.real_aus.d, self.target_aus.d = batch


def make_solvers(config):
    train = config["train"]
    solvers = {}
    for name, scope in (("netG", G_SCOPE), ("netD", D_SCOPE)):
        solver = S.Adam(train[BASE_LR[name]], train["beta1"], train["beta2"], eps=1e-8)
        with nn.parameter_scope(scope):
            solver.set_parameters(nn.get_parameters())
        solvers[name] = solver
    return solvers


def _no_check(name, value):
    pass


def _step(name, loss, solver, check, comm=None):
    solver_step(loss, solver, lambda value: check(name, value), comm)


def critic_step(graph, solver_D, alpha_rng, mode, check=_no_check, comm=None):
    """One critic iteration on the fake already in ``graph.fake``; returns the raw terms.

    The penalty's interpolates use one alpha per sample, drawn from ``alpha_rng``.
    """
    if mode not in GRADIENT_PENALTY_MODES:
        raise UserError("train.gradient_penalty_mode must be one of {}, got '{}'".format(
            ", ".join(GRADIENT_PENALTY_MODES), mode))
    batch = graph.real.shape[0]
    alpha = alpha_rng.uniform(0.0, 1.0, (batch, 1, 1, 1)).astype(np.float32)
    graph.interpolates.d = alpha * graph.real.d + (1.0 - alpha) * graph.fake.d
    if mode == "merged":
        _step("loss_D_merged", graph.loss_D_merged, solver_D, check, comm)
    else:
        _step("loss_D", graph.loss_D, solver_D, check, comm)
        _step("D_gradient_penalty", graph.D_gradient_penalty, solver_D, check, comm)
    return {"D_real": float(graph.D_real.d), "D_fake": float(graph.D_fake.d),
            "D_au_mse": float(graph.D_au_mse.d),
            "D_gradient_penalty": float(graph.D_gradient_penalty.d)}


def critic_au_step(graph, solver_D, check=_no_check, comm=None):
    """A warm-up step: the critic learns to read the AUs of real faces, nothing else."""
    _step("loss_D_au", graph.loss_D_au, solver_D, check, comm)
    return {"D_au_mse": float(graph.D_au_mse.d)}


def color_warmup_step(graph, solver_G, check=_no_check, comm=None):
    """A warm-up step of the generator: its colour mask learns to reproduce the face."""
    _step("G_color_l1", graph.G_color_l1, solver_G, check, comm)
    return {"G_color_l1": float(graph.G_color_l1.d)}


def generator_step(graph, solver_G, check=_no_check, comm=None):
    _step("loss_G", graph.loss_G, solver_G, check, comm)
    return {name: float(getattr(graph, name).d) for name in GENERATOR_SERIES}


def critic_total(values, train):
    return train["lambda_D_prob"] * (values["D_real"] + values["D_fake"]) + \
        train["lambda_au"] * values["D_au_mse"] + train["lambda_gp"] * values["D_gradient_penalty"]


class AttentionWatch:
    """Warns once when mean(A) stays outside [low, high] for ``patience`` G steps."""

    def __init__(self, low, high, patience, state=None):
        self.low, self.high, self.patience = low, high, max(1, int(patience))
        state = state or {}
        self.outside = int(state.get("outside", 0))
        self.warned = bool(state.get("warned", False))

    def update(self, mean_attention):
        if self.low <= mean_attention <= self.high:
            self.outside, self.warned = 0, False
            return None
        self.outside += 1
        if self.outside < self.patience or self.warned:
            return None
        self.warned = True
        side = "1 (the output copies the input)" if mean_attention > self.high else \
            "0 (the output is the colour mask alone)"
        return ("mean attention {:.3f} has stayed near {} for {} generator steps; check the "
                "AU annotations and train.lambda_mask; in a short run, "
                "train.critic_au_warmup_epochs (README, GANimation training)".format(
                    mean_attention, side, self.outside))

    def state(self):
        return {"outside": self.outside, "warned": self.warned}


def result_rows(graph, count):
    """Rows input | output | A | C | reconstruction, from the last forward pass."""
    rows = []
    for i in range(min(count, graph.real.shape[0])):
        rows.append(tile_images([to_uint8_image(graph.real.d[i]), to_uint8_image(graph.fake.d[i]),
                                 mask_to_uint8(graph.attention.d[i]),
                                 to_uint8_image(graph.color.d[i]),
                                 to_uint8_image(graph.reconstruction.d[i])]))
    return np.concatenate(rows, axis=0)


def main(argv=None):
    parser = add_config_arguments(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]))
    parser.add_argument("--data-dir", default=None,
                        help="the celebA/EmotioNet-style folder (overrides data.data_dir)")
    args = parser.parse_args(argv)
    config, resume_dir, comm = training_setup(DEFAULTS, args)
    if args.data_dir:
        config["data"]["data_dir"] = args.data_dir
    data, train, monitor = config["data"], config["train"], config["monitor"]
    batch_size = train["batch_size"]
    if train["critic_au_warmup_epochs"] < 0:
        raise UserError("train.critic_au_warmup_epochs must be >= 0, got {}".format(
            train["critic_au_warmup_epochs"]))
    if not 0 <= train["color_warmup_epochs"] <= train["critic_au_warmup_epochs"]:
        raise UserError("train.color_warmup_epochs must be between 0 and "
                        "train.critic_au_warmup_epochs ({}), got {}".format(
                            train["critic_au_warmup_epochs"], train["color_warmup_epochs"]))
    warmup_lr = train["critic_au_warmup_lr"]
    if warmup_lr is not None and (isinstance(warmup_lr, bool) or
                                  not isinstance(warmup_lr, (int, float)) or warmup_lr <= 0):
        raise UserError("train.critic_au_warmup_lr must be null or a number > 0, got "
                        "{!r}".format(warmup_lr))
    if train["lambda_color_cycle"] < 0:
        raise UserError("train.lambda_color_cycle must be >= 0 (0: off), got {}".format(
            train["lambda_color_cycle"]))
    run_dir = resume_dir or run_folder(config)

    source = AUFaceSource(data["data_dir"], "train", data["image_size"], flip=data["flip"],
                          target_noise=data["target_noise"],
                          clamp_targets=data["clamp_targets"], aus_file=data["aus_file"])
    loader = make_loader(source, batch_size, config["seed"], train=True, comm=comm,
                         threads=data["loader_threads"])
    graph = TrainingGraph(config, batch_size)
    solvers = make_solvers(config)
    solver_G, solver_D = solvers["netG"], solvers["netD"]
    rank = comm.rank if comm is not None else 0
    alpha_rng = np.random.RandomState(config["seed"] + 1000 * rank)

    run = TrainingRun(run_dir, config, SERIES, monitor["interval"],
                      keep_last=monitor["keep_last"], comm=comm)
    start, user_state = run.start({G_SCOPE: G_SCOPE, D_SCOPE: D_SCOPE}, solvers,
                                  {"train": loader}, {"gradient_penalty": alpha_rng},
                                  resume=bool(args.resume))
    watch = AttentionWatch(train["attention_low"], train["attention_high"],
                           train["attention_patience"], user_state.get("attention_watch"))
    iterations_per_epoch = len(loader)
    warmup = train["critic_au_warmup_epochs"]
    epochs = warmup + train["epochs_no_decay"] + train["epochs_decay"]
    total = epochs * iterations_per_epoch

    for iteration in progress(range(start, total), total=total - start, desc="ganimation"):
        epoch = iteration // iterations_per_epoch
        values = {}
        for name, solver in solvers.items():
            lr = learning_rate(train[BASE_LR[name]], max(0, epoch - warmup),
                               train["epochs_no_decay"], train["epochs_decay"])
            if epoch < warmup and train["critic_au_warmup_lr"] is not None:
                lr = train["critic_au_warmup_lr"]
            solver.set_learning_rate(lr)
            values["learning_rate"] = lr

        def check(name, value, iteration=iteration):
            run.check(iteration, {name: value})

        graph.fill(loader.next())
        game = epoch >= warmup
        if not game:
            values.update(critic_au_step(graph, solver_D, check, comm))
            if epoch >= warmup - train["color_warmup_epochs"]:
                values.update(color_warmup_step(graph, solver_G, check, comm))
        else:
            graph.fake.forward(clear_no_need_grad=True)
            values.update(critic_step(graph, solver_D, alpha_rng, train["gradient_penalty_mode"],
                                      check, comm))
            values["loss_D_total"] = critic_total(values, train)
            if (iteration + 1) % train["critic_iterations"] == 0:
                values.update(generator_step(graph, solver_G, check, comm))
                warning = watch.update(values["mean_attention"])
                if warning and run.is_main:
                    warnings.warn(warning, RuntimeWarning)
        run.log(iteration, values)

        if game and iteration % monitor["image_interval"] == 0:
            graph.reconstruction.forward(clear_no_need_grad=True)
            run.images("result", iteration, result_rows(graph, monitor["image_rows"]))
        end_of_epoch = (iteration + 1) % iterations_per_epoch == 0
        if game and end_of_epoch and ((epoch - warmup) % monitor["save_interval"] == 0
                                      or iteration + 1 == total):
            run.save_parameters("netG_ganimation_{}.h5".format(epoch), G_SCOPE)
            run.save_parameters("netD_ganimation_{}.h5".format(epoch), D_SCOPE)
        if end_of_epoch or (iteration + 1) % monitor["checkpoint_interval"] == 0:
            run.checkpoint(iteration + 1, epoch, {"attention_watch": watch.state()})
    loader.close()  # prints the unreadable samples it skipped
    if run.is_main:
        print("ganimation trained: {}".format(run_dir))


if __name__ == "__main__":
    run_main(main)
