/* Tests for the L-BFGS minimiser (src/models/lbfgs.c): known minima of
 * Rosenbrock and of quadratics, each stopping rule, objectives that return
 * infinity outside their domain, and parameter validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/lbfgs.h"

static int n_calls;

/* Extended Rosenbrock: sum over pairs of 100 (x2 - x1^2)^2 + (1 - x1)^2;
 * minimum 0 at all ones. */
static double rosenbrock(void *ctx, const double *x, double *g)
{
    size_t n = *(const size_t *)ctx;
    double f = 0.0;
    n_calls++;
    for (size_t i = 0; i < n; i += 2) {
        double t1 = 1.0 - x[i], t2 = 10.0 * (x[i + 1] - x[i] * x[i]);
        g[i + 1] = 20.0 * t2;
        g[i] = -2.0 * (x[i] * g[i + 1] + t1);
        f += t1 * t1 + t2 * t2;
    }
    return f;
}

/* f = 1/2 sum a_i (x_i - c_i)^2 + small coupling, minimum at c. Condition
 * number 1e3 so the memory matters. */
typedef struct quad { size_t n; double a[50]; double c[50]; } quad;

static double quadratic(void *ctx, const double *x, double *g)
{
    const quad *q = ctx;
    double f = 0.0;
    n_calls++;
    for (size_t i = 0; i < q->n; i++) {
        double d = x[i] - q->c[i];
        f += 0.5 * q->a[i] * d * d;
        g[i] = q->a[i] * d;
    }
    return f;
}

static void quad_init(quad *q, size_t n)
{
    q->n = n;
    for (size_t i = 0; i < n; i++) {
        q->a[i] = pow(1000.0, (double)i / (double)(n - 1));  /* 1 .. 1000 */
        q->c[i] = sin((double)i + 1.0) * 3.0;
    }
}

static void test_rosenbrock_2d(void **state)
{
    (void)state;
    size_t n = 2;
    double x[2] = { -1.2, 1.0 };
    vg_lbfgs_params p = vg_lbfgs_params_default();
    p.gtol = 1e-9;
    p.ftol = 0.0;
    p.max_iter = 1000;
    vg_lbfgs_result r;
    n_calls = 0;
    assert_int_equal(vg_lbfgs_minimize(n, rosenbrock, &n, &p, x, &r), VG_OK);
    printf("rosenbrock 2d: %d iterations, %d evaluations, f %.3g, max|g| %.3g, x-1 %.3g %.3g\n",
           r.iterations, r.evaluations, r.f, r.gmax, x[0] - 1, x[1] - 1);
    assert_true(r.converged);
    assert_int_equal(r.stop, VG_LBFGS_STOP_GTOL);
    assert_true(fabs(x[0] - 1.0) < 1e-7);
    assert_true(fabs(x[1] - 1.0) < 1e-7);
    assert_true(r.f < 1e-14);
    assert_int_equal(r.evaluations, n_calls);
    /* scipy's L-BFGS-B: 38 iterations, 46 evaluations from the same start. */
    assert_true(r.iterations < 60);
    assert_true(r.evaluations < 2 * r.iterations);
}

static void test_rosenbrock_100d(void **state)
{
    (void)state;
    size_t n = 100;
    double x[100];
    for (size_t i = 0; i < n; i += 2) x[i] = -1.2, x[i + 1] = 1.0;
    vg_lbfgs_params p = vg_lbfgs_params_default();
    p.gtol = 1e-8;
    p.ftol = 0.0;
    p.max_iter = 2000;
    vg_lbfgs_result r;
    assert_int_equal(vg_lbfgs_minimize(n, rosenbrock, &n, &p, x, &r), VG_OK);
    printf("rosenbrock 100d: %d iterations, %d evaluations, max|g| %.3g\n", r.iterations,
           r.evaluations, r.gmax);
    assert_true(r.converged);
    for (size_t i = 0; i < n; i++) assert_true(fabs(x[i] - 1.0) < 1e-6);
}

static void test_quadratic(void **state)
{
    (void)state;
    quad q;
    quad_init(&q, 50);
    double x[50] = { 0 };
    vg_lbfgs_params p = vg_lbfgs_params_default();
    p.gtol = 1e-10;
    p.ftol = 0.0;
    p.max_iter = 1000;
    vg_lbfgs_result r;
    assert_int_equal(vg_lbfgs_minimize(q.n, quadratic, &q, &p, x, &r), VG_OK);
    double err = 0.0;
    for (size_t i = 0; i < q.n; i++) err = fmax(err, fabs(x[i] - q.c[i]));
    printf("quadratic: %d iterations, %d evaluations, max|x - x*| %.3g\n", r.iterations,
           r.evaluations, err);
    assert_true(r.converged);
    assert_int_equal(r.stop, VG_LBFGS_STOP_GTOL);
    assert_true(r.gmax <= 1e-10);
    assert_true(err < 1e-10);  /* smallest curvature is 1, so |x - x*| <= max|g| */
    /* scipy's L-BFGS-B takes 398 iterations / 423 evaluations on this problem
     * (m = 10, same tolerances); steepest descent would need tens of thousands. */
    assert_true(r.iterations < 450);
    assert_true(r.evaluations < r.iterations + r.iterations / 5);
}

