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
import json
import os
import random

import nnabla as nn
import nnabla.functions as F
import nnabla.parametric_functions as PF
import nnabla.random as nn_random
import nnabla.solvers as S
import numpy as np
import pytest

from utils.checkpoint import (latest_checkpoint, load_checkpoint, load_parameters_checked,
                              save_checkpoint, save_parameters_atomic)
from utils.user_errors import UserError


@pytest.fixture(autouse=True)
def clean_parameters():
    nn.clear_parameters()
    yield
    nn.clear_parameters()


class TinyTraining(object):
    """A conv + batch-norm network trained by Adam on random data."""

    def __init__(self, scope="gen", channels=4, seed=0):
        self.scope = scope
        self.rng = np.random.RandomState(seed)
        self.x = nn.Variable((2, 3, 8, 8))
        self.target = nn.Variable((2, channels, 8, 8))
        with nn.parameter_scope(scope):
            h = PF.convolution(self.x, channels, (3, 3), pad=(1, 1), name="conv")
            h = PF.batch_normalization(h, batch_stat=True, name="bn")
        self.loss = F.mean(F.squared_error(h, self.target))
        self.solver = S.Adam(1e-2)
        with nn.parameter_scope(scope):
            self.solver.set_parameters(nn.get_parameters())

    def step(self):
        self.x.d = self.rng.randn(*self.x.shape)
        self.target.d = self.rng.randn(*self.target.shape)
        self.loss.forward()
        self.solver.zero_grad()
        self.loss.backward()
        self.solver.update()

    def params(self):
        with nn.parameter_scope(self.scope):
            return {k: v.d.copy() for k, v in nn.get_parameters(grad_only=False).items()}

    def solver_states(self):
        states = {}
        for name, state in self.solver.get_states().items():
            for key, value in state.pstate.items():
                array = value.d if isinstance(value, nn.Variable) else value.data
                states["{}/{}".format(name, key)] = np.array(array, copy=True)
            states[name + "/t"] = state.t
        return states

    def save(self, run_dir, iteration, **kwargs):
        return save_checkpoint(run_dir, iteration, {"gen": self.scope}, {"gen": self.solver},
                               rngs={"data": self.rng}, **kwargs)

    def load(self, path):
        return load_checkpoint(path, {"gen": self.scope}, {"gen": self.solver},
                               rngs={"data": self.rng})


