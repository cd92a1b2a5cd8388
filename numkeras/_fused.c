/* numkeras's compiled kernels: work that NumPy does in many passes or many small calls, done
 * in one. Three families, each with a readable NumPy twin that stays the reference:
 *
 * - Optimizer updates (numkeras/optimizers/kernels.py): each optimizer's whole update in one
 *   pass over memory. The NumPy path of an update step makes about ten passes over a weight
 *   array; these loops load each element once, update it, and store it once.
 * - Op kernels (numkeras/ops.py): softmax and categorical crossentropy row by row, their
 *   vector-Jacobian products, Dense's bias + relu, relu's VJP, and Dense's bias gradient
 *   (with relu's VJP in the same pass). On the seed's (128, 10) output NumPy spends more time
 *   dispatching its ~30 small calls than computing. Also the seed's accuracy metric
 *   (numkeras/metrics.py): np.argmax along rows of 10 costs NumPy ~40 ns a row.
 * - fit's batch gather (numkeras/models/model.py): take_rows, np.take(x, index, axis=0) for a
 *   shuffled batch, copied row by row (see "batch gathering" below).
 *
 * The arithmetic is written in exactly the order of the NumPy path, without fused multiply-adds
 * (-ffp-contract=off), and sums follow NumPy's pairwise summation, so both paths round
 * identically and give bit-for-bit the same result -- except exp and log, which come from the C
 * library here and from NumPy's own SIMD code there (they may differ in the last bit or two).
 * tests/optimizers/test_fused_kernels.py, tests/test_compiled_ops.py and
 * tests/models/test_batches.py check this.
 *
 * A small CPython extension: each kernel is a Python function taking its arrays (anything with
 * the buffer protocol, e.g. NumPy arrays) and then its scalars. It returns True when it ran,
 * and False -- touching nothing -- when an array is not C-contiguous, not of the kernel's
 * float type, of the wrong length, or overlaps another; the caller then takes its NumPy path.
 * numkeras/_compiled.py imports it on first use.
 *
 * Long optimizer updates and large gathers are shared with one helper thread (see "a helper
 * thread" below): such a loop can be cut anywhere without changing any result.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getcpu, pthread_setaffinity_np (Linux) */
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#define HAVE_HELPER 1
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>
#else
#define HAVE_HELPER 0
#endif

/* With GCC on x86-64, also compile an AVX2 version of each loop, picked at load time (by the
 * loader's ifunc support: glibc's, not musl's or MinGW's). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define VECTORIZED __attribute__((target_clones("avx2", "default")))
#else
#define VECTORIZED
#endif

#define KERNELS(T, SUFFIX, SQRT)                                                              \
    static VECTORIZED void sgd_##SUFFIX(T *restrict w, const T *restrict g, size_t n, T lr) {        \
        for (size_t i = 0; i < n; i++)                                                        \
            w[i] = w[i] - g[i] * lr;                                                          \
    }                                                                                         \
    static VECTORIZED void sgd_momentum_##SUFFIX(T *restrict w, const T *restrict g, T *restrict m,  \
                                          size_t n, T momentum, T lr) {                       \
        for (size_t i = 0; i < n; i++) {                                                      \
            m[i] = m[i] * momentum - g[i] * lr;                                               \
            w[i] = w[i] + m[i];                                                               \
        }                                                                                     \
    }                                                                                         \
    static VECTORIZED void sgd_nesterov_##SUFFIX(T *restrict w, const T *restrict g, T *restrict m,  \
                                          size_t n, T momentum, T lr) {                       \
        for (size_t i = 0; i < n; i++) {                                                      \
            T step = g[i] * lr;                                                               \
            m[i] = m[i] * momentum - step;                                                    \
            w[i] = w[i] + (m[i] * momentum - step);                                           \
        }                                                                                     \
    }                                                                                         \
    static VECTORIZED void rmsprop_##SUFFIX(T *restrict w, const T *restrict g, T *restrict v,       \
                                     size_t n, T rho, T one_minus_rho, T epsilon, T lr) {     \
        for (size_t i = 0; i < n; i++) {                                                      \
            v[i] = v[i] * rho + (g[i] * g[i]) * one_minus_rho;                                \
            w[i] = w[i] - (g[i] * lr) / SQRT(v[i] + epsilon);                                 \
        }                                                                                     \
    }                                                                                         \
    static VECTORIZED void adagrad_##SUFFIX(T *restrict w, const T *restrict g, T *restrict acc,     \
                                     size_t n, T epsilon, T lr) {                             \
        for (size_t i = 0; i < n; i++) {                                                      \
            acc[i] = acc[i] + g[i] * g[i];                                                    \
            w[i] = w[i] - (g[i] * lr) / SQRT(acc[i] + epsilon);                               \
        }                                                                                     \
    }                                                                                         \
    static VECTORIZED void adam_##SUFFIX(T *restrict w, const T *restrict g, T *restrict m,          \
                                  T *restrict v, size_t n, T one_minus_beta_1,                \
                                  T one_minus_beta_2, T epsilon, T alpha) {                   \
        for (size_t i = 0; i < n; i++) {                                                      \
            m[i] = m[i] + (g[i] - m[i]) * one_minus_beta_1;                                   \
            v[i] = v[i] + (g[i] * g[i] - v[i]) * one_minus_beta_2;                            \
            w[i] = w[i] - (m[i] * alpha) / (SQRT(v[i]) + epsilon);                            \
        }                                                                                     \
    }                                                                                         \
    static VECTORIZED void adam_amsgrad_##SUFFIX(T *restrict w, const T *restrict g, T *restrict m,  \
                                          T *restrict v, T *restrict v_hat, size_t n,         \
                                          T one_minus_beta_1, T one_minus_beta_2,             \
                                          T epsilon, T alpha) {                               \
        for (size_t i = 0; i < n; i++) {                                                      \
            m[i] = m[i] + (g[i] - m[i]) * one_minus_beta_1;                                   \
            v[i] = v[i] + (g[i] * g[i] - v[i]) * one_minus_beta_2;                            \
            v_hat[i] = v[i] > v_hat[i] ? v[i] : v_hat[i];                                     \
            w[i] = w[i] - (m[i] * alpha) / (SQRT(v_hat[i]) + epsilon);                        \
        }                                                                                     \
    }                                                                                         \
    static VECTORIZED void nadam_##SUFFIX(T *restrict w, const T *restrict g, T *restrict m,         \
                                   T *restrict v, size_t n, T one_minus_beta_1,               \
                                   T one_minus_beta_2, T momentum_weight,                     \
                                   T momentum_denominator, T gradient_weight,                 \
                                   T gradient_denominator, T one_minus_beta_2_power,          \
                                   T epsilon, T lr) {                                         \
        for (size_t i = 0; i < n; i++) {                                                      \
            m[i] = m[i] + (g[i] - m[i]) * one_minus_beta_1;                                   \
            v[i] = v[i] + (g[i] * g[i] - v[i]) * one_minus_beta_2;                            \
            T m_part = (m[i] * momentum_weight) / momentum_denominator;                       \
            T g_part = (g[i] * gradient_weight) / gradient_denominator;                       \
            w[i] = w[i] - ((m_part + g_part) * lr) / (SQRT(v[i] / one_minus_beta_2_power)     \
                                                      + epsilon);                             \
        }                                                                                     \
    }                                                                                         \
    static VECTORIZED void weight_decay_##SUFFIX(T *restrict w, size_t n, T decay, T lr) {           \
        for (size_t i = 0; i < n; i++)                                                        \
            w[i] = w[i] - (w[i] * decay) * lr;                                                \
    }

KERNELS(float, f32, sqrtf)
KERNELS(double, f64, sqrt)

/* --- op kernels ------------------------------------------------------------------------- */
/* NumPy's pairwise summation (its add.reduce along a contiguous axis): blocks of up to 128
 * elements summed with eight accumulators, longer runs split in two. Starting from NumPy's
 * identity, 0, so that a row of -0.0 sums to +0.0 as in NumPy. */
