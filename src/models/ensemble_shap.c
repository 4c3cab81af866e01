/* Exact TreeSHAP for the compiled ensemble (see ensemble.h): the
 * polynomial-time path algorithm of Lundberg, Erion and Lee, "Consistent
 * Individualized Feature Attribution for Tree Ensembles" (2018), Algorithm 2.
 *
 * The value of a feature subset S for one tree is the tree's expected output
 * when the features in S take the row's values and the others are unknown:
 * at a split on a feature in S the row goes where it really goes (the "hot"
 * child, routed by prediction's own rules in ensemble_walk.h: numeric,
 * categorical bitset, missing direction); at a split on another feature both children
 * are followed, weighted by their share of the node's training cover. The
 * Shapley values of that game are computed by walking every root-to-leaf
 * path once while maintaining, for the unique features on the path, the
 * weights of all subset sizes ("extend" adds a feature, "unwind" removes
 * one); a feature met twice on a path is unwound and re-extended with the
 * product of its fractions. Cost per tree O(leaves x depth^2).
 *
 * The walk is an explicit depth-first stack, not recursion, so a very deep
 * tree from a file costs memory (grown on demand), never the thread's
 * stack. All scratch is one allocation per call, so calls on different
 * threads share nothing. */
#include "models/ensemble.h"
#include "models/ensemble_walk.h"

#include <string.h>

/* The unique paths, as parallel arrays: a path of n entries at offset s is
 * fo[s .. s + n), z[...], w[...]. Entry i says that feature fo[i] / 2
 * splits on the path, that a share z[i] of the cover follows the path
 * when the feature is absent, and whether the row follows it when present
 * (o = fo[i] & 1: always 0 or 1 for a single row); w[i] is the path weight
 * of subsets of size i. Entry 0 is the root's placeholder (fo = ROOT_FO).
 * Features are below INT32_MAX, so feature * 2 + 1 fits 32 unsigned bits. */
#define ROOT_FO UINT32_MAX
typedef struct pending {
    uint32_t node;      /* tree-local: the node to visit */
    uint32_t seg, count;/* its parent's path: offset and entries */
    uint32_t fo;        /* the parent's split (feature * 2 + o) this node extends the path with */
    double z;
    double frac;        /* product of cover shares from the root: for the expected value */
} pending;

typedef struct shap_ws {
    uint32_t n_inv;     /* n_features + 3: entries of each per-leaf array */
    double *inv;        /* inv[k] = 1 / k */
    double *a, *q;      /* per leaf: a[j] = (ud+1)/(j+1), q[j] = (ud-j)/(j+1) */
    double *hz, *share; /* per leaf: z of the entries the row follows; every entry's share */
    uint32_t *hi;       /* per leaf: which entries the row follows */
    uint32_t *fo;       /* path_cap each: the paths */
    double *z, *w;
    pending *stack;     /* stack_cap */
    size_t path_cap, stack_cap;
    void *block;
} shap_ws;

/* Room for this many levels of depth before the first growth: enough for
 * the trees of usual forests and boosters. */
#define SHAP_INITIAL_LEVELS 48

/* (Re)carve the workspace for the given capacities, keeping the first
 * path_used path entries and stack_used stack entries. */
