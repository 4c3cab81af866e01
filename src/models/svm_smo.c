/* The SMO solver for the C-SVC dual (svm_smo.h), written from Fan, Chen and
 * Lin, "Working set selection using second order information for training
 * support vector machines" (JMLR 6, 2005), and Chang and Lin, "LIBSVM: a
 * library for support vector machines" (ACM TIST 2, 2011), sections 4-5.
 *
 * With G = Qa - e the gradient, I_up = {t: y_t=+1, a_t<C_t or y_t=-1, a_t>0}
 * and I_low = {t: y_t=+1, a_t>0 or y_t=-1, a_t<C_t}, the KKT conditions hold
 * within eps when m(a) = max_{I_up} -y_t G_t and M(a) = min_{I_low} -y_t G_t
 * satisfy m - M <= eps. Each iteration takes i = argmax of m, then the j in
 * I_low whose two-variable step decreases the objective most under the
 * second-order model (-b_ij^2 / a_ij with b_ij = m + y_j G_j and a_ij =
 * K_ii + K_jj - 2 K_ij, a non-positive a replaced by TAU), solves that
 * two-variable problem exactly inside the box, and updates G with the two
 * kernel rows.
 *
 * Shrinking: a variable at a bound whose gradient says it cannot enter the
 * working set (e.g. a_t = C_t, y_t = +1 and -G_t > m) is moved behind the
 * active ones and left out of selection and gradient updates. Gbar_t =
 * sum_{j at upper bound} C_j Q_tj is kept so the full gradient can be
 * rebuilt (G_t = Gbar_t - 1 + sum_{j free} a_j Q_tj); that happens once when
 * m - M first falls below 10 eps, and at the end.
 *
 * Positions are permuted as variables are shrunk; kernel rows are cached by
 * position (float, as LIBSVM does), cover positions [0, len) and grow when
 * the active set does; a swap of two positions swaps their entries in
 * every cached row that covers both, and drops a row that covers only one.
 * The time goes into kernel rows: a missing row segment is computed in
 * blocks of positions, spread over a pool of threads that lives as long as
 * the solve when it is long (thousands of rows: a thread start per row would
 * cost more than the row). */
#include "models/svm_smo.h"
#include "vigil/parallel.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define SMO_TAU 1e-12
#define SMO_BLOCK 1024          /* positions per kernel task */
#define SMO_PARALLEL_MIN 2048   /* a segment shorter than this runs on the caller alone */
#define SMO_SHRINK_EVERY 1000

enum { AT_LOWER = 0, AT_UPPER = 1, FREE = 2 };

typedef struct smo {
    const vg_svm_problem *P;
    size_t l, active;
    uint32_t *index;   /* l: row of P->rows, permuted with the positions */
    int8_t *y;
    double *C, *alpha, *G, *Gbar, *QD;
    uint8_t *status;
    uint32_t *perm;    /* position -> original variable */
    /* the row cache */
    float **row;       /* l: cached row of each position or NULL */
    uint32_t *len;     /* l: positions the row covers */
    uint32_t *cap;     /* l: floats allocated for the row (>= len) */
    int64_t *prev, *next;   /* LRU list over positions; sentinel index l */
    size_t used, budget;    /* floats held, allowed */
    vg_svm_query *q;        /* one query per worker (reconstruction); q[0] for rows */
    int threads;
    vg_status st;
} smo;

/* ---- kernel rows ------------------------------------------------------- */

typedef struct row_job {
    const smo *S;
    const vg_svm_query *q;
    int8_t yi;
    float *out;
    size_t start, end;
} row_job;

static void row_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    const row_job *J = ctx;
    const smo *S = J->S;
    size_t a = J->start + task * SMO_BLOCK, b = VG_MIN(J->end, a + SMO_BLOCK);
    double k[SMO_BLOCK];
    vg_svm_kernel_block(S->P->kernel, S->P->rows, J->q, S->index + a, 0, b - a, k);
    for (size_t p = a; p < b; p++) J->out[p] = (float)(J->yi * S->y[p] * k[p - a]);
}