#define PAIRWISE(T, SUFFIX)                                                                   \
    static T pairwise_##SUFFIX(const T *a, ptrdiff_t n) {                                     \
        if (n < 8) {                                                                          \
            T sum = 0;                                                                        \
            for (ptrdiff_t i = 0; i < n; i++)                                                 \
                sum += a[i];                                                                  \
            return sum;                                                                       \
        }                                                                                     \
        if (n <= 128) {                                                                       \
            T r[8];                                                                           \
            ptrdiff_t i;                                                                      \
            for (int j = 0; j < 8; j++)                                                       \
                r[j] = a[j];                                                                  \
            for (i = 8; i < n - (n % 8); i += 8)                                              \
                for (int j = 0; j < 8; j++)                                                   \
                    r[j] += a[i + j];                                                         \
            T sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));        \
            for (; i < n; i++)                                                                \
                sum += a[i];                                                                  \
            return sum;                                                                       \
        }                                                                                     \
        ptrdiff_t half = n / 2;                                                               \
        half -= half % 8;                                                                     \
        return pairwise_##SUFFIX(a, half) + pairwise_##SUFFIX(a + half, n - half);            \
    }                                                                                         \
    static T row_sum_##SUFFIX(const T *a, ptrdiff_t n) { return (T)0 + pairwise_##SUFFIX(a, n); }

/* np.maximum / np.minimum: a NaN on either side wins. */
#define MAX_NAN(a, b) ((a) >= (b) || isnan(a) ? (a) : (b))
#define MIN_NAN(a, b) ((a) <= (b) || isnan(a) ? (a) : (b))

/* x, out, t, o, g, d: rows x k row-major; loss, g of crossentropy_vjp: one value per row;
 * scratch: k elements. Each loop mirrors one NumPy expression of ops.py, named above it. */
