// kerasrnn_torch's CPU recurrent kernel: the time loop of a built-in Keras cell (LSTM, GRU with either
// reset_after, SimpleRNN) forward, and its backward through time, each as one C++ call.
//
// With gradients to come, the input projection of every step is made by the caller (one matrix product under
// autograd); without (`forward_unprojected`), each step projects its own inputs into a small buffer. Per
// step the forward does one recurrent product (BLAS, see gemm_rows) and ONE pass over the gates, which
// applies the activations, the state update, the step mask and writes every buffer the backward reads.
// The backward walks the steps in reverse: one pass over the gates for the pre-activation gradients,
// one product for the gradient reaching the previous state; the recurrent kernel's gradient is one
// product over all steps at the end. GRU with reset_after=False needs a second product per step (its
// candidate's product reads the reset gate).
//
// Layouts (all contiguous unless said): x (T, B, G*U) projected inputs in reading order; step_mask
// (T, B) bool or absent; recurrent_mask (B, U) (recurrent dropout, already scaled) or absent; kernel
// (U, G*U), any strides (copied once per call where not contiguous: the per-step products run faster on a
// contiguous kernel); recurrent_bias (G*U) (GRU reset_after only) or absent; h0, c0 (B, U); input_bias (G*U)
// or absent: the input projection's bias, added in the gates' pass when the caller's projection left it out
// (its gradient is the sum of x's).
// Gate columns: LSTM i, f, g, o; GRU z, r, candidate (or PyTorch's r, z, n with torch_order); the
// gradient of x comes back in x's column order.
#include <ATen/ATen.h>
#include <torch/python.h>
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/vec.h>
#include <ATen/cpu/vec/functional.h>

#include <algorithm>
#include <limits>
#include <mutex>
#include <vector>

