/*
 * capi/tests/errors.c: every simdloss_status is reachable from C, and a
 * refused call writes nothing (no output buffer, no *loss) but the
 * optional simdloss_error_detail.
 *
 * For each of the 38 exported loss functions (every *_value,
 * *_value_and_grad, *_per_element of simdloss.h), the program calls it
 * with each kind of bad argument that applies and checks
 *   (a) the status is the one expected,
 *   (b) not one byte of the workspace (inputs, targets, weights, grad,
 *       out, *loss) changed: the outputs hold a NaN sentinel bit pattern
 *       before the call, and the whole workspace is compared with memcmp,
 *   (c) the detail names the argument at fault (a non-NULL static string,
 *       checked against the expected spelling) and carries the offending
 *       element's index for _OUT_OF_RANGE and _INVALID_LABEL (SIZE_MAX
 *       otherwise);
 * every error call is made twice: with a detail and with detail = NULL.
 * Valid calls (options NULL, options from *_default(), and more) must
 * return SIMDLOSS_OK, write every output element and leave the detail
 * alone, so that the error checks are not vacuous.
 *
 * Build and run from the repository root (x86-64):
 *   cargo build -p simdloss-capi --release
 *   gcc -std=c11 -Wall -Wextra -Werror -pedantic -Icapi/include \
 *       capi/tests/errors.c target/release/libsimdloss_capi.a \
 *       -lpthread -ldl -lm -o /tmp/errors && /tmp/errors
 * aarch64 (cross, under qemu):
 *   CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
 *       cargo build -p simdloss-capi --release --target aarch64-unknown-linux-gnu
 *   aarch64-linux-gnu-gcc -std=c11 -Wall -Wextra -Werror -pedantic \
 *       -Icapi/include capi/tests/errors.c \
 *       target/aarch64-unknown-linux-gnu/release/libsimdloss_capi.a \
 *       -lpthread -ldl -lm -o /tmp/errors_arm
 *   qemu-aarch64 -L /usr/aarch64-linux-gnu /tmp/errors_arm
 * It is also valid C++17 (g++ -std=c++17 -x c++ ... -x none lib.a ...).
 *
 * Exit status 0 and the line
 *   errors.c: N checks passed, every status code 0..12 reached
 * on success; 1 and a FAIL line per failed check otherwise.
 */

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "simdloss.h"

/* ------------------------------------------------------------------ */
/* Bookkeeping                                                         */
/* ------------------------------------------------------------------ */

#define N_CODES 13
#define NO_INDEX SIZE_MAX

static unsigned long g_checks;
static unsigned long g_failures;
static unsigned long g_seen[N_CODES]; /* how often each status was returned */
static unsigned long g_seen_unknown;  /* statuses outside 0..12 */
static simdloss_isa g_unavailable_isa; /* 0: every ISA asked for is available */
static unsigned g_functions_tested;

static const char *const STATUS_NAMES[N_CODES] = {
    "SIMDLOSS_OK",
    "SIMDLOSS_ERROR_NULL_POINTER",
    "SIMDLOSS_ERROR_MISALIGNED_POINTER",
    "SIMDLOSS_ERROR_OVERLAP",
    "SIMDLOSS_ERROR_LENGTH_MISMATCH",
    "SIMDLOSS_ERROR_EMPTY",
    "SIMDLOSS_ERROR_INVALID_PARAMETER",
    "SIMDLOSS_ERROR_ISA_UNAVAILABLE",
    "SIMDLOSS_ERROR_OUT_OF_RANGE",
    "SIMDLOSS_ERROR_INVALID_SHAPE",
    "SIMDLOSS_ERROR_INVALID_LABEL",
    "SIMDLOSS_ERROR_UNSUPPORTED_TARGET",
    "SIMDLOSS_ERROR_NOT_BROADCASTABLE",
};

static const char *status_name(int code)
{
    return code >= 0 && code < N_CODES ? STATUS_NAMES[code] : "(not a simdloss_status)";
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void check(bool ok, const char *fn, const char *what, const char *fmt, ...)
{
    g_checks++;
    if (ok) {
        return;
    }
    g_failures++;
    if (g_failures <= 300) {
        va_list ap;
        fprintf(stderr, "FAIL %s [%s]: ", fn, what);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
}

static void count_status(simdloss_status st)
{
    int code = (int)st;
    if (code >= 0 && code < N_CODES) {
        g_seen[code]++;
    } else {
        g_seen_unknown++;
    }
}

/* Short names of the statuses for the case lists. */
#define S_OK SIMDLOSS_OK
#define E_NULL SIMDLOSS_ERROR_NULL_POINTER
#define E_ALIGN SIMDLOSS_ERROR_MISALIGNED_POINTER
#define E_OVERLAP SIMDLOSS_ERROR_OVERLAP
#define E_LEN SIMDLOSS_ERROR_LENGTH_MISMATCH
#define E_EMPTY SIMDLOSS_ERROR_EMPTY
#define E_PARAM SIMDLOSS_ERROR_INVALID_PARAMETER
#define E_ISA SIMDLOSS_ERROR_ISA_UNAVAILABLE
#define E_RANGE SIMDLOSS_ERROR_OUT_OF_RANGE
#define E_SHAPE SIMDLOSS_ERROR_INVALID_SHAPE
#define E_LABEL SIMDLOSS_ERROR_INVALID_LABEL
#define E_TARGET SIMDLOSS_ERROR_UNSUPPORTED_TARGET
#define E_BCAST SIMDLOSS_ERROR_NOT_BROADCASTABLE

/* ------------------------------------------------------------------ */
/* The workspace: every buffer any call reads or writes                */
/* ------------------------------------------------------------------ */

#define BIG 1024   /* floats per buffer */
#define LABELS 512 /* labels per label buffer */

typedef struct {
    float input[BIG];
    float target[BIG]; /* pointwise targets, or class probabilities */
    float weight[BIG]; /* weight maps, class weights, per-class pos_weight */
    float grad[BIG];
    float out[BIG];
    float loss[4];
    uint8_t l_u8[LABELS];
    uint16_t l_u16[LABELS];
    uint32_t l_u32[LABELS];
    uint64_t l_u64[LABELS];
    int32_t l_i32[LABELS];
    int64_t l_i64[LABELS];
    size_t l_size[LABELS];
} workspace;

static workspace W;
static workspace W_before; /* a snapshot taken before each refused call */

typedef struct {
    const char *name;
    size_t offset;
    size_t size;
    size_t elem;
} region;

#define REGION(m) { #m, offsetof(workspace, m), sizeof W.m, sizeof W.m[0] }
static const region REGIONS[] = {
    REGION(input), REGION(target), REGION(weight), REGION(grad), REGION(out),
    REGION(loss), REGION(l_u8), REGION(l_u16), REGION(l_u32), REGION(l_u64),
    REGION(l_i32), REGION(l_i64), REGION(l_size),
};

/* Where the workspace first differs from the snapshot ("" if nowhere). */
static void first_change(char *buf, size_t len)
{
    const unsigned char *now = (const unsigned char *)&W;
    const unsigned char *before = (const unsigned char *)&W_before;
    size_t i;
    buf[0] = '\0';
    for (i = 0; i < sizeof W; i++) {
        if (now[i] != before[i]) {
            size_t r;
            snprintf(buf, len, "byte %zu (padding)", i);
            for (r = 0; r < sizeof REGIONS / sizeof REGIONS[0]; r++) {
                if (i >= REGIONS[r].offset && i < REGIONS[r].offset + REGIONS[r].size) {
                    snprintf(buf, len, "W.%s[%zu]", REGIONS[r].name,
                             (i - REGIONS[r].offset) / REGIONS[r].elem);
                }
            }
            return;
        }
    }
}

/* The sentinel: a NaN bit pattern no loss computes (written with memcpy,
 * never as a float operation). */
#define SENTINEL_BITS 0x7FA5A5A5u

static void fill_sentinel(float *p, size_t n)
{
    const uint32_t bits = SENTINEL_BITS;
    size_t i;
    for (i = 0; i < n; i++) {
        memcpy(&p[i], &bits, sizeof bits);
    }
}

static bool is_sentinel(const float *p)
{
    uint32_t bits;
    memcpy(&bits, p, sizeof bits);
    return bits == SENTINEL_BITS;
}

/* A pointer one byte past `p`, misaligned for float (and for every wider
 * type). Made from an integer (implementation-defined), not by converting
 * an object pointer (undefined for a misaligned result); never
 * dereferenced here, and the library must refuse it before reading. */
static float *misaligned_float(const void *p)
{
    return (float *)((uintptr_t)p + 1u);
}

static const void *misaligned_void(const void *p)
{
    return (const void *)((uintptr_t)p + 1u);
}

/* A float pointer to the same address as `p` (a label buffer, for the
 * overlap checks: the library compares byte ranges, never reads it). */
static float *as_float(const void *p)
{
    return (float *)(uintptr_t)p;
}

/* ------------------------------------------------------------------ */
/* One call of any loss function                                       */
/* ------------------------------------------------------------------ */

enum { V_VALUE, V_GRAD, V_PER_ELEMENT, N_VERBS };
static const char *const VERB_SUFFIX[N_VERBS] = {"_value", "_value_and_grad", "_per_element"};

typedef struct {
    const void *options;
    const float *input;
    const float *target;     /* pointwise */
    size_t n;                /* pointwise */
    simdloss_shape shape;    /* class axis */
    simdloss_target ctarget; /* class axis */
    simdloss_reduction reduction;
    simdloss_grad grad;
    float *loss;
    float *out;
    size_t out_len; /* class axis (pointwise: n) */
    simdloss_error_detail *detail;
} call_args;

typedef simdloss_status (*loss_fn)(const call_args *);

#define POINTWISE_WRAPPERS(name, opt_t)                                                        \
    static simdloss_status name##_value_w(const call_args *a)                                   \
    {                                                                                           \
        return simdloss_##name##_value((const opt_t *)a->options, a->input, a->target, a->n,    \
                                       a->reduction, a->loss, a->detail);                       \
    }                                                                                           \
    static simdloss_status name##_value_and_grad_w(const call_args *a)                          \
    {                                                                                           \
        return simdloss_##name##_value_and_grad((const opt_t *)a->options, a->input, a->target, \
                                                a->n, a->reduction, a->grad, a->loss,           \
                                                a->detail);                                     \
    }                                                                                           \
    static simdloss_status name##_per_element_w(const call_args *a)                             \
    {                                                                                           \
        return simdloss_##name##_per_element((const opt_t *)a->options, a->input, a->target,    \
                                             a->n, a->out, a->detail);                          \
    }

#define CLASS_REDUCED_WRAPPERS(name, opt_t)                                                    \
    static simdloss_status name##_value_w(const call_args *a)                                   \
    {                                                                                           \
        return simdloss_##name##_value((const opt_t *)a->options, a->input, a->shape,           \
                                       a->ctarget, a->reduction, a->loss, a->detail);           \
    }                                                                                           \
    static simdloss_status name##_value_and_grad_w(const call_args *a)                          \
    {                                                                                           \
        return simdloss_##name##_value_and_grad((const opt_t *)a->options, a->input, a->shape,  \
                                                a->ctarget, a->reduction, a->grad, a->loss,     \
                                                a->detail);                                     \
    }

#define CLASS_PER_ELEMENT_WRAPPER(name, opt_t)                                                 \
    static simdloss_status name##_per_element_w(const call_args *a)                             \
    {                                                                                           \
        return simdloss_##name##_per_element((const opt_t *)a->options, a->input, a->shape,     \
                                             a->ctarget, a->out, a->out_len, a->detail);        \
    }