/* Q_i over positions [start, end) into out. */
static void compute_row(smo *S, size_t i, float *out, size_t start, size_t end)
{
    vg_svm_query *q = &S->q[0];
    vg_svm_query_from_row(S->P->rows, S->index[i], q);
    row_job J = { S, q, S->y[i], out, start, end };
    size_t n_tasks = (end - start + SMO_BLOCK - 1) / SMO_BLOCK;
    if (end - start >= SMO_PARALLEL_MIN) {
        vg_parallel_for(S->threads, n_tasks, row_task, &J);
    } else {
        for (size_t t = 0; t < n_tasks; t++) row_task(&J, t, 0);
    }
    vg_svm_query_clear(S->P->rows, S->index[i], q);
}

static void lru_unlink(smo *S, size_t i)
{
    S->next[S->prev[i]] = S->next[i];
    S->prev[S->next[i]] = S->prev[i];
    S->prev[i] = S->next[i] = -1;
}

static void lru_push(smo *S, size_t i)  /* most recently used at the tail */
{
    size_t h = S->l;
    S->prev[i] = S->prev[h];
    S->next[i] = (int64_t)h;
    S->next[S->prev[h]] = (int64_t)i;
    S->prev[h] = (int64_t)i;
}

static void drop_row(smo *S, size_t i)
{
    lru_unlink(S, i);
    S->used -= S->cap[i];
    vg_free(S->row[i]);
    S->row[i] = NULL;
    S->len[i] = S->cap[i] = 0;
}

/* Row i of Q covering positions [0, len); NULL (S->st set) out of memory.
 * A new row takes over the buffer of a row it evicts when that is large
 * enough: once the cache is full, rows are then computed into memory already
 * touched, not into fresh pages (a row of the full NSL-KDD is 500 KB, which
 * malloc would map and unmap each time). */
static const float *get_row(smo *S, size_t i, size_t len)
{
    if (S->row[i]) {
        lru_unlink(S, i);
        if (S->len[i] >= len) {
            lru_push(S, i);
            return S->row[i];
        }
    }
    size_t have = S->len[i], more = S->cap[i] >= len ? 0 : len - S->cap[i];
    while (S->used + more > S->budget && S->next[S->l] != (int64_t)S->l) {
        size_t h = (size_t)S->next[S->l];
        if (!S->row[i] && S->cap[h] >= len) {
            lru_unlink(S, h);
            S->row[i] = S->row[h];
            S->cap[i] = S->cap[h];
            S->row[h] = NULL;
            S->len[h] = S->cap[h] = 0;
            more = 0;
            break;
        }
        drop_row(S, h);
    }
    if (S->cap[i] < len) {
        float *r = vg_realloc(S->row[i], len * sizeof(float));
        if (!r) {
            S->st = vg_fail(VG_ERR_NOMEM, "svm: out of memory for a kernel row");
            if (S->row[i]) {  /* keep the list consistent: the old row stays cached */
                lru_push(S, i);
            }
            return NULL;
        }
        S->used += len - S->cap[i];
        S->row[i] = r;
        S->cap[i] = (uint32_t)len;
    }
    compute_row(S, i, S->row[i], have, len);
    S->len[i] = (uint32_t)len;
    lru_push(S, i);
    return S->row[i];
}

#define SWAP(T, a, b) do { T tmp_ = (a); (a) = (b); (b) = tmp_; } while (0)

