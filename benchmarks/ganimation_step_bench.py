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
"""Milliseconds per GANimation training step at paper size (128 px, 64 channels).

A "D step" is one critic iteration as train_ganimation.py runs it: the
generator's forward pass for the fake, then the critic update(s) (two Adam
steps in the authors' mode, adversarial + AU then gradient penalty with its
double backward; one in merged mode).  A "G step" is one generator update
(two generator passes, the critic on the fake, backward through both).
Random inputs; the first step of each kind is a warm-up and not counted.

    python benchmarks/ganimation_step_bench.py [--batch-sizes 1 4] [--repeats 3] \
        [--mode authors] [--context cpu]
"""
import argparse
import copy
import json
import time

import nnabla as nn
import numpy as np

from config.config_ganimation import config as DEFAULTS
from ganimation.data import NUM_AUS
from ganimation.train_ganimation import TrainingGraph, critic_step, generator_step, \
    make_solvers
from utils.context import setup_context


def random_batch(rng, batch_size, image_size):
    return (rng.uniform(-1, 1, (batch_size, 3, image_size, image_size)).astype(np.float32),
            rng.uniform(0, 1, (batch_size, NUM_AUS)).astype(np.float32),
            rng.uniform(0, 1, (batch_size, NUM_AUS)).astype(np.float32))


def time_steps(config, batch_size, repeats, mode):
    """{"D_step_ms": ..., "G_step_ms": ...}: medians over ``repeats`` timed steps."""
    nn.clear_parameters()
    graph = TrainingGraph(config, batch_size)
    solvers = make_solvers(config)
    rng = np.random.RandomState(0)
    graph.fill(random_batch(rng, batch_size, config["data"]["image_size"]))

    def critic_iteration():
        graph.fake.forward(clear_no_need_grad=True)
        critic_step(graph, solvers["netD"], rng, mode)

    def generator_update():
        generator_step(graph, solvers["netG"])

    timings = {}
    for name, step in (("D_step_ms", critic_iteration), ("G_step_ms", generator_update)):
        step()
        elapsed = []
        for _ in range(repeats):
            start = time.perf_counter()
            step()
            elapsed.append(1000.0 * (time.perf_counter() - start))
        timings[name] = round(float(np.median(elapsed)), 1)
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mode", choices=("authors", "merged"), default="authors")
    parser.add_argument("--context", default="cpu")
    args = parser.parse_args()
    setup_context(args.context)
    config = copy.deepcopy(DEFAULTS)
    results = []
    for batch_size in args.batch_sizes:
        timings = time_steps(config, batch_size, args.repeats, args.mode)
        results.append(dict(batch=batch_size, mode=args.mode, context=args.context, **timings))
        print("batch {batch}: {D_step_ms} ms per D step, {G_step_ms} ms per G step".format(
            **results[-1]), flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
