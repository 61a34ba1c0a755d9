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
"""Milliseconds per training step of each network at the paper configuration.

One step is what the training scripts do per iteration: the encoder's
forward/backward/update; the transformer's generator and discriminator
updates (one-to-one, with the Align/PCA shape loss); the decoder's generator
update (with the VGG16 feature loss) and discriminator update; for
GANimation, a critic iteration ("ganimation_D", authors' two-step mode) and a
generator update ("ganimation_G"), timed by ganimation_step_bench.py.  Inputs
and loss-network weights are random: speed does not depend on them.

    python benchmarks/train_step_bench.py [--batch-sizes 1 4] [--steps 2] [--context cpu]
"""
import argparse
import copy
import json
import time

import nnabla as nn
import nnabla.functions as F
import nnabla.solvers as S
import numpy as np

from reenactgan.losses import bce_gan_loss, l1_loss, lsgan_loss
from reenactgan.models import align_resnet, netD_decoder, netD_transformer, netG_decoder, \
    netG_transformer, pca_projection, stacked_hourglass_net
from reenactgan.vgg16 import vgg16_features
from benchmarks.ganimation_step_bench import time_steps as ganimation_steps
from config.config_ganimation import config as GANIMATION_DEFAULTS
from utils.context import setup_context


def random_inputs(variables, rng):
    for variable in variables:
        variable.d = rng.uniform(0, 1, variable.shape)


def solver_for(scope, lr=1e-4):
    with nn.parameter_scope(scope):
        solver = S.Adam(lr)
        solver.set_parameters(nn.get_parameters())
    return solver


def update(loss, solver):
    loss.forward(clear_no_need_grad=True)
    solver.zero_grad()
    loss.backward(clear_buffer=True)
    solver.update()


def encoder_step(batch):
    x, t = nn.Variable((batch, 3, 256, 256)), nn.Variable((batch, 15, 64, 64))
    with nn.parameter_scope("model"):
        preds = stacked_hourglass_net(x)
    loss = F.mean(F.squared_error(preds[0], t)) + F.mean(F.squared_error(preds[1], t))
    solver = solver_for("model", 1e-3)
    return [x, t], lambda: update(loss, solver)


def shape_code(h):
    with nn.parameter_scope("Align"):
        landmarks = align_resnet(h, batch_stat=True)
    with nn.parameter_scope("PCA"):
        return pca_projection(landmarks)[:, :3]


def transformer_step(batch):
    real_A, real_B = nn.Variable((batch, 15, 64, 64)), nn.Variable((batch, 15, 64, 64))

    def G(x, name):
        with nn.parameter_scope("G"), nn.parameter_scope(name):
            return netG_transformer(x)

    def D(x, name):
        with nn.parameter_scope("D"), nn.parameter_scope(name):
            return netD_transformer(x)

    fake_B, fake_A = G(real_A, "A2B"), G(real_B, "B2A")
    recon_A, recon_B = G(fake_B, "B2A"), G(fake_A, "A2B")
    loss_G = (lsgan_loss(D(fake_B, "B"), True) + lsgan_loss(D(fake_A, "A"), True)
              + 50 * (l1_loss(recon_A, real_A) + l1_loss(recon_B, real_B))
              + 10 * (l1_loss(shape_code(fake_B), shape_code(real_A))
                      + l1_loss(shape_code(fake_A), shape_code(real_B))))
    fake_A.persistent = fake_B.persistent = True
    loss_D = (lsgan_loss(D(real_A, "A"), True) + lsgan_loss(D(real_B, "B"), True)
              + lsgan_loss(D(fake_A.get_unlinked_variable(need_grad=False), "A"), False)
              + lsgan_loss(D(fake_B.get_unlinked_variable(need_grad=False), "B"), False))
    solver_G, solver_D = solver_for("G"), solver_for("D")

    def step():
        update(loss_G, solver_G)
        update(loss_D, solver_D)
    return [real_A, real_B], step


def decoder_step(batch):
    real = nn.Variable((batch, 3, 256, 256))
    boundary, boundary256 = nn.Variable((batch, 15, 64, 64)), nn.Variable((batch, 15, 256, 256))
    with nn.parameter_scope("G"):
        fake = netG_decoder(boundary)
    with nn.parameter_scope("D"):
        d_fake = netD_decoder(F.concatenate(boundary256, fake, axis=1))
    with nn.parameter_scope("vgg16"):
        fake_features, real_features = vgg16_features(fake), vgg16_features(real)
    vgg = sum(F.mean(F.squared_error(fake_features[k], real_features[k])) for k in fake_features)
    loss_G = bce_gan_loss(d_fake, True) + 100 * l1_loss(fake, real) + 10 * vgg
    fake.persistent = True
    with nn.parameter_scope("D"):
        d_real = netD_decoder(F.concatenate(boundary256, real, axis=1))
        d_fixed = netD_decoder(F.concatenate(
            boundary256, fake.get_unlinked_variable(need_grad=False), axis=1))
    loss_D = 0.5 * (bce_gan_loss(d_real, True) + bce_gan_loss(d_fixed, False))
    solver_G, solver_D = solver_for("G", 2e-4), solver_for("D", 2e-4)

    def step():
        update(loss_G, solver_G)
        update(loss_D, solver_D)
    return [real, boundary, boundary256], step


MODULES = {"encoder": encoder_step, "transformer": transformer_step, "decoder": decoder_step,
           "ganimation_D": None, "ganimation_G": None}


def measure(module, batch, steps):
    if module.startswith("ganimation"):
        timings = ganimation_steps(copy.deepcopy(GANIMATION_DEFAULTS), batch, steps, "authors")
        return timings["D_step_ms" if module.endswith("_D") else "G_step_ms"]
    nn.clear_parameters()
    inputs, step = MODULES[module](batch)
    random_inputs(inputs, np.random.RandomState(0))
    step()  # the first step allocates memory
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return 1000.0 * (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", nargs="+", default=list(MODULES), choices=list(MODULES))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--context", default="cpu")
    args = parser.parse_args()
    setup_context(args.context)
    results = []
    print("{:<12} {:>6} {:>12}".format("module", "batch", "ms/step"))
    for module in args.modules:
        for batch in args.batch_sizes:
            ms = measure(module, batch, args.steps)
            results.append({"module": module, "batch": batch, "ms_per_step": round(ms, 1)})
            print("{:<12} {:>6} {:>12.1f}".format(module, batch, ms), flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
