"""Every supported layer, one small model each: float matches model.predict (eightbit and LiteRT),
int8 is identical in eightbit and LiteRT's reference kernels."""

from __future__ import annotations

import numpy as np
import pytest

from tests.importers.keras.helpers import check_float, check_int8, keras, random_inputs, randomize

L = keras.layers


def seq(shape, *layers, dtype="float32"):
    return keras.Sequential([keras.Input(shape, dtype=dtype), *layers])


def two(shape_a, shape_b, layer):
    a, b = keras.Input(shape_a), keras.Input(shape_b)
    return keras.Model([a, b], layer([a, b]))


CASES = {
    "dense": lambda: seq((6,), L.Dense(5)),
    "dense_relu": lambda: seq((6,), L.Dense(5, activation="relu")),
    "dense_rank3": lambda: seq((4, 6), L.Dense(3, activation="tanh")),
    "dense_rank4_nobias": lambda: seq((2, 3, 6), L.Dense(3, use_bias=False)),
    "conv2d_same_stride": lambda: seq((9, 9, 3), L.Conv2D(4, 3, strides=2, padding="same", activation="relu6")),
    "conv2d_valid_dilated": lambda: seq((9, 9, 3), L.Conv2D(4, (3, 2), dilation_rate=2)),
    "conv2d_nobias": lambda: seq((6, 6, 2), L.Conv2D(3, 1, use_bias=False)),
    "conv1d": lambda: seq((10, 3), L.Conv1D(4, 3, strides=2, padding="same", activation="relu")),
    "conv1d_causal": lambda: seq((10, 3), L.Conv1D(4, 3, padding="causal", dilation_rate=2)),
    "depthwise2d": lambda: seq((8, 8, 3), L.DepthwiseConv2D(3, depth_multiplier=2, padding="same")),
    "depthwise2d_stride": lambda: seq((9, 9, 4), L.DepthwiseConv2D(3, strides=2, activation="relu")),
    "depthwise1d": lambda: seq((10, 3), L.DepthwiseConv1D(3)),
    "separable2d": lambda: seq((8, 8, 3), L.SeparableConv2D(5, 3, padding="same", activation="relu")),
    "separable1d": lambda: seq((10, 3), L.SeparableConv1D(4, 3, depth_multiplier=2)),
    "conv2d_transpose_same": lambda: seq((5, 5, 3), L.Conv2DTranspose(4, 3, strides=2, padding="same")),
    "conv2d_transpose_valid": lambda: seq((5, 5, 3), L.Conv2DTranspose(2, 3, strides=2, activation="relu")),
    "conv1d_transpose": lambda: seq((6, 3), L.Conv1DTranspose(2, 3, strides=2, padding="same")),
    "batchnorm_after_conv": lambda: seq((6, 6, 3), L.Conv2D(4, 3), L.BatchNormalization(), L.ReLU()),
    "batchnorm_alone": lambda: seq((6, 6, 3), L.BatchNormalization()),
    "batchnorm_dense": lambda: seq((6,), L.Dense(4), L.BatchNormalization()),
    "layernorm": lambda: seq((4, 6), L.LayerNormalization()),
    "layernorm_2axes": lambda: seq((3, 4, 5), L.LayerNormalization(axis=[-2, -1])),
    "rmsnorm": lambda: seq((4, 6), L.RMSNormalization()),
    "groupnorm": lambda: seq((4, 4, 6), L.GroupNormalization(groups=3)),
    "unitnorm": lambda: seq((6,), L.UnitNormalization()),
    "maxpool2d": lambda: seq((8, 8, 3), L.MaxPooling2D()),
    "avgpool2d_same": lambda: seq((7, 7, 3), L.AveragePooling2D(3, strides=2, padding="same")),
    "maxpool1d": lambda: seq((10, 3), L.MaxPooling1D(2)),
    "avgpool1d": lambda: seq((10, 3), L.AveragePooling1D(3, strides=1)),
    "gap2d": lambda: seq((5, 5, 3), L.GlobalAveragePooling2D()),
    "gap2d_keepdims": lambda: seq((5, 5, 3), L.GlobalAveragePooling2D(keepdims=True)),
    "gmp2d": lambda: seq((5, 5, 3), L.GlobalMaxPooling2D()),
    "gap1d": lambda: seq((6, 3), L.GlobalAveragePooling1D()),
    "gmp1d_keepdims": lambda: seq((6, 3), L.GlobalMaxPooling1D(keepdims=True)),
    "add": lambda: two((4, 3), (4, 3), L.Add()),
    "subtract": lambda: two((4, 3), (4, 3), L.Subtract()),
    "multiply_broadcast": lambda: two((4, 3), (1, 3), L.Multiply()),
    "average": lambda: two((5,), (5,), L.Average()),
    "maximum": lambda: two((5,), (5,), L.Maximum()),
    "minimum": lambda: two((5,), (5,), L.Minimum()),
    "concatenate": lambda: two((4, 3), (4, 2), L.Concatenate()),
    "concatenate_axis1": lambda: two((4, 3), (2, 3), L.Concatenate(axis=1)),
    "dot_2d": lambda: two((5,), (5,), L.Dot(axes=1)),
    "dot_3d": lambda: two((4, 3), (5, 3), L.Dot(axes=(2, 2))),
    "dot_normalize": lambda: two((4, 3), (4, 5), L.Dot(axes=1, normalize=True)),
    "reshape": lambda: seq((4, 6), L.Reshape((3, 8))),
    "reshape_infer": lambda: seq((4, 6), L.Reshape((-1, 2))),
    "flatten": lambda: seq((3, 4, 2), L.Flatten()),
    "permute": lambda: seq((3, 4, 2), L.Permute((2, 3, 1))),
    "repeat_vector": lambda: seq((5,), L.RepeatVector(3)),
    "zero_padding2d": lambda: seq((4, 4, 2), L.ZeroPadding2D(((1, 2), (0, 1)))),
    "zero_padding1d": lambda: seq((4, 2), L.ZeroPadding1D(2)),
    "cropping2d": lambda: seq((6, 6, 2), L.Cropping2D(((1, 2), (0, 1)))),
    "cropping1d": lambda: seq((6, 2), L.Cropping1D((1, 2))),
    "upsampling2d_nearest": lambda: seq((3, 4, 2), L.UpSampling2D((2, 3))),
    "upsampling2d_bilinear": lambda: seq((3, 4, 2), L.UpSampling2D(2, interpolation="bilinear")),
    "upsampling1d": lambda: seq((4, 2), L.UpSampling1D(3)),
    "resizing_bilinear": lambda: seq((6, 8, 2), L.Resizing(4, 11)),
    "resizing_nearest": lambda: seq((6, 8, 2), L.Resizing(9, 5, interpolation="nearest")),
    "rescaling": lambda: seq((4, 3), L.Rescaling(1 / 127.5, offset=-1)),
    "dropouts_removed": lambda: seq((4, 4, 3), L.Dropout(0.5), L.SpatialDropout2D(0.3), L.GaussianNoise(1.0),
                                    L.GaussianDropout(0.2), L.Dense(2)),
    "relu_layer_variants": lambda: seq((8,), L.ReLU(max_value=6.0), L.ReLU(negative_slope=0.1), L.Dense(4),
                                       L.ReLU(max_value=2.0, threshold=0.5)),
    "relu_leaky_threshold": lambda: seq((8,), L.ReLU(negative_slope=0.1, threshold=0.2, max_value=0.7)),
    "leaky_relu": lambda: seq((8,), L.LeakyReLU(0.3)),
    "prelu": lambda: seq((4, 4, 3), L.PReLU()),
    "prelu_shared": lambda: seq((4, 4, 3), L.PReLU(shared_axes=[1, 2])),
    "elu": lambda: seq((8,), L.ELU()),
    "elu_alpha": lambda: seq((8,), L.ELU(alpha=0.5)),
    "softmax_layer": lambda: seq((3, 5), L.Softmax()),
    "softmax_axis1": lambda: seq((3, 5), L.Softmax(axis=1)),
    "embedding": lambda: seq((6,), L.Embedding(10, 4), dtype="int32"),
    "einsum_dense_heads": lambda: seq((4, 6), L.EinsumDense("abc,cde->abde", (4, 2, 3), bias_axes="de")),
    "einsum_dense_ellipsis": lambda: seq((3, 6), L.EinsumDense("...b,bc->...c", 5, bias_axes="c", activation="relu")),
    "adaptive_avg_pool": lambda: seq((8, 6, 3), L.AdaptiveAveragePooling2D((2, 3))),
    "adaptive_max_pool": lambda: seq((8, 6, 3), L.AdaptiveMaxPooling2D(2)),
    "gap3d": lambda: seq((3, 4, 4, 2), L.GlobalAveragePooling3D()),
    "gmp3d_keepdims": lambda: seq((3, 4, 4, 2), L.GlobalMaxPooling3D(keepdims=True)),
    "zero_padding3d": lambda: seq((2, 3, 3, 2), L.ZeroPadding3D(((1, 0), (0, 1), (1, 1)))),
    "cropping3d": lambda: seq((4, 5, 5, 2), L.Cropping3D(((1, 0), (0, 2), (1, 1)))),
    "conv3d_valid": lambda: seq((4, 5, 5, 2), L.Conv3D(3, 2)),
    "conv3d_same_strided": lambda: seq((5, 6, 6, 2), L.Conv3D(3, 3, strides=(2, 1, 2), padding="same",
                                                               activation="relu")),
    "conv3d_dilated": lambda: seq((6, 5, 5, 2), L.Conv3D(2, (2, 3, 3), dilation_rate=(2, 1, 1))),
    "time_distributed_dense": lambda: seq((3, 4, 5), L.TimeDistributed(L.Dense(2))),
    "time_distributed_conv": lambda: seq((3, 6, 6, 2), L.TimeDistributed(L.Conv2D(3, 3, activation="relu")),
                                         L.TimeDistributed(L.Flatten())),
}