POINTWISE_WRAPPERS(mse, simdloss_plain_options)
POINTWISE_WRAPPERS(l1, simdloss_plain_options)
POINTWISE_WRAPPERS(huber, simdloss_huber_options)
POINTWISE_WRAPPERS(smooth_l1, simdloss_smooth_l1_options)
POINTWISE_WRAPPERS(bce, simdloss_bce_options)
POINTWISE_WRAPPERS(bce_with_logits, simdloss_bce_with_logits_options)
POINTWISE_WRAPPERS(sigmoid_focal, simdloss_sigmoid_focal_options)
CLASS_REDUCED_WRAPPERS(softmax_cross_entropy, simdloss_softmax_cross_entropy_options)
CLASS_PER_ELEMENT_WRAPPER(softmax_cross_entropy, simdloss_softmax_cross_entropy_options)
CLASS_REDUCED_WRAPPERS(softmax_focal, simdloss_softmax_focal_options)
CLASS_PER_ELEMENT_WRAPPER(softmax_focal, simdloss_softmax_focal_options)
CLASS_REDUCED_WRAPPERS(dice, simdloss_dice_options)
CLASS_PER_ELEMENT_WRAPPER(dice, simdloss_dice_options)
CLASS_REDUCED_WRAPPERS(tversky, simdloss_tversky_options)
CLASS_PER_ELEMENT_WRAPPER(tversky, simdloss_tversky_options)
CLASS_REDUCED_WRAPPERS(generalized_dice, simdloss_generalized_dice_options)
CLASS_PER_ELEMENT_WRAPPER(generalized_dice, simdloss_generalized_dice_options)
CLASS_REDUCED_WRAPPERS(dice_cross_entropy, simdloss_dice_cross_entropy_options)

/* ------------------------------------------------------------------ */
/* Options of every loss, and their fields by offset                   */
/* ------------------------------------------------------------------ */

typedef union {
    simdloss_plain_options plain;
    simdloss_huber_options huber;
    simdloss_smooth_l1_options smooth_l1;
    simdloss_bce_options bce;
    simdloss_bce_with_logits_options bcel;
    simdloss_sigmoid_focal_options sfocal;
    simdloss_softmax_cross_entropy_options ce;
    simdloss_softmax_focal_options focal;
    simdloss_dice_options dice;
    simdloss_tversky_options tversky;
    simdloss_generalized_dice_options gdice;
    simdloss_dice_cross_entropy_options dce;
} any_options;

static void plain_defaults(any_options *o) { o->plain = simdloss_plain_options_default(); }
static void huber_defaults(any_options *o) { o->huber = simdloss_huber_options_default(); }
static void smooth_l1_defaults(any_options *o) { o->smooth_l1 = simdloss_smooth_l1_options_default(); }
static void bce_defaults(any_options *o) { o->bce = simdloss_bce_options_default(); }
static void bcel_defaults(any_options *o) { o->bcel = simdloss_bce_with_logits_options_default(); }
static void sfocal_defaults(any_options *o) { o->sfocal = simdloss_sigmoid_focal_options_default(); }
static void ce_defaults(any_options *o) { o->ce = simdloss_softmax_cross_entropy_options_default(); }
static void focal_defaults(any_options *o) { o->focal = simdloss_softmax_focal_options_default(); }
static void dice_defaults(any_options *o) { o->dice = simdloss_dice_options_default(); }
static void tversky_defaults(any_options *o) { o->tversky = simdloss_tversky_options_default(); }
static void gdice_defaults(any_options *o) { o->gdice = simdloss_generalized_dice_options_default(); }
static void dce_defaults(any_options *o) { o->dce = simdloss_dice_cross_entropy_options_default(); }

#define NO_FIELD ((size_t)-1)

static void set_bytes(any_options *o, size_t off, const void *v, size_t size)
{
    memcpy((unsigned char *)o + off, v, size);
}
static void set_f32(any_options *o, size_t off, float v) { set_bytes(o, off, &v, sizeof v); }
static void set_u32(any_options *o, size_t off, uint32_t v) { set_bytes(o, off, &v, sizeof v); }
static void set_size(any_options *o, size_t off, size_t v) { set_bytes(o, off, &v, sizeof v); }
static void set_i64(any_options *o, size_t off, int64_t v) { set_bytes(o, off, &v, sizeof v); }
static void set_bool(any_options *o, size_t off, bool v) { set_bytes(o, off, &v, sizeof v); }
static void set_ptr(any_options *o, size_t off, const float *v) { set_bytes(o, off, &v, sizeof v); }
static bool get_bool(const any_options *o, size_t off)
{
    bool v;
    memcpy(&v, (const unsigned char *)o + off, sizeof v);
    return v;
}

/* One parameter value and what a call with it must return. */
typedef enum { K_F32, K_U32 } field_kind;
typedef struct {
    const char *what;
    size_t offset;
    field_kind kind;
    float f;
    uint32_t u;
    simdloss_status expected;
    const char *argument; /* the detail's argument (errors) */
} param_case;

#define PF(T, field, v, st, arg) { #field " = " #v, offsetof(T, field), K_F32, (v), 0u, (st), (arg) }
#define PU(T, field, v, st, arg) { #field " = " #v, offsetof(T, field), K_U32, 0.0f, (v), (st), (arg) }

/* Smoothing and activation: the Dice family's shared fields. */
#define SMOOTH_AND_ACTIVATION_CASES(T)                              \
    PF(T, smooth_nr, -1e-5f, E_PARAM, "smooth_nr"),                 \
    PF(T, smooth_nr, NAN, E_PARAM, "smooth_nr"),                    \
    PF(T, smooth_nr, INFINITY, E_PARAM, "smooth_nr"),               \
    PF(T, smooth_dr, -1.0f, E_PARAM, "smooth_dr"),                  \
    PF(T, smooth_dr, NAN, E_PARAM, "smooth_dr"),                    \
    PF(T, smooth_dr, -INFINITY, E_PARAM, "smooth_dr"),              \
    PF(T, smooth_nr, 0.0f, S_OK, NULL),                             \
    PF(T, smooth_dr, 1.0f, S_OK, NULL),                             \
    PU(T, activation, 3u, E_PARAM, "activation"),                   \
    PU(T, activation, 99u, E_PARAM, "activation"),                  \
    PU(T, activation, UINT32_MAX, E_PARAM, "activation"),           \
    PU(T, activation, SIMDLOSS_ACTIVATION_SIGMOID, S_OK, NULL),     \
    PU(T, activation, SIMDLOSS_ACTIVATION_SOFTMAX, S_OK, NULL)

static const param_case HUBER_PARAMS[] = {
    PF(simdloss_huber_options, delta, 0.0f, E_PARAM, "delta"),
    PF(simdloss_huber_options, delta, -0.0f, E_PARAM, "delta"),
    PF(simdloss_huber_options, delta, -1.0f, E_PARAM, "delta"),
    PF(simdloss_huber_options, delta, NAN, E_PARAM, "delta"),
    PF(simdloss_huber_options, delta, INFINITY, E_PARAM, "delta"),
    PF(simdloss_huber_options, delta, -INFINITY, E_PARAM, "delta"),
    PF(simdloss_huber_options, delta, 1e-6f, S_OK, NULL),
    PF(simdloss_huber_options, delta, 1e30f, S_OK, NULL),
};

static const param_case SMOOTH_L1_PARAMS[] = {
    PF(simdloss_smooth_l1_options, beta, -1e-3f, E_PARAM, "beta"),
    PF(simdloss_smooth_l1_options, beta, NAN, E_PARAM, "beta"),
    PF(simdloss_smooth_l1_options, beta, INFINITY, E_PARAM, "beta"),
    PF(simdloss_smooth_l1_options, beta, -INFINITY, E_PARAM, "beta"),
    PF(simdloss_smooth_l1_options, beta, 0.0f, S_OK, NULL),
    PF(simdloss_smooth_l1_options, beta, 0.5f, S_OK, NULL),
};

static const param_case BCEL_PARAMS[] = {
    PF(simdloss_bce_with_logits_options, pos_weight, -1.0f, E_PARAM, "pos_weight"),
    PF(simdloss_bce_with_logits_options, pos_weight, -1e-30f, E_PARAM, "pos_weight"),
    PF(simdloss_bce_with_logits_options, pos_weight, NAN, E_PARAM, "pos_weight"),
    PF(simdloss_bce_with_logits_options, pos_weight, INFINITY, E_PARAM, "pos_weight"),
    PF(simdloss_bce_with_logits_options, pos_weight, 0.0f, S_OK, NULL),
    PF(simdloss_bce_with_logits_options, pos_weight, 3.0f, S_OK, NULL),
};

static const param_case SFOCAL_PARAMS[] = {
    PF(simdloss_sigmoid_focal_options, alpha, 1.0001f, E_PARAM, "alpha"),
    PF(simdloss_sigmoid_focal_options, alpha, 2.0f, E_PARAM, "alpha"),
    PF(simdloss_sigmoid_focal_options, alpha, NAN, E_PARAM, "alpha"),
    PF(simdloss_sigmoid_focal_options, alpha, INFINITY, E_PARAM, "alpha"),
    PF(simdloss_sigmoid_focal_options, alpha, -INFINITY, E_PARAM, "alpha"),
    PF(simdloss_sigmoid_focal_options, alpha, -1.0f, S_OK, NULL),
    PF(simdloss_sigmoid_focal_options, alpha, 1.0f, S_OK, NULL),
    PF(simdloss_sigmoid_focal_options, gamma, -0.5f, E_PARAM, "gamma"),
    PF(simdloss_sigmoid_focal_options, gamma, NAN, E_PARAM, "gamma"),
    PF(simdloss_sigmoid_focal_options, gamma, INFINITY, E_PARAM, "gamma"),
    PF(simdloss_sigmoid_focal_options, gamma, -INFINITY, E_PARAM, "gamma"),
    PF(simdloss_sigmoid_focal_options, gamma, 0.0f, S_OK, NULL),
    PF(simdloss_sigmoid_focal_options, gamma, 0.5f, S_OK, NULL),
};

static const param_case CE_PARAMS[] = {
    PF(simdloss_softmax_cross_entropy_options, label_smoothing, 1.5f, E_PARAM, "label_smoothing"),
    PF(simdloss_softmax_cross_entropy_options, label_smoothing, 1.0001f, E_PARAM, "label_smoothing"),
    PF(simdloss_softmax_cross_entropy_options, label_smoothing, -0.1f, E_PARAM, "label_smoothing"),
    PF(simdloss_softmax_cross_entropy_options, label_smoothing, NAN, E_PARAM, "label_smoothing"),
    PF(simdloss_softmax_cross_entropy_options, label_smoothing, INFINITY, E_PARAM, "label_smoothing"),
    PF(simdloss_softmax_cross_entropy_options, label_smoothing, -INFINITY, E_PARAM, "label_smoothing"),
    PF(simdloss_softmax_cross_entropy_options, label_smoothing, 0.1f, S_OK, NULL),
    PF(simdloss_softmax_cross_entropy_options, label_smoothing, 1.0f, S_OK, NULL),
};

static const param_case FOCAL_PARAMS[] = {
    PF(simdloss_softmax_focal_options, gamma, -1.0f, E_PARAM, "gamma"),
    PF(simdloss_softmax_focal_options, gamma, -1e-20f, E_PARAM, "gamma"),
    PF(simdloss_softmax_focal_options, gamma, NAN, E_PARAM, "gamma"),
    PF(simdloss_softmax_focal_options, gamma, INFINITY, E_PARAM, "gamma"),
    PF(simdloss_softmax_focal_options, gamma, 0.0f, S_OK, NULL),
    PF(simdloss_softmax_focal_options, gamma, 0.5f, S_OK, NULL),
};