#define OP_KERNELS(T, SUFFIX, EXP, LOG)                                                       \
    PAIRWISE(T, SUFFIX)                                                                       \
    /* softmax: e = exp(x - max(x)); out = e / sum(e) */                                      \
    static void softmax_##SUFFIX(const T *x, T *out, ptrdiff_t rows, ptrdiff_t k) {           \
        for (ptrdiff_t r = 0; r < rows; r++, x += k, out += k) {                              \
            T top = x[0];                                                                     \
            for (ptrdiff_t j = 1; j < k; j++)                                                 \
                top = MAX_NAN(top, x[j]);                                                     \
            for (ptrdiff_t j = 0; j < k; j++)                                                 \
                out[j] = EXP(x[j] - top);                                                     \
            T total = row_sum_##SUFFIX(out, k);                                               \
            for (ptrdiff_t j = 0; j < k; j++)                                                 \
                out[j] = out[j] / total;                                                      \
        }                                                                                     \
    }                                                                                         \
    /* softmax's VJP: d = out * (g - sum(g * out)) */                                         \
    static void softmax_vjp_##SUFFIX(const T *g, const T *out, T *d, ptrdiff_t rows,          \
                                     ptrdiff_t k) {                                           \
        for (ptrdiff_t r = 0; r < rows; r++, g += k, out += k, d += k) {                      \
            for (ptrdiff_t j = 0; j < k; j++)                                                 \
                d[j] = g[j] * out[j];                                                         \
            T dot = row_sum_##SUFFIX(d, k);                                                   \
            for (ptrdiff_t j = 0; j < k; j++)                                                 \
                d[j] = out[j] * (g[j] - dot);                                                 \
        }                                                                                     \
    }                                                                                         \
    /* crossentropy of probabilities: prob = o / sum(o); clipped = min(max(prob, lo), hi); */ \
    /* loss = -sum(t * log(clipped)) */                                                       \
    static void crossentropy_##SUFFIX(const T *t, const T *o, T *loss, T *scratch,            \
                                      ptrdiff_t rows, ptrdiff_t k, T lo, T hi) {              \
        for (ptrdiff_t r = 0; r < rows; r++, t += k, o += k) {                                \
            T total = row_sum_##SUFFIX(o, k);                                                 \
            for (ptrdiff_t j = 0; j < k; j++) {                                               \
                T clipped = MIN_NAN(MAX_NAN(o[j] / total, lo), hi);                           \
                /* a zero label times a finite log is a zero whose sign cannot change the */  \
                /* sum (it starts from +0): skip the log for the other classes of a one-hot */\
                scratch[j] = t[j] == 0 && !isnan(clipped) ? (T)0 : t[j] * LOG(clipped);       \
            }                                                                                 \
            loss[r] = -row_sum_##SUFFIX(scratch, k);                                          \
        }                                                                                     \
    }                                                                                         \
    /* its VJP for o: h = -(t * g) * (clipped == prob) / clipped; */                          \
    /* d = (h - sum(h * prob)) / total  (zero where the clip is active) */                    \
    static void crossentropy_vjp_##SUFFIX(const T *t, const T *o, const T *g, T *d,           \
                                          T *scratch, ptrdiff_t rows, ptrdiff_t k, T lo,      \
                                          T hi) {                                             \
        for (ptrdiff_t r = 0; r < rows; r++, t += k, o += k, d += k) {                        \
            T total = row_sum_##SUFFIX(o, k);                                                 \
            for (ptrdiff_t j = 0; j < k; j++) {                                               \
                T prob = o[j] / total;                                                        \
                T clipped = MIN_NAN(MAX_NAN(prob, lo), hi);                                   \
                d[j] = (-(t[j] * g[r]) * (T)(clipped == prob)) / clipped;                     \
                scratch[j] = d[j] * prob;                                                     \
            }                                                                                 \
            T dot = row_sum_##SUFFIX(scratch, k);                                             \
            for (ptrdiff_t j = 0; j < k; j++)                                                 \
                d[j] = (d[j] - dot) / total;                                                  \
        }                                                                                     \
    }                                                                                         \
    /* Dense's forward, in place on the product h: h = h + bias, then max(h, 0) if relu */   \
    static VECTORIZED void bias_relu_##SUFFIX(T *restrict h, const T *restrict bias,          \
                                              ptrdiff_t rows, ptrdiff_t k, int relu) {        \
        for (ptrdiff_t r = 0; r < rows; r++, h += k) {                                        \
            if (relu)                                                                         \
                for (ptrdiff_t j = 0; j < k; j++) {                                           \
                    T v = h[j] + bias[j];                                                     \
                    h[j] = v > 0 || isnan(v) ? v : (T)0;                                      \
                }                                                                             \
            else                                                                              \
                for (ptrdiff_t j = 0; j < k; j++)                                             \
                    h[j] = h[j] + bias[j];                                                    \
        }                                                                                     \
    }                                                                                         \
    /* np.argmax of a row: the first largest value, or the first NaN */                       \
    static ptrdiff_t argmax_##SUFFIX(const T *a, ptrdiff_t k) {                               \
        ptrdiff_t best = 0;                                                                   \
        T top = a[0];                                                                         \
        int nan = 0;                                                                          \
        for (ptrdiff_t j = 1; j < k; j++) { /* without branches: the winner is unpredictable */ \
            T v = a[j];                                                                       \
            int larger = v > top;                                                             \
            top = larger ? v : top;                                                           \
            best = larger ? j : best;                                                         \
            nan |= isnan(v);                                                                  \
        }                                                                                     \
        if (nan || isnan(a[0]))                                                               \
            for (ptrdiff_t j = 0; j < k; j++)                                                 \
                if (isnan(a[j]))                                                              \
                    return j;                                                                 \
        return best;                                                                          \
    }                                                                                         \
    /* relu's VJP from its output: d = g * (out > 0) */                                       \
    static VECTORIZED void relu_vjp_##SUFFIX(const T *restrict g, const T *restrict out,      \
                                             T *restrict d, size_t n) {                       \
        for (size_t i = 0; i < n; i++)                                                        \
            d[i] = g[i] * (T)(out[i] > 0);                                                    \
    }                                                                                         \
    /* Dense's bias gradient: db = np.add.reduce(g, axis=0) -- from +0, row after row (rows */ \
    /* of one element NumPy sums pairwise, as a contiguous column) */                         \
    static VECTORIZED void bias_vjp_##SUFFIX(const T *restrict g, T *restrict db,             \
                                             ptrdiff_t rows, ptrdiff_t k) {                   \
        if (k == 1) {                                                                         \
            db[0] = row_sum_##SUFFIX(g, rows);                                                \
            return;                                                                           \
        }                                                                                     \
        for (ptrdiff_t j = 0; j < k; j++)                                                     \
            db[j] = 0;                                                                        \
        for (ptrdiff_t r = 0; r < rows; r++, g += k)                                          \
            for (ptrdiff_t j = 0; j < k; j++)                                                 \
                db[j] = db[j] + g[j];                                                         \
    }                                                                                         \
    /* both in one pass: d = g * (out > 0), then db = np.add.reduce(d, axis=0) */            \
    static VECTORIZED void relu_bias_vjp_##SUFFIX(const T *restrict g, const T *restrict out, \
                                                  T *restrict d, T *restrict db,              \
                                                  ptrdiff_t rows, ptrdiff_t k) {              \
        if (k == 1) {                                                                         \
            relu_vjp_##SUFFIX(g, out, d, (size_t)rows);                                       \
            db[0] = row_sum_##SUFFIX(d, rows);                                                \
            return;                                                                           \
        }                                                                                     \
        for (ptrdiff_t j = 0; j < k; j++)                                                     \
            db[j] = 0;                                                                        \
        for (ptrdiff_t r = 0; r < rows; r++, g += k, out += k, d += k)                        \
            for (ptrdiff_t j = 0; j < k; j++) {                                               \
                T v = g[j] * (T)(out[j] > 0);                                                 \
                d[j] = v;                                                                     \
                db[j] = db[j] + v;                                                            \
            }                                                                                 \
    }

OP_KERNELS(float, f32, expf, logf)
OP_KERNELS(double, f64, exp, log)

/* --- the Python side -------------------------------------------------------------------- */
#define MAX_ARRAYS 5
#define MAX_SCALARS 9

typedef struct {
    Py_buffer views[MAX_ARRAYS];
    int count;          /* views acquired so far (to release) */
    Py_ssize_t n;       /* elements per array */
    double scalars[MAX_SCALARS];
} Call;

static void release(Call *call) {
    for (int i = 0; i < call->count; i++)
        PyBuffer_Release(&call->views[i]);
    call->count = 0;
}

/* Acquire obj's buffer as the next view of `call`: C-contiguous, aligned, of one item type
 * from `formats` (struct characters) and `itemsize` (0: that type's own), writable if asked.
 * 1 when it fits, 0 when the kernel must decline (the caller releases what was acquired). */