namespace {

using at::Tensor;
using c10::optional;

enum Kind : int64_t { LSTM = 0, GRU = 1, GRU_BEFORE = 2, SIMPLE = 3 };
enum Act : int64_t { LINEAR = 0, TANH = 1, SIGMOID = 2, RELU = 3, HARD_SIGMOID = 4 };

template <typename scalar_t>
using Vec = at::vec::Vectorized<scalar_t>;

// ----------------------------------------------------------------------------- activations
// The gates' pass of a small step is bound by its activations' arithmetic, not by memory. In float64 they are
// computed plainly (SLEEF's exp and expm1, divisions). In float32, where speed matters, they are inlined here:
// one exp (or expm1) by range reduction and a polynomial, and one reciprocal (the hardware's estimate refined
// by a Newton step: several times cheaper than a division). SLEEF's exp is a function call that checks every
// argument's range (a third of the gates' pass of a small GRU step, measured), its expm1 and tanh cost several
// times its exp. Each result is within 4 ulps of the exact value (tests/layers/rnn/engine/test_cpu_kernel.py
// measures it against float64 over the whole range).

// 1 / d for d >= 1 (a result below the smallest normal float may come back as zero).
template <typename scalar_t>
C10_ALWAYS_INLINE Vec<scalar_t> reciprocal_at_least_1(const Vec<scalar_t>& d) {
  return Vec<scalar_t>(scalar_t(1)) / d;
}
#if defined(CPU_CAPABILITY_AVX512)
template <>
C10_ALWAYS_INLINE Vec<float> reciprocal_at_least_1<float>(const Vec<float>& d) {
  const __m512 v = d;
  const __m512 r = _mm512_rcp14_ps(v);                                        // 14 bits
  return Vec<float>(_mm512_mul_ps(r, _mm512_fnmadd_ps(v, r, _mm512_set1_ps(2.0f))));  // r (2 - d r): 24+
}
#elif defined(CPU_CAPABILITY_AVX2)
template <>
C10_ALWAYS_INLINE Vec<float> reciprocal_at_least_1<float>(const Vec<float>& d) {
  const __m256 v = d;
  const __m256 r = _mm256_rcp_ps(v);                                          // 12 bits
  return Vec<float>(_mm256_mul_ps(r, _mm256_fnmadd_ps(v, r, _mm256_set1_ps(2.0f))));
}
#endif

#if defined(CPU_CAPABILITY_AVX512) || defined(CPU_CAPABILITY_AVX2)
#define KERASRNN_FAST_FLOAT 1
#if defined(CPU_CAPABILITY_AVX512)
// The smallest argument of exp: AVX-512's scalef reaches the subnormals, AVX2's 2^n needs n >= -126.
constexpr float kExpLowest = -104.0f;
// p * 2^n for integral n.
C10_ALWAYS_INLINE Vec<float> times_power_of_2(const Vec<float>& p, const Vec<float>& n) {
  return Vec<float>(_mm512_scalef_ps(p, n));
}
C10_ALWAYS_INLINE Vec<float> round_to_integer(const Vec<float>& v) {
  return Vec<float>(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
#else
constexpr float kExpLowest = -87.3f;
C10_ALWAYS_INLINE Vec<float> times_power_of_2(const Vec<float>& p, const Vec<float>& n) {
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return Vec<float>(_mm256_mul_ps(p, _mm256_castsi256_ps(bits)));
}
C10_ALWAYS_INLINE Vec<float> round_to_integer(const Vec<float>& v) {
  return Vec<float>(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
#endif

// max(low, min(x, high)), NaN staying NaN (the second operand of min and max is returned for a NaN).
C10_ALWAYS_INLINE Vec<float> clamp_keeping_nan(const Vec<float>& x, float low, float high) {
#if defined(CPU_CAPABILITY_AVX512)
  return Vec<float>(_mm512_max_ps(_mm512_set1_ps(low), _mm512_min_ps(_mm512_set1_ps(high), x)));
#else
  return Vec<float>(_mm256_max_ps(_mm256_set1_ps(low), _mm256_min_ps(_mm256_set1_ps(high), x)));
#endif
}

// x = n ln2 + r with |r| <= ln2/2 (ln2 in two parts, so that r is exact): returns r and sets n.
C10_ALWAYS_INLINE Vec<float> reduce_by_ln2(const Vec<float>& x, Vec<float>& n) {
  n = round_to_integer(x * Vec<float>(1.44269504088896341f));
  Vec<float> r = at::vec::fmadd(n, Vec<float>(-0.693359375f), x);
  return at::vec::fmadd(n, Vec<float>(2.12194440e-4f), r);
}

// exp(x) for x in [kExpLowest, 88] (clamped to it): 2^n exp(r), exp(r) by its Taylor polynomial of degree 7
// (truncation below 6e-9, relative).
C10_ALWAYS_INLINE Vec<float> exp_clamped(const Vec<float>& x) {
  using V = Vec<float>;
  V n;
  const V r = reduce_by_ln2(clamp_keeping_nan(x, kExpLowest, 88.0f), n);
  V p = at::vec::fmadd(r, V(1.0f / 5040.0f), V(1.0f / 720.0f));
  p = at::vec::fmadd(r, p, V(1.0f / 120.0f));
  p = at::vec::fmadd(r, p, V(1.0f / 24.0f));
  p = at::vec::fmadd(r, p, V(1.0f / 6.0f));
  p = at::vec::fmadd(r, p, V(0.5f));
  p = at::vec::fmadd(r, p, V(1.0f));
  p = at::vec::fmadd(r, p, V(1.0f));
  return times_power_of_2(p, n);
}

// expm1(x) for x in [-18, 0] (clamped): 2^n expm1(r) + (2^n - 1), expm1(r) = r + r^2 (1/2 + r/6 + ... r^5/5040)
// (truncation below 2e-8, relative): where n = 0 (|x| <= ln2/2) no digits cancel.
C10_ALWAYS_INLINE Vec<float> expm1_nonpositive(const Vec<float>& x) {
  using V = Vec<float>;
  V n;
  const V r = reduce_by_ln2(clamp_keeping_nan(x, -18.0f, 0.0f), n);
  V q = at::vec::fmadd(r, V(1.0f / 5040.0f), V(1.0f / 720.0f));
  q = at::vec::fmadd(r, q, V(1.0f / 120.0f));
  q = at::vec::fmadd(r, q, V(1.0f / 24.0f));
  q = at::vec::fmadd(r, q, V(1.0f / 6.0f));
  q = at::vec::fmadd(r, q, V(0.5f));
  const V em = at::vec::fmadd(r * r, q, r);
  const V scale = times_power_of_2(V(1.0f), n);
  return at::vec::fmadd(scale, em, scale - V(1.0f));
}
#endif

template <typename scalar_t>
C10_ALWAYS_INLINE Vec<scalar_t> fast_sigmoid(const Vec<scalar_t>& x) {
  using V = Vec<scalar_t>;
  return V(scalar_t(1)) / (V(scalar_t(1)) + x.neg().exp());
}

// tanh(x) = sign(x) * -em / (2 + em), em = expm1(-2|x|): accurate near 0 too.
template <typename scalar_t>
C10_ALWAYS_INLINE Vec<scalar_t> fast_tanh(const Vec<scalar_t>& x) {
  using V = Vec<scalar_t>;
  V em = (x.abs() * V(scalar_t(-2))).expm1();
  V t = em.neg() / (V(scalar_t(2)) + em);
  return V::blendv(t, t.neg(), x < V(scalar_t(0)));
}

#ifdef KERASRNN_FAST_FLOAT
// sigmoid(x) = 1 / (1 + exp(-x)): 1 + exp(-x) is at least 1, and for x below about -87 the result (below
// 2e-38) may come back as zero.
template <>
C10_ALWAYS_INLINE Vec<float> fast_sigmoid<float>(const Vec<float>& x) {
  using V = Vec<float>;
  return reciprocal_at_least_1<float>(V(1.0f) + exp_clamped(x.neg()));
}

// tanh(x) = sign(x) * -em / (2 + em), em = expm1(-2|x|) in [-1, 0] (2 + em in [1, 2]); the sign is copied
// from x's bit (tanh(-0) = -0).
template <>
C10_ALWAYS_INLINE Vec<float> fast_tanh<float>(const Vec<float>& x) {
  using V = Vec<float>;
  const V sign_bit(-0.0f);
  const V em = expm1_nonpositive(x.abs() * V(-2.0f));
  const V magnitude = (em * reciprocal_at_least_1<float>(V(2.0f) + em)).abs();
  return magnitude | (x & sign_bit);
}
#endif

// KNOWN >= 0: the activation is known when compiling (the argument is ignored), else read from `act`.
template <typename scalar_t, int64_t KNOWN = -1>
C10_ALWAYS_INLINE Vec<scalar_t> activate(int64_t act, const Vec<scalar_t>& x) {
  using V = Vec<scalar_t>;
  switch (KNOWN >= 0 ? KNOWN : act) {
    case TANH: return fast_tanh<scalar_t>(x);
    case SIGMOID: return fast_sigmoid<scalar_t>(x);
    case RELU: return at::vec::clamp_min(x, V(scalar_t(0)));
    case HARD_SIGMOID:  // Keras 3: relu6(x + 3) / 6, as a product with 1/6 (within an ulp; a division per
                        // vector was the most of this activation's time)
      return at::vec::clamp(x + V(scalar_t(3)), V(scalar_t(0)), V(scalar_t(6))) * V(scalar_t(1) / scalar_t(6));
    default: return x;
  }
}

// grad * f'(x), from y = f(x): the derivatives autograd uses.
template <typename scalar_t, int64_t KNOWN = -1>
C10_ALWAYS_INLINE Vec<scalar_t> derivative(int64_t act, const Vec<scalar_t>& grad, const Vec<scalar_t>& y) {
  using V = Vec<scalar_t>;
  const V zero(scalar_t(0)), one(scalar_t(1));
  switch (KNOWN >= 0 ? KNOWN : act) {
    case TANH: return grad * (one - y * y);
    case SIGMOID: return grad * (one - y) * y;
    case RELU: return V::blendv(grad, zero, y <= zero);
    case HARD_SIGMOID: {
      V outside = (y <= zero) | (y >= one);
      return V::blendv(grad, zero, outside) * V(scalar_t(1) / scalar_t(6));
    }
    default: return grad;
  }
}

// torch.lerp(start, end, weight), as ATen computes it.
template <typename scalar_t>
C10_ALWAYS_INLINE Vec<scalar_t> lerp(const Vec<scalar_t>& start, const Vec<scalar_t>& end, const Vec<scalar_t>& weight) {
  using V = Vec<scalar_t>;
  const V half(scalar_t(0.5)), one(scalar_t(1));
  const V small = weight.abs() < half;
  const V coeff = V::blendv(weight - one, weight, small);
  const V base = V::blendv(end, start, small);
  return at::vec::fmadd(coeff, end - start, base);
}

// Runs `body(b)` over the batch rows, in parallel where the rows are large enough.
template <typename F>
inline void over_rows(int64_t batch, int64_t row_width, const F& body) {
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, row_width));
  at::parallel_for(0, batch, grain, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) body(b);
  });
}

// Runs `body(j, n)` over the vector chunks of a row of `units` values (n < Vec::size() on the tail). The
// bodies are inlined (KR_INLINE_LAMBDA): as a call per chunk, GCC kept them out of line, with the tail's
// branches in every full chunk and the constants loaded again at each call.
#if defined(__GNUC__) || defined(__clang__)
#define KR_INLINE_LAMBDA __attribute__((always_inline))
#else
#define KR_INLINE_LAMBDA
#endif
template <typename scalar_t, typename F>
C10_ALWAYS_INLINE void over_chunks(int64_t units, const F& body) {
  constexpr int64_t step = Vec<scalar_t>::size();
  int64_t j = 0;
  for (; j + step <= units; j += step) body(j, step);
  if (j < units) body(j, units - j);
}

template <typename scalar_t>
inline Vec<scalar_t> load(const scalar_t* p, int64_t n) {
  return n == Vec<scalar_t>::size() ? Vec<scalar_t>::loadu(p) : Vec<scalar_t>::loadu(p, n);
}

template <typename scalar_t>
inline void store(const Vec<scalar_t>& v, scalar_t* p, int64_t n) {
  if (n == Vec<scalar_t>::size()) v.store(p); else v.store(p, n);
}

// ----------------------------------------------------------------------------- per-step products
// The per-step products straight to BLAS where PyTorch's library exports it (its x86 builds link MKL and
// export the Fortran `sgemm_`/`dgemm_`): ATen's `mm_out` on per-step views cost about 2 us a step in
// dispatch and view tensors (a tenth of a GRU step at the MNIST size). The symbols are weak: where the
// library does not export them they are null and ATen's product runs on views of the same memory.
#if defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define KR_WEAK_BLAS 1
extern "C" {
void sgemm_(const char*, const char*, const int*, const int*, const int*, const float*, const float*, const int*,
            const float*, const int*, const float*, float*, const int*) __attribute__((weak));
void dgemm_(const char*, const char*, const int*, const int*, const int*, const double*, const double*, const int*,
            const double*, const int*, const double*, double*, const int*) __attribute__((weak));
}
#endif

// False: every product through ATen (`use_direct_blas`, for the tests of that path on machines with BLAS).
bool direct_blas = true;

template <typename scalar_t>
inline bool blas_call(int m, int n, int k, const scalar_t* a, int lda, const scalar_t* b, int ldb, scalar_t beta,
                      scalar_t* c, int ldc);
template <>
inline bool blas_call<float>(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float beta,
                             float* c, int ldc) {
#ifdef KR_WEAK_BLAS
  if (sgemm_ == nullptr || !direct_blas) return false;
  const float one = 1.0f;
  sgemm_("N", "N", &n, &m, &k, &one, b, &ldb, a, &lda, &beta, c, &ldc);   // column-major: C' = B' A'
  return true;
#else
  return false;
#endif
}
template <>
inline bool blas_call<double>(int m, int n, int k, const double* a, int lda, const double* b, int ldb, double beta,
                              double* c, int ldc) {
#ifdef KR_WEAK_BLAS
  if (dgemm_ == nullptr || !direct_blas) return false;
  const double one = 1.0;
  dgemm_("N", "N", &n, &m, &k, &one, b, &ldb, a, &lda, &beta, c, &ldc);
  return true;
#else
  return false;
#endif
}

// C (m, n) = A (m, k) @ B (k, n) (+ C where `accumulate`), row-major with leading dimensions lda, ldb, ldc.
template <typename scalar_t>
void gemm_rows(int64_t m, int64_t n, int64_t k, const scalar_t* a, int64_t lda, const scalar_t* b, int64_t ldb,
               scalar_t* c, int64_t ldc, bool accumulate, const at::TensorOptions& opts) {
  const int64_t limit = std::numeric_limits<int>::max();
  if (m > 0 && n > 0 && std::max({m, n, k, lda, ldb, ldc}) <= limit &&
      blas_call<scalar_t>(static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), a, static_cast<int>(lda),
                          b, static_cast<int>(ldb), scalar_t(accumulate ? 1 : 0), c, static_cast<int>(ldc))) {
    return;
  }
  auto view = [&](const scalar_t* p, int64_t rows, int64_t cols, int64_t ld) {
    return at::from_blob(const_cast<scalar_t*>(p), {rows, cols}, {ld, 1}, opts);
  };
  Tensor out = view(c, m, n, ldc);
  if (accumulate) {
    out.addmm_(view(a, m, k, lda), view(b, k, n, ldb));
  } else {
    at::mm_out(out, view(a, m, k, lda), view(b, k, n, ldb));
  }
}