def assert_same_arrays(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_round_trip_resumes_bitwise(tmp_path):
    run = str(tmp_path / "run")
    training = TinyTraining()
    training.step()
    training.step()
    path = training.save(run, 2, epoch=1, extra_state={"lr": 0.01, "phase": "warmup"})
    assert path == os.path.join(run, "checkpoints", "iter_00000002")
    assert sorted(os.listdir(path)) == ["params_gen.h5", "rng_states.npz", "solver_gen.h5",
                                        "state.json"]
    saved_params = training.params()
    saved_states = training.solver_states()
    saved_rng = training.rng.get_state()
    python_draws = [random.random() for _ in range(3)]
    nnabla_draws = nn_random.prng.rand(3)

    training.step()  # the uninterrupted third update
    expected = training.params()

    # Perturb everything the checkpoint restores.
    with nn.parameter_scope("gen"):
        for v in nn.get_parameters(grad_only=False).values():
            v.d = v.d + 1.0
    training.step()
    training.rng.rand(5)
    random.random()
    nn_random.prng.rand(2)
    assert saved_states["conv/conv/W/t"] != training.solver_states()["conv/conv/W/t"]

    state = training.load(path)
    assert state == {"iteration": 2, "epoch": 1, "extra": {"lr": 0.01, "phase": "warmup"}}
    assert_same_arrays(training.params(), saved_params)
    assert_same_arrays(training.solver_states(), saved_states)
    restored_rng = training.rng.get_state()
    assert restored_rng[0] == saved_rng[0]
    np.testing.assert_array_equal(restored_rng[1], saved_rng[1])
    assert restored_rng[2:] == saved_rng[2:]
    assert [random.random() for _ in range(3)] == python_draws
    np.testing.assert_array_equal(nn_random.prng.rand(3), nnabla_draws)

    training.step()
    assert_same_arrays(training.params(), expected)


def test_incomplete_and_temporary_folders_are_ignored(tmp_path):
    run = str(tmp_path / "run")
    training = TinyTraining()
    good = training.save(run, 2)
    root = os.path.join(run, "checkpoints")
    os.makedirs(os.path.join(root, "iter_00000010"))  # crashed before state.json
    stale = os.path.join(root, ".tmp-iter_00000011-abcd")
    os.makedirs(stale)
    with open(os.path.join(stale, "state.json"), "w") as f:
        f.write("{}")
    assert latest_checkpoint(run) == good
    with pytest.raises(UserError, match="incomplete: state.json is missing"):
        training.load(os.path.join(root, "iter_00000010"))
    training.save(run, 3)
    assert not os.path.exists(stale)
    assert latest_checkpoint(run) == os.path.join(root, "iter_00000003")


def test_latest_checkpoint_without_any(tmp_path):
    assert latest_checkpoint(str(tmp_path)) is None


def test_keep_last_prunes_older_checkpoints(tmp_path):
    run = str(tmp_path / "run")
    training = TinyTraining()
    for iteration in range(1, 6):
        training.save(run, iteration * 100, keep_last=2)
    assert sorted(os.listdir(os.path.join(run, "checkpoints"))) == \
        ["iter_00000400", "iter_00000500"]
    training.save(run, 600, keep_last=1)
    assert os.listdir(os.path.join(run, "checkpoints")) == ["iter_00000600"]
    with pytest.raises(ValueError):
        training.save(run, 700, keep_last=0)


def test_saving_the_same_iteration_again_replaces_it(tmp_path):
    run = str(tmp_path / "run")
    training = TinyTraining()
    training.save(run, 5, extra_state={"n": 1})
    path = training.save(run, 5, extra_state={"n": 2})
    assert os.listdir(os.path.join(run, "checkpoints")) == ["iter_00000005"]
    assert training.load(path)["extra"] == {"n": 2}


def test_failed_save_leaves_nothing(tmp_path):
    run = str(tmp_path / "run")
    training = TinyTraining()
    training.save(run, 1)

    class BrokenSolver(object):
        def save_states(self, path):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        save_checkpoint(run, 2, {"gen": "gen"}, {"gen": BrokenSolver()})
    with pytest.raises(TypeError):
        training.save(run, 3, extra_state={"bad": object()})
    assert os.listdir(os.path.join(run, "checkpoints")) == ["iter_00000001"]


def test_load_reports_missing_and_corrupt_files(tmp_path):
    run = str(tmp_path / "run")
    training = TinyTraining()
    path = training.save(run, 1)
    os.remove(os.path.join(path, "solver_gen.h5"))
    with pytest.raises(UserError, match="solver_gen.h5 not found"):
        training.load(path)
    path = training.save(run, 2)
    with open(os.path.join(path, "params_gen.h5"), "wb") as f:
        f.write(b"garbage")
    with pytest.raises(UserError, match="params_gen.h5 is not an nnabla parameter file"):
        training.load(path)
    path = training.save(run, 3)
    with open(os.path.join(path, "state.json"), "w") as f:
        f.write("{not json")
    with pytest.raises(UserError, match="state.json is corrupt"):
        training.load(path)


def one_line_error(excinfo):
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_load_parameters_checked(tmp_path):
    TinyTraining(scope="a", channels=4)
    path = save_parameters_atomic(str(tmp_path / "a.h5"), "a")
    assert [n for n in os.listdir(tmp_path) if n.startswith(".tmp")] == []

    # Same shapes under another scope: values are copied.
    TinyTraining(scope="b", channels=4)
    load_parameters_checked(path, "b", strict=True)
    with nn.parameter_scope("a"):
        a = {k: v.d.copy() for k, v in nn.get_parameters(grad_only=False).items()}
    with nn.parameter_scope("b"):
        b = {k: v.d.copy() for k, v in nn.get_parameters(grad_only=False).items()}
    assert_same_arrays(a, b)

    TinyTraining(scope="c", channels=8)
    with nn.parameter_scope("c"):
        before = nn.get_parameters()["conv/conv/W"].d.copy()
    with pytest.raises(UserError) as err:
        load_parameters_checked(path, "c")
    message = one_line_error(err)
    assert "'bn/bn/beta' has shape (1, 4, 1, 1) in the file but (1, 8, 1, 1)" in message
    assert "(and 5 more)" in message
    with nn.parameter_scope("c"):
        np.testing.assert_array_equal(nn.get_parameters()["conv/conv/W"].d, before)

    with pytest.raises(UserError) as err:
        load_parameters_checked(path, "empty", expected={"conv/conv/W": (2, 3, 3, 3)})
    assert "'conv/conv/W' has shape (4, 3, 3, 3) in the file but (2, 3, 3, 3)" in \
        one_line_error(err)


def test_load_parameters_checked_strict_names(tmp_path):
    TinyTraining(scope="a")
    path = save_parameters_atomic(str(tmp_path / "a.h5"), "a")
    with nn.parameter_scope("d"):
        PF.convolution(nn.Variable((1, 3, 8, 8)), 4, (3, 3), pad=(1, 1), name="conv")
        PF.affine(nn.Variable((1, 3)), 2, name="fc")
    with pytest.raises(UserError) as err:
        load_parameters_checked(path, "d", strict=True)
    message = one_line_error(err)
    assert "missing fc/affine/W, fc/affine/b" in message
    assert "unexpected bn/bn/beta, bn/bn/gamma, bn/bn/mean, bn/bn/var" in message
    load_parameters_checked(path, "d")  # not strict: the common names load


def test_load_parameters_checked_bad_files(tmp_path):
    training = TinyTraining(scope="a")
    with pytest.raises(UserError) as err:
        load_parameters_checked(str(tmp_path / "missing.h5"), "a")
    assert one_line_error(err) == "parameter file {} not found".format(tmp_path / "missing.h5")

    text = tmp_path / "notes.h5"
    text.write_text("not hdf5")
    with pytest.raises(UserError) as err:
        load_parameters_checked(str(text), "a")
    assert "is not an nnabla parameter file (not HDF5)" in one_line_error(err)

    solver_file = str(tmp_path / "solver.h5")
    training.solver.save_states(solver_file)
    with pytest.raises(UserError) as err:
        load_parameters_checked(solver_file, "a")
    assert "is not an nnabla parameter file" in one_line_error(err)

    good = save_parameters_atomic(str(tmp_path / "good.h5"), "a")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(open(good, "rb").read()[:600])
    with pytest.raises(UserError) as err:
        load_parameters_checked(str(truncated), "a")
    one_line_error(err)


def test_state_json_is_plain_json(tmp_path):
    training = TinyTraining()
    path = training.save(str(tmp_path), 7, epoch=3)
    with open(os.path.join(path, "state.json")) as f:
        state = json.load(f)
    assert (state["iteration"], state["epoch"], state["networks"]) == (7, 3, ["gen"])
    with np.load(os.path.join(path, "rng_states.npz"), allow_pickle=False) as npz:
        assert "numpy.data.keys" in npz.files


def test_final_parameters_are_chosen_by_epoch_number_not_file_time(tmp_path):
    import time
    from ganimation.editor import generator_param_file
    from reenactgan.run_files import decoder_param_file
    from utils.checkpoint import final_epoch_file
    # As after `cp -r`: the files' times say nothing; epoch 2 is written last here.
    for epoch in (10, 9, 2):
        for prefix in ("netG_decoder", "netG_ganimation"):
            (tmp_path / "{}_{}.h5".format(prefix, epoch)).write_bytes(b"")
        time.sleep(0.01)
    (tmp_path / "netG_decoder_notes.h5").write_bytes(b"")  # no epoch number: ignored
    assert final_epoch_file(str(tmp_path), "netG_decoder_*.h5").endswith("netG_decoder_10.h5")
    assert decoder_param_file({"_run_dir": str(tmp_path)}).endswith("netG_decoder_10.h5")
    assert generator_param_file({"_run_dir": str(tmp_path)}).endswith("netG_ganimation_10.h5")
    assert final_epoch_file(str(tmp_path), "netG_transformer_A2B_*.h5") is None


def test_a_published_run_without_epoch_files_uses_its_weights_h5(tmp_path):
    # The port's published runs are a folder with training_info.yaml and weights.h5.
    from reenactgan.run_files import decoder_param_file, encoder_param_file, \
        transformer_param_file
    run = {"_run_dir": str(tmp_path)}
    with pytest.raises(UserError, match="no decoder parameters .* --param-file"):
        decoder_param_file(run)
    (tmp_path / "weights.h5").write_bytes(b"")
    for choose in (encoder_param_file, transformer_param_file, decoder_param_file):
        assert choose(run) == str(tmp_path / "weights.h5")
    # Epoch files, where a run has them, come first.
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model_epoch-3.h5").write_bytes(b"")
    assert encoder_param_file(run) == str(tmp_path / "model" / "model_epoch-3.h5")


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_and_checkpoints_get_the_mode_the_umask_gives(tmp_path, umask):
    from utils.atomic_files import atomic_write_text
    previous = os.umask(umask)
    try:
        atomic_write_text(str(tmp_path / "info.yaml"), "a: 1\n")
        nn.clear_parameters()
        with nn.parameter_scope("net"):
            PF.affine(nn.Variable((1, 2)), 2)
        save_parameters_atomic(str(tmp_path / "net.h5"), "net")
        with nn.parameter_scope("net"):
            solver = S.Adam()
            solver.set_parameters(nn.get_parameters())
        folder = save_checkpoint(str(tmp_path / "run"), 1, {"net": "net"}, {"net": solver})
    finally:
        os.umask(previous)
    for path in (tmp_path / "info.yaml", tmp_path / "net.h5"):
        assert os.stat(str(path)).st_mode & 0o777 == 0o666 & ~umask, path
    assert os.stat(folder).st_mode & 0o777 == 0o777 & ~umask
    for name in os.listdir(folder):
        assert os.stat(os.path.join(folder, name)).st_mode & 0o777 == 0o666 & ~umask, name
