"""kr.ops's associative_scan, rearrange, vectorize, custom_gradient and jvp against keras.ops (torch backend):
values, dtypes, pytrees, gradients, symbolic calls, errors, and Keras files."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from keras import ops as kops

import kerasrnn_torch as kr
from kerasrnn_torch import ops

from .test_ops_match_keras import check, check_keras_files_both_ways

RNG = np.random.default_rng(41)


def floats(*shape):
    return torch.from_numpy(RNG.uniform(-1.5, 1.5, size=shape).astype(np.float32))


def test_kr_ops_has_every_keras_ops_name():
    # (the namespaces' contents: tests/test_namespaces.py)
    missing = sorted(name for name in dir(keras.ops) if not name.startswith("_") and not hasattr(ops, name))
    assert missing == []
    assert ops.linalg.jvp is ops.jvp
    assert {"associative_scan", "custom_gradient", "jvp", "rearrange", "vectorize"} <= set(ops.__all__)


# ------------------------------------------------------------------ associative_scan
COMBINE = {"add": lambda a, b: a + b, "multiply": lambda a, b: a * b, "maximum": torch.maximum}


@pytest.mark.parametrize("length", [1, 2, 3, 4, 5, 7, 8, 13])
@pytest.mark.parametrize("combine", sorted(COMBINE))
@pytest.mark.parametrize("reverse", [False, True])
def test_associative_scan_matches_keras(length, combine, reverse):
    x = floats(length, 3)
    check(ops.associative_scan(COMBINE[combine], x, reverse=reverse),
          kops.associative_scan(COMBINE[combine], x, reverse=reverse), atol=1e-6)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_associative_scan_along_any_axis(axis):
    x = floats(4, 6, 5)
    ours = ops.associative_scan(COMBINE["add"], x, axis=axis)
    check(ours, kops.associative_scan(COMBINE["add"], x, axis=axis), atol=1e-5)
    torch.testing.assert_close(ours, torch.cumsum(x, dim=axis))
    check(ops.associative_scan(COMBINE["add"], x, axis=axis, reverse=True),
          kops.associative_scan(COMBINE["add"], x, axis=axis, reverse=True), atol=1e-5)


def _linear_recurrence(left, right):
    """(a1, b1) then (a2, b2): h -> a2 (a1 h + b1) + b2, an associative combination of affine maps."""
    (a1, b1), (a2, b2) = left, right
    return a1 * a2, a2 * b1 + b2


@pytest.mark.parametrize("reverse", [False, True])
def test_associative_scan_of_nested_elems_matches_keras_and_a_loop(reverse):
    a, b = floats(9, 2), floats(9, 2)
    ours = ops.associative_scan(_linear_recurrence, (a, b), reverse=reverse)
    assert isinstance(ours, tuple) and len(ours) == 2
    check(list(ours), list(kops.associative_scan(_linear_recurrence, (a, b), reverse=reverse)), atol=1e-5)
    h, expected = torch.zeros(2), []
    for t in (range(8, -1, -1) if reverse else range(9)):
        h = a[t] * h + b[t]
        expected.append(h)
    torch.testing.assert_close(ours[1], torch.stack(expected[::-1] if reverse else expected))


def test_associative_scan_of_a_dict_keeps_its_keys():
    elems = {"total": floats(6), "most": floats(6)}

    def f(x, y):
        return {"most": torch.maximum(x["most"], y["most"]), "total": x["total"] + y["total"]}
    ours = ops.associative_scan(f, elems)
    theirs = kops.associative_scan(f, elems)
    assert set(ours) == {"total", "most"}
    for key in ours:
        check(ours[key], theirs[key], atol=1e-6)
    torch.testing.assert_close(ours["most"], torch.cummax(elems["most"], 0).values)


def test_associative_scan_keeps_integer_dtypes():
    # Keras's torch backend returns float32 here; the values are the same.
    x = torch.arange(1, 8)
    ours = ops.associative_scan(COMBINE["add"], x)
    assert ours.dtype == torch.int64
    np.testing.assert_array_equal(ours.numpy(), kops.convert_to_numpy(kops.associative_scan(COMBINE["add"], x)))
    flags = torch.tensor([False, True, False, False, True])
    np.testing.assert_array_equal(ops.associative_scan(torch.logical_or, flags).numpy(),
                                  [False, True, True, True, True])


def test_associative_scan_errors():
    with pytest.raises(ValueError, match=r"same size along axis 0, got shapes \[\(3,\), \(4,\)\]"):
        ops.associative_scan(COMBINE["add"], [torch.ones(3), torch.ones(4)])
    with pytest.raises(TypeError, match="kr.ops.associative_scan: f must be a callable f\\(a, b\\), got 3"):
        ops.associative_scan(3, torch.ones(3))
    with pytest.raises(ValueError, match=r"axis 2 is out of range for an element of shape \(3, 4\)"):
        ops.associative_scan(COMBINE["add"], torch.ones(3, 4), axis=2)
    with pytest.raises(ValueError, match=r"f must return the structure of elems \(2 tensors\), got 1"):
        ops.associative_scan(lambda x, y: x[0] + y[0], [torch.ones(3), torch.ones(3)])
    with pytest.raises(TypeError, match="kr.ops.associative_scan: axis must be an int, got 1.0"):
        ops.associative_scan(COMBINE["add"], torch.ones(3), axis=1.0)


def _symbolic_pair(build):
    """kr.Model and keras.Model of `build(module, inputs)` on inputs of shape (None, 5, 3)."""
    inputs, keras_inputs = kr.Input((5, 3)), keras.Input((5, 3))
    return kr.Model(inputs, build(ops, inputs)), keras.Model(keras_inputs, build(kops, keras_inputs))


def _add(a, b):
    return a + b


def test_associative_scan_on_kr_input_records_keras_operation(tmp_path):
    def build(module, inputs):
        total = module.associative_scan(_add, inputs, axis=1)
        pair = module.associative_scan(_linear_recurrence, (inputs, inputs * 0.5), axis=-2, reverse=True)
        return [total, *pair]
    model, keras_model = _symbolic_pair(build)
    assert [o.shape for o in model.outputs] == [(None, 5, 3)] * 3
    assert [op.spec.keras_name for op in model.operations if kr.ops.is_operation(op)].count("AssociativeScan") == 2
    x = floats(2, 5, 3)
    check(list(model(x)), list(keras_model(x)), atol=1e-5)
    # Keras writes the function by name and cannot load its own file of it: no Keras file holds one.
    with pytest.raises(ValueError, match=r"AssociativeScan 'associative_scan.*' of Model .* cannot be saved as a "
                                         r"Keras model: its call's inbound_nodes\[0\]\['args'\]\[0\] is a function"):
        kr.save_keras(model, tmp_path / "scan.keras")
    keras_model.save(tmp_path / "theirs.keras")
    with pytest.raises(TypeError, match="kr.ops.associative_scan: the model's file names the function '_add' "
                                        "but cannot hold it"):
        kr.from_keras(tmp_path / "theirs.keras")


# ------------------------------------------------------------------ rearrange
PATTERNS = [
    ("b h w c -> b c h w", {}),
    ("b h w c -> (b h) w c", {}),
    ("b h w c -> h (b w) c", {}),
    ("b h w c -> b (c h w)", {}),
    ("b (h1 h) (w1 w) c -> (b h1 w1) h w c", {"h1": 2, "w1": 2}),
    ("b (h h1) (w w1) c -> b h w (c h1 w1)", {"h1": 2, "w1": 2}),
    ("b (h h1) w c -> b h (w h1) c", {"h": 3}),
    ("b h w c -> b h w c", {}),
]


@pytest.mark.parametrize("pattern, sizes", PATTERNS)
def test_rearrange_matches_keras(pattern, sizes):
    x = floats(2, 6, 4, 3)
    check(ops.rearrange(x, pattern, **sizes), kops.rearrange(x, pattern, **sizes), atol=0)
    check(ops.rearrange(x.numpy(), pattern, **sizes), kops.rearrange(x, pattern, **sizes), atol=0)


def test_rearrange_keeps_dtypes_and_takes_unit_axes():
    x = torch.arange(24, dtype=torch.int16).reshape(2, 3, 4)
    ours = ops.rearrange(x, "a b c -> c a b")
    check(ours, kops.rearrange(x, "a b c -> c a b"))
    torch.testing.assert_close(ops.rearrange(x, "a b c -> a () b c"), x[:, None])
    torch.testing.assert_close(ops.rearrange(x[:, :1], "a () c -> c a"), x[:, 0].T)


@pytest.mark.parametrize("pattern, sizes, error, message", [
    ("a b c", {}, ValueError, "the pattern must have the form 'input axes -> output axes'"),
    ("a -> b -> c", {}, ValueError, "the pattern must have the form"),
    ("... c -> c ...", {}, ValueError, r"uses an ellipsis \('...'\), which keras.ops.rearrange does not support"),
    ("a b c -> a b d", {}, ValueError, r"must name the same axes; only on the left: \['c'\], only on the right: "
                                       r"\['d'\]"),
    ("a b -> b a", {}, ValueError, r"the left side of the pattern 'a b -> b a' names 2 axes, but the tensor has 3 "
                                   r"\(shape \(2, 6, 4\)\)"),
    ("a a c -> a c", {}, ValueError, r"the left side of the pattern .* names \['a'\] more than once"),
    ("a (b c d) e -> a b c d e", {"b": 1}, ValueError, r"leaves \['c', 'd'\] unsized"),
    ("a (b c) e -> a b c e", {"c": 4}, ValueError, "the axis of size 6 cannot split into \\(b c\\) .* 6 is not a "
                                                  "multiple of 4"),
    ("a (b c) e -> a b c e", {"b": 2, "c": 2}, ValueError, r"the axis \(b c\) has size 6, but the given sizes "
                                                          r"make it 2 \* 2 = 4"),
    ("a b c -> c b a", {"z": 2}, ValueError, r"sizes were given for \['z'\], which the pattern"),
    ("a (b c -> a b c", {}, ValueError, r"unbalanced parenthesis '\('"),
    ("a 1 c -> a c 1", {}, ValueError, "'1' on the left side of the pattern .* is not an axis name"),
    (["a b c"], {}, TypeError, "pattern must be a string such as 'b h w c -> b c h w', got list"),
])
def test_rearrange_bad_patterns_say_what_was_expected(pattern, sizes, error, message):
    with pytest.raises(error, match=message):
        ops.rearrange(floats(2, 6, 4), pattern, **sizes)


def test_rearrange_symbolic_matches_keras_and_files_both_ways(tmp_path):
    pattern = "b t (c d) -> b (t c) d"
    inputs = kr.Input(batch_shape=(2, 4, 6))
    outputs = ops.rearrange(inputs, pattern, d=2)
    assert outputs.shape == (2, 12, 2)
    keras_inputs = keras.Input(batch_shape=(2, 4, 6))
    keras_model = keras.Model(keras_inputs, kops.rearrange(keras_inputs, pattern, d=2))
    model = kr.Model(inputs, outputs)
    entry = model.get_config()["layers"][1]
    assert entry["class_name"] == "Rearrange" and entry["module"] == "keras.src.ops.einops"
    assert entry["inbound_nodes"][0]["args"][1] == pattern and entry["inbound_nodes"][0]["kwargs"] == {"d": 2}
    check_keras_files_both_ways(model, keras_model, RNG.uniform(size=(2, 4, 6)).astype(np.float32), tmp_path)


def test_rearrange_symbolic_with_any_batch_size():
    # Keras's symbolic rearrange needs every size known; kr.ops's keeps the batch axis open where it can.
    inputs = kr.Input((4, 6))
    assert ops.rearrange(inputs, "b t (c d) -> b (t c) d", d=2).shape == (None, 12, 2)
    assert ops.rearrange(inputs, "b t f -> (b t) f").shape == (None, 6)
    model = kr.Model(inputs, ops.rearrange(inputs, "b t f -> f b t"))
    x = floats(3, 4, 6)
    torch.testing.assert_close(model(x), x.permute(2, 0, 1))
    with pytest.raises(ValueError, match="kr.ops.rearrange: the two sides of the pattern"):
        ops.rearrange(inputs, "b t f -> b t")


# ------------------------------------------------------------------ vectorize
def test_vectorize_matches_keras_on_scalars():
    def add(a, b):
        return a + b
    check(ops.vectorize(add)([1, 2, 3, 4], 2), kops.vectorize(add)([1, 2, 3, 4], 2))
    x, y = floats(3, 1), floats(4)
    check(ops.vectorize(add)(x, y), kops.vectorize(add)(x, y))
    assert ops.vectorize(add)(torch.tensor(1.0), 2.0).shape == ()


def test_vectorize_with_a_signature_matches_keras():
    matvec = ops.vectorize(torch.mv, signature="(m,n),(n)->(m)")
    a, v = floats(5, 1, 3, 4), floats(2, 4)
    ours = matvec(a, v)
    assert ours.shape == (5, 2, 3)
    check(ours, kops.vectorize(torch.mv, signature="(m,n),(n)->(m)")(a, v), atol=1e-6)
    torch.testing.assert_close(ours, torch.einsum("xmn,yn->xym", a[:, 0], v))


def test_vectorize_with_two_outputs():
    def stats(x):
        return torch.mean(x), torch.max(x)
    x = floats(3, 4, 5)
    ours = ops.vectorize(stats, signature="(n)->(),()")(x)
    assert isinstance(ours, tuple)
    check(list(ours), list(kops.vectorize(stats, signature="(n)->(),()")(x)), atol=1e-6)
    torch.testing.assert_close(ours[1], x.amax(-1))


def test_vectorize_excluded_passes_arguments_unchanged():
    def scaled(x, factor):
        return x * factor
    x = floats(4)
    check(ops.vectorize(scaled, excluded={1})(x, 3.0), kops.vectorize(scaled, excluded={1})(x, 3.0))

    def polynomial(coefficients, x):           # the coefficients, a list, reach the function whole
        return sum(c * x ** i for i, c in enumerate(coefficients))
    ours = ops.vectorize(polynomial, excluded={0})([1.0, 2.0, 3.0], x)
    expected = np.vectorize(polynomial, excluded={0})([1.0, 2.0, 3.0], x.numpy())
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-6)
    seen = []
    ops.vectorize(lambda a, b: seen.append(b) or a, excluded={"b"})(x, b="whole")
    assert seen == ["whole"]


def test_vectorize_errors():
    with pytest.raises(ValueError, match="kr.ops.vectorize: pyfunc must be a callable, got 3"):
        ops.vectorize(3)
    with pytest.raises(ValueError, match=r"signature must look like '\(m,n\),\(n\)->\(m\)'.* got 'm,n->m'"):
        ops.vectorize(torch.mv, signature="m,n->m")
    with pytest.raises(TypeError, match=r"the signature '\(m,n\),\(n\)->\(m\)' takes 2 arguments, got 1"):
        ops.vectorize(torch.mv, signature="(m,n),(n)->(m)")(floats(2, 3))
    with pytest.raises(ValueError, match="core dimension 'n' has size 3 elsewhere but 4 in argument 1"):
        ops.vectorize(torch.mv, signature="(m,n),(n)->(m)")(floats(2, 3), floats(4))
    with pytest.raises(ValueError, match=r"argument 0 of shape \(3,\) has fewer axes than its core dimensions"):
        ops.vectorize(torch.mv, signature="(m,n),(n)->(m)")(floats(3), floats(3))
    with pytest.raises(ValueError, match=r"output 0 of shape \(\) does not match its core dimensions \('m',\)"):
        ops.vectorize(torch.sum, signature="(m)->(m)")(floats(2, 3))
    with pytest.raises(ValueError, match="kr.ops.vectorize takes Python callables"):
        ops.vectorize(torch.sin)(kr.Input((3,)))


# ------------------------------------------------------------------ custom_gradient
def _log1pexp(module):
    @module.custom_gradient
    def log1pexp(x):
        e = module.exp(x)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return module.multiply(upstream, 3.0 * (1.0 - 1.0 / module.add(1, e)))   # 3x the true gradient
        return module.log(1 + e), grad
    return log1pexp


def test_custom_gradient_is_the_gradient_autograd_uses():
    x = floats(5).requires_grad_()
    ours = _log1pexp(ops)(x)
    theirs = _log1pexp(kops)(x)
    check(ours, theirs, atol=1e-6)
    (gradient,) = torch.autograd.grad(ours.sum(), x)
    (keras_gradient,) = torch.autograd.grad(theirs.sum(), x)
    torch.testing.assert_close(gradient, 3.0 * torch.sigmoid(x.detach()))
    torch.testing.assert_close(gradient, keras_gradient)
    upstream = floats(5)
    (weighted,) = torch.autograd.grad(_log1pexp(ops)(x), x, upstream)
    torch.testing.assert_close(weighted, 3.0 * upstream * torch.sigmoid(x.detach()))


def test_custom_gradient_of_several_arguments_and_outputs():
    @ops.custom_gradient
    def product_and_sum(x, y, label):
        assert label == "kept"

        def grad(x, y, label, upstream):
            d_product, d_sum = upstream
            return d_product * 10.0 + d_sum, d_product * 20.0, None
        return (x * y, x + y), grad

    x, y = floats(3).requires_grad_(), floats(3).requires_grad_()
    product, total = product_and_sum(x, y, "kept")
    torch.testing.assert_close(product, x * y)
    torch.testing.assert_close(total, x + y)
    gx, gy = torch.autograd.grad(product.sum() + 2.0 * total.sum(), (x, y))
    torch.testing.assert_close(gx, torch.full((3,), 12.0))
    torch.testing.assert_close(gy, torch.full((3,), 20.0))


def test_custom_gradient_may_return_its_input():
    @ops.custom_gradient
    def clipped_identity(x):
        return x, lambda *args, upstream: upstream.clamp(-1.0, 1.0)
    x = floats(4).requires_grad_()
    y = clipped_identity(x)
    torch.testing.assert_close(y, x)
    (gradient,) = torch.autograd.grad((y * 5.0).sum(), x)
    torch.testing.assert_close(gradient, torch.ones(4))


def test_custom_gradient_errors():
    with pytest.raises(TypeError, match="kr.ops.custom_gradient: f must be a callable"):
        ops.custom_gradient(3)
    with pytest.raises(TypeError, match=r"must return a pair \(output, grad_fn\)"):
        ops.custom_gradient(lambda x: x * 2)(floats(2))
    bad = ops.custom_gradient(lambda x, y: (x * y, lambda *args, upstream: upstream))
    out = bad(floats(2).requires_grad_(), floats(2).requires_grad_())
    with pytest.raises(ValueError, match=r"grad_fn must return one gradient per argument of the function \(2\), "
                                         r"got 1"):
        out.sum().backward()
    with pytest.raises(ValueError, match="kr.ops.custom_gradient takes Python callables"):
        ops.custom_gradient(lambda x: (x, lambda *a, upstream: upstream))(kr.Input((3,)))


# ------------------------------------------------------------------ jvp
def test_jvp_matches_keras():
    a1, a2 = torch.tensor(0.1), torch.tensor(0.2)
    check(list(ops.jvp(torch.sin, (a1,), (a2,))), list(kops.jvp(kops.sin, (a1,), (a2,))))

    def f(x, y):
        return x * y + torch.sin(x)
    primals, tangents = (floats(3, 2), floats(3, 2)), (floats(3, 2), floats(3, 2))
    ours = ops.jvp(f, primals, tangents)
    check(list(ours), list(kops.jvp(f, primals, tangents)), atol=1e-6)
    (x, y), (dx, dy) = primals, tangents
    torch.testing.assert_close(ours[1], dx * y + x * dy + torch.cos(x) * dx)
    torch.testing.assert_close(ops.jvp(f, list(primals), list(tangents))[1], ours[1])


def test_jvp_with_aux():
    def f(x):
        return x ** 3, {"twice": x * 2}
    x, t = floats(4), floats(4)
    out, tangent, aux = ops.jvp(f, (x,), (t,), has_aux=True)
    k_out, k_tangent, k_aux = kops.jvp(f, (x,), (t,), has_aux=True)
    check([out, tangent, aux["twice"]], [k_out, k_tangent, k_aux["twice"]], atol=1e-6)
    torch.testing.assert_close(tangent, 3 * x ** 2 * t)


def test_jvp_errors():
    with pytest.raises(TypeError, match="kr.ops.jvp: primals must be a tuple or list .* got Tensor"):
        ops.jvp(torch.sin, floats(2), (floats(2),))
    with pytest.raises(ValueError, match="kr.ops.jvp: primals and tangents must have as many entries, got 1 and 2"):
        ops.jvp(torch.sin, (floats(2),), (floats(2), floats(2)))
    with pytest.raises(TypeError, match="kr.ops.jvp: fun must be a callable"):
        ops.jvp(None, (floats(2),), (floats(2),))


@pytest.mark.parametrize("has_aux", [False, True])
def test_jvp_on_kr_input_records_keras_operation(has_aux):
    def fun(a, b):
        out = a * b + a ** 2
        return (out, a * 3.0) if has_aux else out

    def build(module, inputs):
        return list(module.jvp(fun, (inputs, inputs * 2.0), (inputs * 0.5, inputs), has_aux=has_aux))
    model, keras_model = _symbolic_pair(build)
    assert [o.shape for o in model.outputs] == [(None, 5, 3)] * (3 if has_aux else 2)
    assert any(kr.ops.is_operation(op) and op.spec.keras_name == "JVP" for op in model.operations)
    x = floats(2, 5, 3)
    check(list(model(x)), list(keras_model(x)), atol=1e-5)
    torch.testing.assert_close(model(x)[1], x * 0.5 * 2.0 * x + x * x + 2 * x * x * 0.5)