static void swap_positions(smo *S, size_t i, size_t j)
{
    if (i == j) return;
    SWAP(uint32_t, S->index[i], S->index[j]);
    SWAP(int8_t, S->y[i], S->y[j]);
    SWAP(double, S->C[i], S->C[j]);
    SWAP(double, S->alpha[i], S->alpha[j]);
    SWAP(double, S->G[i], S->G[j]);
    SWAP(double, S->Gbar[i], S->Gbar[j]);
    SWAP(double, S->QD[i], S->QD[j]);
    SWAP(uint8_t, S->status[i], S->status[j]);
    SWAP(uint32_t, S->perm[i], S->perm[j]);
    /* The rows themselves change owner... */
    int ci = S->row[i] != NULL, cj = S->row[j] != NULL;
    if (ci) lru_unlink(S, i);
    if (cj) lru_unlink(S, j);
    SWAP(float *, S->row[i], S->row[j]);
    SWAP(uint32_t, S->len[i], S->len[j]);
    SWAP(uint32_t, S->cap[i], S->cap[j]);
    if (cj) lru_push(S, i);
    if (ci) lru_push(S, j);
    /* ...and every cached row's entries i and j trade places. */
    size_t lo = VG_MIN(i, j), hi = VG_MAX(i, j);
    for (int64_t h = S->next[S->l]; h != (int64_t)S->l;) {
        int64_t nx = S->next[h];
        if (S->len[h] > hi) SWAP(float, S->row[h][i], S->row[h][j]);
        else if (S->len[h] > lo) drop_row(S, (size_t)h);
        h = nx;
    }
}

/* ---- selection, update, shrinking -------------------------------------- */

static inline int is_upper(const smo *S, size_t t) { return S->status[t] == AT_UPPER; }
static inline int is_lower(const smo *S, size_t t) { return S->status[t] == AT_LOWER; }

static void set_status(smo *S, size_t t)
{
    S->status[t] = S->alpha[t] >= S->C[t] ? AT_UPPER : S->alpha[t] <= 0 ? AT_LOWER : FREE;
}

/* 1 when optimal within eps; else the pair in *oi, *oj. */
static int select_pair(smo *S, size_t *oi, size_t *oj)
{
    double gmax = -HUGE_VAL, gmax2 = -HUGE_VAL, best = HUGE_VAL;
    long i = -1, j = -1;
    for (size_t t = 0; t < S->active; t++) {
        if (S->y[t] > 0) {
            if (!is_upper(S, t) && -S->G[t] >= gmax) gmax = -S->G[t], i = (long)t;
        } else {
            if (!is_lower(S, t) && S->G[t] >= gmax) gmax = S->G[t], i = (long)t;
        }
    }
    const float *Qi = NULL;
    if (i >= 0) {
        if (!(Qi = get_row(S, (size_t)i, S->active))) return 1;
    }
    double qdi = i >= 0 ? S->QD[i] : 0, yi = i >= 0 ? S->y[i] : 0;
    for (size_t t = 0; t < S->active; t++) {
        double b, a;
        if (S->y[t] > 0) {
            if (is_lower(S, t)) continue;
            b = gmax + S->G[t];
            if (S->G[t] > gmax2) gmax2 = S->G[t];
            if (b <= 0) continue;
            a = qdi + S->QD[t] - 2 * yi * Qi[t];
        } else {
            if (is_upper(S, t)) continue;
            b = gmax - S->G[t];
            if (-S->G[t] > gmax2) gmax2 = -S->G[t];
            if (b <= 0) continue;
            a = qdi + S->QD[t] + 2 * yi * Qi[t];
        }
        double obj = -(b * b) / (a > 0 ? a : SMO_TAU);
        if (obj <= best) best = obj, j = (long)t;
    }
    if (gmax + gmax2 < S->P->eps || i < 0 || j < 0) return 1;
    *oi = (size_t)i;
    *oj = (size_t)j;
    return 0;
}

