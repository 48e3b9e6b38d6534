/*
 * Trains a logistic-regression classifier with simdloss's fused
 * BCE-with-logits value + gradient, from C.
 *
 * Data: 512 points drawn uniformly from [-1, 1]^2 by an integer LCG (the
 * same bits on every machine); the label is 1 inside the circle
 * x^2 + y^2 < 0.5. Features: x, y, x^2, y^2, x*y and a bias, so a linear
 * model can draw the circle. 300 steps of full-batch gradient descent.
 *
 * It checks that
 *   - the loss fell (the last loss is under a quarter of the first), and
 *   - the first losses are, bit for bit, those in the expected file that
 *     the Rust API produces (capi/tests/c_example.rs writes and checks the
 *     same file), on every instruction set this CPU has.
 *
 * Usage: logistic_regression EXPECTED_FILE
 * Build: see run.sh. Compile with -ffp-contract=off: the model's own
 * dot products must not be fused into FMAs, or they differ from Rust's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simdloss.h"

enum { SAMPLES = 512, FEATURES = 5, STEPS = 300, CHECKED_STEPS = 20 };
static const float LEARNING_RATE = 2.0f;

static float features[SAMPLES][FEATURES];
static float labels[SAMPLES];

static uint32_t lcg_state = 12345u;

/* A uniform float in [-1, 1): a 16-bit integer scaled by 2^-15, exact. */
static float uniform(void) {
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (float)((lcg_state >> 8) & 0xFFFFu) / 32768.0f - 1.0f;
}

static void make_data(void) {
    for (int i = 0; i < SAMPLES; i++) {
        float x = uniform();
        float y = uniform();
        features[i][0] = x;
        features[i][1] = y;
        features[i][2] = x * x;
        features[i][3] = y * y;
        features[i][4] = x * y;
        labels[i] = (x * x + y * y < 0.5f) ? 1.0f : 0.0f;
    }
}

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/*
 * Runs `steps` steps on `isa`, writing each step's loss (before its
 * update) to losses[]. Returns the status of the first failing call.
 */
static simdloss_status train(simdloss_isa isa, int steps, float *losses) {
    float weights[FEATURES] = {0};
    float bias = 0.0f;
    static float logits[SAMPLES];
    static float grad[SAMPLES];
    simdloss_bce_with_logits_options options = simdloss_bce_with_logits_options_default();
    options.isa = isa;

    for (int step = 0; step < steps; step++) {
        for (int i = 0; i < SAMPLES; i++) {
            float z = bias;
            for (int j = 0; j < FEATURES; j++) {
                float product = weights[j] * features[i][j];
                z = z + product;
            }
            logits[i] = z;
        }
        float loss = 0.0f;
        simdloss_error_detail detail;
        simdloss_status status = simdloss_bce_with_logits_value_and_grad(
            &options, logits, labels, SAMPLES, SIMDLOSS_REDUCTION_MEAN,
            simdloss_grad_overwrite(grad), &loss, &detail);
        if (status != SIMDLOSS_OK) {
            fprintf(stderr, "step %d: %s (argument `%s`)\n", step,
                    simdloss_status_message(status), detail.argument);
            return status;
        }
        losses[step] = loss;
        /* grad[i] = dloss/dlogit_i (the 1/n of the mean included). */
        for (int j = 0; j < FEATURES; j++) {
            float sum = 0.0f;
            for (int i = 0; i < SAMPLES; i++) {
                float product = grad[i] * features[i][j];
                sum = sum + product;
            }
            float update = LEARNING_RATE * sum;
            weights[j] = weights[j] - update;
        }
        float bias_sum = 0.0f;
        for (int i = 0; i < SAMPLES; i++) {
            bias_sum = bias_sum + grad[i];
        }
        float bias_update = LEARNING_RATE * bias_sum;
        bias = bias - bias_update;
    }
    return SIMDLOSS_OK;
}

/* Reads the `bits 0x........` of each line of the expected file. */
static int read_expected(const char *path, uint32_t *bits, int count) {
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return 0;
    }
    char line[256];
    int read = 0;
    while (read < count && fgets(line, sizeof line, file) != NULL) {
        const char *at = strstr(line, "bits 0x");
        unsigned long value;
        if (at != NULL && sscanf(at, "bits 0x%lx", &value) == 1) {
            bits[read++] = (uint32_t)value;
        }
    }
    fclose(file);
    return read == count;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s EXPECTED_FILE\n", argv[0]);
        return 2;
    }
    uint32_t expected[CHECKED_STEPS];
    if (!read_expected(argv[1], expected, CHECKED_STEPS)) {
        fprintf(stderr, "%s: fewer than %d `bits 0x...` lines\n", argv[1], CHECKED_STEPS);
        return 2;
    }
    make_data();

    simdloss_isa best = simdloss_isa_best();
    printf("simdloss %s (C API): logistic regression, %d samples, %d features + bias, isa %s\n",
           simdloss_version(), SAMPLES, FEATURES, simdloss_isa_name(best));
    static float losses[STEPS];
    if (train(SIMDLOSS_ISA_AUTO, STEPS, losses) != SIMDLOSS_OK) {
        return 1;
    }
    for (int step = 0; step < STEPS; step++) {
        if (step < 5 || step % 25 == 0 || step == STEPS - 1) {
            printf("step %3d  loss %.6f\n", step, (double)losses[step]);
        }
    }

    int failed = 0;
    for (int step = 0; step < CHECKED_STEPS; step++) {
        if (bits_of(losses[step]) != expected[step]) {
            printf("FAIL: step %d loss bits 0x%08x, the Rust API gives 0x%08x\n", step,
                   (unsigned)bits_of(losses[step]), (unsigned)expected[step]);
            failed = 1;
        }
    }
    if (!(losses[STEPS - 1] < 0.25f * losses[0])) {
        printf("FAIL: the loss did not fall to a quarter: %f -> %f\n", (double)losses[0],
               (double)losses[STEPS - 1]);
        failed = 1;
    }

    /* The same first steps on every instruction set this CPU has. */
    const simdloss_isa isas[] = {SIMDLOSS_ISA_SCALAR, SIMDLOSS_ISA_WIDE, SIMDLOSS_ISA_AVX2,
                                 SIMDLOSS_ISA_AVX512, SIMDLOSS_ISA_NEON};
    for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++) {
        if (!simdloss_isa_available(isas[k])) {
            continue;
        }
        float first[CHECKED_STEPS];
        if (train(isas[k], CHECKED_STEPS, first) != SIMDLOSS_OK) {
            return 1;
        }
        int same = memcmp(first, losses, sizeof first) == 0;
        printf("isa %-6s: first %d losses %s\n", simdloss_isa_name(isas[k]), CHECKED_STEPS,
               same ? "bit-identical" : "DIFFER");
        failed |= !same;
    }

    if (failed) {
        return 1;
    }
    printf("OK: the loss fell %.4f -> %.4f; the first %d losses match the Rust API bit for bit\n",
           (double)losses[0], (double)losses[STEPS - 1], CHECKED_STEPS);
    return 0;
}
