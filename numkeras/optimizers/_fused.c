/* Fused optimizer updates: each optimizer's whole update in one pass over memory.
 *
 * The NumPy path of an update step (the optimizer modules) makes about ten passes over a
 * weight array; these loops load each element once, update it, and store it once. The
 * arithmetic is written in exactly the order of the NumPy path, without fused multiply-adds
 * (-ffp-contract=off), so both paths round identically and give bit-for-bit the same result
 * (tests/optimizers/test_fused_kernels.py checks this).
 *
 * A small CPython extension: each kernel is a Python function taking its arrays (anything with
 * the buffer protocol, e.g. NumPy arrays) and then its scalars. It returns True when it ran,
 * and False -- touching nothing -- when an array is not C-contiguous, not of the kernel's
 * float type, of another length than the first, or overlaps another; the caller then takes its
 * NumPy path. numkeras/optimizers/kernels.py imports it on first use.
 * w is the weight, g the gradient, the other arrays the optimizer's slots; n elements each.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

/* With GCC on x86-64, also compile an AVX2 version of each loop, picked at load time. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
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

/* Parse `n_arrays` arrays of item type `format` ("f" or "d"), then `n_scalars` numbers.
 * Returns 1 when the kernel may run, 0 when it must decline (no exception set), -1 on a
 * Python error (wrong argument count or a scalar that is not a number). */
static int parse(PyObject *const *args, Py_ssize_t nargs, int n_arrays, int n_scalars,
                 char format, Py_ssize_t itemsize, Call *call) {
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
    for (int i = 0; i < n_arrays; i++) {
        int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (i == 1 ? 0 : PyBUF_WRITABLE);
        if (n_arrays == 1)
            flags |= PyBUF_WRITABLE;
        if (PyObject_GetBuffer(args[i], &call->views[i], flags) != 0) {
            PyErr_Clear(); /* not contiguous, read-only, or no buffer: decline */
            release(call);
            return 0;
        }
        call->count++;
        Py_buffer *view = &call->views[i];
        const char *f = view->format ? view->format : "B";
        if (*f == '@' || *f == '=')
            f++;
        if (view->itemsize != itemsize || f[0] != format || f[1] != '\0' ||
            view->len != call->views[0].len) {
            release(call);
            return 0;
        }
    }
    for (int i = 0; i < n_arrays; i++) {
        for (int j = i + 1; j < n_arrays; j++) {
            char *a = call->views[i].buf, *b = call->views[j].buf;
            Py_ssize_t len = call->views[0].len;
            if (len > 0 && a < b + len && b < a + len) { /* the loops assume no aliasing */
                release(call);
                return 0;
            }
        }
    }
    call->n = call->views[0].len / itemsize;
    return 1;
}

/* In the calls below, arrays (void *) and scalars (double) convert to the kernel's T * and T
 * through its prototype; a double holding a float32 value converts back exactly. */
#define A(i) (call.views[i].buf)
#define S(i) (call.scalars[i])

/* One Python function per kernel and float type; the kernel runs without the GIL. */
#define WRAP(NAME, SUFFIX, T, FORMAT, N_ARRAYS, N_SCALARS, INVOCATION)                        \
    static PyObject *py_##NAME##_##SUFFIX(PyObject *self, PyObject *const *args,              \
                                          Py_ssize_t nargs) {                                 \
        Call call;                                                                            \
        int ok = parse(args, nargs, N_ARRAYS, N_SCALARS, FORMAT, sizeof(T), &call);           \
        if (ok < 0)                                                                           \
            return NULL;                                                                      \
        if (ok == 0)                                                                          \
            Py_RETURN_FALSE;                                                                  \
        size_t n = (size_t)call.n;                                                            \
        Py_BEGIN_ALLOW_THREADS INVOCATION;                                                    \
        Py_END_ALLOW_THREADS release(&call);                                                  \
        Py_RETURN_TRUE;                                                                       \
    }

#define WRAPPERS(T, SUFFIX, FORMAT)                                                           \
    WRAP(sgd, SUFFIX, T, FORMAT, 2, 1, sgd_##SUFFIX(A(0), A(1), n, S(0)))                    \
    WRAP(sgd_momentum, SUFFIX, T, FORMAT, 3, 2,                                               \
         sgd_momentum_##SUFFIX(A(0), A(1), A(2), n, S(0), S(1)))                              \
    WRAP(sgd_nesterov, SUFFIX, T, FORMAT, 3, 2,                                               \
         sgd_nesterov_##SUFFIX(A(0), A(1), A(2), n, S(0), S(1)))                              \
    WRAP(rmsprop, SUFFIX, T, FORMAT, 3, 4,                                                    \
         rmsprop_##SUFFIX(A(0), A(1), A(2), n, S(0), S(1), S(2), S(3)))                       \
    WRAP(adagrad, SUFFIX, T, FORMAT, 3, 2, adagrad_##SUFFIX(A(0), A(1), A(2), n, S(0), S(1))) \
    WRAP(adam, SUFFIX, T, FORMAT, 4, 4,                                                       \
         adam_##SUFFIX(A(0), A(1), A(2), A(3), n, S(0), S(1), S(2), S(3)))                    \
    WRAP(adam_amsgrad, SUFFIX, T, FORMAT, 5, 4,                                               \
         adam_amsgrad_##SUFFIX(A(0), A(1), A(2), A(3), A(4), n, S(0), S(1), S(2), S(3)))      \
    WRAP(nadam, SUFFIX, T, FORMAT, 4, 9,                                                      \
         nadam_##SUFFIX(A(0), A(1), A(2), A(3), n, S(0), S(1), S(2), S(3), S(4), S(5), S(6),  \
                        S(7), S(8)))                                                          \
    WRAP(weight_decay, SUFFIX, T, FORMAT, 1, 2, weight_decay_##SUFFIX(A(0), n, S(0), S(1)))

WRAPPERS(float, f32, 'f')
WRAPPERS(double, f64, 'd')

#define ENTRY(NAME, SUFFIX)                                                                   \
    {#NAME "_" #SUFFIX, (PyCFunction)(void (*)(void))py_##NAME##_##SUFFIX, METH_FASTCALL, NULL},
#define ENTRIES(SUFFIX)                                                                       \
    ENTRY(sgd, SUFFIX) ENTRY(sgd_momentum, SUFFIX) ENTRY(sgd_nesterov, SUFFIX)                \
    ENTRY(rmsprop, SUFFIX) ENTRY(adagrad, SUFFIX) ENTRY(adam, SUFFIX)                         \
    ENTRY(adam_amsgrad, SUFFIX) ENTRY(nadam, SUFFIX) ENTRY(weight_decay, SUFFIX)

static PyMethodDef methods[] = {ENTRIES(f32) ENTRIES(f64){NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fused",
    "Fused optimizer update kernels (see numkeras/optimizers/kernels.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__fused(void) { return PyModule_Create(&module); }