/* Solve the two-variable problem on (i, j) and update G and Gbar. */
static void update_pair(smo *S, size_t i, size_t j)
{
    const float *Qi = get_row(S, i, S->active);
    const float *Qj = Qi ? get_row(S, j, S->active) : NULL;
    if (!Qj) return;
    Qi = S->row[i];  /* still cached: the cache always holds two rows */
    double Ci = S->C[i], Cj = S->C[j], ai = S->alpha[i], aj = S->alpha[j];
    double ni, nj;
    if (S->y[i] != S->y[j]) {
        /* a_i - a_j fixed; step both by delta. */
        double quad = S->QD[i] + S->QD[j] + 2 * (double)Qi[j];
        double delta = -(S->G[i] + S->G[j]) / (quad > 0 ? quad : SMO_TAU);
        double diff = ai - aj, lo = diff > 0 ? diff : 0, hi = Ci < Cj + diff ? Ci : Cj + diff;
        ni = ai + delta;
        ni = ni < lo ? lo : ni > hi ? hi : ni;
        nj = ni - diff;
        if (ni == lo && diff > 0) nj = 0;
        if (ni == hi && !(Ci < Cj + diff)) nj = Cj;
        if (ni == lo && !(diff > 0)) ni = 0, nj = -diff;
    } else {
        /* a_i + a_j fixed. */
        double quad = S->QD[i] + S->QD[j] - 2 * (double)Qi[j];
        double delta = (S->G[i] - S->G[j]) / (quad > 0 ? quad : SMO_TAU);
        double sum = ai + aj, lo = sum - Cj > 0 ? sum - Cj : 0, hi = Ci < sum ? Ci : sum;
        ni = ai - delta;
        ni = ni < lo ? lo : ni > hi ? hi : ni;
        nj = sum - ni;
        if (ni == lo && sum - Cj > 0) nj = Cj;
        if (ni == hi && !(Ci < sum)) nj = 0;
    }
    nj = nj < 0 ? 0 : nj > Cj ? Cj : nj;
    ni = ni < 0 ? 0 : ni > Ci ? Ci : ni;
    double dai = ni - ai, daj = nj - aj;
    for (size_t t = 0; t < S->active; t++) S->G[t] += Qi[t] * dai + Qj[t] * daj;

    int ui = is_upper(S, i), uj = is_upper(S, j);
    S->alpha[i] = ni, S->alpha[j] = nj;
    set_status(S, i), set_status(S, j);
    /* Gbar follows the variables at their upper bound, over every position. */
    if (ui != is_upper(S, i)) {
        const float *R = get_row(S, i, S->l);
        if (!R) return;
        double c = is_upper(S, i) ? Ci : -Ci;
        for (size_t t = 0; t < S->l; t++) S->Gbar[t] += c * R[t];
    }
    if (uj != is_upper(S, j)) {
        const float *R = get_row(S, j, S->l);
        if (!R) return;
        double c = is_upper(S, j) ? Cj : -Cj;
        for (size_t t = 0; t < S->l; t++) S->Gbar[t] += c * R[t];
    }
}

typedef struct recon_job {
    smo *S;
    const uint32_t *free_pos;
    size_t n_free;
} recon_job;

static void recon_task(void *ctx, size_t task, int worker)
{
    recon_job *J = ctx;
    smo *S = J->S;
    const vg_svm_rows *R = S->P->rows;
    vg_svm_query *q = &S->q[worker];
    size_t a = S->active + task * 256, b = VG_MIN(S->l, a + 256);
    for (size_t t = a; t < b; t++) {
        vg_svm_query_from_row(R, S->index[t], q);
        double g = S->Gbar[t] - 1.0;
        for (size_t f = 0; f < J->n_free; f++) {
            size_t p = J->free_pos[f];
            g += S->alpha[p] * S->y[t] * S->y[p] * (double)(float)vg_svm_kernel_eval(S->P->kernel, R, q, S->index[p]);
        }
        S->G[t] = g;
        vg_svm_query_clear(R, S->index[t], q);
    }
}