static const param_case DICE_PARAMS[] = {
    SMOOTH_AND_ACTIVATION_CASES(simdloss_dice_options),
};

static const param_case TVERSKY_PARAMS[] = {
    SMOOTH_AND_ACTIVATION_CASES(simdloss_tversky_options),
    PF(simdloss_tversky_options, alpha, -0.1f, E_PARAM, "alpha"),
    PF(simdloss_tversky_options, alpha, NAN, E_PARAM, "alpha"),
    PF(simdloss_tversky_options, alpha, INFINITY, E_PARAM, "alpha"),
    PF(simdloss_tversky_options, beta, -0.5f, E_PARAM, "beta"),
    PF(simdloss_tversky_options, beta, NAN, E_PARAM, "beta"),
    PF(simdloss_tversky_options, beta, -INFINITY, E_PARAM, "beta"),
    PF(simdloss_tversky_options, alpha, 0.0f, S_OK, NULL),
    PF(simdloss_tversky_options, beta, 0.0f, S_OK, NULL),
    PF(simdloss_tversky_options, alpha, 10.0f, S_OK, NULL),
};

static const param_case GDICE_PARAMS[] = {
    SMOOTH_AND_ACTIVATION_CASES(simdloss_generalized_dice_options),
};

static const param_case DCE_PARAMS[] = {
    PF(simdloss_dice_cross_entropy_options, lambda_dice, -1.0f, E_PARAM, "lambda_dice"),
    PF(simdloss_dice_cross_entropy_options, lambda_dice, NAN, E_PARAM, "lambda_dice"),
    PF(simdloss_dice_cross_entropy_options, lambda_dice, INFINITY, E_PARAM, "lambda_dice"),
    PF(simdloss_dice_cross_entropy_options, lambda_ce, -1e-3f, E_PARAM, "lambda_ce"),
    PF(simdloss_dice_cross_entropy_options, lambda_ce, NAN, E_PARAM, "lambda_ce"),
    PF(simdloss_dice_cross_entropy_options, lambda_ce, -INFINITY, E_PARAM, "lambda_ce"),
    PF(simdloss_dice_cross_entropy_options, label_smoothing, 1.01f, E_PARAM, "label_smoothing"),
    PF(simdloss_dice_cross_entropy_options, label_smoothing, -0.01f, E_PARAM, "label_smoothing"),
    PF(simdloss_dice_cross_entropy_options, label_smoothing, NAN, E_PARAM, "label_smoothing"),
    PF(simdloss_dice_cross_entropy_options, smooth_nr, -1.0f, E_PARAM, "smooth_nr"),
    PF(simdloss_dice_cross_entropy_options, smooth_nr, NAN, E_PARAM, "smooth_nr"),
    PF(simdloss_dice_cross_entropy_options, smooth_dr, -1.0f, E_PARAM, "smooth_dr"),
    PF(simdloss_dice_cross_entropy_options, smooth_dr, INFINITY, E_PARAM, "smooth_dr"),
    PF(simdloss_dice_cross_entropy_options, lambda_dice, 0.0f, S_OK, NULL),
    PF(simdloss_dice_cross_entropy_options, lambda_ce, 0.0f, S_OK, NULL),
    PF(simdloss_dice_cross_entropy_options, label_smoothing, 1.0f, S_OK, NULL),
};

/* ------------------------------------------------------------------ */
/* The 38 functions                                                    */
/* ------------------------------------------------------------------ */

typedef enum { FAM_POINTWISE, FAM_CLASS } family;

/* What a class-axis per-element call writes. */
typedef enum {
    PE_POINTWISE,     /* n */
    PE_SAMPLES,       /* n·s (softmax losses) */
    PE_CLASSES_KEPT,  /* [N, C_kept] or [C_kept] with batch (Dice, Tversky) */
    PE_IMAGES,        /* [N] or [1] with batch (generalized Dice) */
    PE_NONE           /* no per-element form (Dice + CE) */
} pe_kind;

enum {
    F_BCE_RANGE = 1,          /* input must hold probabilities in [0, 1] */
    F_POS_WEIGHT = 2,         /* pos_weight_per_class */
    F_NO_PROBABILITIES = 4,   /* index targets only */
    F_DICE = 8,               /* the Dice family: include_background, batch, c <= 128 */
    F_DICE_WEIGHT_RANGE = 16, /* class weights checked >= 0 */
    F_WEIGHT_KEPT = 32,       /* one class weight per kept class (c - 1 without background) */
    F_ALWAYS_SOFTMAX = 64     /* softmax without an activation field (Dice + CE) */
};

typedef struct {
    const char *name;
    family fam;
    loss_fn fn[N_VERBS];
    void (*defaults)(any_options *);
    size_t isa_off;
    size_t weight_off;
    size_t weight_len_off;
    size_t ignore_off;
    size_t activation_off;
    size_t include_bg_off;
    size_t batch_off;
    const param_case *params;
    size_t n_params;
    unsigned flags;
    pe_kind pe;
} loss_desc;

#define PARAMS(arr) (arr), sizeof(arr) / sizeof((arr)[0])
#define NO_PARAMS NULL, 0

#define POINTWISE(name, T, defaults, params, flags, weight_off)                          \
    { #name, FAM_POINTWISE,                                                               \
      { name##_value_w, name##_value_and_grad_w, name##_per_element_w },                  \
      defaults, offsetof(T, isa), weight_off, NO_FIELD, NO_FIELD, NO_FIELD, NO_FIELD,     \
      NO_FIELD, params, flags, PE_POINTWISE }

/* dice_fields: the offsets of include_background and batch (two values). */
#define CLASS(name, T, defaults, pe_fn, params, flags, pe, weight_off, weight_len_off,   \
              activation_off, dice_fields)                                                \
    { #name, FAM_CLASS, { name##_value_w, name##_value_and_grad_w, pe_fn },               \
      defaults, offsetof(T, isa), weight_off, weight_len_off, offsetof(T, ignore_index),  \
      activation_off, dice_fields, params, flags, pe }

#define DICE_FIELDS(T) offsetof(T, include_background), offsetof(T, batch)
#define NO_DICE_FIELDS NO_FIELD, NO_FIELD

static const loss_desc LOSSES[] = {
    POINTWISE(mse, simdloss_plain_options, plain_defaults, NO_PARAMS, 0, NO_FIELD),
    POINTWISE(l1, simdloss_plain_options, plain_defaults, NO_PARAMS, 0, NO_FIELD),
    POINTWISE(huber, simdloss_huber_options, huber_defaults, PARAMS(HUBER_PARAMS), 0, NO_FIELD),
    POINTWISE(smooth_l1, simdloss_smooth_l1_options, smooth_l1_defaults,
              PARAMS(SMOOTH_L1_PARAMS), 0, NO_FIELD),
    POINTWISE(bce, simdloss_bce_options, bce_defaults, NO_PARAMS, F_BCE_RANGE,
              offsetof(simdloss_bce_options, weight)),
    POINTWISE(bce_with_logits, simdloss_bce_with_logits_options, bcel_defaults,
              PARAMS(BCEL_PARAMS), F_POS_WEIGHT,
              offsetof(simdloss_bce_with_logits_options, weight)),
    POINTWISE(sigmoid_focal, simdloss_sigmoid_focal_options, sfocal_defaults,
              PARAMS(SFOCAL_PARAMS), 0, offsetof(simdloss_sigmoid_focal_options, weight)),
    CLASS(softmax_cross_entropy, simdloss_softmax_cross_entropy_options, ce_defaults,
          softmax_cross_entropy_per_element_w, PARAMS(CE_PARAMS), 0, PE_SAMPLES,
          offsetof(simdloss_softmax_cross_entropy_options, weight),
          offsetof(simdloss_softmax_cross_entropy_options, weight_len), NO_FIELD,
          NO_DICE_FIELDS),
    CLASS(softmax_focal, simdloss_softmax_focal_options, focal_defaults,
          softmax_focal_per_element_w, PARAMS(FOCAL_PARAMS), F_NO_PROBABILITIES, PE_SAMPLES,
          offsetof(simdloss_softmax_focal_options, weight),
          offsetof(simdloss_softmax_focal_options, weight_len), NO_FIELD, NO_DICE_FIELDS),
    CLASS(dice, simdloss_dice_options, dice_defaults, dice_per_element_w, PARAMS(DICE_PARAMS),
          F_DICE | F_DICE_WEIGHT_RANGE | F_WEIGHT_KEPT, PE_CLASSES_KEPT,
          offsetof(simdloss_dice_options, weight), offsetof(simdloss_dice_options, weight_len),
          offsetof(simdloss_dice_options, activation), DICE_FIELDS(simdloss_dice_options)),
    CLASS(tversky, simdloss_tversky_options, tversky_defaults, tversky_per_element_w,
          PARAMS(TVERSKY_PARAMS), F_DICE | F_DICE_WEIGHT_RANGE | F_WEIGHT_KEPT,
          PE_CLASSES_KEPT, offsetof(simdloss_tversky_options, weight),
          offsetof(simdloss_tversky_options, weight_len),
          offsetof(simdloss_tversky_options, activation), DICE_FIELDS(simdloss_tversky_options)),
    CLASS(generalized_dice, simdloss_generalized_dice_options, gdice_defaults,
          generalized_dice_per_element_w, PARAMS(GDICE_PARAMS), F_DICE, PE_IMAGES, NO_FIELD,
          NO_FIELD, offsetof(simdloss_generalized_dice_options, activation),
          DICE_FIELDS(simdloss_generalized_dice_options)),
    CLASS(dice_cross_entropy, simdloss_dice_cross_entropy_options, dce_defaults, NULL,
          PARAMS(DCE_PARAMS), F_DICE | F_DICE_WEIGHT_RANGE | F_ALWAYS_SOFTMAX, PE_NONE,
          offsetof(simdloss_dice_cross_entropy_options, weight),
          offsetof(simdloss_dice_cross_entropy_options, weight_len), NO_FIELD,
          DICE_FIELDS(simdloss_dice_cross_entropy_options)),
};

#define N_LOSSES (sizeof LOSSES / sizeof LOSSES[0])

/* ------------------------------------------------------------------ */
/* The expectation: one call, its status, its detail, its writes       */
/* ------------------------------------------------------------------ */

typedef struct {
    const loss_desc *L;
    int verb;
    char fn[80];
} fn_ctx;

static const char DETAIL_UNSET[] = "(detail not written)";
#define DETAIL_UNSET_INDEX ((size_t)0x5A5A5A5Au)

static void preset_detail(simdloss_error_detail *d)
{
    d->argument = DETAIL_UNSET;
    d->index = DETAIL_UNSET_INDEX;
}

/* Elements a successful call writes through grad.data / out. */
static size_t grad_len(const fn_ctx *c, const call_args *a)
{
    return c->L->fam == FAM_POINTWISE ? a->n : a->shape.n * a->shape.c * a->shape.s;
}

static size_t out_len(const fn_ctx *c, const call_args *a)
{
    return c->L->fam == FAM_POINTWISE ? a->n : a->out_len;
}

static void check_written(const fn_ctx *c, const char *what, const float *p, size_t n,
                          const char *name)
{
    size_t i, unwritten = n, nonfinite = n;
    for (i = 0; i < n; i++) {
        if (is_sentinel(&p[i]) && unwritten == n) {
            unwritten = i;
        }
        if (!isfinite(p[i]) && nonfinite == n) {
            nonfinite = i;
        }
    }
    check(unwritten == n, c->fn, what, "SIMDLOSS_OK but %s[%zu] of %zu was not written", name,
          unwritten, n);
    check(nonfinite == n, c->fn, what, "SIMDLOSS_OK but %s[%zu] = %g is not finite", name,
          nonfinite, nonfinite < n ? (double)p[nonfinite] : 0.0);
}