// ----------------------------------------------------------------------------- weights
// The layers keep their kernels column-major (Keras's shape in PyTorch's memory order, which PyTorch's own
// kernels read without a copy); the per-step products run faster on a row-major kernel (a transposed operand
// cost 15-25% more per product), so each call makes one. ATen's transposing copy took about 10 us for a
// (64, 192) kernel (a tenth of its Python-free call at the MNIST size, with the input kernel's); a blocked
// transpose takes a fraction of that.
template <typename scalar_t>
void transpose_blocks(const scalar_t* src, scalar_t* dst, int64_t rows, int64_t cols) {
  // src: column-major (rows, cols), element (i, j) at src[j * rows + i]; dst: row-major.
  constexpr int64_t kBlock = 16;
  for (int64_t i0 = 0; i0 < rows; i0 += kBlock) {
    const int64_t i1 = std::min(rows, i0 + kBlock);
    for (int64_t j0 = 0; j0 < cols; j0 += kBlock) {
      const int64_t j1 = std::min(cols, j0 + kBlock);
      for (int64_t i = i0; i < i1; ++i) {
        for (int64_t j = j0; j < j1; ++j) dst[i * cols + j] = src[j * rows + i];
      }
    }
  }
}

#ifdef KERASRNN_FAST_FLOAT
// One 8 x 8 tile: eight columns of 8 values (column k at s + k * ls) written as eight rows (row k at d + k * ld),
// by AVX's in-register shuffles: several times faster than the scalar loop's element-wise moves.
C10_ALWAYS_INLINE void transpose_8x8(const float* s, int64_t ls, float* d, int64_t ld) {
  __m256 c[8], lo[8], q[8];
  for (int k = 0; k < 8; ++k) c[k] = _mm256_loadu_ps(s + k * ls);
  for (int k = 0; k < 8; k += 2) {
    lo[k] = _mm256_unpacklo_ps(c[k], c[k + 1]);
    lo[k + 1] = _mm256_unpackhi_ps(c[k], c[k + 1]);
  }
  for (int k = 0; k < 8; k += 4) {
    q[k] = _mm256_shuffle_ps(lo[k], lo[k + 2], 0x44);
    q[k + 1] = _mm256_shuffle_ps(lo[k], lo[k + 2], 0xEE);
    q[k + 2] = _mm256_shuffle_ps(lo[k + 1], lo[k + 3], 0x44);
    q[k + 3] = _mm256_shuffle_ps(lo[k + 1], lo[k + 3], 0xEE);
  }
  for (int k = 0; k < 4; ++k) {
    _mm256_storeu_ps(d + k * ld, _mm256_permute2f128_ps(q[k], q[k + 4], 0x20));
    _mm256_storeu_ps(d + (k + 4) * ld, _mm256_permute2f128_ps(q[k], q[k + 4], 0x31));
  }
}

template <>
void transpose_blocks<float>(const float* src, float* dst, int64_t rows, int64_t cols) {
  const int64_t rows8 = rows / 8 * 8, cols8 = cols / 8 * 8;
  for (int64_t j = 0; j < cols8; j += 8) {
    for (int64_t i = 0; i < rows8; i += 8) transpose_8x8(src + j * rows + i, rows, dst + i * cols + j, cols);
  }
  for (int64_t i = 0; i < rows; ++i) {      // the edges: the last columns of the tiled rows, the last rows
    for (int64_t j = i < rows8 ? cols8 : 0; j < cols; ++j) dst[i * cols + j] = src[j * rows + i];
  }
}
#endif

Tensor row_major(const Tensor& w) {
  if (w.is_contiguous()) return w;
  if (w.dim() != 2 || w.stride(0) != 1 || w.stride(1) != w.size(0)) return w.contiguous();
  Tensor out = at::empty(w.sizes(), w.options());
  AT_DISPATCH_FLOATING_TYPES(w.scalar_type(), "kerasrnn_row_major", [&] {
    transpose_blocks<scalar_t>(w.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), w.size(0), w.size(1));
  });
  return out;
}