static vg_status ws_reserve(shap_ws *ws, size_t path_cap, size_t stack_cap, size_t path_used, size_t stack_used)
{
    const size_t ni = ws->n_inv;
    size_t bytes = (5 * ni + 4) * sizeof(double) + path_cap * 2 * sizeof(double) + stack_cap * sizeof(pending) +
                   (ni + path_cap) * 4 + 8;
    uint8_t *block = vg_malloc(bytes);
    if (!block) return vg_fail(VG_ERR_NOMEM, "shap: out of memory for a path of %zu entries", path_cap);
    /* The 8-byte items first (doubles, then the stack), then the 4-byte ones. */
    double *d = (double *)block;
    shap_ws n = { .n_inv = ws->n_inv, .path_cap = path_cap, .stack_cap = stack_cap, .block = block };
    n.inv = d;
    n.a = d + ni;
    n.q = d + 2 * ni;
    n.hz = d + 3 * ni;
    n.share = d + 4 * ni + 4;  /* hz has 4 more: a padded block */
    n.z = n.share + ni;
    n.w = n.z + path_cap;
    n.stack = (pending *)(n.w + path_cap);
    n.hi = (uint32_t *)(n.stack + stack_cap);
    n.fo = n.hi + ni;
    if (ws->block) {
        memcpy(n.inv, ws->inv, ni * sizeof *n.inv);
        memcpy(n.z, ws->z, path_used * sizeof *n.z);
        memcpy(n.w, ws->w, path_used * sizeof *n.w);
        memcpy(n.fo, ws->fo, path_used * sizeof *n.fo);
        memcpy(n.stack, ws->stack, stack_used * sizeof *n.stack);
        vg_free(ws->block);
    } else {
        n.inv[0] = 0.0;
        for (size_t k = 1; k < ni; k++) n.inv[k] = 1.0 / (double)k;
    }
    *ws = n;
    return VG_OK;
}

/* Copy the parent's path (n entries at ps) to cs and append (fo, zf): every
 * subset-size weight splits into "feature absent" (times zf) and "feature
 * present" (times o, one size up). Written as one pass from the parent's
 * weights, with no chain through memory:
 *     w'[i] = (zf w[i] (n - i) + o w[i-1] i) / (n + 1). */
static void extend(shap_ws *ws, size_t ps, size_t cs, uint32_t n, uint32_t fo, double zf)
{
    const uint32_t *pf = ws->fo + ps;
    const double *pz = ws->z + ps, *pw = ws->w + ps;
    uint32_t *cf = ws->fo + cs;
    double *cz = ws->z + cs, *cw = ws->w + cs;
    cf[n] = fo;
    cz[n] = zf;
    if (n == 0) {
        cw[0] = 1.0;
        return;
    }
    const double r = ws->inv[n + 1], a = zf * r, b = (fo & 1) ? r : 0.0;
    cf[0] = pf[0];
    cz[0] = pz[0];
    cw[0] = a * pw[0] * (double)n;
    for (uint32_t i = 1; i < n; i++) {
        cf[i] = pf[i];
        cz[i] = pz[i];
        cw[i] = a * pw[i] * (double)(n - i) + b * pw[i - 1] * (double)i;
    }
    cw[n] = b * pw[n - 1] * (double)n;
}

/* Remove entry k from the path at s with entries [0, ud], which becomes
 * [0, ud): the inverse of extend. Entries with o == 0 have z > 0 (the walk
 * never enters a subtree whose cold share is 0), so the division is safe. */
static void unwind(shap_ws *ws, size_t s, uint32_t ud, uint32_t k)
{
    double *w = ws->w + s;
    const double *inv = ws->inv;
    const double z = ws->z[s + k], n1 = (double)(ud + 1);
    if (ws->fo[s + k] & 1) {
        double next = w[ud];
        for (uint32_t i = ud; i-- > 0;) {
            double t = w[i];
            w[i] = next * n1 * inv[i + 1];
            next = t - next * z * (double)(ud - i) * inv[i + 1];
        }
    } else {
        const double nz = n1 / z;
        for (uint32_t i = 0; i < ud; i++) w[i] = w[i] * nz * inv[ud - i];
    }
    for (uint32_t i = k; i < ud; i++) {
        ws->fo[s + i] = ws->fo[s + i + 1];
        ws->z[s + i] = ws->z[s + i + 1];
    }
}

/* At a leaf whose unique path at s has entries [0, ud]: add each path
 * feature's share of the leaf value v to phi. The share of entry i is
 * (sum of the path weights after unwinding i) x (o_i - z_i).
 *
 * For an entry the row does not follow (o = 0) that product is the same
 * for every such entry, -(ud+1) sum_j w_j / (ud-j), so it is computed once.
 * For an entry it follows (o = 1), unwinding is the recurrence, from
 * j = ud - 1 down to 0, with next = w[ud] and total = 0,
 *     total += next (ud+1)/(j+1);   next = w[j] - next z (ud-j)/(j+1)
 * and the share is total (1 - z). Each step depends on the last, so the
 * entries the row follows run through it four side by side, which keeps
 * the multiplier busy instead of waiting. */