static void expect(const fn_ctx *c, const char *what, call_args *a, simdloss_status expected,
                   const char *argument, size_t index)
{
    const loss_fn f = c->L->fn[c->verb];
    simdloss_error_detail d;
    simdloss_status st;
    int pass;

    fill_sentinel(W.grad, BIG);
    fill_sentinel(W.out, BIG);
    fill_sentinel(W.loss, 4);

    if (expected == S_OK) {
        /* Every output element must be written: make them all sentinels,
         * wherever they are (an adjacent-buffer case writes into W.input
         * past what the call reads). */
        if (c->verb != V_PER_ELEMENT) {
            fill_sentinel(a->loss, 1);
        }
        if (c->verb == V_GRAD) {
            fill_sentinel(a->grad.data, grad_len(c, a));
        }
        if (c->verb == V_PER_ELEMENT) {
            fill_sentinel(a->out, out_len(c, a));
        }
        preset_detail(&d);
        a->detail = &d;
        st = f(a);
        count_status(st);
        check(st == S_OK, c->fn, what, "expected SIMDLOSS_OK, got %s (%d); detail %s, index %zu",
              status_name((int)st), (int)st, d.argument ? d.argument : "(NULL)", d.index);
        check(d.argument == DETAIL_UNSET && d.index == DETAIL_UNSET_INDEX, c->fn, what,
              "the detail was written by a successful call");
        if (st == S_OK) {
            if (c->verb != V_PER_ELEMENT) {
                check_written(c, what, a->loss, 1, "*loss");
            }
            if (c->verb == V_GRAD) {
                check_written(c, what, a->grad.data, grad_len(c, a), "grad.data");
            }
            if (c->verb == V_PER_ELEMENT) {
                check_written(c, what, a->out, out_len(c, a), "out");
            }
        }
        return;
    }

    for (pass = 0; pass < 2; pass++) {
        const char *with = pass == 0 ? "with detail" : "detail = NULL";
        char where[96];
        preset_detail(&d);
        a->detail = pass == 0 ? &d : NULL;
        memcpy(&W_before, &W, sizeof W);
        st = f(a);
        count_status(st);
        check(st == expected, c->fn, what, "%s: expected %s (argument \"%s\"), got %s (%d)%s%s",
              with, status_name((int)expected), argument ? argument : "?", status_name((int)st),
              (int)st, pass == 0 ? ", detail argument " : "",
              pass == 0 ? (d.argument ? d.argument : "(NULL)") : "");
        first_change(where, sizeof where);
        check(where[0] == '\0', c->fn, what, "%s: refused with %s but wrote %s", with,
              status_name((int)st), where);
        if (pass == 1) {
            break;
        }
        check(d.argument != NULL && d.argument != DETAIL_UNSET, c->fn, what,
              "detail.argument is %s after a refusal",
              d.argument == NULL ? "NULL" : "not written");
        if (d.argument == NULL || d.argument == DETAIL_UNSET) {
            continue;
        }
        if (argument != NULL) {
            check(strcmp(d.argument, argument) == 0, c->fn, what,
                  "detail.argument = \"%s\", expected \"%s\"", d.argument, argument);
        }
        if (expected == E_RANGE || expected == E_LABEL) {
            check(d.index == index, c->fn, what, "detail.index = %zu, expected %zu", d.index,
                  index);
        } else {
            check(d.index == NO_INDEX, c->fn, what,
                  "detail.index = %zu, expected SIZE_MAX (not one element)", d.index);
        }
    }
}

#define EXPECT(what, st, arg) expect(c, (what), &a, (st), (arg), NO_INDEX)
#define EXPECT_AT(what, st, arg, idx) expect(c, (what), &a, (st), (arg), (idx))

/* Options from *_default(), used by the call. */
static void use_defaults(const loss_desc *L, call_args *a, any_options *o)
{
    L->defaults(o);
    a->options = o;
}

typedef call_args (*base_fn)(const loss_desc *);

/* Saves the outputs of one valid call; compares another's with them. */
static float g_saved[3][BIG];

static void save_outputs(void)
{
    memcpy(g_saved[0], W.loss, sizeof W.loss);
    memcpy(g_saved[1], W.grad, sizeof W.grad);
    memcpy(g_saved[2], W.out, sizeof W.out);
}

static void compare_outputs(const fn_ctx *c, const char *what)
{
    check(memcmp(g_saved[0], W.loss, sizeof W.loss) == 0 &&
              memcmp(g_saved[1], W.grad, sizeof W.grad) == 0 &&
              memcmp(g_saved[2], W.out, sizeof W.out) == 0,
          c->fn, what, "options = *_default() gave other bits than options = NULL");
}

/* ------------------------------------------------------------------ */
/* Cases every function shares: reduction, grad.scale, isa, parameters */
/* ------------------------------------------------------------------ */

static void common_cases(const fn_ctx *c, base_fn base)
{
    const loss_desc *L = c->L;
    call_args a;
    any_options o;
    char what[96];
    size_t i;

    if (c->verb != V_PER_ELEMENT) {
        static const uint32_t bad[] = {2u, 7u, UINT32_MAX};
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            a = base(L);
            a.reduction = bad[i];
            snprintf(what, sizeof what, "reduction = %lu", (unsigned long)bad[i]);
            EXPECT(what, E_PARAM, "reduction");
        }
        a = base(L);
        a.reduction = SIMDLOSS_REDUCTION_SUM;
        EXPECT("reduction = SUM", S_OK, NULL);
    }

    if (c->verb == V_GRAD) {
        static const float bad[] = {NAN, INFINITY, -INFINITY};
        int acc;
        for (acc = 0; acc < 2; acc++) {
            for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                a = base(L);
                a.grad.scale = bad[i];
                a.grad.accumulate = acc != 0;
                snprintf(what, sizeof what, "grad.scale = %g, accumulate = %d", (double)bad[i],
                         acc);
                EXPECT(what, E_PARAM, "grad.scale");
            }
        }
        a = base(L);
        a.grad.scale = 0.0f;
        EXPECT("grad.scale = 0", S_OK, NULL);
        a = base(L);
        a.grad.scale = -3.5f;
        EXPECT("grad.scale = -3.5", S_OK, NULL);
    }

    {
        static const uint32_t bad[] = {6u, 99u, UINT32_MAX};
        const simdloss_isa good[] = {SIMDLOSS_ISA_AUTO, SIMDLOSS_ISA_SCALAR, SIMDLOSS_ISA_WIDE,
                                     simdloss_isa_best()};
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            a = base(L);
            use_defaults(L, &a, &o);
            set_u32(&o, L->isa_off, bad[i]);
            snprintf(what, sizeof what, "isa = %lu (unknown)", (unsigned long)bad[i]);
            EXPECT(what, E_PARAM, "isa");
        }
        for (i = 0; i < sizeof good / sizeof good[0]; i++) {
            a = base(L);
            use_defaults(L, &a, &o);
            set_u32(&o, L->isa_off, good[i]);
            snprintf(what, sizeof what, "isa = %s", simdloss_isa_name(good[i]));
            EXPECT(what, S_OK, NULL);
        }
        if (g_unavailable_isa != 0) {
            a = base(L);
            use_defaults(L, &a, &o);
            set_u32(&o, L->isa_off, g_unavailable_isa);
            snprintf(what, sizeof what, "isa = %s (unavailable here)",
                     simdloss_isa_name(g_unavailable_isa));
            EXPECT(what, E_ISA, "isa");
        }
    }

    for (i = 0; i < L->n_params; i++) {
        const param_case *p = &L->params[i];
        a = base(L);
        use_defaults(L, &a, &o);
        if (p->kind == K_F32) {
            set_f32(&o, p->offset, p->f);
        } else {
            set_u32(&o, p->offset, p->u);
        }
        EXPECT(p->what, p->expected, p->argument);
    }
}

/* ------------------------------------------------------------------ */
/* Pointwise losses: MSE, L1, Huber, Smooth L1, BCE, BCE logits, focal */
/* ------------------------------------------------------------------ */

#define PW_N 16

static void reset_pointwise_data(void)
{
    size_t i;
    for (i = 0; i < BIG; i++) {
        W.input[i] = 0.05f + 0.9f * (float)((i * 37u) % 101u) / 101.0f; /* in (0, 1) */
        W.target[i] = i % 3 == 0 ? 1.0f : (i % 3 == 1 ? 0.0f : 0.25f);
        W.weight[i] = 0.5f + 0.25f * (float)(i % 5);
    }
}

static call_args pointwise_base(const loss_desc *L)
{
    call_args a;
    (void)L;
    reset_pointwise_data();
    memset(&a, 0, sizeof a);
    a.options = NULL;
    a.input = W.input;
    a.target = W.target;
    a.n = PW_N;
    a.reduction = SIMDLOSS_REDUCTION_MEAN;
    a.grad = simdloss_grad_overwrite(W.grad);
    a.loss = W.loss;
    a.out = W.out;
    a.out_len = PW_N;
    a.detail = NULL;
    return a;
}

static void bce_range_cases(const fn_ctx *c)
{
    static const size_t lengths[] = {1, 7, 16, 33, 300};
    call_args a;
    char what[96];
    size_t i;

    for (i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        const size_t n = lengths[i];
        a = pointwise_base(c->L);
        a.n = n;
        W.input[n - 1] = 1.5f;
        snprintf(what, sizeof what, "n = %zu, input[%zu] = 1.5", n, n - 1);
        EXPECT_AT(what, E_RANGE, "input", n - 1);

        a = pointwise_base(c->L);
        a.n = n;
        W.input[n / 2] = -0.25f;
        W.input[n - 1] = 2.0f; /* a later one: the first is reported */
        snprintf(what, sizeof what, "n = %zu, input[%zu] = -0.25", n, n / 2);
        EXPECT_AT(what, E_RANGE, "input", n / 2);
    }

    a = pointwise_base(c->L);
    W.input[0] = -1e-7f;
    EXPECT_AT("input[0] = -1e-7", E_RANGE, "input", 0);
    a = pointwise_base(c->L);
    W.input[5] = INFINITY;
    EXPECT_AT("input[5] = INFINITY", E_RANGE, "input", 5);
    a = pointwise_base(c->L);
    W.input[6] = -INFINITY;
    EXPECT_AT("input[6] = -INFINITY", E_RANGE, "input", 6);
    a = pointwise_base(c->L);
    W.input[11] = nextafterf(1.0f, 2.0f);
    EXPECT_AT("input[11] = nextafterf(1, 2)", E_RANGE, "input", 11);
    a = pointwise_base(c->L);
    W.input[3] = NAN; /* NaN passes (and gives NaN): the 2.0 is the first refused */
    W.input[9] = 2.0f;
    EXPECT_AT("input[3] = NaN, input[9] = 2", E_RANGE, "input", 9);
    a = pointwise_base(c->L);
    W.input[0] = 0.0f;
    W.input[1] = 1.0f;
    EXPECT("input[0] = 0, input[1] = 1 (the ends of [0, 1])", S_OK, NULL);
}