static int acquire(Call *call, PyObject *obj, int writable, const char *formats,
                   Py_ssize_t itemsize) {
    Py_buffer *view = &call->views[call->count];
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) != 0) {
        PyErr_Clear(); /* not contiguous, read-only, or no buffer: decline */
        return 0;
    }
    call->count++;
    const char *f = view->format ? view->format : "B";
    if (*f == '@' || *f == '=')
        f++;
    Py_ssize_t size = itemsize > 0 ? itemsize : view->itemsize; /* 0: any of `formats` */
    return f[0] != '\0' && f[1] == '\0' && strchr(formats, f[0]) != NULL &&
           view->itemsize == size && (uintptr_t)view->buf % (uintptr_t)size == 0;
}

/* Whether two views share memory. */
static int views_overlap(const Py_buffer *x, const Py_buffer *y) {
    const char *a = x->buf, *b = y->buf;
    return x->len > 0 && y->len > 0 && a < b + y->len && b < a + x->len;
}

/* Whether two of the acquired views share memory (the loops assume they do not). */
static int any_overlap(const Call *call) {
    for (int i = 0; i < call->count; i++)
        for (int j = i + 1; j < call->count; j++)
            if (views_overlap(&call->views[i], &call->views[j]))
                return 1;
    return 0;
}

static int finish_background(void);
static void settle(const Call *call);

/* Parse `n_arrays` arrays of item type `format` ("f" or "d"), then `n_scalars` numbers. Array i
 * must be writable when bit i of `writable` is set. With `same_length`, every array must have
 * the first one's length (the optimizer kernels); otherwise the caller checks lengths.
 * Returns 1 when the kernel may run, 0 when it must decline (no exception set), -1 on a
 * Python error (wrong argument count or a scalar that is not a number). */
static int parse(PyObject *const *args, Py_ssize_t nargs, int n_arrays, int n_scalars,
                 char format, Py_ssize_t itemsize, unsigned writable, int same_length,
                 Call *call) {
    call->count = 0;
    if (nargs != n_arrays + n_scalars) {
        PyErr_Format(PyExc_TypeError, "expected %d arrays and %d scalars, got %zd arguments",
                     n_arrays, n_scalars, nargs);
        return -1;
    }
    for (int i = 0; i < n_scalars; i++) {
        call->scalars[i] = PyFloat_AsDouble(args[n_arrays + i]);
        if (call->scalars[i] == -1.0 && PyErr_Occurred())
            return -1;
    }
    const char formats[2] = {format, '\0'};
    for (int i = 0; i < n_arrays; i++) {
        if (!acquire(call, args[i], (writable >> i) & 1, formats, itemsize) ||
            (same_length && call->views[i].len != call->views[0].len)) {
            release(call);
            finish_background(); /* the caller's NumPy code may touch the job's memory */
            return 0;
        }
    }
    if (any_overlap(call)) {
        release(call);
        finish_background();
        return 0;
    }
    settle(call);
    call->n = call->views[0].len / itemsize;
    return 1;
}

/* Elements of array i. */
#define LEN(i) (call.views[i].len / call.views[i].itemsize)

/* --- a helper thread ------------------------------------------------------------------- */
/* An optimizer update is one element-wise loop: each element's new value depends on that element
 * alone, so the loop can be cut into pieces done in any order, by any thread, with bit-for-bit
 * the same result (so is gathering a batch, row by row). For a large weight the calling thread
 * and one helper thread take pieces (CHUNK elements) from a shared counter until none is left,
 * then the caller waits for the helper's last piece. Whoever is faster does more; if the
 * helper is slow to wake, or busy, or missing (after fork, or on one CPU), the caller simply
 * does everything.
 *
 * Why it pays: NumPy's matrix products use both cores, but between them the update runs on one,
 * while OpenBLAS's idle worker spins on the other. Woken on the caller's CPU (where Linux puts a
 * woken thread by default) the helper would only take turns with the caller; it is therefore
 * kept off the caller's current CPU (its affinity: every CPU the caller may use but that one,
 * renewed when the caller moves), where it takes the core from the spinning worker. */
#define CHUNK ((size_t)1 << 14)     /* elements per piece: ~10 us of RMSprop */
#define SPLIT_MIN ((size_t)1 << 17) /* shorter loops run in the caller alone: waking costs more */
#define GATHER_CHUNK ((size_t)1 << 16)     /* bytes per piece of a batch gather */
#define GATHER_SPLIT_MIN ((size_t)1 << 18) /* smaller batches are gathered by the caller alone */

typedef void (*RangeFunction)(const Call *call, size_t start, size_t end);

/* A long update left running on the helper (see "an update in the background" below). */
static struct {
    int pending;            /* posted and not yet finished; read and changed with the GIL held */
    Call call;              /* the job's arrays, kept acquired */
    RangeFunction function;
    size_t n;
} background;

#if HAVE_HELPER
enum { IDLE, POSTED, RUNNING }; /* the helper's part in the current loop */

static struct {
    int wanted;                 /* use_helper_thread(False) turns it off */
    int started;                /* 1 running, 0 not yet (or lost in a fork), -1 cannot start */
    pthread_t thread;
    atomic_int busy;            /* 1 while a caller shares a loop (or one runs in the background) */
    pthread_mutex_t lock;       /* with wake: how the caller wakes the sleeping helper */
    pthread_cond_t wake;
    unsigned long posts;
    RangeFunction function;     /* the loop being shared: set while state is IDLE */
    const Call *call;
    size_t n, chunk;
    atomic_size_t next_chunk;
    atomic_int state;
    atomic_ullong helped;       /* items the helper has done, for tests and benchmarks */
    fenv_t caller_env;          /* the caller's floating-point modes (rounding, flush to zero) */
#ifdef __linux__
    int off_cpu;                /* the caller's CPU and CPUs when the helper was last placed */
    cpu_set_t caller_cpus;
    int elsewhere;              /* whether a CPU was left for the helper then */
#endif
} helper = {.wanted = 1};

static void take_chunks(RangeFunction function, const Call *call, size_t n, size_t chunk,
                        size_t *done) {
    for (;;) {
        size_t start = atomic_fetch_add(&helper.next_chunk, 1) * chunk;
        if (start >= n)
            return;
        size_t end = n - start < chunk ? n : start + chunk;
        function(call, start, end);
        *done += end - start;
    }
}

