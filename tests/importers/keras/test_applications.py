"""keras.applications architectures with random weights: float matches model.predict within 1e-4
of the output's magnitude in eightbit and LiteRT; int8 is identical in eightbit and LiteRT's
reference kernels. MobileNetV2 (alpha 0.35, 96x96) runs by default, the rest with -m slow."""

from __future__ import annotations

import pytest

from tests.importers.keras.helpers import check_float, check_int8, keras, random_inputs, randomize

A = keras.applications


def build(name, size, **kw):
    return randomize(getattr(A, name)(weights=None, input_shape=(size, size, 3), classifier_activation=None, **kw))


def _check(name, size, **kw):
    model = build(name, size, **kw)
    inputs = random_inputs(model)
    check_float(model, inputs)
    check_int8(model, inputs, random_inputs(model, batch=3, seed=5))


def test_mobilenet_v2_narrow():
    _check("MobileNetV2", 96, alpha=0.35)


SLOW = [("MobileNetV2", 96), ("MobileNetV3Small", 64), ("EfficientNetB0", 64), ("ResNet50", 64), ("MobileNet", 64), ("MobileNetV3Large", 64),
        ("Xception", 71), ("DenseNet121", 64), ("InceptionV3", 75), ("ResNet50V2", 64),
        ("EfficientNetV2B0", 64), ("ConvNeXtTiny", 64), ("VGG16", 64), ("InceptionResNetV2", 75)]


@pytest.mark.slow
@pytest.mark.parametrize("name,size", SLOW)
def test_application_slow(name, size):
    _check(name, size)