static void pos_weight_cases(const fn_ctx *c)
{
    const size_t pw_off = offsetof(simdloss_bce_with_logits_options, pos_weight_per_class);
    const size_t nc_off = offsetof(simdloss_bce_with_logits_options, num_classes);
    static const size_t dividing[] = {1, 4, 8, 16};
    static const size_t not_dividing[] = {3, 5, 17, 32};
    const loss_desc *L = c->L;
    call_args a;
    any_options o;
    char what[96];
    size_t i;

    for (i = 0; i < sizeof dividing / sizeof dividing[0]; i++) {
        a = pointwise_base(L);
        use_defaults(L, &a, &o);
        set_ptr(&o, pw_off, W.weight);
        set_size(&o, nc_off, dividing[i]);
        snprintf(what, sizeof what, "pos_weight_per_class, num_classes = %zu (n = %d)",
                 dividing[i], PW_N);
        EXPECT(what, S_OK, NULL);
    }
    for (i = 0; i < sizeof not_dividing / sizeof not_dividing[0]; i++) {
        a = pointwise_base(L);
        use_defaults(L, &a, &o);
        set_ptr(&o, pw_off, W.weight);
        set_size(&o, nc_off, not_dividing[i]);
        snprintf(what, sizeof what, "pos_weight_per_class, num_classes = %zu (n = %d)",
                 not_dividing[i], PW_N);
        EXPECT(what, E_BCAST, "pos_weight");
    }

    a = pointwise_base(L);
    use_defaults(L, &a, &o);
    set_ptr(&o, pw_off, W.weight);
    set_size(&o, nc_off, 0);
    EXPECT("pos_weight_per_class, num_classes = 0", E_EMPTY, "pos_weight");

    a = pointwise_base(L);
    use_defaults(L, &a, &o);
    set_ptr(&o, pw_off, W.weight);
    set_size(&o, nc_off, 4);
    W.weight[2] = -1.0f;
    EXPECT("pos_weight_per_class[2] = -1", E_PARAM, "pos_weight");

    a = pointwise_base(L);
    use_defaults(L, &a, &o);
    set_ptr(&o, pw_off, W.weight);
    set_size(&o, nc_off, 4);
    W.weight[1] = NAN;
    EXPECT("pos_weight_per_class[1] = NaN", E_PARAM, "pos_weight");

    a = pointwise_base(L);
    use_defaults(L, &a, &o);
    set_ptr(&o, pw_off, W.weight);
    set_size(&o, nc_off, 4);
    W.weight[3] = INFINITY;
    EXPECT("pos_weight_per_class[3] = INFINITY", E_PARAM, "pos_weight");

    a = pointwise_base(L);
    use_defaults(L, &a, &o);
    set_ptr(&o, pw_off, misaligned_float(W.weight));
    set_size(&o, nc_off, 4);
    EXPECT("pos_weight_per_class misaligned", E_ALIGN, "pos_weight");

    a = pointwise_base(L);
    use_defaults(L, &a, &o);
    set_ptr(&o, pw_off, W.weight);
    set_size(&o, nc_off, SIZE_MAX / 2);
    EXPECT("num_classes = SIZE_MAX / 2 (bytes overflow)", E_SHAPE, "pos_weight");

    a = pointwise_base(L);
    use_defaults(L, &a, &o);
    set_ptr(&o, pw_off, W.weight);
    set_size(&o, nc_off, 4);
    set_f32(&o, offsetof(simdloss_bce_with_logits_options, pos_weight), NAN);
    EXPECT("pos_weight = NaN, ignored beside pos_weight_per_class", S_OK, NULL);

    /* A weight map and a per-class pos_weight: four buffers read (the
     * most any call reads); an output over the fourth is still refused. */
    a = pointwise_base(L);
    use_defaults(L, &a, &o);
    set_ptr(&o, offsetof(simdloss_bce_with_logits_options, weight), W.weight + 512);
    set_ptr(&o, pw_off, W.weight);
    set_size(&o, nc_off, 4);
    EXPECT("weight map and pos_weight_per_class", S_OK, NULL);
    if (c->verb == V_GRAD) {
        a.grad.data = W.weight + 2;
        EXPECT("grad.data over pos_weight_per_class (4th buffer read)", E_OVERLAP, "grad.data");
    } else if (c->verb == V_PER_ELEMENT) {
        a.out = W.weight + 3;
        EXPECT("out over pos_weight_per_class (4th buffer read)", E_OVERLAP, "out");
    }
}

static void test_pointwise(const fn_ctx *c)
{
    const loss_desc *L = c->L;
    call_args a;
    any_options o;

    /* Valid calls. */
    a = pointwise_base(L);
    EXPECT("valid, options = NULL", S_OK, NULL);
    save_outputs();
    a = pointwise_base(L);
    use_defaults(L, &a, &o);
    EXPECT("valid, options = *_default()", S_OK, NULL);
    compare_outputs(c, "valid, options = *_default()");
    a = pointwise_base(L);
    a.n = 1;
    EXPECT("valid, n = 1", S_OK, NULL);
    a = pointwise_base(L);
    a.n = 300;
    EXPECT("valid, n = 300", S_OK, NULL);
    if (c->verb == V_GRAD) {
        a = pointwise_base(L);
        a.grad.data = W.input + PW_N; /* right after input: no shared byte */
        EXPECT("grad.data adjacent to input", S_OK, NULL);
    }
    if (c->verb == V_PER_ELEMENT) {
        a = pointwise_base(L);
        a.out = W.input + PW_N;
        EXPECT("out adjacent to input", S_OK, NULL);
    }

    /* NULL pointers. */
    a = pointwise_base(L);
    a.input = NULL;
    EXPECT("input = NULL", E_NULL, "input");
    a = pointwise_base(L);
    a.target = NULL;
    EXPECT("target = NULL", E_NULL, "target");
    if (c->verb != V_PER_ELEMENT) {
        a = pointwise_base(L);
        a.loss = NULL;
        EXPECT("loss = NULL", E_NULL, "loss");
    }
    if (c->verb == V_GRAD) {
        a = pointwise_base(L);
        a.grad.data = NULL;
        EXPECT("grad.data = NULL", E_NULL, "grad.data");
    }
    if (c->verb == V_PER_ELEMENT) {
        a = pointwise_base(L);
        a.out = NULL;
        EXPECT("out = NULL", E_NULL, "out");
    }

    /* Misaligned pointers. */
    a = pointwise_base(L);
    a.input = misaligned_float(W.input);
    EXPECT("input misaligned", E_ALIGN, "input");
    a = pointwise_base(L);
    a.target = misaligned_float(W.target);
    EXPECT("target misaligned", E_ALIGN, "target");
    if (c->verb != V_PER_ELEMENT) {
        a = pointwise_base(L);
        a.loss = misaligned_float(W.loss);
        EXPECT("loss misaligned", E_ALIGN, "loss");
    }
    if (c->verb == V_GRAD) {
        a = pointwise_base(L);
        a.grad.data = misaligned_float(W.grad);
        EXPECT("grad.data misaligned", E_ALIGN, "grad.data");
    }
    if (c->verb == V_PER_ELEMENT) {
        a = pointwise_base(L);
        a.out = misaligned_float(W.out);
        EXPECT("out misaligned", E_ALIGN, "out");
    }

    /* Outputs over inputs. */
    if (c->verb == V_GRAD) {
        a = pointwise_base(L);
        a.grad.data = W.input;
        EXPECT("grad.data = input", E_OVERLAP, "grad.data");
        a = pointwise_base(L);
        a.grad.data = W.input + PW_N - 1;
        EXPECT("grad.data over input's last element", E_OVERLAP, "grad.data");
        a = pointwise_base(L);
        a.grad.data = W.target + 3;
        EXPECT("grad.data inside target", E_OVERLAP, "grad.data");
        a = pointwise_base(L);
        a.grad.data = W.input + PW_N - 1;
        a.grad.accumulate = true;
        EXPECT("grad.data over input, accumulate", E_OVERLAP, "grad.data");
    }
    if (c->verb == V_PER_ELEMENT) {
        a = pointwise_base(L);
        a.out = W.input;
        EXPECT("out = input", E_OVERLAP, "out");
        a = pointwise_base(L);
        a.out = W.input + 1;
        EXPECT("out = input + 1", E_OVERLAP, "out");
        a = pointwise_base(L);
        a.out = W.target + PW_N - 1;
        EXPECT("out over target's last element", E_OVERLAP, "out");
    }
    /* `*loss` over an input or over the gradient: refused, not overwritten. */
    if (c->verb != V_PER_ELEMENT) {
        a = pointwise_base(L);
        a.loss = W.input + 2;
        EXPECT("loss inside input", E_OVERLAP, "loss");
        a = pointwise_base(L);
        a.loss = W.target + PW_N - 1;
        EXPECT("loss = target's last element", E_OVERLAP, "loss");
    }
    if (c->verb == V_GRAD) {
        a = pointwise_base(L);
        a.loss = W.grad + 1;
        EXPECT("loss inside grad.data", E_OVERLAP, "loss");
    }

    /* Sizes. */
    a = pointwise_base(L);
    a.n = 0;
    EXPECT("n = 0", E_EMPTY, "input");
    a = pointwise_base(L);
    a.n = SIZE_MAX / 2;
    EXPECT("n = SIZE_MAX / 2 (n * 4 bytes overflows)", E_SHAPE, "input");
    a = pointwise_base(L);
    a.n = SIZE_MAX / 4;
    EXPECT("n = SIZE_MAX / 4 (n * 4 bytes > PTRDIFF_MAX)", E_SHAPE, "input");

    common_cases(c, pointwise_base);

    /* A weight map. */
    if (L->weight_off != NO_FIELD) {
        a = pointwise_base(L);
        use_defaults(L, &a, &o);
        set_ptr(&o, L->weight_off, W.weight);
        EXPECT("weight map", S_OK, NULL);
        a = pointwise_base(L);
        use_defaults(L, &a, &o);
        set_ptr(&o, L->weight_off, misaligned_float(W.weight));
        EXPECT("weight misaligned", E_ALIGN, "weight");
        if (c->verb == V_GRAD) {
            a = pointwise_base(L);
            use_defaults(L, &a, &o);
            set_ptr(&o, L->weight_off, W.weight);
            a.grad.data = W.weight;
            EXPECT("grad.data = weight", E_OVERLAP, "grad.data");
        }
        if (c->verb == V_PER_ELEMENT) {
            a = pointwise_base(L);
            use_defaults(L, &a, &o);
            set_ptr(&o, L->weight_off, W.weight);
            a.out = W.weight + 2;
            EXPECT("out inside weight", E_OVERLAP, "out");
        }
    }

    if (L->flags & F_BCE_RANGE) {
        bce_range_cases(c);
    }
    if (L->flags & F_POS_WEIGHT) {
        pos_weight_cases(c);
    }
}

/* ------------------------------------------------------------------ */
/* Class-axis losses: softmax CE and focal, the Dice family            */
/* ------------------------------------------------------------------ */

#define CA_N 2
#define CA_C 3
#define CA_S 4
#define CA_NS (CA_N * CA_S)
#define CA_NCS (CA_N * CA_C * CA_S)

static const simdloss_target_kind INDEX_KINDS[] = {
    SIMDLOSS_TARGET_U8,  SIMDLOSS_TARGET_U16, SIMDLOSS_TARGET_U32, SIMDLOSS_TARGET_U64,
    SIMDLOSS_TARGET_I32, SIMDLOSS_TARGET_I64, SIMDLOSS_TARGET_SIZE,
};
#define N_INDEX_KINDS (sizeof INDEX_KINDS / sizeof INDEX_KINDS[0])

