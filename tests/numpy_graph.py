"""An nnabla graph evaluated again in numpy: in float64, the exact answer that
float32 results are measured against; in float32, a second float32
implementation (BLAS products, pairwise sums) to compare nnabla's with.

Covers the functions the ReenactGAN networks use in their inference modes;
an unknown function is an error, not a silent approximation.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _convolution(inputs, args):
    x, w = inputs[0], inputs[1]
    if args["group"] != 1 or args["channel_last"] or args["base_axis"] != 1 or \
            any(d != 1 for d in args["dilation"]):
        raise NotImplementedError("convolution arguments {}".format(args))
    (ph, pw), (sh, sw) = args["pad"], args["stride"]
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    kh, kw = w.shape[2:]
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    y = np.einsum("nchwij,ocij->nohw", windows, w, optimize=True)
    if len(inputs) > 2:
        y = y + inputs[2].reshape(1, -1, 1, 1)
    return y


def _max_pooling(inputs, args):
    (x,) = inputs
    kh, kw = args["kernel"]
    if list(args["stride"]) != [kh, kw] or any(args["pad"]) or args["channel_last"]:
        raise NotImplementedError("max pooling arguments {}".format(args))
    n, c, h, w = x.shape
    return x[:, :, :h // kh * kh, :w // kw * kw].reshape(
        n, c, h // kh, kh, w // kw, kw).max(axis=(3, 5))


def _unpooling(inputs, args):
    (x,) = inputs
    kh, kw = args["kernel"]
    return x.repeat(kh, axis=2).repeat(kw, axis=3)


def _batch_normalization(inputs, args):
    if args["batch_stat"] or list(args["axes"]) != [1]:
        raise NotImplementedError("batch normalisation arguments {}".format(args))
    x, beta, gamma, mean, variance = inputs
    return (x - mean) / np.sqrt(variance + args["eps"]) * gamma + beta


FUNCTIONS = {
    "BatchNormalization": _batch_normalization,
    "Convolution": _convolution,
    "MaxPooling": _max_pooling,
    "Unpooling": _unpooling,
    "Mean": lambda i, a: i[0].mean(axis=tuple(a["axes"]), keepdims=a["keep_dims"]),
    "Add2": lambda i, a: i[0] + i[1],
    "Sub2": lambda i, a: i[0] - i[1],
    "Mul2": lambda i, a: i[0] * i[1],
    "AddScalar": lambda i, a: i[0] + a["val"],
    "MulScalar": lambda i, a: i[0] * a["val"],
    "PowScalar": lambda i, a: i[0] ** a["val"],
    "ReLU": lambda i, a: np.maximum(i[0], 0),
    "Tanh": lambda i, a: np.tanh(i[0]),
    "Sigmoid": lambda i, a: 1 / (1 + np.exp(-i[0])),
}


def evaluate(output, inputs, dtype=np.float64):
    """``output``'s value computed in ``dtype``; ``inputs`` maps input variables to arrays.

    Every other leaf (the parameters) is read from its float32 data.  Returns
    ``(value, trace)``: trace lists (function name, value, nnabla output
    variable) in forward order, for finding where nnabla's result drifts.
    """
    values = {hash(variable): np.asarray(array, dtype) for variable, array in inputs.items()}
    trace = []

    def run(function):
        name = function.info.type_name
        if name not in FUNCTIONS:
            raise NotImplementedError("no float64 version of " + name)
        arguments = []
        for variable in function.inputs:
            if hash(variable) not in values:
                values[hash(variable)] = variable.d.astype(dtype)
            arguments.append(values[hash(variable)])
        result = np.asarray(FUNCTIONS[name](arguments, function.info.args), dtype)
        values[hash(function.outputs[0])] = result
        trace.append((name, result, function.outputs[0]))

    output.visit(run)
    return values[hash(output)], trace