/* The gradient of the shrunk positions, from Gbar and the free variables. */
static void reconstruct_gradient(smo *S)
{
    if (S->active == S->l) return;
    uint32_t *free_pos = vg_malloc(S->active * sizeof *free_pos + 1);
    if (!free_pos) {
        S->st = vg_fail(VG_ERR_NOMEM, "svm: out of memory");
        return;
    }
    size_t n_free = 0;
    for (size_t p = 0; p < S->active; p++)
        if (S->status[p] == FREE) free_pos[n_free++] = (uint32_t)p;
    recon_job J = { S, free_pos, n_free };
    size_t n = S->l - S->active, n_tasks = (n + 255) / 256;
    if (n * (n_free + 1) >= 100000) {
        vg_parallel_for(S->threads, n_tasks, recon_task, &J);
    } else {
        for (size_t t = 0; t < n_tasks; t++) recon_task(&J, t, 0);
    }
    vg_free(free_pos);
}

static int be_shrunk(const smo *S, size_t t, double gmax1, double gmax2)
{
    if (is_upper(S, t)) return S->y[t] > 0 ? -S->G[t] > gmax1 : -S->G[t] > gmax2;
    if (is_lower(S, t)) return S->y[t] > 0 ? S->G[t] > gmax2 : S->G[t] > gmax1;
    return 0;
}

static void do_shrinking(smo *S, int *unshrunk)
{
    double gmax1 = -HUGE_VAL, gmax2 = -HUGE_VAL;  /* m(a) and -M(a) */
    for (size_t t = 0; t < S->active; t++) {
        if (S->y[t] > 0) {
            if (!is_upper(S, t) && -S->G[t] > gmax1) gmax1 = -S->G[t];
            if (!is_lower(S, t) && S->G[t] > gmax2) gmax2 = S->G[t];
        } else {
            if (!is_upper(S, t) && -S->G[t] > gmax2) gmax2 = -S->G[t];
            if (!is_lower(S, t) && S->G[t] > gmax1) gmax1 = S->G[t];
        }
    }
    if (!*unshrunk && gmax1 + gmax2 <= S->P->eps * 10) {
        *unshrunk = 1;
        reconstruct_gradient(S);
        S->active = S->l;
    }
    for (size_t t = 0; t < S->active; t++) {
        if (!be_shrunk(S, t, gmax1, gmax2)) continue;
        S->active--;
        while (S->active > t) {
            if (!be_shrunk(S, S->active, gmax1, gmax2)) {
                swap_positions(S, t, S->active);
                break;
            }
            S->active--;
        }
    }
}

static double compute_rho(const smo *S)
{
    double ub = HUGE_VAL, lb = -HUGE_VAL, sum = 0;
    size_t n_free = 0;
    for (size_t t = 0; t < S->active; t++) {
        double yg = S->y[t] * S->G[t];
        if (is_upper(S, t)) {
            if (S->y[t] < 0) ub = VG_MIN(ub, yg);
            else lb = VG_MAX(lb, yg);
        } else if (is_lower(S, t)) {
            if (S->y[t] > 0) ub = VG_MIN(ub, yg);
            else lb = VG_MAX(lb, yg);
        } else {
            n_free++;
            sum += yg;
        }
    }
    return n_free ? sum / (double)n_free : (ub + lb) / 2;
}

/* ---- the solver --------------------------------------------------------- */

static void smo_free(smo *S)
{
    if (S->row)
        for (size_t i = 0; i < S->l; i++) vg_free(S->row[i]);
    if (S->q)
        for (int w = 0; w < S->threads; w++) vg_svm_query_free(&S->q[w]);
    vg_free(S->q);
    vg_free(S->index), vg_free(S->y), vg_free(S->C), vg_free(S->alpha), vg_free(S->G), vg_free(S->Gbar);
    vg_free(S->QD), vg_free(S->status), vg_free(S->perm), vg_free(S->row), vg_free(S->len), vg_free(S->cap);
    vg_free(S->prev), vg_free(S->next);
}