ACTIVATIONS = ["relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax", "softplus", "softsign", "silu",
               "swish", "gelu", "hard_sigmoid", "hard_silu", "hard_swish", "elu", "selu", "celu", "leaky_relu",
               "mish", "log_sigmoid", "tanh_shrink", "soft_shrink", "hard_shrink", "hard_tanh", "exponential",
               "linear", "sparse_plus", "sparse_sigmoid", "squareplus"]


def _run(model, rel=1e-4, int8=True, low=-1.0, high=1.0):
    randomize(model)
    inputs = random_inputs(model, low=low, high=high)
    check_float(model, inputs, rel)
    if int8:
        calibration = random_inputs(model, batch=8, seed=2, low=low, high=high)
        check_int8(model, inputs, calibration)


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer(name):
    _run(CASES[name]())


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation(activation):
    model = seq((6,), L.Dense(8, activation=activation))
    _run(model, low=-3.0, high=3.0)


@pytest.mark.parametrize("activation", ["relu", "gelu", "silu", "hard_sigmoid"])
def test_activation_layer(activation):
    _run(seq((3, 8), L.Activation(activation)), low=-3.0, high=3.0)


def test_normalization_adapted():
    layer = L.Normalization()
    layer.adapt(np.random.default_rng(0).normal(3.0, 2.0, (64, 4, 3)).astype(np.float32))
    model = seq((4, 3), layer, L.Dense(2))
    inputs = random_inputs(model, low=0.0, high=6.0)
    check_float(model, inputs)
    check_int8(model, inputs, random_inputs(model, batch=8, seed=3, low=0.0, high=6.0))