// ----------------------------------------------------------------------------- kept buffers
// The per-step buffers of a call (held states, gates, their gradients) are large: a training step at the
// MNIST size allocates several of about 1.4 MB each. Freshly allocated each call, they cost page faults
// (glibc returns the freed top of its heap to the system and takes it back at the next call: about 700
// faults per training step, a third of its time, measured). A few are kept between calls instead and
// handed out again once nothing else holds their memory (this list's tensor is its storage's only owner):
// buffers saved for a backward, or held by a view, or kept as a gradient, are never reused while alive. Each
// call gets a tensor of its own on the kept storage (Python's wrapper of a tensor handed out may keep the
// tensor object itself alive; it holds the storage only through it).
class KeptBuffers {
 public:
  Tensor take(at::IntArrayRef shape, const at::TensorOptions& opts) {
    int64_t numel = 1;
    for (int64_t n : shape) numel *= n;
    const int64_t bytes = numel * static_cast<int64_t>(opts.dtype().itemsize());
    if (bytes < kSmallest || bytes > kLargest) return at::empty(shape, opts);
    std::lock_guard<std::mutex> guard(mutex_);
    for (const Tensor& t : kept_) {
      if (free(t) && t.sizes() == shape && t.dtype() == opts.dtype()) return on(t);
    }
    Tensor fresh = at::empty(shape, opts);
    // Room for it: the free buffers of other shapes leave first, oldest first.
    for (size_t i = 0; i < kept_.size() && (total_ + bytes > kLargest || kept_.size() >= kCount);) {
      if (free(kept_[i])) {
        total_ -= kept_[i].nbytes();
        kept_.erase(kept_.begin() + i);
      } else {
        ++i;
      }
    }
    if (total_ + bytes <= kLargest && kept_.size() < kCount) {
      kept_.push_back(fresh);
      total_ += bytes;
      return on(fresh);
    }
    return fresh;
  }

 private:
  static bool free(const Tensor& t) { return t.storage().use_count() == 1; }
  static Tensor on(const Tensor& t) {
    return at::empty({0}, t.options()).set_(t.storage(), 0, t.sizes(), t.strides());
  }
  static constexpr int64_t kSmallest = 64 << 10;      // smaller ones come from malloc's own free lists
  static constexpr int64_t kLargest = 256 << 20;      // all kept buffers together, at most
  static constexpr size_t kCount = 32;
  std::mutex mutex_;
  std::vector<Tensor> kept_;
  int64_t total_ = 0;
};

KeptBuffers& kept_buffers() {
  static KeptBuffers* buffers = new KeptBuffers();   // never destroyed: tensors outlive module teardown
  return *buffers;
}

// A call without a backward projects every step at once where that projection takes at most this much
// (measured: at 0.3-0.4 MB one product was 11-13% faster than one per step; from 1.3 MB on, even or slower).
constexpr int64_t kBulkBytes = 512 << 10;

inline Tensor buffer(at::IntArrayRef shape, const at::TensorOptions& opts) {
  return kept_buffers().take(shape, opts);
}

struct Spec {
  int64_t kind, act, gate;
  bool torch_order;
  int64_t gates() const { return kind == LSTM ? 4 : (kind == SIMPLE ? 1 : 3); }
  // GRU's gate blocks, in units: z, r, candidate.
  int64_t z_block() const { return torch_order ? 1 : 0; }
  int64_t r_block() const { return torch_order ? 0 : 1; }
};