vg_status vg_svm_solve(const vg_svm_problem *P, double *alpha_out, vg_svm_solution *out)
{
    memset(out, 0, sizeof *out);
    smo S = { .P = P, .l = P->l, .active = P->l, .threads = 1 };
    size_t l = P->l, n1 = l ? l : 1;
    S.index = vg_malloc(n1 * sizeof *S.index);
    S.y = vg_malloc(n1 * sizeof *S.y);
    S.C = vg_malloc(n1 * sizeof *S.C);
    S.alpha = vg_calloc(n1, sizeof *S.alpha);
    S.G = vg_malloc(n1 * sizeof *S.G);
    S.Gbar = vg_calloc(n1, sizeof *S.Gbar);
    S.QD = vg_malloc(n1 * sizeof *S.QD);
    S.status = vg_malloc(n1 * sizeof *S.status);
    S.perm = vg_malloc(n1 * sizeof *S.perm);
    S.row = vg_calloc(n1, sizeof *S.row);
    S.len = vg_calloc(n1, sizeof *S.len);
    S.cap = vg_calloc(n1, sizeof *S.cap);
    S.prev = vg_malloc((n1 + 1) * sizeof *S.prev);
    S.next = vg_malloc((n1 + 1) * sizeof *S.next);
    /* Worker threads (vg_parallel_for's persistent pool: thousands of
     * kernel rows each wake it once) only when some row is long enough to split. */
    vg_status st = VG_OK;
    S.threads = P->l >= SMO_PARALLEL_MIN ? vg_threads_resolve(P->threads) : 1;
    S.q = vg_calloc((size_t)S.threads, sizeof *S.q);
    if (!S.index || !S.y || !S.C || !S.alpha || !S.G || !S.Gbar || !S.QD || !S.status || !S.perm || !S.row ||
        !S.len || !S.cap || !S.prev || !S.next || !S.q) {
        st = vg_fail(VG_ERR_NOMEM, "svm: out of memory for %zu variables", l);
        goto done;
    }
    for (int w = 0; w < S.threads && !st; w++) st = vg_svm_query_alloc(P->rows, &S.q[w]);
    if (st) goto done;
    S.prev[l] = S.next[l] = (int64_t)l;
    double mb = P->cache_mb > 0 ? P->cache_mb : 0;
    S.budget = (size_t)(mb * 1048576.0 / sizeof(float));
    if (S.budget < 2 * l + 2) S.budget = 2 * l + 2;
    for (size_t t = 0; t < l; t++) {
        S.index[t] = P->index[t];
        S.y[t] = P->y[t];
        S.C[t] = P->C[t];
        S.G[t] = -1.0;
        S.status[t] = AT_LOWER;
        S.perm[t] = (uint32_t)t;
        S.QD[t] = vg_svm_kernel_pair(P->kernel, P->rows, P->index[t], P->index[t], &S.q[0]);
    }

    long max_iter = P->max_iter >= 0 ? P->max_iter : (l > 100000 ? (long)(100 * l) : 10000000L);
    long iter = 0;
    int unshrunk = 0;
    size_t every = VG_MIN(l, (size_t)SMO_SHRINK_EVERY), counter = every;
    out->converged = 0;
    while (iter < max_iter && !S.st) {
        if (--counter == 0) {
            counter = every;
            if (P->shrinking) do_shrinking(&S, &unshrunk);
            if (S.st) break;
        }
        size_t i, j;
        if (select_pair(&S, &i, &j)) {
            if (S.st) break;
            reconstruct_gradient(&S);
            S.active = l;
            if (select_pair(&S, &i, &j)) {
                out->converged = 1;
                break;
            }
            counter = 1;  /* shrink again at once */
        }
        iter++;
        update_pair(&S, i, j);
    }
    if (!S.st && S.active < l) {
        reconstruct_gradient(&S);
        S.active = l;
    }
    if ((st = S.st)) goto done;
    out->iterations = iter;
    out->rho = compute_rho(&S);
    double obj = 0;
    for (size_t t = 0; t < l; t++) obj += S.alpha[t] * (S.G[t] - 1.0);
    out->obj = obj / 2;
    for (size_t t = 0; t < l; t++) alpha_out[S.perm[t]] = S.alpha[t];
done:
    smo_free(&S);
    return st;
}
