"""ReenactGAN networks: paper-size parameter counts, names, shapes, BN modes."""
import os

import nnabla as nn
import numpy as np
import pytest

from reenactgan import models
from tests import numpy_graph

TSV = os.path.join(os.path.dirname(__file__), "data", "torch_to_nnabla_names.tsv")
TRAINABLE_AT_PAPER_SIZE = {
    "encoder": 6730142, "transformer_G": 11458703, "transformer_D": 2777921,
    "decoder_G": 54433488, "decoder_D": 2780993, "align": 812028,
}
BUILDERS = {
    "encoder": (models.stacked_hourglass_net, (1, 3, 256, 256)),
    "transformer_G": (models.netG_transformer, (1, 15, 64, 64)),
    "transformer_D": (models.netD_transformer, (1, 15, 64, 64)),
    "decoder_G": (models.netG_decoder, (1, 15, 64, 64)),
    "decoder_D": (models.netD_decoder, (1, 18, 256, 256)),
    "align": (models.align_resnet, (2, 15, 64, 64)),
}


def read_tsv():
    tables, current = {}, None
    with open(TSV) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("###"):
                current = line.split()[1].rstrip(":")
                tables[current] = {}
            elif line:
                _, _, name, shape = line.split("\t")
                tables[current][name] = tuple(int(v) for v in shape.strip("()").split(",") if v)
    return tables


def build(network, **kwargs):
    nn.clear_parameters()
    function, shape = BUILDERS[network]
    with nn.parameter_scope("net"):
        output = function(nn.Variable(shape), **kwargs)
        params = nn.get_parameters(grad_only=False)
    return output, {name: tuple(v.shape) for name, v in params.items()}


@pytest.mark.parametrize("network", sorted(BUILDERS))
def test_paper_size_parameters_match_the_authors_checkpoints(network):
    _, params = build(network)
    expected = read_tsv()[network]
    assert params == expected  # every name and shape of torch_to_nnabla_names.tsv
    trainable = sum(int(np.prod(s)) for n, s in params.items()
                    if not n.endswith("/mean") and not n.endswith("/var"))
    assert trainable == TRAINABLE_AT_PAPER_SIZE[network]


def test_output_shapes_at_reduced_width():
    nn.clear_parameters()
    x = nn.Variable.from_numpy_array(np.random.RandomState(0).uniform(-1, 1, (2, 3, 256, 256)))
    with nn.parameter_scope("enc"):
        outputs = models.stacked_hourglass_net(x, planes=4, num_stacks=3, hourglass_depth=2)
    assert [o.shape for o in outputs] == [(2, 15, 64, 64)] * 3
    with nn.parameter_scope("enc"):
        names = nn.get_parameters(grad_only=False).keys()
    assert any(n.startswith("fc_1/") for n in names) and any(n.startswith("fc_/") for n in names)
    h = nn.Variable.from_numpy_array(np.random.RandomState(1).uniform(0, 1, (2, 15, 64, 64)))
    with nn.parameter_scope("tg"):
        t = models.netG_transformer(h, ngf=4, n_blocks=2)
    with nn.parameter_scope("dg"):
        face = models.netG_decoder(h, ngf=4)
    with nn.parameter_scope("dd"):
        d = models.netD_decoder(nn.Variable((2, 18, 256, 256)), ndf=4)
    nn.forward_all([t, face])
    assert t.shape == (2, 15, 64, 64) and 0 < t.d.min() and t.d.max() < 1  # sigmoid
    assert face.shape == (2, 3, 256, 256) and -1 <= face.d.min() and face.d.max() <= 1  # tanh
    assert d.shape == (2, 1, 30, 30)


def test_batch_statistics_and_running_statistics_modes_differ():
    nn.clear_parameters()
    rng = np.random.RandomState(0)
    x = nn.Variable.from_numpy_array(rng.uniform(0, 1, (2, 15, 64, 64)))
    with nn.parameter_scope("g"):
        train = models.netG_transformer(x, ngf=4, n_blocks=1, test=False)
        running = models.netG_transformer(x, ngf=4, n_blocks=1, test=True)
        batch = models.netG_transformer(x, ngf=4, n_blocks=1, test=True, batch_stat=True)
    nn.forward_all([running, batch])
    assert not np.allclose(running.d, batch.d, atol=1e-4)
    train.forward()  # same statistics as the batch-stat test graph
    assert np.allclose(train.d, batch.d, atol=1e-5)


def test_decoder_dropout_is_separate_from_test_mode():
    nn.clear_parameters()
    x = nn.Variable.from_numpy_array(np.random.RandomState(0).uniform(0, 1, (1, 15, 64, 64)))
    with nn.parameter_scope("d"):
        plain = models.netG_decoder(x, ngf=4, test=True)
        authors = models.netG_decoder(x, ngf=4, test=True, batch_stat=True, dropout=True)
    plain.forward()
    first = plain.d.copy()
    plain.forward()
    assert np.array_equal(first, plain.d)  # deterministic at test time
    authors.forward()
    again = authors.d.copy()
    authors.forward()
    assert not np.array_equal(again, authors.d)  # dropout kept on, as the authors ran it


def _encoder_against_numpy(batch_stat):
    """(nnabla's error, numpy float32's error), each relative to the float64 answer's maximum."""
    nn.clear_parameters()
    nn.seed(0)
    x = nn.Variable((1, 3, 256, 256))
    x.d = np.random.RandomState(0).uniform(-1, 1, x.shape)
    # The paper's geometry (256 px, an hourglass down to 4x4) at a quarter of its width.
    with nn.parameter_scope("enc"):
        output = models.stacked_hourglass_net(x, planes=16, num_stacks=1, test=True,
                                              batch_stat=batch_stat)[-1]
    if not batch_stat:  # running averages that differ from the batch's statistics
        rng = np.random.RandomState(1)
        for name, parameter in nn.get_parameters(grad_only=False).items():
            if name.endswith("bn/mean"):
                parameter.d = rng.normal(0, 0.1, parameter.shape)
            elif name.endswith("bn/var"):
                parameter.d = rng.uniform(0.5, 2, parameter.shape)
    output.forward(clear_buffer=True)
    exact, _ = numpy_graph.evaluate(output, {x: x.d}, np.float64)
    other, _ = numpy_graph.evaluate(output, {x: x.d}, np.float32)
    scale = np.abs(exact).max()
    return np.abs(output.d - exact).max() / scale, np.abs(other - exact).max() / scale


def test_encoder_in_the_authors_batch_statistics_mode_is_as_exact_as_float32_allows():
    # At batch 1 the 4x4 level normalises 16 values per channel and magnifies
    # every rounding error of the statistics before it: with nnabla's
    # one-accumulator channel mean the error was ~7x a second float32
    # implementation's (PyTorch's is of the same order as numpy's).
    error, numpy_error = _encoder_against_numpy(batch_stat=True)
    assert error < 2e-5, error
    assert error < 2 * numpy_error, (error, numpy_error)


def test_encoder_with_running_averages_matches_float64():
    error, _ = _encoder_against_numpy(batch_stat=False)
    assert error < 1e-6, error