// ----------------------------------------------------------------------------- forward
template <typename scalar_t, int64_t GATE, int64_t ACT>
std::vector<Tensor> forward_impl(const Spec& s, const Tensor& x, const optional<Tensor>& step_mask,
                                 const optional<Tensor>& recurrent_mask, const Tensor& kernel,
                                 const optional<Tensor>& recurrent_bias, const Tensor& h0, const optional<Tensor>& c0,
                                 const optional<Tensor>& input_bias, bool keep,
                                 const optional<Tensor>& input_kernel, bool reverse) {
  using V = Vec<scalar_t>;
  // With `input_kernel`, x is the layer's inputs (B, T, F), read from the end where `reverse` (calls without a
  // backward only). Where the projection of every step is small (`kBulkBytes`: it stays in the core's cache)
  // it is one product of the inputs as they lie, batch first (no transposed copy); else each step projects
  // its own x_t into a small buffer (no large projection written and read back).
  const bool raw = input_kernel.has_value();
  const int64_t T = raw ? x.size(1) : x.size(0), B = raw ? x.size(0) : x.size(1);
  const int64_t W = raw ? input_kernel->size(1) : x.size(2), G = s.gates(), U = W / G;
  auto opts = x.options();
  const bool bulk = raw && B * T * W * static_cast<int64_t>(x.element_size()) <= kBulkBytes && x.is_contiguous();
  Tensor x_step = raw && !bulk ? at::empty({B, W}, opts) : Tensor();
  // The one product of every step reads the input kernel as it is (with the many rows of every step a
  // transposed operand costs nothing: measured), the per-step products a row-major copy.
  const Tensor step_kernel = raw && !bulk ? row_major(*input_kernel) : Tensor();
  Tensor x_all = bulk ? buffer({B, T, W}, opts) : Tensor();
  if (bulk) {
    Tensor rows = x_all.view({B * T, W});
    at::mm_out(rows, x.view({B * T, x.size(2)}), *input_kernel);
  }
  // x_t's row of batch entry b: xt + b * x_stride.
  const int64_t x_stride = bulk ? T * W : W;
  // Without a backward to come (`keep` false), the per-step buffers hold one step (LSTM's c: two, in turn).
  const int64_t TS = keep ? T : 1;
  auto slot = [&](int64_t t) { return keep ? t : 0; };
  auto c_slot = [&](int64_t t) { return keep ? t : t % 2; };
  Tensor held = buffer({T + 1, B, U}, opts);
  held[0].copy_(h0);
  Tensor gates = buffer({TS, B, W}, opts);      // every gate after its activation
  Tensor cs, act_c, inner, reset_h, fresh;
  if (s.kind == LSTM) {
    cs = buffer({keep ? T + 1 : 2, B, U}, opts);
    cs[0].copy_(c0.value());
    act_c = buffer({TS, B, U}, opts);
  } else if (s.kind == GRU) {
    inner = buffer({TS, B, W}, opts);           // h_in @ kernel + recurrent bias
  } else if (s.kind == GRU_BEFORE) {
    reset_h = buffer({TS, B, U}, opts);         // r * h_in
  }
  const bool masked = step_mask.has_value();
  if (s.kind == SIMPLE && masked) fresh = buffer({TS, B, U}, opts);   // each step's new h before the mask
  const bool* mask_p = masked ? step_mask->data_ptr<bool>() : nullptr;
  const bool dropped = recurrent_mask.has_value();
  Tensor h_in = dropped ? at::empty({B, U}, opts) : Tensor();
  Tensor z_buf = (s.kind == LSTM || s.kind == SIMPLE || s.kind == GRU_BEFORE)
                     ? at::empty({B, s.kind == GRU_BEFORE ? 2 * U : W}, opts) : Tensor();
  Tensor pre_c = s.kind == GRU_BEFORE ? at::empty({B, U}, opts) : Tensor();

  scalar_t* held_p = held.data_ptr<scalar_t>();
  scalar_t* gates_p = gates.data_ptr<scalar_t>();
  const scalar_t* x_p = x.data_ptr<scalar_t>();
  // x_t's columns plus the input bias (where the caller left it out of the projection: one pass fewer).
  const scalar_t* ib_p = input_bias.has_value() ? input_bias->data_ptr<scalar_t>() : nullptr;
  auto xin = [ib_p](const scalar_t* row, int64_t col, int64_t n) {
    return ib_p ? load(row + col, n) + load(ib_p + col, n) : load(row + col, n);
  };
  const int64_t zb = s.z_block() * U, rb = s.r_block() * U, cb = 2 * U;

  // The products' operands as pointers (gemm_rows): the kernel is contiguous (U, W).
  const scalar_t* k_p = kernel.data_ptr<scalar_t>();
  const scalar_t* ik_p = step_kernel.defined() ? step_kernel.data_ptr<scalar_t>() : nullptr;
  scalar_t* xs_p = raw && !bulk ? x_step.data_ptr<scalar_t>() : nullptr;
  const int64_t F = raw ? x.size(2) : 0;
  const bool x_rows = raw && x.stride(2) == 1;      // each step's inputs are rows BLAS reads in place
  for (int64_t t = 0; t < T; ++t) {
    const bool* m = masked ? mask_p + t * B : nullptr;
    const scalar_t* hp = held_p + t * B * U;
    scalar_t* hn = held_p + (t + 1) * B * U;
    const scalar_t* hr_p = hp;                      // h_{t-1} as the product reads it
    if (dropped) {                                  // recurrent dropout scales it
      at::mul_out(h_in, held[t], *recurrent_mask);
      hr_p = h_in.data_ptr<scalar_t>();
    }
    const int64_t tt = reverse ? T - 1 - t : t;
    if (raw && !bulk) {
      if (x_rows) {
        gemm_rows<scalar_t>(B, W, F, x_p + tt * x.stride(1), x.stride(0), ik_p, W, xs_p, W, false, opts);
      } else {
        at::mm_out(x_step, x.select(1, tt), step_kernel);
      }
    }
    const scalar_t* xt = bulk ? x_all.data_ptr<scalar_t>() + tt * W
                              : raw ? x_step.data_ptr<scalar_t>() : x_p + t * B * W;
    scalar_t* gt = gates_p + slot(t) * B * W;
    if (s.kind == LSTM) {
      gemm_rows<scalar_t>(B, W, U, hr_p, U, k_p, W, z_buf.data_ptr<scalar_t>(), W, false, opts);  // x_t: in the pass
      const scalar_t* zp = z_buf.data_ptr<scalar_t>();
      const scalar_t* cp = cs.data_ptr<scalar_t>() + c_slot(t) * B * U;
      scalar_t* cn = cs.data_ptr<scalar_t>() + c_slot(t + 1) * B * U;
      scalar_t* ac = act_c.data_ptr<scalar_t>() + slot(t) * B * U;
      over_rows(B, W, [&](int64_t b) {
        const scalar_t* zrow = zp + b * W;
        const scalar_t* xrow = xt + b * x_stride;
        scalar_t* grow = gt + b * W;
        const bool use = m == nullptr || m[b];
        if (!use) {           // a masked step keeps the row's states
          std::copy(cp + b * U, cp + (b + 1) * U, cn + b * U);
          std::copy(hp + b * U, hp + (b + 1) * U, hn + b * U);
          if (keep) {
            over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
              V i = activate<scalar_t, GATE>(s.gate, xin(xrow, j, n) + load(zrow + j, n));
              V f = activate<scalar_t, GATE>(s.gate, xin(xrow, U + j, n) + load(zrow + U + j, n));
              V g = activate<scalar_t, ACT>(s.act, xin(xrow, 2 * U + j, n) + load(zrow + 2 * U + j, n));
              V o = activate<scalar_t, GATE>(s.gate, xin(xrow, 3 * U + j, n) + load(zrow + 3 * U + j, n));
              store(i, grow + j, n); store(f, grow + U + j, n); store(g, grow + 2 * U + j, n);
              store(o, grow + 3 * U + j, n);
              store(activate<scalar_t, ACT>(s.act, f * load(cp + b * U + j, n) + i * g), ac + b * U + j, n);
            });
          }
          return;
        }
        // Two passes over the row: the gates and the new c, then act(c) and h. In one pass each chunk's
        // act(c) waited for its gates (a long chain of dependent instructions); apart, each pass's chunks
        // are independent of each other. The output gate waits in the row of the product, which is done.
        scalar_t* o_row = keep ? grow + 3 * U : const_cast<scalar_t*>(zrow) + 3 * U;
        over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
          V i = activate<scalar_t, GATE>(s.gate, xin(xrow, j, n) + load(zrow + j, n));
          V f = activate<scalar_t, GATE>(s.gate, xin(xrow, U + j, n) + load(zrow + U + j, n));
          V g = activate<scalar_t, ACT>(s.act, xin(xrow, 2 * U + j, n) + load(zrow + 2 * U + j, n));
          V o = activate<scalar_t, GATE>(s.gate, xin(xrow, 3 * U + j, n) + load(zrow + 3 * U + j, n));
          if (keep) { store(i, grow + j, n); store(f, grow + U + j, n); store(g, grow + 2 * U + j, n); }
          store(o, o_row + j, n);
          store(f * load(cp + b * U + j, n) + i * g, cn + b * U + j, n);
        });
        over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
          V a = activate<scalar_t, ACT>(s.act, load(cn + b * U + j, n));
          if (keep) store(a, ac + b * U + j, n);
          store(load(o_row + j, n) * a, hn + b * U + j, n);
        });
      });
    } else if (s.kind == GRU) {
      // The recurrent bias is added in the gates' pass (the candidate's part written back: the backward
      // reads it), which saves addmm's copy of the bias into its output at every step.
      scalar_t* ip = inner.data_ptr<scalar_t>() + slot(t) * B * W;
      gemm_rows<scalar_t>(B, W, U, hr_p, U, k_p, W, ip, W, false, opts);
      const scalar_t* bias_p = recurrent_bias.has_value() ? recurrent_bias->data_ptr<scalar_t>() : nullptr;
      over_rows(B, W, [&](int64_t b) {
        const scalar_t* xrow = xt + b * x_stride;
        scalar_t* irow = ip + b * W;
        scalar_t* grow = gt + b * W;
        const bool use = m == nullptr || m[b];
        over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
          V iz = load(irow + zb + j, n), ir = load(irow + rb + j, n), ic = load(irow + cb + j, n);
          if (bias_p) {
            iz = iz + load(bias_p + zb + j, n);
            ir = ir + load(bias_p + rb + j, n);
            ic = ic + load(bias_p + cb + j, n);
            if (keep) store(ic, irow + cb + j, n);
          }
          store(activate<scalar_t, GATE>(s.gate, xin(xrow, zb + j, n) + iz), grow + zb + j, n);
          V r = activate<scalar_t, GATE>(s.gate, xin(xrow, rb + j, n) + ir);
          store(r, grow + rb + j, n);
          store(xin(xrow, cb + j, n) + r * ic, grow + cb + j, n);     // the candidate's argument, for now
        });
        // A second pass: the candidate and h (as the LSTM's, apart from the gates' chain of instructions).
        over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
          V c = activate<scalar_t, ACT>(s.act, load(grow + cb + j, n));
          store(c, grow + cb + j, n);
          V h_old = load(hp + b * U + j, n);
          store(use ? lerp<scalar_t>(c, h_old, load(grow + zb + j, n)) : h_old, hn + b * U + j, n);
        });
      });
    } else if (s.kind == GRU_BEFORE) {
      gemm_rows<scalar_t>(B, 2 * U, U, hr_p, U, k_p, W, z_buf.data_ptr<scalar_t>(), 2 * U, false, opts);
      const scalar_t* zp = z_buf.data_ptr<scalar_t>();
      const scalar_t* hrp = hr_p;
      scalar_t* rhp = reset_h.data_ptr<scalar_t>() + slot(t) * B * U;
      over_rows(B, W, [&](int64_t b) {
        const scalar_t* xrow = xt + b * x_stride;
        scalar_t* grow = gt + b * W;
        over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
          V z = activate<scalar_t, GATE>(s.gate, xin(xrow, j, n) + load(zp + b * 2 * U + j, n));
          V r = activate<scalar_t, GATE>(s.gate, xin(xrow, U + j, n) + load(zp + b * 2 * U + U + j, n));
          store(z, grow + j, n); store(r, grow + U + j, n);
          store(r * load(hrp + b * U + j, n), rhp + b * U + j, n);
        });
      });
      // x_t's candidate columns are added in the pass below (no copy of them into the product's output).
      gemm_rows<scalar_t>(B, U, U, rhp, U, k_p + 2 * U, W, pre_c.data_ptr<scalar_t>(), U, false, opts);
      const scalar_t* pp = pre_c.data_ptr<scalar_t>();
      over_rows(B, W, [&](int64_t b) {
        const scalar_t* xrow = xt + b * x_stride;
        scalar_t* grow = gt + b * W;
        const bool use = m == nullptr || m[b];
        over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
          V c = activate<scalar_t, ACT>(s.act, load(pp + b * U + j, n) + xin(xrow, cb + j, n));
          store(c, grow + cb + j, n);
          V h_old = load(hp + b * U + j, n);
          store(use ? lerp<scalar_t>(c, h_old, load(grow + j, n)) : h_old, hn + b * U + j, n);
        });
      });
    } else {  // SIMPLE
      gemm_rows<scalar_t>(B, W, U, hr_p, U, k_p, W, z_buf.data_ptr<scalar_t>(), W, false, opts);
      const scalar_t* zp = z_buf.data_ptr<scalar_t>();
      scalar_t* fp = masked ? fresh.data_ptr<scalar_t>() + slot(t) * B * U : nullptr;
      over_rows(B, W, [&](int64_t b) {
        const bool use = m == nullptr || m[b];
        over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
          V y = activate<scalar_t, ACT>(s.act, xin(xt + b * x_stride, j, n) + load(zp + b * U + j, n));
          if (fp) store(y, fp + b * U + j, n);
          store(use ? y : load(hp + b * U + j, n), hn + b * U + j, n);
        });
      });
    }
  }
  // held, what the backward reads (undefined tensors where a kind has none), then LSTM's final c.
  Tensor c_last = s.kind == LSTM ? cs[c_slot(T)] : Tensor();
  return {held, gates, cs, act_c, inner, reset_h, fresh, c_last};
}