static void *helper_main(void *unused) {
    (void)unused;
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&helper.lock);
        while (helper.posts == seen)
            pthread_cond_wait(&helper.wake, &helper.lock);
        seen = helper.posts;
        pthread_mutex_unlock(&helper.lock);
        int posted = POSTED; /* the caller may have finished (and cancelled) already */
        if (atomic_compare_exchange_strong(&helper.state, &posted, RUNNING)) {
            fesetenv(&helper.caller_env); /* its pieces must round as the caller's do */
            size_t done = 0;
            take_chunks(helper.function, helper.call, helper.n, helper.chunk, &done);
            atomic_fetch_add(&helper.helped, done);
            atomic_store(&helper.state, IDLE);
        }
    }
    return NULL;
}

static void complete_before_fork(void);

/* A forked child has no helper thread and may have copied a locked mutex: start afresh. */
static void reset_after_fork(void) {
    atomic_store(&helper.busy, background.pending); /* held until the done job's release */
    pthread_mutex_init(&helper.lock, NULL);
    pthread_cond_init(&helper.wake, NULL);
    atomic_store(&helper.state, IDLE);
    helper.started = 0;
#ifdef __linux__
    helper.off_cpu = -1;
#endif
}

/* Start the helper thread with every signal blocked: signals are the caller's business. */
static int start_thread(void) {
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    int started = pthread_create(&helper.thread, NULL, helper_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
#ifdef __linux__
    if (started)
        pthread_setname_np(helper.thread, "numkeras-helper");
#endif
    return started;
}

/* Whether the helper may take part; starts it on first use. Called with the GIL held, so that
 * two Python threads never start it twice. */
static int helper_available(void) {
    if (!helper.wanted)
        return 0;
    if (helper.started == 0) {
        static int fork_handler = 0;
        if (!fork_handler) {
            reset_after_fork(); /* also the first initialisation */
            fork_handler = pthread_atfork(complete_before_fork, NULL, reset_after_fork) == 0;
        }
        helper.started = sysconf(_SC_NPROCESSORS_ONLN) > 1 && fork_handler && start_thread()
                             ? 1
                             : -1;
    }
    return helper.started == 1;
}

/* Keep the helper on the CPUs the caller may use, but off the one it is on; whether any is
 * left. Renewed when the caller has moved or its CPUs have changed. */
static int keep_helper_away(void) {
#ifdef __linux__
    int cpu = sched_getcpu();
    cpu_set_t cpus;
    if (cpu < 0 || sched_getaffinity(0, sizeof cpus, &cpus) != 0)
        return 0;
    if (cpu != helper.off_cpu || !CPU_EQUAL(&cpus, &helper.caller_cpus)) {
        helper.off_cpu = cpu;
        helper.caller_cpus = cpus;
        CPU_CLR(cpu, &cpus);
        helper.elsewhere = CPU_COUNT(&cpus) > 0 &&
                           pthread_setaffinity_np(helper.thread, sizeof cpus, &cpus) == 0;
    }
    return helper.elsewhere;
#else
    return 1;
#endif
}

/* Whether this caller may share a loop with the helper now (nobody else is sharing one and a
 * CPU is left for the helper); then it owns the helper until release_helper(). */
static int claim_helper(void) {
    int free_ = 0;
    if (!atomic_compare_exchange_strong(&helper.busy, &free_, 1))
        return 0;
    if (!keep_helper_away()) {
        atomic_store(&helper.busy, 0);
        return 0;
    }
    return 1;
}

static void release_helper(void) { atomic_store(&helper.busy, 0); }

/* Hand the loop to the helper: it takes pieces from now on. */
static void post(RangeFunction function, const Call *call, size_t n, size_t chunk) {
    helper.function = function;
    helper.call = call;
    helper.n = n;
    helper.chunk = chunk;
    fegetenv(&helper.caller_env);
    atomic_store(&helper.next_chunk, 0);
    atomic_store(&helper.state, POSTED);
    pthread_mutex_lock(&helper.lock);
    helper.posts++;
    pthread_cond_signal(&helper.wake);
    pthread_mutex_unlock(&helper.lock);
}

/* Take the pieces the helper has not taken, then wait for its last one. */
static void finish(RangeFunction function, const Call *call, size_t n, size_t chunk) {
    size_t done = 0;
    take_chunks(function, call, n, chunk, &done);
    int posted = POSTED; /* the helper has not begun: it never will on this loop */
    if (!atomic_compare_exchange_strong(&helper.state, &posted, IDLE))
        while (atomic_load(&helper.state) != IDLE)
            sched_yield(); /* the helper is finishing its last piece */
}

/* Run function over [0, n) in pieces of `chunk`, shared with the helper if `share` (the loop is
 * long and helper_available()) and no other thread is sharing a loop now. Without the GIL. */
static void run_shared(RangeFunction function, const Call *call, size_t n, size_t chunk,
                       int share) {
    if (!share || !claim_helper()) {
        function(call, 0, n);
        return;
    }
    post(function, call, n, chunk);
    finish(function, call, n, chunk);
    release_helper();
}

/* --- an update in the background ------------------------------------------------------- */
/* Between a step's optimizer update and the next step's forward pass, fit reads no weight: it
 * gathers the next batch, keeps its metrics and runs its loop's Python. So a long update may
 * run on the helper alone meanwhile (as work queued on a GPU stream would), when fit asks for
 * it (never where user code could read a weight between steps). The job keeps its arrays
 * acquired -- alive -- until finish_background(), which fit calls before the next step and after
 * its loop. Any
 * kernel given an array that overlaps the job's first waits for the job (a kernel that declines
 * its arrays waits for any job: its caller's NumPy code could touch the job's memory), and a
 * fork waits for it, so no thread ever sees a half-done update. Same result, bit for bit: the
 * update is cut into the same independent pieces. */
static int start_background(RangeFunction function, const Call *call, size_t n) {
    if (background.pending || n < SPLIT_MIN || !helper_available() || !claim_helper())
        return 0;
    background.call = *call; /* the views move into the job; the caller must not release them */
    background.function = function;
    background.n = n;
    background.pending = 1;
    post(function, &background.call, n, CHUNK);
    return 1;
}

/* Wait for the background job, doing the pieces the helper has not taken, then release its
 * arrays. Called with the GIL held; 1 if there was a job. */
static int finish_background(void) {
    if (!background.pending)
        return 0;
    Py_BEGIN_ALLOW_THREADS finish(background.function, &background.call, background.n, CHUNK);
    Py_END_ALLOW_THREADS
    background.pending = 0;
    release(&background.call);
    release_helper();
    return 1;
}

/* Before a fork: let the job complete, so that neither process holds half an update. */
static void complete_before_fork(void) {
    if (background.pending)
        finish(background.function, &background.call, background.n, CHUNK);
}
#else
static int helper_available(void) { return 0; }

static void run_shared(RangeFunction function, const Call *call, size_t n, size_t chunk,
                       int share) {
    (void)chunk, (void)share;
    function(call, 0, n);
}

static int start_background(RangeFunction function, const Call *call, size_t n) {
    (void)function, (void)call, (void)n;
    return 0;
}

static int finish_background(void) { return 0; }
#endif

/* Wait for the background job if it shares memory with one of `call`'s arrays. */
static void settle(const Call *call) {
    for (int i = 0; background.pending && i < call->count; i++)
        for (int j = 0; background.pending && j < background.call.count; j++)
            if (views_overlap(&call->views[i], &background.call.views[j]))
                finish_background();
}

/* A kernel declining its arrays: release them, and wait for the background job, since the
 * caller's NumPy code could touch its memory. */
static PyObject *decline(Call *call) {
    release(call);
    finish_background();
    Py_RETURN_FALSE;
}

static PyObject *py_use_helper_thread(PyObject *self, PyObject *arg) {
    int wanted = PyObject_IsTrue(arg);
    if (wanted < 0)
        return NULL;
#if HAVE_HELPER
    int previous = helper.wanted;
    helper.wanted = wanted;
    return PyBool_FromLong(previous);
#else
    Py_RETURN_FALSE;
#endif
}

static PyObject *py_finish_background(PyObject *self, PyObject *unused) {
    return PyBool_FromLong(finish_background());
}

static PyObject *py_helper_items(PyObject *self, PyObject *unused) {
#if HAVE_HELPER
    return PyLong_FromUnsignedLongLong(atomic_load(&helper.helped));
#else
    return PyLong_FromLong(0);
#endif
}

/* In the calls below, arrays (void *) and scalars (double) convert to the kernel's T * and T
 * through its prototype; a double holding a float32 value converts back exactly. */
#define A(i) (call.views[i].buf)
#define S(i) (call.scalars[i])

/* The optimizer kernels' arrays from element `start` on, and their scalars. */
#define AT(i) ((void *)((char *)call->views[i].buf + start * (size_t)call->views[i].itemsize))
#define SC(i) (call->scalars[i])

/* One Python function per kernel and float type; the kernel runs without the GIL, on elements
 * [start, start + n) of each array at a time, shared with the helper thread when long. */
#define WRAP(NAME, SUFFIX, T, FORMAT, N_ARRAYS, N_SCALARS, INVOCATION)                        \
    static void range_##NAME##_##SUFFIX(const Call *call, size_t start, size_t end) {         \
        size_t n = end - start;                                                               \
        INVOCATION;                                                                           \
    }                                                                                         \
    static PyObject *py_##NAME##_##SUFFIX(PyObject *self, PyObject *const *args,              \
                                          Py_ssize_t nargs) {                                 \
        Call call;                                                                            \
        int background_ok = 0; /* an extra last argument, True: a long update may be left */   \
        if (nargs == N_ARRAYS + N_SCALARS + 1) { /* running on the helper (see above) */      \
            background_ok = PyObject_IsTrue(args[--nargs]);                                   \
            if (background_ok < 0)                                                            \
                return NULL;                                                                  \
        }                                                                                     \
        unsigned writable = N_ARRAYS == 1 ? 1u : ((1u << N_ARRAYS) - 1) & ~2u;             \
        int ok = parse(args, nargs, N_ARRAYS, N_SCALARS, FORMAT, sizeof(T), writable, 1, &call); \
        if (ok < 0)                                                                           \
            return NULL;                                                                      \
        if (ok == 0)                                                                          \
            Py_RETURN_FALSE;                                                                  \
        size_t n = (size_t)call.n;                                                            \
        if (background_ok && start_background(range_##NAME##_##SUFFIX, &call, n))            \
            Py_RETURN_TRUE; /* the job holds the arrays now */                                \
        int share = n >= SPLIT_MIN && helper_available();                                     \
        Py_BEGIN_ALLOW_THREADS run_shared(range_##NAME##_##SUFFIX, &call, n, CHUNK, share);   \
        Py_END_ALLOW_THREADS release(&call);                                                  \
        Py_RETURN_TRUE;                                                                       \
    }

#define WRAPPERS(T, SUFFIX, FORMAT)                                                           \
    WRAP(sgd, SUFFIX, T, FORMAT, 2, 1, sgd_##SUFFIX(AT(0), AT(1), n, SC(0)))                 \
    WRAP(sgd_momentum, SUFFIX, T, FORMAT, 3, 2,                                               \
         sgd_momentum_##SUFFIX(AT(0), AT(1), AT(2), n, SC(0), SC(1)))                         \
    WRAP(sgd_nesterov, SUFFIX, T, FORMAT, 3, 2,                                               \
         sgd_nesterov_##SUFFIX(AT(0), AT(1), AT(2), n, SC(0), SC(1)))                         \
    WRAP(rmsprop, SUFFIX, T, FORMAT, 3, 4,                                                    \
         rmsprop_##SUFFIX(AT(0), AT(1), AT(2), n, SC(0), SC(1), SC(2), SC(3)))                \
    WRAP(adagrad, SUFFIX, T, FORMAT, 3, 2,                                                    \
         adagrad_##SUFFIX(AT(0), AT(1), AT(2), n, SC(0), SC(1)))                              \
    WRAP(adam, SUFFIX, T, FORMAT, 4, 4,                                                       \
         adam_##SUFFIX(AT(0), AT(1), AT(2), AT(3), n, SC(0), SC(1), SC(2), SC(3)))            \
    WRAP(adam_amsgrad, SUFFIX, T, FORMAT, 5, 4,                                               \
         adam_amsgrad_##SUFFIX(AT(0), AT(1), AT(2), AT(3), AT(4), n, SC(0), SC(1), SC(2),     \
                               SC(3)))                                                        \
    WRAP(nadam, SUFFIX, T, FORMAT, 4, 9,                                                      \
         nadam_##SUFFIX(AT(0), AT(1), AT(2), AT(3), n, SC(0), SC(1), SC(2), SC(3), SC(4),     \
                        SC(5), SC(6), SC(7), SC(8)))                                          \
    WRAP(weight_decay, SUFFIX, T, FORMAT, 1, 2, weight_decay_##SUFFIX(AT(0), n, SC(0), SC(1)))

WRAPPERS(float, f32, 'f')
WRAPPERS(double, f64, 'd')

/* An array of `len` elements as rows of `k_arg` (a whole number >= 1 that divides len): 1 and
 * k and rows set, or 0 (the kernel declines). */
static int rows_of(double k_arg, Py_ssize_t len, ptrdiff_t *k, ptrdiff_t *rows) {
    *k = (ptrdiff_t)k_arg;
    *rows = *k > 0 ? (ptrdiff_t)len / *k : 0;
    return *k >= 1 && (double)*k == k_arg && *rows * *k == len;
}

/* Op kernels: `k` (the row length) is the last scalar; CHECK tests the arrays' lengths. */
#define OP_WRAP(NAME, SUFFIX, T, FORMAT, N_ARRAYS, N_SCALARS, WRITABLE, CHECK, INVOCATION)   \
    static PyObject *py_##NAME##_##SUFFIX(PyObject *self, PyObject *const *args,              \
                                          Py_ssize_t nargs) {                                 \
        Call call;                                                                            \
        int ok = parse(args, nargs, N_ARRAYS, N_SCALARS, FORMAT, sizeof(T), WRITABLE, 0,      \
                       &call);                                                                \
        if (ok < 0)                                                                           \
            return NULL;                                                                      \
        if (ok == 0)                                                                          \
            Py_RETURN_FALSE;                                                                  \
        ptrdiff_t k, rows;                                                                    \
        T *scratch = NULL;                                                                    \
        if (!rows_of(S(N_SCALARS - 1), LEN(0), &k, &rows) || !(CHECK) ||                      \
            !(scratch = PyMem_Malloc(k * sizeof(T)))) {                                       \
            release(&call);                                                                   \
            Py_RETURN_FALSE;                                                                  \
        }                                                                                     \
        Py_BEGIN_ALLOW_THREADS INVOCATION;                                                    \
        Py_END_ALLOW_THREADS PyMem_Free(scratch);                                             \
        release(&call);                                                                       \
        Py_RETURN_TRUE;                                                                       \
    }

#define OP_WRAPPERS(T, SUFFIX, FORMAT)                                                        \
    OP_WRAP(softmax, SUFFIX, T, FORMAT, 2, 1, 2u, LEN(1) == LEN(0),                           \
            softmax_##SUFFIX(A(0), A(1), rows, k))                                            \
    OP_WRAP(softmax_vjp, SUFFIX, T, FORMAT, 3, 1, 4u, LEN(1) == LEN(0) && LEN(2) == LEN(0),   \
            softmax_vjp_##SUFFIX(A(0), A(1), A(2), rows, k))                                  \
    OP_WRAP(crossentropy, SUFFIX, T, FORMAT, 3, 2, 4u, LEN(1) == LEN(0) && LEN(2) == rows,    \
            crossentropy_##SUFFIX(A(0), A(1), A(2), scratch, rows, k, (T)S(0),                \
                                  (T)(1.0 - S(0))))                                           \
    OP_WRAP(crossentropy_vjp, SUFFIX, T, FORMAT, 4, 2, 8u,                                    \
            LEN(1) == LEN(0) && LEN(2) == rows && LEN(3) == LEN(0),                           \
            crossentropy_vjp_##SUFFIX(A(0), A(1), A(2), A(3), scratch, rows, k, (T)S(0),      \
                                      (T)(1.0 - S(0))))                                       \
    OP_WRAP(bias_relu, SUFFIX, T, FORMAT, 2, 2, 1u, LEN(1) == k,                              \
            bias_relu_##SUFFIX(A(0), A(1), rows, k, S(0) != 0))                               \
    OP_WRAP(relu_vjp, SUFFIX, T, FORMAT, 3, 1, 4u, LEN(1) == LEN(0) && LEN(2) == LEN(0),      \
            relu_vjp_##SUFFIX(A(0), A(1), A(2), (size_t)LEN(0)))                              \
    OP_WRAP(bias_vjp, SUFFIX, T, FORMAT, 2, 1, 2u, LEN(1) == k,                               \
            bias_vjp_##SUFFIX(A(0), A(1), rows, k))                                           \
    OP_WRAP(relu_bias_vjp, SUFFIX, T, FORMAT, 4, 1, 12u,                                      \
            LEN(1) == LEN(0) && LEN(2) == LEN(0) && LEN(3) == k,                              \
            relu_bias_vjp_##SUFFIX(A(0), A(1), A(2), A(3), rows, k))

OP_WRAPPERS(float, f32, 'f')
OP_WRAPPERS(double, f64, 'd')

/* categorical accuracy (numkeras/metrics.py): out = (np.argmax(t) == np.argmax(p)) row by row,
 * for rows of k. p and out have the kernel's float type; the labels t may be float32 or
 * float64 (to_categorical makes float64 labels, as Keras's does). */
#define ACCURACY(SUFFIX, T, FORMAT)                                                           \
    static PyObject *py_categorical_accuracy_##SUFFIX(PyObject *self, PyObject *const *args,  \
                                                      Py_ssize_t nargs) {                     \
        if (nargs != 4) {                                                                     \
            PyErr_Format(PyExc_TypeError, "expected 3 arrays (t, p, out) and k, got %zd "     \
                         "arguments", nargs);                                                 \
            return NULL;                                                                      \
        }                                                                                     \
        double k_arg = PyFloat_AsDouble(args[3]);                                             \
        if (k_arg == -1.0 && PyErr_Occurred())                                                \
            return NULL;                                                                      \
        Call call = {.count = 0};                                                             \
        if (!acquire(&call, args[0], 0, "fd", 0) || !acquire(&call, args[1], 0, FORMAT,       \
                                                               sizeof(T)) ||                  \
            !acquire(&call, args[2], 1, FORMAT, sizeof(T))) {                                 \
            return decline(&call);                                                            \
        }                                                                                     \
        ptrdiff_t k, rows;                                                                    \
        if (!rows_of(k_arg, LEN(1), &k, &rows) || LEN(0) != LEN(1) || LEN(2) != rows ||       \
            any_overlap(&call)) {                                                             \
            return decline(&call);                                                            \
        }                                                                                     \
        settle(&call);                                                                        \
        int t_double = call.views[0].itemsize == 8;                                           \
        const char *t = A(0);                                                                 \
        const T *p = A(1);                                                                    \
        T *out = A(2);                                                                        \
        Py_BEGIN_ALLOW_THREADS for (ptrdiff_t r = 0; r < rows; r++, p += k) {                 \
            const char *labels = t + (size_t)(r * k) * (size_t)call.views[0].itemsize;       \
            ptrdiff_t label = t_double ? argmax_f64((const double *)labels, k)                \
                                       : argmax_f32((const float *)labels, k);                \
            out[r] = (T)(label == argmax_##SUFFIX(p, k));                                     \
        }                                                                                     \
        Py_END_ALLOW_THREADS release(&call);                                                  \
        Py_RETURN_TRUE;                                                                       \
    }

ACCURACY(f32, float, "f")
ACCURACY(f64, double, "d")

/* --- batch gathering -------------------------------------------------------------------- */
/* fit's shuffled batch: out[i] = x[index[i]] row by row, an index clipped to [0, rows - 1] --
 * np.take(x, index, axis=0, out=out, mode="clip"). Rows are copied as bytes; a large batch is
 * shared with the helper thread. x: rows x row elements, index: int64, out: len(index) rows. */
static void take_rows_range(const Call *call, size_t start, size_t end) {
    const char *x = call->views[0].buf;
    const long long *index = call->views[1].buf;
    char *out = call->views[2].buf;
    long long rows = (long long)call->views[0].shape[0];
    size_t row_bytes = (size_t)(call->views[0].len / call->views[0].shape[0]);
    for (size_t i = start; i < end; i++) {
        long long r = index[i]; /* read once: clipped, then used */
        r = r < 0 ? 0 : r >= rows ? rows - 1 : r;
        memcpy(out + i * row_bytes, x + (size_t)r * row_bytes, row_bytes);
    }
}

#define TAKE_ROWS(SUFFIX, T, FORMAT)                                                          \
    static PyObject *py_take_rows_##SUFFIX(PyObject *self, PyObject *const *args,             \
                                           Py_ssize_t nargs) {                                \
        if (nargs != 3) {                                                                     \
            PyErr_Format(PyExc_TypeError, "expected 3 arrays (x, index, out), got %zd "       \
                         "arguments", nargs);                                                 \
            return NULL;                                                                      \
        }                                                                                     \
        Call call = {.count = 0};                                                             \
        static const char *const formats[3] = {FORMAT, "ql", FORMAT}; /* index: int64 */     \
        for (int i = 0; i < 3; i++) {                                                         \
            if (!acquire(&call, args[i], i == 2, formats[i], i == 1 ? 8 : (Py_ssize_t)sizeof(T)) \
                || call.views[i].ndim != (i == 1 ? 1 : call.views[0].ndim)) {                 \
                return decline(&call);                                                        \
            }                                                                                 \
        }                                                                                     \
        Py_buffer *x = &call.views[0], *index = &call.views[1], *out = &call.views[2];       \
        Py_ssize_t n = index->shape[0];                                                       \
        int fits = x->ndim >= 1 && x->shape[0] > 0 && out->shape[0] == n;                     \
        for (int d = 1; fits && d < x->ndim; d++)                                             \
            fits = out->shape[d] == x->shape[d];                                              \
        if (!fits || any_overlap(&call)) {                                                    \
            return decline(&call);                                                            \
        }                                                                                     \
        settle(&call);                                                                        \
        size_t row_bytes = (size_t)(x->len / x->shape[0]);                                    \
        size_t chunk = row_bytes >= GATHER_CHUNK ? 1 : GATHER_CHUNK / (row_bytes ? row_bytes : 1); \
        int share = (size_t)out->len >= GATHER_SPLIT_MIN && helper_available();               \
        if (n > 0) {                                                                          \
            Py_BEGIN_ALLOW_THREADS run_shared(take_rows_range, &call, (size_t)n, chunk, share); \
            Py_END_ALLOW_THREADS                                                              \
        }                                                                                     \
        release(&call);                                                                       \
        Py_RETURN_TRUE;                                                                       \
    }

TAKE_ROWS(f32, float, "f")
TAKE_ROWS(f64, double, "d")

#define ENTRY(NAME, SUFFIX)                                                                   \
    {#NAME "_" #SUFFIX, (PyCFunction)(void (*)(void))py_##NAME##_##SUFFIX, METH_FASTCALL, NULL},
#define ENTRIES(SUFFIX)                                                                       \
    ENTRY(sgd, SUFFIX) ENTRY(sgd_momentum, SUFFIX) ENTRY(sgd_nesterov, SUFFIX)                \
    ENTRY(rmsprop, SUFFIX) ENTRY(adagrad, SUFFIX) ENTRY(adam, SUFFIX)                         \
    ENTRY(adam_amsgrad, SUFFIX) ENTRY(nadam, SUFFIX) ENTRY(weight_decay, SUFFIX)              \
    ENTRY(softmax, SUFFIX) ENTRY(softmax_vjp, SUFFIX) ENTRY(crossentropy, SUFFIX)             \
    ENTRY(crossentropy_vjp, SUFFIX) ENTRY(bias_relu, SUFFIX) ENTRY(relu_vjp, SUFFIX)        \
    ENTRY(bias_vjp, SUFFIX) ENTRY(relu_bias_vjp, SUFFIX) ENTRY(take_rows, SUFFIX)               \
    ENTRY(categorical_accuracy, SUFFIX)

static PyMethodDef methods[] = {
    ENTRIES(f32) ENTRIES(f64)
    {"use_helper_thread", py_use_helper_thread, METH_O,
     "use_helper_thread(flag) -> bool: share long optimizer updates and large batch gathers "
     "with a helper thread (on by default); returns the previous setting. Results are the same "
     "either way."},
    {"finish_background", py_finish_background, METH_NOARGS,
     "finish_background() -> bool: wait for the update left running on the helper thread (an "
     "optimizer kernel called with a last argument True), if there is one, and release its "
     "arrays; whether there was one."},
    {"helper_items", py_helper_items, METH_NOARGS,
     "helper_items() -> int: how many items (elements of an update, rows of a gather) the "
     "helper thread has done so far."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fused",
    "numkeras's compiled kernels (see numkeras/_compiled.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__fused(void) { return PyModule_Create(&module); }