static const char *kind_name(simdloss_target_kind k)
{
    static const char *const names[] = {"0",   "U8",  "U16",  "U32",          "U64",
                                        "I32", "I64", "SIZE", "PROBABILITIES"};
    return k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

/* Label `i` in every label buffer (each in its own type). */
static void set_label(size_t i, int64_t v)
{
    W.l_u8[i] = (uint8_t)v;
    W.l_u16[i] = (uint16_t)v;
    W.l_u32[i] = (uint32_t)v;
    W.l_u64[i] = (uint64_t)v;
    W.l_i32[i] = (int32_t)v;
    W.l_i64[i] = v;
    W.l_size[i] = (size_t)v;
}

static simdloss_target index_target(simdloss_target_kind kind, size_t len)
{
    simdloss_target t;
    t.kind = kind;
    t.len = len;
    switch (kind) {
    case SIMDLOSS_TARGET_U8: t.data = W.l_u8; break;
    case SIMDLOSS_TARGET_U16: t.data = W.l_u16; break;
    case SIMDLOSS_TARGET_U32: t.data = W.l_u32; break;
    case SIMDLOSS_TARGET_U64: t.data = W.l_u64; break;
    case SIMDLOSS_TARGET_I32: t.data = W.l_i32; break;
    case SIMDLOSS_TARGET_SIZE: t.data = W.l_size; break;
    case SIMDLOSS_TARGET_PROBABILITIES: t.data = W.target; break;
    default: t.data = W.l_i64; break;
    }
    return t;
}

static int64_t base_label(size_t i, size_t c)
{
    return (int64_t)(c == 1 ? i % 2 : i % c); /* c = 1: a 0/1 foreground mask */
}

/* Logits, every label buffer and the probabilities for shape `s`. */
static void reset_class_data(simdloss_shape s)
{
    size_t i, ni, ci, si;
    for (i = 0; i < BIG; i++) {
        W.input[i] = 0.05f + 0.1f * (float)((i * 7u) % 9u); /* in (0, 1): Dice without activation too */
        W.target[i] = 0.0f;
        W.weight[i] = 0.5f + 0.25f * (float)(i % 4);
    }
    for (i = 0; i < LABELS; i++) {
        set_label(i, base_label(i, s.c));
    }
    for (ni = 0; ni < s.n; ni++) {
        for (ci = 0; ci < s.c; ci++) {
            for (si = 0; si < s.s; si++) {
                const size_t j = (ni * s.c + ci) * s.s + si;
                const int64_t y = base_label(ni * s.s + si, s.c);
                if (s.c == 1) {
                    W.target[j] = (float)y;
                } else {
                    W.target[j] = (int64_t)ci == y ? 0.7f : 0.3f / (float)(s.c - 1);
                }
            }
        }
    }
}

/* out_len of a per-element call with options `o` (NULL: the defaults). */
static size_t class_pe_len(const loss_desc *L, const any_options *o, simdloss_shape s)
{
    any_options d;
    bool include_bg = true, batch = false;
    if (o == NULL) {
        L->defaults(&d);
        o = &d;
    }
    if (L->include_bg_off != NO_FIELD) {
        include_bg = get_bool(o, L->include_bg_off);
    }
    if (L->batch_off != NO_FIELD) {
        batch = get_bool(o, L->batch_off);
    }
    switch (L->pe) {
    case PE_SAMPLES: return s.n * s.s;
    case PE_CLASSES_KEPT: return (batch ? 1 : s.n) * (s.c - (include_bg ? 0 : 1));
    case PE_IMAGES: return batch ? 1 : s.n;
    default: return 0;
    }
}

static void fix_out_len(const loss_desc *L, call_args *a)
{
    a->out_len = class_pe_len(L, (const any_options *)a->options, a->shape);
}

static call_args class_args(const loss_desc *L, simdloss_shape s)
{
    call_args a;
    reset_class_data(s);
    memset(&a, 0, sizeof a);
    a.options = NULL;
    a.input = W.input;
    a.shape = s;
    a.ctarget = index_target(SIMDLOSS_TARGET_I64, s.n * s.s);
    a.reduction = SIMDLOSS_REDUCTION_MEAN;
    a.grad = simdloss_grad_overwrite(W.grad);
    a.loss = W.loss;
    a.out = W.out;
    a.out_len = class_pe_len(L, NULL, s);
    a.detail = NULL;
    return a;
}

static simdloss_shape make_shape(size_t n, size_t c, size_t s)
{
    simdloss_shape sh;
    sh.n = n;
    sh.c = c;
    sh.s = s;
    return sh;
}

static call_args class_base(const loss_desc *L)
{
    return class_args(L, make_shape(CA_N, CA_C, CA_S));
}

static simdloss_target probabilities(size_t len)
{
    return index_target(SIMDLOSS_TARGET_PROBABILITIES, len);
}

static void class_valid_cases(const fn_ctx *c)
{
    const loss_desc *L = c->L;
    call_args a;
    any_options o;
    char what[96];
    size_t k;

    a = class_base(L);
    EXPECT("valid, options = NULL", S_OK, NULL);
    save_outputs();
    a = class_base(L);
    use_defaults(L, &a, &o);
    EXPECT("valid, options = *_default()", S_OK, NULL);
    compare_outputs(c, "valid, options = *_default()");

    for (k = 0; k < N_INDEX_KINDS; k++) {
        a = class_base(L);
        a.ctarget = index_target(INDEX_KINDS[k], CA_NS);
        snprintf(what, sizeof what, "valid, target.kind = %s", kind_name(INDEX_KINDS[k]));
        EXPECT(what, S_OK, NULL);
    }
    a = class_base(L);
    a.ctarget = probabilities(CA_NCS);
    if (L->flags & F_NO_PROBABILITIES) {
        EXPECT("target.kind = PROBABILITIES (index targets only)", E_TARGET, "target");
    } else {
        EXPECT("valid, target.kind = PROBABILITIES", S_OK, NULL);
    }

    a = class_args(L, make_shape(5, 4, 1));
    EXPECT("valid, classifier shape [5, 4, 1]", S_OK, NULL);
    a = class_args(L, make_shape(3, 5, 67));
    a.ctarget = index_target(SIMDLOSS_TARGET_U8, 3 * 67);
    EXPECT("valid, shape [3, 5, 67], U8 labels", S_OK, NULL);

    a = class_base(L);
    set_label(2, SIMDLOSS_DEFAULT_IGNORE_INDEX);
    EXPECT("valid, label[2] = ignore_index (-100)", S_OK, NULL);
    a = class_base(L);
    use_defaults(L, &a, &o);
    set_i64(&o, L->ignore_off, 255);
    a.ctarget = index_target(SIMDLOSS_TARGET_U8, CA_NS);
    set_label(3, 255);
    EXPECT("valid, U8 label[3] = ignore_index = 255", S_OK, NULL);

    if (c->verb == V_GRAD) {
        a = class_base(L);
        a.grad.data = W.input + CA_NCS;
        EXPECT("grad.data adjacent to input", S_OK, NULL);
    }
    if (c->verb == V_PER_ELEMENT) {
        a = class_base(L);
        a.out = W.input + CA_NCS;
        EXPECT("out adjacent to input", S_OK, NULL);
    }

    if (L->weight_off != NO_FIELD) {
        a = class_base(L);
        use_defaults(L, &a, &o);
        set_ptr(&o, L->weight_off, W.weight);
        set_size(&o, L->weight_len_off, CA_C);
        EXPECT("valid, class weights (weight_len = c)", S_OK, NULL);
    }

    if (L->flags & F_DICE) {
        a = class_base(L);
        use_defaults(L, &a, &o);
        set_bool(&o, L->batch_off, true);
        fix_out_len(L, &a);
        EXPECT("valid, batch = true", S_OK, NULL);
        a = class_base(L);
        use_defaults(L, &a, &o);
        set_bool(&o, L->include_bg_off, false);
        fix_out_len(L, &a);
        EXPECT("valid, include_background = false", S_OK, NULL);
        if (L->weight_off != NO_FIELD) {
            const size_t len = (L->flags & F_WEIGHT_KEPT) ? CA_C - 1 : CA_C;
            set_ptr(&o, L->weight_off, W.weight);
            set_size(&o, L->weight_len_off, len);
            snprintf(what, sizeof what,
                     "valid, include_background = false, weight_len = %zu", len);
            EXPECT(what, S_OK, NULL);
        }
        if (L->activation_off != NO_FIELD) {
            a = class_args(L, make_shape(CA_N, 1, CA_S));
            use_defaults(L, &a, &o);
            set_u32(&o, L->activation_off, SIMDLOSS_ACTIVATION_SIGMOID);
            fix_out_len(L, &a);
            EXPECT("valid, c = 1, sigmoid, 0/1 labels", S_OK, NULL);
        }
    }
}

static void class_pointer_cases(const fn_ctx *c)
{
    const loss_desc *L = c->L;
    call_args a;
    any_options o;
    char what[96];
    size_t k;

    /* NULL. */
    a = class_base(L);
    a.input = NULL;
    EXPECT("input = NULL", E_NULL, "input");
    a = class_base(L);
    a.ctarget.data = NULL;
    EXPECT("target.data = NULL", E_NULL, "target.data");
    a = class_base(L);
    a.ctarget = probabilities(CA_NCS);
    a.ctarget.data = NULL;
    EXPECT("target.data = NULL (PROBABILITIES)", E_NULL, "target.data");
    if (c->verb != V_PER_ELEMENT) {
        a = class_base(L);
        a.loss = NULL;
        EXPECT("loss = NULL", E_NULL, "loss");
    }
    if (c->verb == V_GRAD) {
        a = class_base(L);
        a.grad.data = NULL;
        EXPECT("grad.data = NULL", E_NULL, "grad.data");
    }
    if (c->verb == V_PER_ELEMENT) {
        a = class_base(L);
        a.out = NULL;
        EXPECT("out = NULL", E_NULL, "out");
    }

    /* Misaligned. */
    a = class_base(L);
    a.input = misaligned_float(W.input);
    EXPECT("input misaligned", E_ALIGN, "input");
    for (k = 0; k < N_INDEX_KINDS; k++) {
        if (INDEX_KINDS[k] == SIMDLOSS_TARGET_U8) {
            continue; /* every address is aligned for uint8_t */
        }
        a = class_base(L);
        a.ctarget = index_target(INDEX_KINDS[k], CA_NS);
        a.ctarget.data = misaligned_void(a.ctarget.data);
        snprintf(what, sizeof what, "target.data misaligned (%s)", kind_name(INDEX_KINDS[k]));
        EXPECT(what, E_ALIGN, "target.data");
    }
    a = class_base(L);
    a.ctarget = probabilities(CA_NCS);
    a.ctarget.data = misaligned_void(W.target);
    EXPECT("target.data misaligned (PROBABILITIES)", E_ALIGN, "target.data");
    if (c->verb != V_PER_ELEMENT) {
        a = class_base(L);
        a.loss = misaligned_float(W.loss);
        EXPECT("loss misaligned", E_ALIGN, "loss");
    }
    if (c->verb == V_GRAD) {
        a = class_base(L);
        a.grad.data = misaligned_float(W.grad);
        EXPECT("grad.data misaligned", E_ALIGN, "grad.data");
    }
    if (c->verb == V_PER_ELEMENT) {
        a = class_base(L);
        a.out = misaligned_float(W.out);
        EXPECT("out misaligned", E_ALIGN, "out");
    }
    if (L->weight_off != NO_FIELD) {
        a = class_base(L);
        use_defaults(L, &a, &o);
        set_ptr(&o, L->weight_off, misaligned_float(W.weight));
        set_size(&o, L->weight_len_off, CA_C);
        EXPECT("weight misaligned", E_ALIGN, "weight");
    }

    /* `*loss` over an input or over the gradient: refused, not overwritten. */
    if (c->verb != V_PER_ELEMENT) {
        a = class_base(L);
        a.loss = W.input + 3;
        EXPECT("loss inside input", E_OVERLAP, "loss");
    }
    if (c->verb == V_GRAD) {
        a = class_base(L);
        a.loss = W.grad + CA_NCS - 1;
        EXPECT("loss = grad.data's last element", E_OVERLAP, "loss");
    }

    /* Outputs over inputs. */
    if (c->verb == V_GRAD || c->verb == V_PER_ELEMENT) {
        const bool grad = c->verb == V_GRAD;
        const char *arg = grad ? "grad.data" : "out";
        struct {
            const char *what;
            float *at;
            simdloss_target_kind kind;
        } over[5];
        size_t n_over = 0, i;
        over[n_over].what = "= input";
        over[n_over].at = W.input;
        over[n_over++].kind = SIMDLOSS_TARGET_I64;
        over[n_over].what = "over input's last element";
        over[n_over].at = W.input + CA_NCS - 1;
        over[n_over++].kind = SIMDLOSS_TARGET_I64;
        over[n_over].what = "over the I64 labels' last element";
        over[n_over].at = as_float(&W.l_i64[CA_NS - 1]);
        over[n_over++].kind = SIMDLOSS_TARGET_I64;
        over[n_over].what = "inside the I32 labels";
        over[n_over].at = as_float(&W.l_i32[1]);
        over[n_over++].kind = SIMDLOSS_TARGET_I32;
        over[n_over].what = "inside the probabilities";
        over[n_over].at = W.target + 5;
        over[n_over++].kind = SIMDLOSS_TARGET_PROBABILITIES;
        for (i = 0; i < n_over; i++) {
            a = class_base(L);
            a.ctarget = index_target(over[i].kind,
                                     over[i].kind == SIMDLOSS_TARGET_PROBABILITIES ? CA_NCS
                                                                                     : CA_NS);
            if (grad) {
                a.grad.data = over[i].at;
            } else {
                a.out = over[i].at;
            }
            snprintf(what, sizeof what, "%s %s", arg, over[i].what);
            EXPECT(what, E_OVERLAP, arg);
        }
        if (L->weight_off != NO_FIELD) {
            a = class_base(L);
            use_defaults(L, &a, &o);
            set_ptr(&o, L->weight_off, W.weight);
            set_size(&o, L->weight_len_off, CA_C);
            if (grad) {
                a.grad.data = W.weight + 1;
            } else {
                a.out = W.weight + 2;
            }
            snprintf(what, sizeof what, "%s inside the class weights", arg);
            EXPECT(what, E_OVERLAP, arg);
        }
    }
}

static void class_shape_and_length_cases(const fn_ctx *c)
{
    const loss_desc *L = c->L;
    call_args a;
    any_options o;
    char what[96];
    size_t i;
    const struct {
        size_t n, c, s;
        const char *argument;
    } bad_shapes[] = {
        {0, CA_C, CA_S, "shape.n"},
        {CA_N, 0, CA_S, "shape.c"},
        {CA_N, CA_C, 0, "shape.s"},
        {0, 0, 0, "shape.n"},
        {CA_N, ((size_t)1 << 24) + 1, 1, "shape.c"},
        {SIZE_MAX / 2, CA_C, 1, "shape"},         /* n·c overflows */
        {CA_N, CA_C, SIZE_MAX / 4, "shape"},      /* (n·c)·s overflows */
        {SIZE_MAX / 4, 1, 1, "input"},            /* n·c·s fits, its bytes do not */
    };

    for (i = 0; i < sizeof bad_shapes / sizeof bad_shapes[0]; i++) {
        a = class_base(L);
        a.shape = make_shape(bad_shapes[i].n, bad_shapes[i].c, bad_shapes[i].s);
        snprintf(what, sizeof what, "shape = [%zu, %zu, %zu]", bad_shapes[i].n,
                 bad_shapes[i].c, bad_shapes[i].s);
        EXPECT(what, E_SHAPE, bad_shapes[i].argument);
    }

    if (L->flags & F_DICE) {
        a = class_args(L, make_shape(CA_N, 129, 1));
        EXPECT("shape = [2, 129, 1] (Dice family: c <= 128)", E_SHAPE, "shape.c");
        if (L->activation_off != NO_FIELD) {
            a = class_args(L, make_shape(CA_N, 1, CA_S));
            use_defaults(L, &a, &o);
            set_u32(&o, L->activation_off, SIMDLOSS_ACTIVATION_SOFTMAX);
            fix_out_len(L, &a);
            EXPECT("c = 1 with softmax", E_SHAPE, "shape.c");
        }
        if (L->flags & F_ALWAYS_SOFTMAX) {
            a = class_args(L, make_shape(CA_N, 1, CA_S));
            EXPECT("c = 1 (softmax always)", E_SHAPE, "shape.c");
        }
        a = class_args(L, make_shape(CA_N, 1, CA_S));
        use_defaults(L, &a, &o);
        set_bool(&o, L->include_bg_off, false);
        if (L->activation_off != NO_FIELD) {
            set_u32(&o, L->activation_off, SIMDLOSS_ACTIVATION_SIGMOID);
        }
        fix_out_len(L, &a); /* n·(c − 1) = 0: the out length is checked first */
        EXPECT("c = 1 without the background", E_SHAPE, "shape.c");
    }

    /* target.len. */
    {
        const size_t lens[] = {CA_NS - 1, CA_NS + 1, 0};
        for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            a = class_base(L);
            a.ctarget.len = lens[i];
            snprintf(what, sizeof what, "target.len = %zu (labels, n·s = %d)", lens[i], CA_NS);
            EXPECT(what, E_LEN, "target");
        }
        a = class_base(L);
        a.ctarget = probabilities(CA_NCS - 1);
        if (L->flags & F_NO_PROBABILITIES) {
            EXPECT("target.len = n·c·s - 1 (PROBABILITIES, unsupported first)", E_TARGET,
                   "target");
        } else {
            EXPECT("target.len = n·c·s - 1 (PROBABILITIES)", E_LEN, "target");
        }
        a = class_base(L);
        a.ctarget = probabilities(CA_NS);
        if (!(L->flags & F_NO_PROBABILITIES)) {
            EXPECT("target.len = n·s (PROBABILITIES need n·c·s)", E_LEN, "target");
        }
        a = class_base(L);
        a.ctarget.len = SIZE_MAX / 2;
        EXPECT("target.len = SIZE_MAX / 2 (bytes overflow)", E_SHAPE, "target.data");
    }

    /* out_len. */
    if (c->verb == V_PER_ELEMENT) {
        const size_t good = class_pe_len(L, NULL, make_shape(CA_N, CA_C, CA_S));
        const size_t lens[] = {good - 1, good + 1, 0, CA_NCS};
        for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            a = class_base(L);
            a.out_len = lens[i];
            snprintf(what, sizeof what, "out_len = %zu (expected %zu)", lens[i], good);
            EXPECT(what, E_LEN, "out");
        }
        a = class_base(L);
        a.out_len = SIZE_MAX / 2;
        EXPECT("out_len = SIZE_MAX / 2 (bytes overflow)", E_SHAPE, "out");
        if (L->flags & F_DICE) {
            a = class_base(L);
            use_defaults(L, &a, &o);
            set_bool(&o, L->batch_off, true);
            EXPECT("batch = true with the out_len of batch = false", E_LEN, "out");
        }
    }

    /* weight_len. */
    if (L->weight_off != NO_FIELD) {
        const size_t lens[] = {CA_C - 1, CA_C + 1, 0};
        for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            a = class_base(L);
            use_defaults(L, &a, &o);
            set_ptr(&o, L->weight_off, W.weight);
            set_size(&o, L->weight_len_off, lens[i]);
            snprintf(what, sizeof what, "weight_len = %zu (c = %d)", lens[i], CA_C);
            EXPECT(what, E_LEN, "weight");
        }
        a = class_base(L);
        use_defaults(L, &a, &o);
        set_ptr(&o, L->weight_off, W.weight);
        set_size(&o, L->weight_len_off, SIZE_MAX / 2);
        EXPECT("weight_len = SIZE_MAX / 2 (bytes overflow)", E_SHAPE, "weight");
        if (L->flags & F_WEIGHT_KEPT) {
            a = class_base(L);
            use_defaults(L, &a, &o);
            set_bool(&o, L->include_bg_off, false);
            set_ptr(&o, L->weight_off, W.weight);
            set_size(&o, L->weight_len_off, CA_C);
            fix_out_len(L, &a);
            EXPECT("include_background = false, weight_len = c (needs c - 1)", E_LEN, "weight");
        }
    }

    /* target.kind. */
    {
        static const uint32_t kinds[] = {0u, 9u, 100u, UINT32_MAX};
        for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            a = class_base(L);
            a.ctarget.kind = kinds[i];
            snprintf(what, sizeof what, "target.kind = %lu", (unsigned long)kinds[i]);
            EXPECT(what, E_PARAM, "target.kind");
        }
    }
}