// ----------------------------------------------------------------------------- backward
// The running gradient `dh` (B, U) arrives at step t: the returned sequence's share is added, and with a
// step mask a masked row passes it all to the held state (the new state gets none).
template <typename scalar_t, int64_t GATE, int64_t ACT>
std::vector<Tensor> backward_impl(const Spec& s, const optional<Tensor>& grad_sequence,  // (B, T, U) contiguous
                                  const optional<Tensor>& grad_h, const optional<Tensor>& grad_c,
                                  const optional<Tensor>& step_mask, const optional<Tensor>& recurrent_mask,
                                  const Tensor& kernel, const Tensor& held, const Tensor& gates, const Tensor& cs,
                                  const Tensor& act_c, const Tensor& inner, const Tensor& reset_h,
                                  const Tensor& fresh, bool need_kernel, bool need_bias, bool need_input_bias) {
  using V = Vec<scalar_t>;
  const int64_t T = gates.size(0), B = gates.size(1), W = gates.size(2), G = s.gates(), U = W / G;
  auto opts = gates.options();
  Tensor dx = buffer({T, B, W}, opts);
  Tensor d_inner = s.kind == GRU ? buffer({T, B, W}, opts) : Tensor();
  Tensor dh = grad_h.has_value() ? at::empty({B, U}, opts).copy_(*grad_h) : at::zeros({B, U}, opts);
  Tensor dc = s.kind == LSTM ? (grad_c.has_value() ? at::empty({B, U}, opts).copy_(*grad_c) : at::zeros({B, U}, opts))
                             : Tensor();
  Tensor through = at::empty({B, U}, opts);         // the product's share of the gradient of h_{t-1}
  Tensor d_reset_h = s.kind == GRU_BEFORE ? at::empty({B, U}, opts) : Tensor();
  const Tensor kernel_t = kernel.t().contiguous();    // (W, U): the products below read it by pointer
  const scalar_t* kt_p = kernel_t.data_ptr<scalar_t>();
  const bool masked = step_mask.has_value();
  const bool* mask_p = masked ? step_mask->data_ptr<bool>() : nullptr;
  const bool dropped = recurrent_mask.has_value();
  const scalar_t* rm_p = dropped ? recurrent_mask->data_ptr<scalar_t>() : nullptr;
  const scalar_t* seq_p = grad_sequence.has_value() ? grad_sequence->data_ptr<scalar_t>() : nullptr;
  const scalar_t* held_p = held.data_ptr<scalar_t>();
  const scalar_t* gates_p = gates.data_ptr<scalar_t>();
  scalar_t* dx_p = dx.data_ptr<scalar_t>();
  scalar_t* dh_p = dh.data_ptr<scalar_t>();
  scalar_t* th_p = through.data_ptr<scalar_t>();
  const int64_t zb = s.z_block() * U, rb = s.r_block() * U, cb = 2 * U;

  // dh_{t-1} += through * recurrent mask (the product's share, where recurrent dropout scaled h_{t-1}).
  auto add_through = [&]() {
    if (!rm_p) {
      over_rows(B, U, [&](int64_t b) {
        over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
          store(load(dh_p + b * U + j, n) + load(th_p + b * U + j, n), dh_p + b * U + j, n);
        });
      });
      return;
    }
    over_rows(B, U, [&](int64_t b) {
      over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
        store(load(dh_p + b * U + j, n) + load(th_p + b * U + j, n) * load(rm_p + b * U + j, n), dh_p + b * U + j, n);
      });
    });
  };

  for (int64_t t = T - 1; t >= 0; --t) {
    const bool* m = masked ? mask_p + t * B : nullptr;
    const scalar_t* hp = held_p + t * B * U;          // h_{t-1}
    const scalar_t* gt = gates_p + t * B * W;
    scalar_t* dxt = dx_p + t * B * W;
    // The gradient arriving at step t (the running dh plus the returned sequence's share) reaches the
    // step's new state where the step is used (`dnew`), else passes whole to the held state (`keep`).
    auto arrive = [&](int64_t b, int64_t j, int64_t n, bool use, V& dnew, V& keep) {
      V d = load(dh_p + b * U + j, n);
      if (seq_p) d = d + load(seq_p + (b * T + t) * U + j, n);
      dnew = use ? d : V(scalar_t(0));
      keep = use ? V(scalar_t(0)) : d;
    };
    // One pass over the gates: the pre-activation gradients, and dh_{t-1} but for the product's share
    // (added after it, by BLAS where no recurrent mask scales it).
    const scalar_t* product_rows = nullptr;      // the rows whose product with the kernel reaches h_{t-1}
    if (s.kind == LSTM) {
      const scalar_t* cp = cs.data_ptr<scalar_t>() + t * B * U;      // c_{t-1}
      const scalar_t* ac = act_c.data_ptr<scalar_t>() + t * B * U;
      scalar_t* dc_p = dc.data_ptr<scalar_t>();
      over_rows(B, W, [&](int64_t b) {
        const scalar_t* grow = gt + b * W;
        scalar_t* drow = dxt + b * W;
        const bool use = m == nullptr || m[b];
        over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
          V dnew, keep;
          arrive(b, j, n, use, dnew, keep);
          V i = load(grow + j, n), f = load(grow + U + j, n), g = load(grow + 2 * U + j, n);
          V o = load(grow + 3 * U + j, n);
          V a = load(ac + b * U + j, n);
          V dcarried = load(dc_p + b * U + j, n);
          V dc_new = use ? dcarried : V(scalar_t(0));
          V dc_keep = use ? V(scalar_t(0)) : dcarried;
          V dc_total = derivative<scalar_t, ACT>(s.act, dnew * o, a) + dc_new;
          store(derivative<scalar_t, GATE>(s.gate, dc_total * g, i), drow + j, n);
          store(derivative<scalar_t, GATE>(s.gate, dc_total * load(cp + b * U + j, n), f), drow + U + j, n);
          store(derivative<scalar_t, ACT>(s.act, dc_total * i, g), drow + 2 * U + j, n);
          store(derivative<scalar_t, GATE>(s.gate, dnew * a, o), drow + 3 * U + j, n);
          store(dc_total * f + dc_keep, dc_p + b * U + j, n);
          store(keep, dh_p + b * U + j, n);
        });
      });
      product_rows = dxt;
    } else if (s.kind == GRU) {
      const scalar_t* ip = inner.data_ptr<scalar_t>() + t * B * W;
      scalar_t* di = d_inner.data_ptr<scalar_t>() + t * B * W;
      over_rows(B, W, [&](int64_t b) {
        const scalar_t* grow = gt + b * W;
        scalar_t* drow = dxt + b * W;
        scalar_t* dirow = di + b * W;
        const bool use = m == nullptr || m[b];
        over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
          V dnew, keep;
          arrive(b, j, n, use, dnew, keep);
          V z = load(grow + zb + j, n), r = load(grow + rb + j, n), c = load(grow + cb + j, n);
          V da = derivative<scalar_t, ACT>(s.act, dnew - dnew * z, c);
          V dz = derivative<scalar_t, GATE>(s.gate, dnew * (load(hp + b * U + j, n) - c), z);
          V dr = derivative<scalar_t, GATE>(s.gate, da * load(ip + b * W + cb + j, n), r);
          store(dz, drow + zb + j, n); store(dz, dirow + zb + j, n);
          store(dr, drow + rb + j, n); store(dr, dirow + rb + j, n);
          store(da, drow + cb + j, n); store(da * r, dirow + cb + j, n);
          store(keep + dnew * z, dh_p + b * U + j, n);
        });
      });
      product_rows = di;
    } else if (s.kind == SIMPLE) {
      const scalar_t* yp = fresh.defined() ? fresh.data_ptr<scalar_t>() + t * B * U
                                           : held_p + (t + 1) * B * U;
      over_rows(B, U, [&](int64_t b) {
        const bool use = m == nullptr || m[b];
        over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
          V dnew, keep;
          arrive(b, j, n, use, dnew, keep);
          store(derivative<scalar_t, ACT>(s.act, dnew, load(yp + b * U + j, n)), dxt + b * U + j, n);
          store(keep, dh_p + b * U + j, n);
        });
      });
      product_rows = dxt;
    } else {  // GRU_BEFORE: the candidate's product first, then the gates'
      over_rows(B, W, [&](int64_t b) {
        const scalar_t* grow = gt + b * W;
        scalar_t* drow = dxt + b * W;
        const bool use = m == nullptr || m[b];
        over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
          V dnew, keep;
          arrive(b, j, n, use, dnew, keep);
          V z = load(grow + j, n), c = load(grow + cb + j, n);
          store(derivative<scalar_t, ACT>(s.act, dnew - dnew * z, c), drow + cb + j, n);
          store(derivative<scalar_t, GATE>(s.gate, dnew * (load(hp + b * U + j, n) - c), z), drow + j, n);
          store(keep + dnew * z, dh_p + b * U + j, n);
        });
      });
      // kernel_t's rows [2U, 3U) are the candidate's kernel transposed, its rows [0, 2U) the gates'.
      gemm_rows<scalar_t>(B, U, U, dxt + cb, W, kt_p + cb * U, U, d_reset_h.data_ptr<scalar_t>(), U, false, opts);
      const scalar_t* drh = d_reset_h.data_ptr<scalar_t>();
      // dr = gate'(d_reset_h * h_in); the reset product's share of h_in's gradient goes in `through`.
      over_rows(B, W, [&](int64_t b) {
        const scalar_t* grow = gt + b * W;
        scalar_t* drow = dxt + b * W;
        over_chunks<scalar_t>(U, [&](int64_t j, int64_t n) KR_INLINE_LAMBDA {
          V h_in = load(hp + b * U + j, n);
          if (rm_p) h_in = h_in * load(rm_p + b * U + j, n);
          V d = load(drh + b * U + j, n);
          V r = load(grow + U + j, n);
          store(derivative<scalar_t, GATE>(s.gate, d * h_in, r), drow + U + j, n);
          store(d * r, th_p + b * U + j, n);
        });
      });
      gemm_rows<scalar_t>(B, U, 2 * U, dxt, W, kt_p, U, th_p, U, true, opts);
      add_through();
      continue;
    }
    if (!rm_p) {
      gemm_rows<scalar_t>(B, U, W, product_rows, W, kt_p, U, dh_p, U, true, opts);
    } else {
      gemm_rows<scalar_t>(B, U, W, product_rows, W, kt_p, U, th_p, U, false, opts);
      add_through();
    }
  }

  Tensor d_kernel, d_bias;
  if (need_kernel) {
    Tensor previous = held.narrow(0, 0, T);
    if (dropped) previous = previous * *recurrent_mask;
    Tensor h_flat = previous.reshape({T * B, U});
    if (s.kind == GRU) {
      d_kernel = at::mm(h_flat.t(), d_inner.reshape({T * B, W}));
    } else if (s.kind == GRU_BEFORE) {
      Tensor dx_flat = dx.reshape({T * B, W});
      d_kernel = at::cat({at::mm(h_flat.t(), dx_flat.narrow(1, 0, 2 * U)),
                          at::mm(reset_h.reshape({T * B, U}).t(), dx_flat.narrow(1, cb, U))}, 1);
    } else {
      d_kernel = at::mm(h_flat.t(), dx.reshape({T * B, W}));
    }
  }
  if (need_bias && s.kind == GRU) d_bias = d_inner.sum(at::IntArrayRef({0, 1}));
  Tensor d_input_bias = need_input_bias ? dx.sum(at::IntArrayRef({0, 1})) : Tensor();
  return {dx, d_kernel, d_bias, dh, dc, d_input_bias};
}