static void leaf_shares(const vg_ensemble *e, shap_ws *ws, size_t s, uint32_t ud, const float *v, int32_t out,
                        double *phi)
{
    const uint32_t K = e->n_outputs;
    const double *w = ws->w + s, *z = ws->z + s, *inv = ws->inv;
    const uint32_t *fo = ws->fo + s;
    double *a = ws->a, *q = ws->q, *hz = ws->hz, *share = ws->share;
    uint32_t *hi = ws->hi, H = 0;
    for (uint32_t i = 1; i <= ud; i++) {  /* branch-free: hot and cold alternate unpredictably */
        uint32_t hot = fo[i] & 1u;
        hi[H] = i;
        hz[H] = z[i];
        H += hot;
    }
    if (H < ud) {
        double cold = 0.0;
        for (uint32_t j = 0; j < ud; j++) cold += w[j] * inv[ud - j];
        cold = -cold * (double)(ud + 1);
        for (uint32_t i = 1; i <= ud; i++) share[i] = cold;
    }
    if (H) {
        const double n1 = (double)(ud + 1);
        for (uint32_t j = 0; j < ud; j++) {
            a[j] = n1 * inv[j + 1];
            q[j] = (double)(ud - j) * inv[j + 1];
        }
        /* Four entries at a time in registers; the last block is padded
         * with entries of z = 0 whose results are dropped, cheaper than
         * running the leftovers one at a time at the recurrence's latency. */
        for (uint32_t h = H; h % 4; h++) hz[h] = 0.0;
        for (uint32_t h = 0; h < H; h += 4) {
            const double z0 = hz[h], z1 = hz[h + 1], z2 = hz[h + 2], z3 = hz[h + 3];
            double n0 = w[ud], n1_ = w[ud], n2 = w[ud], n3 = w[ud];
            double t0 = 0.0, t1 = 0.0, t2 = 0.0, t3 = 0.0;
            for (uint32_t j = ud; j-- > 0;) {
                const double aj = a[j], qj = q[j], wj = w[j];
                t0 += n0 * aj;
                t1 += n1_ * aj;
                t2 += n2 * aj;
                t3 += n3 * aj;
                n0 = wj - n0 * (z0 * qj);
                n1_ = wj - n1_ * (z1 * qj);
                n2 = wj - n2 * (z2 * qj);
                n3 = wj - n3 * (z3 * qj);
            }
            const double tt[4] = { t0 * (1.0 - z0), t1 * (1.0 - z1), t2 * (1.0 - z2), t3 * (1.0 - z3) };
            for (uint32_t k = 0; k < 4 && h + k < H; k++) share[hi[h + k]] = tt[k];
        }
    }
    if (out >= 0) {
        const double v0 = (double)v[0];
        for (uint32_t i = 1; i <= ud; i++) phi[(size_t)(fo[i] >> 1) * K + (uint32_t)out] += share[i] * v0;
        return;
    }
    for (uint32_t i = 1; i <= ud; i++) {
        double *dst = phi + (size_t)(fo[i] >> 1) * K;
        for (uint32_t k = 0; k < K; k++) dst[k] += share[i] * (double)v[k];
    }
}