static void test_ftol_stop(void **state)
{
    (void)state;
    quad q;
    quad_init(&q, 50);
    double x[50] = { 0 };
    vg_lbfgs_params p = vg_lbfgs_params_default();
    p.gtol = 1e-300;  /* out of reach: only ftol can stop it */
    p.max_iter = 10000;
    vg_lbfgs_result r;
    assert_int_equal(vg_lbfgs_minimize(q.n, quadratic, &q, &p, x, &r), VG_OK);
    assert_true(r.converged);
    assert_int_equal(r.stop, VG_LBFGS_STOP_FTOL);
    assert_true(r.iterations < 10000);
    /* f at the stop is within a relative 2.2e-9 step of the minimum 0. */
    assert_true(r.f < 1e-6);
}

static int iter_calls, last_iter;

static void on_iter(void *user, int iter, double f, double gmax)
{
    (void)f;
    (void)gmax;
    (*(int *)user)++;
    iter_calls++;
    assert_int_equal(iter, last_iter + 1);
    last_iter = iter;
}

static void test_max_iter(void **state)
{
    (void)state;
    size_t n = 2;
    double x[2] = { -1.2, 1.0 };
    int counter = 0;
    vg_lbfgs_params p = vg_lbfgs_params_default();
    p.max_iter = 3;
    p.on_iter = on_iter;
    p.user = &counter;
    iter_calls = last_iter = 0;
    vg_lbfgs_result r;
    assert_int_equal(vg_lbfgs_minimize(n, rosenbrock, &n, &p, x, &r), VG_OK);
    assert_false(r.converged);
    assert_int_equal(r.stop, VG_LBFGS_STOP_MAX_ITER);
    assert_int_equal(r.iterations, 3);
    assert_int_equal(counter, 3);
    assert_true(r.f < 24.2);  /* f(-1.2, 1) = 24.2: every iteration decreases f */

    /* max_iter = 0 evaluates once and returns the start unchanged. */
    double y[2] = { -1.2, 1.0 };
    p.max_iter = 0;
    p.on_iter = NULL;
    assert_int_equal(vg_lbfgs_minimize(n, rosenbrock, &n, &p, y, &r), VG_OK);
    assert_int_equal(r.iterations, 0);
    assert_int_equal(r.evaluations, 1);
    assert_true(y[0] == -1.2 && y[1] == 1.0);
}

static void test_start_at_minimum(void **state)
{
    (void)state;
    size_t n = 2;
    double x[2] = { 1.0, 1.0 };
    vg_lbfgs_params p = vg_lbfgs_params_default();
    vg_lbfgs_result r;
    assert_int_equal(vg_lbfgs_minimize(n, rosenbrock, &n, &p, x, &r), VG_OK);
    assert_true(r.converged);
    assert_int_equal(r.iterations, 0);
    assert_int_equal(r.stop, VG_LBFGS_STOP_GTOL);
}

/* f = sum x_i - log x_i, defined only for x > 0 (infinity elsewhere): the
 * first step from x = 20 along -g overshoots into x <= 0 and must back off. */
static double barrier(void *ctx, const double *x, double *g)
{
    size_t n = *(const size_t *)ctx;
    double f = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(x[i] > 0.0)) return INFINITY;
        f += x[i] - log(x[i]);
        g[i] = 1.0 - 1.0 / x[i];
    }
    return f;
}

static void test_infinite_outside_domain(void **state)
{
    (void)state;
    size_t n = 3;
    double x[3] = { 20.0, 0.05, 3.0 };
    vg_lbfgs_params p = vg_lbfgs_params_default();
    p.gtol = 1e-9;
    p.ftol = 0.0;
    vg_lbfgs_result r;
    assert_int_equal(vg_lbfgs_minimize(n, barrier, &n, &p, x, &r), VG_OK);
    assert_true(r.converged);
    for (size_t i = 0; i < n; i++) assert_true(fabs(x[i] - 1.0) < 1e-8);
}

static double nan_objective(void *ctx, const double *x, double *g)
{
    (void)ctx;
    g[0] = 0.0;
    return x[0] * NAN;
}

static void test_bad_input(void **state)
{
    (void)state;
    size_t n = 2;
    double x[2] = { 0.0, 0.0 };
    vg_lbfgs_result r;
    vg_lbfgs_params p = vg_lbfgs_params_default();

    assert_int_equal(vg_lbfgs_minimize(1, nan_objective, NULL, &p, x, &r), VG_ERR_DATA);
    assert_non_null(strstr(vg_last_error(), "not finite"));

    p.m = 0;
    assert_int_equal(vg_lbfgs_minimize(n, rosenbrock, &n, &p, x, &r), VG_ERR_INVALID);
    p = vg_lbfgs_params_default();
    p.c1 = 0.95;  /* must be below c2 */
    assert_int_equal(vg_lbfgs_minimize(n, rosenbrock, &n, &p, x, &r), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "c1 < c2"));
    p = vg_lbfgs_params_default();
    p.gtol = NAN;
    assert_int_equal(vg_lbfgs_minimize(n, rosenbrock, &n, &p, x, &r), VG_ERR_INVALID);
    p = vg_lbfgs_params_default();
    assert_int_equal(vg_lbfgs_minimize(0, rosenbrock, &n, &p, x, &r), VG_ERR_INVALID);
    assert_string_equal(vg_lbfgs_stop_str(VG_LBFGS_STOP_FTOL), "relative decrease below ftol");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rosenbrock_2d),
        cmocka_unit_test(test_rosenbrock_100d),
        cmocka_unit_test(test_quadratic),
        cmocka_unit_test(test_ftol_stop),
        cmocka_unit_test(test_max_iter),
        cmocka_unit_test(test_start_at_minimum),
        cmocka_unit_test(test_infinite_outside_domain),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
