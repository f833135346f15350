"""Keras 3's EinsumDense tests (keras/src/layers/core/einsum_dense_test.py), ported to kr.
Left out (see tests/keras_ported_left_out.md): LoRA and quantization."""
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test

# Keras's named cases: equation, bias_axes, input_shape, output_shape, kernel, bias and output shapes.
BASICS = {
    "1d_end_weight": ("ab,b->a", None, (2, 32), (), (32,), None, (2,)),
    "2d_middle_weight": ("ab,bc->ac", None, (2, 32), 64, (32, 64), None, (2, 64)),
    "3d_bert": ("abc,cde->abde", None, (2, 1, 2), (1, 3, 4), (2, 3, 4), None, (2, 1, 3, 4)),
    "3d_3_bias": ("abc,cde->abde", "e", (2, 1, 2), (1, 3, 4), (2, 3, 4), (4,), (2, 1, 3, 4)),
    "3d_2_bias": ("abc,cde->abde", "d", (2, 1, 2), (1, 3, 4), (2, 3, 4), (3, 1), (2, 1, 3, 4)),
    "3d_1_3_bias": ("abc,cde->abde", "be", (2, 7, 2), (7, 3, 4), (2, 3, 4), (7, 1, 4), (2, 7, 3, 4)),
    "3d_bert_projection": ("BFNH,NHD->BFD", None, (2, 1, 2, 3), (1, 4), (2, 3, 4), None, (2, 1, 4)),
    "2d_bert": ("abc,cd->abd", None, (2, 1, 2), (1, 4), (2, 4), None, (2, 1, 4)),
    "embedding_1d": ("i,d->id", None, (2,), (2,), (2,), None, (2, 2)),
    "xlnet_lm": ("ibd,nd->ibn", None, (2, 2, 1), (2, 2), (2, 1), None, (2, 2, 2)),
    "2d_precast": ("...b,bc->...c", None, (2, 32), (64,), (32, 64), None, (2, 64)),
    "2d_precast_elided_input_used_in_output": ("...bc,bc->...b", None, (2, 32, 64), (32,), (32, 64), None,
                                               (2, 32)),
    "2d_precast_multiple_elided_dims": ("...b,bc->...c", None, (2, 3, 32), (64,), (32, 64), None, (2, 3, 64)),
    "3d_precast": ("...c,cde->...de", None, (2, 1, 2), (3, 4), (2, 3, 4), None, (2, 1, 3, 4)),
    "3d_precast_3_bias": ("...c,cde->...de", "e", (2, 1, 2), (3, 4), (2, 3, 4), (4,), (2, 1, 3, 4)),
    "3d_precast_2_bias": ("...c,cde->...de", "d", (2, 1, 2), (3, 4), (2, 3, 4), (3, 1), (2, 1, 3, 4)),
    "3d_precast_2_3_bias": ("...c,cde->...de", "de", (2, 1, 2), (3, 4), (2, 3, 4), (3, 4), (2, 1, 3, 4)),
    "2d_postcast": ("bc...,cd->bd...", None, (2, 1, 2, 3), (4,), (1, 4), None, (2, 4, 2, 3)),
    "3d_postcast": ("bc...,cde->bde...", None, (2, 1, 2), (3, 4), (1, 3, 4), None, (2, 3, 4, 2)),
    "3d_postcast_1_bias": ("bc...,cde->bde...", "d", (2, 1, 2), (3, 4), (1, 3, 4), (3, 1, 1), (2, 3, 4, 2)),
    "3d_postcast_2_bias": ("bc...,cde->bde...", "e", (2, 1, 2), (3, 4), (1, 3, 4), (4, 1), (2, 3, 4, 2)),
    "3d_postcast_1_2_bias": ("bc...,cde->bde...", "de", (2, 1, 2), (3, 4), (1, 3, 4), (3, 4, 1), (2, 3, 4, 2)),
}


@pytest.mark.parametrize("case", BASICS)
def test_einsum_dense_basics(case):
    equation, bias_axes, input_shape, output_shape, kernel_shape, bias_shape, expected_output_shape = BASICS[case]
    init_kwargs = {"equation": equation, "output_shape": output_shape, "bias_axes": bias_axes}
    run_layer_test(kr.EinsumDense, init_kwargs=init_kwargs, input_shape=input_shape,
                   expected_output_shape=expected_output_shape,
                   expected_num_trainable_weights=2 if bias_shape is not None else 1,
                   expected_num_non_trainable_weights=0, expected_num_losses=0, supports_masking=False)
    layer = kr.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes)
    layer.build(input_shape)
    assert tuple(layer.kernel.shape) == kernel_shape
    if bias_shape is not None:
        assert tuple(layer.bias.shape) == bias_shape


@pytest.mark.parametrize("layer", [
    lambda: kr.EinsumDense("abc,cde->abde", (1, 3, 4), kernel_constraint="non_neg"),
    # Keras's case is ("ab,b->a", (1, 3, 4), bias_axes="a") built for (2, 1, 2): an output_shape and an
    # input rank the equation does not describe, which kr refuses; this is the same weight on a valid input.
    lambda: kr.EinsumDense("ab,b->a", (), bias_axes="a", bias_constraint="non_neg"),
], ids=["kernel", "bias"])
def test_einsum_dense_constraints(layer):
    """Keras checks the weight carries NonNeg; kr applies constraints with `kr.apply_constraints` (as fit
    does after each step): the weight ends non-negative."""
    layer = layer()
    layer.build((2, 1, 2) if layer.equation.startswith("abc") else (2, 2))
    weight = layer.kernel if layer.kernel_constraint is not None else layer.bias
    with torch.no_grad():
        weight.fill_(-1.0)
    kr.apply_constraints(layer)
    assert bool((weight == 0).all())