/* One tree into phi (features x K, unscaled) and bias (K, unscaled). */
static vg_status tree_shap(const vg_ensemble *e, uint32_t t, const float *row, shap_ws *ws, double *phi,
                           double *bias)
{
    const uint32_t base = e->tree_start[t], K = e->n_outputs, W = e->leaf_width;
    const vg_ens_node *nodes = e->nodes + base;
    const float *cover = e->cover + base;
    const int32_t out = W == 1 ? e->tree_output[t] : -1;
    size_t sp = 0;
    ws->stack[sp++] = (pending){ 0, 0, 0, ROOT_FO, 1.0, 1.0 };
    while (sp > 0) {
        const pending q = ws->stack[--sp];
        /* The node's path goes right after its parent's, which stays intact
         * until both children are done (they are visited depth first). */
        const size_t seg = (size_t)q.seg + q.count;
        if (seg + q.count + 1 > ws->path_cap) {
            vg_status st = ws_reserve(ws, VG_MAX(2 * ws->path_cap, seg + q.count + 1), ws->stack_cap, seg, sp);
            if (st != VG_OK) return st;
        }
        extend(ws, q.seg, seg, q.count, q.fo, q.z);
        uint32_t ud = q.count;  /* entries [0, ud] */
        const vg_ens_node *nd = &nodes[q.node];
        if (nd->feature < 0) {
            const float *v = e->leaves + (size_t)nd->child * W;
            leaf_shares(e, ws, seg, ud, v, out, phi);
            if (out >= 0) {
                bias[out] += q.frac * (double)v[0];
            } else {
                for (uint32_t k = 0; k < K; k++) bias[k] += q.frac * (double)v[k];
            }
            continue;
        }
        /* The children's shares of the cover, over their total so they sum
         * to 1 (half each when neither saw training weight). */
        const double cl = cover[nd->child], cr = cover[nd->child + 1], ct = cl + cr;
        const double sl = ct > 0.0 ? cl / ct : 0.5, sr = ct > 0.0 ? 1.0 - sl : 0.5;
        const uint32_t right = vg_ens_goes_right(e, nd, row);  /* the routing prediction uses */
        const uint32_t hot = nd->child + right, cold = nd->child + (right ^ 1u);
        const double s_hot = right ? sr : sl, s_cold = right ? sl : sr;
        /* A feature already on the path is taken off and comes back with
         * both splits' fractions multiplied. */
        double iz = 1.0;
        uint32_t io = 1;
        const uint32_t *fo = ws->fo + seg, f = (uint32_t)nd->feature;
        for (uint32_t k = 1; k <= ud; k++) {
            if ((fo[k] >> 1) == f) {
                iz = ws->z[seg + k];
                io = fo[k] & 1;
                unwind(ws, seg, ud, k);
                ud--;
                break;
            }
        }
        if (sp + 2 > ws->stack_cap) {
            vg_status st = ws_reserve(ws, ws->path_cap, 2 * ws->stack_cap, seg + ud + 1, sp);
            if (st != VG_OK) return st;
        }
        /* A child that neither the row nor the cover reaches (z = o = 0)
         * adds nothing to any subset's value: skip it. */
        const uint32_t f2 = f * 2;
        if (iz * s_cold != 0.0)
            ws->stack[sp++] = (pending){ cold, (uint32_t)seg, ud + 1, f2, iz * s_cold, q.frac * s_cold };
        if (iz * s_hot != 0.0 || io != 0)
            ws->stack[sp++] = (pending){ hot, (uint32_t)seg, ud + 1, f2 + io, iz * s_hot, q.frac * s_hot };
    }
    return VG_OK;
}

vg_status vg_ensemble_shap(const vg_ensemble *e, const float *row, double *phi)
{
    const uint32_t nf = e->n_features, K = e->n_outputs;
    memset(phi, 0, ((size_t)nf + 1) * K * sizeof *phi);
    double *bias = phi + (size_t)nf * K;
    /* A unique path holds at most one entry per feature plus the root's
     * placeholder, so inv needs 1 / k up to n_features + 2, and the
     * per-leaf arrays n_features + 1 entries. */
    const size_t levels = SHAP_INITIAL_LEVELS, width = VG_MIN((size_t)nf + 2, levels + 1);
    shap_ws ws = { .n_inv = nf + 3 };
    vg_status st = ws_reserve(&ws, levels * width, 2 * levels + 2, 0, 0);
    for (uint32_t t = 0; st == VG_OK && t < e->n_trees; t++) st = tree_shap(e, t, row, &ws, phi, bias);
    vg_free(ws.block);
    if (st != VG_OK) return st;
    const double scale = (double)e->scale;
    for (size_t i = 0; i < (size_t)nf * K; i++) phi[i] *= scale;
    for (uint32_t k = 0; k < K; k++) bias[k] = (double)e->base[k] + scale * bias[k];
    return VG_OK;
}