static void class_label_cases(const fn_ctx *c)
{
    const loss_desc *L = c->L;
    call_args a;
    any_options o;
    char what[96];
    size_t k;

    for (k = 0; k < N_INDEX_KINDS; k++) {
        a = class_base(L);
        a.ctarget = index_target(INDEX_KINDS[k], CA_NS);
        set_label(5, CA_C);
        snprintf(what, sizeof what, "%s label[5] = c", kind_name(INDEX_KINDS[k]));
        EXPECT_AT(what, E_LABEL, "target", 5);

        a = class_base(L);
        a.ctarget = index_target(INDEX_KINDS[k], CA_NS);
        set_label(CA_NS - 1, -1); /* 255, 65535, ..., -1: never a class */
        snprintf(what, sizeof what, "%s label[%d] = (type)-1", kind_name(INDEX_KINDS[k]),
                 CA_NS - 1);
        EXPECT_AT(what, E_LABEL, "target", CA_NS - 1);
    }

    a = class_base(L);
    set_label(3, 7);
    set_label(6, -5);
    EXPECT_AT("label[3] = 7 and label[6] = -5: the first", E_LABEL, "target", 3);

    a = class_base(L);
    use_defaults(L, &a, &o);
    set_i64(&o, L->ignore_off, 0);
    set_label(4, SIMDLOSS_DEFAULT_IGNORE_INDEX);
    EXPECT_AT("ignore_index = 0, label[4] = -100", E_LABEL, "target", 4);

    a = class_base(L);
    a.ctarget = index_target(SIMDLOSS_TARGET_U8, CA_NS);
    set_label(1, SIMDLOSS_DEFAULT_IGNORE_INDEX); /* (uint8_t)-100 = 156 */
    EXPECT_AT("U8 label[1] = (uint8_t)-100, ignore_index -100", E_LABEL, "target", 1);

    for (k = 0; k < 3; k++) {
        static const simdloss_target_kind kinds[] = {SIMDLOSS_TARGET_U8, SIMDLOSS_TARGET_U16,
                                                     SIMDLOSS_TARGET_I64};
        a = class_args(L, make_shape(3, 5, 67));
        a.ctarget = index_target(kinds[k], 3 * 67);
        set_label(150, 5);
        snprintf(what, sizeof what, "shape [3, 5, 67], %s label[150] = 5", kind_name(kinds[k]));
        EXPECT_AT(what, E_LABEL, "target", 150);
    }

    if ((L->flags & F_DICE) && L->activation_off != NO_FIELD) {
        a = class_args(L, make_shape(CA_N, 1, CA_S));
        use_defaults(L, &a, &o);
        set_u32(&o, L->activation_off, SIMDLOSS_ACTIVATION_SIGMOID);
        fix_out_len(L, &a);
        set_label(3, 2);
        EXPECT_AT("c = 1 (0/1 mask), label[3] = 2", E_LABEL, "target", 3);
    }

    if (L->flags & F_DICE_WEIGHT_RANGE) {
        /* The function docs say _INVALID_PARAMETER for a negative class
         * weight; the library returns _OUT_OF_RANGE with the index (see
         * the report). This checks what it does. */
        a = class_base(L);
        use_defaults(L, &a, &o);
        set_ptr(&o, L->weight_off, W.weight);
        set_size(&o, L->weight_len_off, CA_C);
        W.weight[1] = -0.5f;
        EXPECT_AT("weight[1] = -0.5", E_RANGE, "weight", 1);
        a = class_base(L);
        use_defaults(L, &a, &o);
        set_ptr(&o, L->weight_off, W.weight);
        set_size(&o, L->weight_len_off, CA_C);
        W.weight[2] = -INFINITY;
        W.weight[0] = 1.0f;
        EXPECT_AT("weight[2] = -INFINITY", E_RANGE, "weight", 2);
        a = class_base(L);
        use_defaults(L, &a, &o);
        set_ptr(&o, L->weight_off, W.weight);
        set_size(&o, L->weight_len_off, CA_C);
        W.weight[0] = -1.0f;
        W.weight[2] = -2.0f;
        EXPECT_AT("weight[0] = -1, weight[2] = -2: the first", E_RANGE, "weight", 0);
    }
}