// Keras's default activations (sigmoid gates, tanh): compiled with them known, so that the gates' pass
// inlines them without a branch per vector; every other pair reads them from the spec.
bool standard(const Spec& s) { return s.gate == SIGMOID && s.act == TANH; }

Spec make_spec(int64_t kind, int64_t act, int64_t gate, bool torch_order) {
  TORCH_CHECK(kind >= LSTM && kind <= SIMPLE, "kerasrnn_torch cpu kernel: unknown cell kind ", kind);
  TORCH_CHECK(act >= LINEAR && act <= HARD_SIGMOID && gate >= LINEAR && gate <= HARD_SIGMOID,
              "kerasrnn_torch cpu kernel: unknown activation");
  return Spec{kind, act, gate, torch_order};
}

std::vector<Tensor> forward(int64_t kind, int64_t act, int64_t gate, bool torch_order, const Tensor& x,
                            const optional<Tensor>& step_mask, const optional<Tensor>& recurrent_mask,
                            const Tensor& kernel, const optional<Tensor>& recurrent_bias, const Tensor& h0,
                            const optional<Tensor>& c0, const optional<Tensor>& input_bias, bool keep) {
  Spec s = make_spec(kind, act, gate, torch_order);
  TORCH_CHECK(x.dim() == 3 && x.is_contiguous() && x.device().is_cpu(), "x must be a contiguous CPU (T, B, W) tensor");
  TORCH_CHECK(x.size(2) % s.gates() == 0, "x's width is not a multiple of the gates");
  if (step_mask) TORCH_CHECK(step_mask->scalar_type() == at::kBool && step_mask->is_contiguous(), "bad step mask");
  std::vector<Tensor> out;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "kerasrnn_forward", [&] {
    auto impl = standard(s) ? forward_impl<scalar_t, SIGMOID, TANH> : forward_impl<scalar_t, -1, -1>;
    out = impl(s, x, step_mask,
                                 recurrent_mask ? optional<Tensor>(recurrent_mask->contiguous()) : recurrent_mask,
                                 row_major(kernel),
                                 recurrent_bias ? optional<Tensor>(recurrent_bias->contiguous()) : recurrent_bias,
                                 h0, c0, input_bias ? optional<Tensor>(input_bias->contiguous()) : input_bias, keep,
                                 c10::nullopt, false);
  });
  return out;
}

