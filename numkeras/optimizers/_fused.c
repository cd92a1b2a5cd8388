/* Fused optimizer updates: each optimizer's whole update in one pass over memory.
 *
 * The NumPy path of an update step (numkeras/optimizers/*.py) makes about ten passes over a
 * weight array; these loops load each element once, update it, and store it once. The
 * arithmetic is written in exactly the order of the NumPy path, without fused multiply-adds
 * (-ffp-contract=off), so both paths round identically and give bit-for-bit the same result
 * (tests/optimizers/test_fused_kernels.py checks this).
 *
 * Plain C, no Python API: numkeras/optimizers/kernels.py loads the compiled file with ctypes.
 * w is the weight, g the gradient, the other arrays the optimizer's slots; n elements each.
 */
#include <math.h>
#include <stddef.h>

/* With GCC on x86-64, also compile an AVX2 version of each loop, picked at load time. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define VECTORIZED __attribute__((target_clones("avx2", "default")))
#else
#define VECTORIZED
#endif

#define KERNELS(T, SUFFIX, SQRT)                                                              \
    VECTORIZED void sgd_##SUFFIX(T *restrict w, const T *restrict g, size_t n, T lr) {        \
        for (size_t i = 0; i < n; i++)                                                        \
            w[i] = w[i] - g[i] * lr;                                                          \
    }                                                                                         \
    VECTORIZED void sgd_momentum_##SUFFIX(T *restrict w, const T *restrict g, T *restrict m,  \
                                          size_t n, T momentum, T lr) {                       \
        for (size_t i = 0; i < n; i++) {                                                      \
            m[i] = m[i] * momentum - g[i] * lr;                                               \
            w[i] = w[i] + m[i];                                                               \
        }                                                                                     \
    }                                                                                         \
    VECTORIZED void sgd_nesterov_##SUFFIX(T *restrict w, const T *restrict g, T *restrict m,  \
                                          size_t n, T momentum, T lr) {                       \
        for (size_t i = 0; i < n; i++) {                                                      \
            T step = g[i] * lr;                                                               \
            m[i] = m[i] * momentum - step;                                                    \
            w[i] = w[i] + (m[i] * momentum - step);                                           \
        }                                                                                     \
    }                                                                                         \
    VECTORIZED void rmsprop_##SUFFIX(T *restrict w, const T *restrict g, T *restrict v,       \
                                     size_t n, T rho, T one_minus_rho, T epsilon, T lr) {     \
        for (size_t i = 0; i < n; i++) {                                                      \
            v[i] = v[i] * rho + (g[i] * g[i]) * one_minus_rho;                                \
            w[i] = w[i] - (g[i] * lr) / SQRT(v[i] + epsilon);                                 \
        }                                                                                     \
    }                                                                                         \
    VECTORIZED void adagrad_##SUFFIX(T *restrict w, const T *restrict g, T *restrict acc,     \
                                     size_t n, T epsilon, T lr) {                             \
        for (size_t i = 0; i < n; i++) {                                                      \
            acc[i] = acc[i] + g[i] * g[i];                                                    \
            w[i] = w[i] - (g[i] * lr) / SQRT(acc[i] + epsilon);                               \
        }                                                                                     \
    }                                                                                         \
    VECTORIZED void adam_##SUFFIX(T *restrict w, const T *restrict g, T *restrict m,          \
                                  T *restrict v, size_t n, T one_minus_beta_1,                \
                                  T one_minus_beta_2, T epsilon, T alpha) {                   \
        for (size_t i = 0; i < n; i++) {                                                      \
            m[i] = m[i] + (g[i] - m[i]) * one_minus_beta_1;                                   \
            v[i] = v[i] + (g[i] * g[i] - v[i]) * one_minus_beta_2;                            \
            w[i] = w[i] - (m[i] * alpha) / (SQRT(v[i]) + epsilon);                            \
        }                                                                                     \
    }                                                                                         \
    VECTORIZED void adam_amsgrad_##SUFFIX(T *restrict w, const T *restrict g, T *restrict m,  \
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
    VECTORIZED void nadam_##SUFFIX(T *restrict w, const T *restrict g, T *restrict m,         \
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
    VECTORIZED void weight_decay_##SUFFIX(T *restrict w, size_t n, T decay, T lr) {           \
        for (size_t i = 0; i < n; i++)                                                        \
            w[i] = w[i] - (w[i] * decay) * lr;                                                \
    }

KERNELS(float, f32, sqrtf)
KERNELS(double, f64, sqrt)