static void test_class(const fn_ctx *c)
{
    class_valid_cases(c);
    class_pointer_cases(c);
    class_shape_and_length_cases(c);
    common_cases(c, class_base);
    class_label_cases(c);
}

/* ------------------------------------------------------------------ */
/* The functions that are not losses                                   */
/* ------------------------------------------------------------------ */

static void test_messages(void)
{
    const char *unknown = simdloss_status_message(99);
    const int unknown_codes[] = {-1, 13, 99, INT_MIN, INT_MAX};
    int i, j;
    for (i = 0; i < N_CODES; i++) {
        const char *m = simdloss_status_message(i);
        check(m != NULL, "simdloss_status_message", STATUS_NAMES[i], "NULL");
        if (m == NULL) {
            continue;
        }
        check(m[0] != '\0', "simdloss_status_message", STATUS_NAMES[i], "empty message");
        check(unknown == NULL || strcmp(m, unknown) != 0, "simdloss_status_message",
              STATUS_NAMES[i], "the unknown-status message \"%s\"", m);
        for (j = 0; j < i; j++) {
            const char *other = simdloss_status_message(j);
            check(other == NULL || strcmp(m, other) != 0, "simdloss_status_message",
                  STATUS_NAMES[i], "same message as %s: \"%s\"", STATUS_NAMES[j], m);
        }
    }
    for (i = 0; i < (int)(sizeof unknown_codes / sizeof unknown_codes[0]); i++) {
        const char *m = simdloss_status_message(unknown_codes[i]);
        char what[32];
        snprintf(what, sizeof what, "status %d", unknown_codes[i]);
        check(m != NULL, "simdloss_status_message", what, "NULL for an unknown status");
        check(m != NULL && strcmp(m, "unknown simdloss status") == 0,
              "simdloss_status_message", what, "\"%s\", expected \"unknown simdloss status\"",
              m ? m : "(NULL)");
    }
}

static void test_isa_queries(void)
{
    const simdloss_isa best = simdloss_isa_best();
    static const simdloss_isa candidates[] = {SIMDLOSS_ISA_AVX2, SIMDLOSS_ISA_AVX512,
                                              SIMDLOSS_ISA_NEON};
    static const uint32_t names[] = {0u, 1u, 2u, 3u, 4u, 5u, 6u, 99u, UINT32_MAX};
    size_t i;

    check(best != SIMDLOSS_ISA_AUTO, "simdloss_isa_best", "()", "returned SIMDLOSS_ISA_AUTO");
    check(best >= SIMDLOSS_ISA_SCALAR && best <= SIMDLOSS_ISA_NEON, "simdloss_isa_best", "()",
          "returned %lu, not a SIMDLOSS_ISA_* value", (unsigned long)best);
    check(simdloss_isa_available(best), "simdloss_isa_available", "best",
          "the best ISA is not available");
    check(simdloss_isa_available(SIMDLOSS_ISA_AUTO), "simdloss_isa_available", "AUTO", "false");
    check(simdloss_isa_available(SIMDLOSS_ISA_SCALAR), "simdloss_isa_available", "SCALAR",
          "false");
    check(simdloss_isa_available(SIMDLOSS_ISA_WIDE), "simdloss_isa_available", "WIDE", "false");
    check(!simdloss_isa_available(6u), "simdloss_isa_available", "6", "true for an unknown ISA");
    check(!simdloss_isa_available(99u), "simdloss_isa_available", "99",
          "true for an unknown ISA");
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *name = simdloss_isa_name(names[i]);
        char what[32];
        snprintf(what, sizeof what, "isa %lu", (unsigned long)names[i]);
        check(name != NULL && name[0] != '\0', "simdloss_isa_name", what, "NULL or empty");
        if (name != NULL && names[i] > SIMDLOSS_ISA_NEON) {
            check(strcmp(name, "unknown") == 0, "simdloss_isa_name", what,
                  "\"%s\", expected \"unknown\"", name);
        }
    }
    {
        const char *bn = simdloss_isa_name(best);
        check(bn != NULL && strcmp(bn, "unknown") != 0 && strcmp(bn, "auto") != 0,
              "simdloss_isa_name", "best", "\"%s\"", bn ? bn : "(NULL)");
        printf("errors.c: best ISA here: %s\n", bn ? bn : "(NULL)");
    }

    g_unavailable_isa = 0;
    for (i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        if (!simdloss_isa_available(candidates[i])) {
            g_unavailable_isa = candidates[i];
            break;
        }
    }
    if (g_unavailable_isa != 0) {
        printf("errors.c: SIMDLOSS_ERROR_ISA_UNAVAILABLE checked with isa = %s (unavailable here)\n",
               simdloss_isa_name(g_unavailable_isa));
    } else {
        printf("errors.c: SKIPPED: SIMDLOSS_ERROR_ISA_UNAVAILABLE checks: AVX2, AVX512 and NEON "
               "are all available on this machine\n");
    }
}

static void test_helpers_and_defaults(void)
{
    float buf[1];
    const simdloss_grad ow = simdloss_grad_overwrite(buf);
    const simdloss_grad acc = simdloss_grad_accumulate(buf);
    const char *fn = "defaults";
    check(ow.data == buf && ow.scale == 1.0f && !ow.accumulate, "simdloss_grad_overwrite", "buf",
          "not { buf, 1.0f, false }");
    check(acc.data == buf && acc.scale == 1.0f && acc.accumulate, "simdloss_grad_accumulate",
          "buf", "not { buf, 1.0f, true }");
    {
        const simdloss_huber_options h = simdloss_huber_options_default();
        const simdloss_smooth_l1_options s = simdloss_smooth_l1_options_default();
        const simdloss_bce_with_logits_options b = simdloss_bce_with_logits_options_default();
        const simdloss_sigmoid_focal_options f = simdloss_sigmoid_focal_options_default();
        const simdloss_softmax_cross_entropy_options ce =
            simdloss_softmax_cross_entropy_options_default();
        const simdloss_dice_options d = simdloss_dice_options_default();
        const simdloss_dice_cross_entropy_options dce =
            simdloss_dice_cross_entropy_options_default();
        check(h.delta == 1.0f && h.isa == SIMDLOSS_ISA_AUTO, fn, "huber", "not as documented");
        check(s.beta == 1.0f && s.isa == SIMDLOSS_ISA_AUTO, fn, "smooth_l1", "not as documented");
        check(b.weight == NULL && b.pos_weight == 1.0f && b.pos_weight_per_class == NULL &&
                  b.num_classes == 0 && b.isa == SIMDLOSS_ISA_AUTO,
              fn, "bce_with_logits", "not as documented");
        check(f.alpha == 0.25f && f.gamma == 2.0f && f.weight == NULL, fn, "sigmoid_focal",
              "not as documented");
        check(ce.weight == NULL && ce.weight_len == 0 &&
                  ce.ignore_index == SIMDLOSS_DEFAULT_IGNORE_INDEX && ce.label_smoothing == 0.0f,
              fn, "softmax_cross_entropy", "not as documented");
        check(d.activation == SIMDLOSS_ACTIVATION_NONE && !d.jaccard && !d.squared_pred &&
                  d.include_background && !d.batch && d.smooth_nr == 1e-5f &&
                  d.smooth_dr == 1e-5f && d.ignore_index == -100 && d.weight == NULL,
              fn, "dice", "not as documented");
        check(dce.lambda_dice == 1.0f && dce.lambda_ce == 1.0f && dce.label_smoothing == 0.0f &&
                  dce.include_background,
              fn, "dice_cross_entropy", "not as documented");
    }
}

/* ------------------------------------------------------------------ */

int main(void)
{
    size_t l;
    int verb, code;
    bool all_reached = true;

    test_messages();
    test_isa_queries();
    test_helpers_and_defaults();
    {
        /* The header's version macros are the linked library's version. */
        char header_version[32];
        snprintf(header_version, sizeof header_version, "%u.%u.%u", SIMDLOSS_VERSION_MAJOR,
                 SIMDLOSS_VERSION_MINOR, SIMDLOSS_VERSION_PATCH);
        check(simdloss_version() != NULL && strcmp(simdloss_version(), header_version) == 0,
              "simdloss_version", "version", "the library says %s, the header %s",
              simdloss_version() ? simdloss_version() : "(NULL)", header_version);
    }

    for (l = 0; l < N_LOSSES; l++) {
        for (verb = 0; verb < N_VERBS; verb++) {
            fn_ctx c;
            if (LOSSES[l].fn[verb] == NULL) {
                continue;
            }
            c.L = &LOSSES[l];
            c.verb = verb;
            snprintf(c.fn, sizeof c.fn, "simdloss_%s%s", LOSSES[l].name, VERB_SUFFIX[verb]);
            if (LOSSES[l].fam == FAM_POINTWISE) {
                test_pointwise(&c);
            } else {
                test_class(&c);
            }
            g_functions_tested++;
        }
    }
    check(g_functions_tested == 38, "main", "functions", "%u loss functions tested, expected 38",
          g_functions_tested);
    check(g_seen_unknown == 0, "main", "statuses", "%lu calls returned a value outside 0..12",
          g_seen_unknown);

    printf("errors.c: status codes returned:");
    for (code = 0; code < N_CODES; code++) {
        printf(" %d:%lu", code, g_seen[code]);
    }
    printf("\n");
    for (code = 0; code < N_CODES; code++) {
        if (g_seen[code] != 0) {
            continue;
        }
        if (code == (int)SIMDLOSS_ERROR_ISA_UNAVAILABLE && g_unavailable_isa == 0) {
            printf("errors.c: SKIPPED: %s never returned (no unavailable ISA to ask for)\n",
                   STATUS_NAMES[code]);
            continue;
        }
        all_reached = false;
        check(false, "main", STATUS_NAMES[code], "status code %d was never returned", code);
    }

    if (g_failures != 0) {
        printf("errors.c: %lu of %lu checks FAILED\n", g_failures, g_checks);
        return 1;
    }
    if (g_unavailable_isa == 0) {
        printf("errors.c: %lu checks passed, every status code 0..12 reached except %d "
               "(SKIPPED, see above)\n",
               g_checks, (int)SIMDLOSS_ERROR_ISA_UNAVAILABLE);
    } else if (all_reached) {
        printf("errors.c: %lu checks passed, every status code 0..12 reached\n", g_checks);
    }
    return 0;
}