// A call from the layer's inputs (B, T, F) and the input kernel (F, W): see forward_impl. With `keep`, the
// buffers a backward reads are kept, as `forward` keeps them (in reading order: not with `reverse`).
std::vector<Tensor> forward_unprojected(int64_t kind, int64_t act, int64_t gate, bool torch_order, const Tensor& inputs,
                                        const Tensor& input_kernel, bool reverse, const optional<Tensor>& step_mask,
                                        const optional<Tensor>& recurrent_mask, const Tensor& kernel,
                                        const optional<Tensor>& recurrent_bias, const Tensor& h0,
                                        const optional<Tensor>& c0, const optional<Tensor>& input_bias, bool keep) {
  Spec s = make_spec(kind, act, gate, torch_order);
  TORCH_CHECK(!(keep && reverse), "a call that keeps its buffers for a backward reads its inputs in order");
  TORCH_CHECK(inputs.dim() == 3 && inputs.device().is_cpu(), "inputs must be a CPU (B, T, F) tensor");
  TORCH_CHECK(input_kernel.dim() == 2 && input_kernel.size(0) == inputs.size(2) &&
              input_kernel.size(1) % s.gates() == 0 && input_kernel.scalar_type() == inputs.scalar_type(),
              "the input kernel must be (features, gates * units) in the inputs' dtype");
  if (step_mask) TORCH_CHECK(step_mask->scalar_type() == at::kBool && step_mask->is_contiguous(), "bad step mask");
  std::vector<Tensor> out;
  AT_DISPATCH_FLOATING_TYPES(inputs.scalar_type(), "kerasrnn_forward_unprojected", [&] {
    auto impl = standard(s) ? forward_impl<scalar_t, SIGMOID, TANH> : forward_impl<scalar_t, -1, -1>;
    out = impl(s, inputs, step_mask,
               recurrent_mask ? optional<Tensor>(recurrent_mask->contiguous()) : recurrent_mask, row_major(kernel),
               recurrent_bias ? optional<Tensor>(recurrent_bias->contiguous()) : recurrent_bias, h0, c0,
               input_bias ? optional<Tensor>(input_bias->contiguous()) : input_bias, keep,
               optional<Tensor>(input_kernel), reverse);
  });
  return out;
}

std::vector<Tensor> backward(int64_t kind, int64_t act, int64_t gate, bool torch_order,
                             const optional<Tensor>& grad_sequence, const optional<Tensor>& grad_h,
                             const optional<Tensor>& grad_c, const optional<Tensor>& step_mask,
                             const optional<Tensor>& recurrent_mask, const Tensor& kernel, const Tensor& held,
                             const Tensor& gates, const optional<Tensor>& cs, const optional<Tensor>& act_c,
                             const optional<Tensor>& inner, const optional<Tensor>& reset_h,
                             const optional<Tensor>& fresh, bool need_kernel, bool need_bias, bool need_input_bias) {
  Spec s = make_spec(kind, act, gate, torch_order);
  std::vector<Tensor> out;
  auto def = [](const optional<Tensor>& t) { return t.has_value() ? *t : Tensor(); };
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "kerasrnn_backward", [&] {
    auto impl = standard(s) ? backward_impl<scalar_t, SIGMOID, TANH> : backward_impl<scalar_t, -1, -1>;
    out = impl(
        s, grad_sequence ? optional<Tensor>(grad_sequence->contiguous()) : grad_sequence, grad_h, grad_c, step_mask,
        recurrent_mask ? optional<Tensor>(recurrent_mask->contiguous()) : recurrent_mask, kernel, held, gates,
        def(cs), def(act_c), def(inner), def(reset_h), def(fresh), need_kernel, need_bias, need_input_bias);
  });
  return out;
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward, "the time loop of a built-in cell, forward (kerasrnn_torch)");
  m.def("forward_unprojected", &forward_unprojected,
        "the time loop projecting each step's inputs itself, its buffers kept for a backward where asked "
        "(kerasrnn_torch)");
  m.def("backward", &backward, "its backward through time (kerasrnn_torch)");
  m.def("use_direct_blas", [](bool on) {
    const bool before = direct_blas;
    direct_blas = on;
#ifdef KR_WEAK_BLAS
    return before && sgemm_ != nullptr && dgemm_ != nullptr;
#else
    return false;
#endif
  }, "per-step products straight to BLAS (True, where exported) or through ATen; returns whether they went "
     "straight before");
}