def test_normalization_inverted():
    layer = L.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.25, 1.0], invert=True)
    _run(seq((4, 3), layer))


def _mha_model(causal=False, self_attention=False):
    q, v = keras.Input((4, 6)), keras.Input((5, 6))
    mha = L.MultiHeadAttention(num_heads=2, key_dim=3)
    if self_attention:
        return keras.Model(q, mha(q, q, use_causal_mask=causal))
    return keras.Model([q, v], mha(q, v))


def _attention_model(scale, mode="dot", additive=False):
    q, v = keras.Input((4, 3)), keras.Input((5, 3))
    layer = L.AdditiveAttention(use_scale=scale) if additive else L.Attention(use_scale=scale, score_mode=mode)
    return keras.Model([q, v], layer([q, v]))


SEQUENCE_CASES = {
    "mha_cross": lambda: _mha_model(),
    "mha_self_causal": lambda: _mha_model(causal=True, self_attention=True),
    "attention": lambda: _attention_model(False),
    "attention_scaled": lambda: _attention_model(True),
    "attention_concat": lambda: _attention_model(True, "concat"),
    "additive_attention": lambda: _attention_model(True, additive=True),
    "lstm": lambda: seq((5, 3), L.LSTM(4)),
    "lstm_sequences_backwards": lambda: seq((5, 3), L.LSTM(4, return_sequences=True, go_backwards=True)),
    "gru": lambda: seq((5, 3), L.GRU(4)),
    "gru_sequences": lambda: seq((5, 3), L.GRU(4, return_sequences=True)),
    "gru_reset_before": lambda: seq((5, 3), L.GRU(4, reset_after=False)),
    "simple_rnn": lambda: seq((5, 3), L.SimpleRNN(4, return_sequences=True)),
    "simple_rnn_relu": lambda: seq((5, 3), L.SimpleRNN(4, activation="relu")),
    "bidirectional_lstm": lambda: seq((5, 3), L.Bidirectional(L.LSTM(4, return_sequences=True))),
    "bidirectional_gru_sum": lambda: seq((5, 3), L.Bidirectional(L.GRU(4), merge_mode="sum")),
    "embedding_lstm": lambda: seq((6,), L.Embedding(10, 4), L.LSTM(3), L.Dense(2), dtype="int32"),
}


@pytest.mark.parametrize("name", sorted(SEQUENCE_CASES))
def test_sequence_layer(name):
    _run(SEQUENCE_CASES[name]())


def test_lstm_return_state():
    x = keras.Input((5, 3))
    out, h, c = L.LSTM(4, return_state=True)(x)
    _run(keras.Model(x, [out, h, c]))
