/* Growing one boosted tree (see gbdt.h) from per-row gradient pairs on
 * binned codes, XGBoost-style: second-order gains with L1/L2 penalties,
 * learned missing directions, LightGBM-style categorical splits over
 * categories sorted by gradient/hessian ratio.
 *
 * The tree grows in batches of leaves: depth-wise a whole level at a time,
 * loss-guided the single leaf of highest gain. Expanding a batch
 *   1. partitions each leaf's rows (stable, so rows stay ascending and every
 *      node's rows are a range of the row list), in chunks of rows that are
 *      partitioned in parallel and then joined in chunk order;
 *   2. builds the histogram of the smaller child of each split from its rows
 *      (the larger child's is the parent's minus the smaller's: the
 *      subtraction trick, so a level costs the rows of its smaller
 *      children), one task per block of rows, each into its own buffer;
 *   3. per split and group of features, adds the blocks' buffers in block
 *      order, fills in the skipped most-frequent bins, subtracts, and finds
 *      both children's best splits among the group's features; the groups'
 *      bests are then compared in feature order. (A level with one or two
 *      splits, the top of every tree, is so cut into enough tasks for all
 *      the threads; one task per split left the other threads idle there.)
 * How a node's rows are cut into blocks depends only on their number, every
 * sum runs in a fixed order, and best splits are compared in feature order,
 * so the tree does not depend on the thread count. Histograms are a cache:
 * an open leaf may drop its histogram when memory is short, and its
 * children are then both built from their rows. */
#include "models/gbdt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/ensemble.h"
#include "vigil/parallel.h"

/* Histogram memory a tree may hold before open leaves drop theirs. */
#define HIST_BUDGET ((size_t)256 << 20)
/* A split must gain at least this much, as in XGBoost (kRtEps). */
#define MIN_GAIN 1e-6
/* Hessian sums below this fraction of their node's are rounding residue of
 * histogram subtraction, not rows. */
#define REL_EPS 1e-10
/* Rows per block of a histogram build, and the most blocks one node is cut
 * into: a function of the node's size only, never of the thread count. */
#define BLOCK_ROWS 16384u
#define MAX_BLOCKS 16u
/* Partitioning cuts a node's rows into chunks of this many, done in
 * parallel and then joined in chunk order (stable either way). */
#define PART_CHUNK 32768u
/* A parallel step costs waking the pool's threads and waiting for them, so
 * steps with less work than this run on the calling thread. (Chosen when
 * every call started its threads, about 60 us here; the persistent pool
 * costs less, so these may come down when measured on a quiet machine.) */
#define PAR_ROWS 16384u
/* The split search's threshold, in histogram slots of a batch's children:
 * NSL-KDD has about 3,500 slots, so the old 65,536 kept the top four levels
 * of every tree (1 to 8 splits, the costliest searches) on one thread. A
 * root split's search is tens of microseconds, well above a job's cost
 * with the pool's spinning waiters. */
#define PAR_SLOTS 8192u

typedef struct hpair {
    double g, h;
} hpair;

typedef struct split {
    double gain;         /* 0 when there is no split */
    int32_t feature;     /* -1 when there is no split */
    uint32_t bin;        /* numeric: last bin going left */
    int missing_left;
    int categorical;
    double GL, HL;       /* sums of the left child */
    uint32_t bits[8];    /* categorical: value bins going left */
} split;

/* A leaf that may still be split. */
typedef struct open_leaf {
    uint32_t id;         /* node in the tree */
    uint32_t depth;      /* UINT32_MAX while being expanded */
    double G, H;
    hpair *hist;         /* NULL when not held */
    split best;
} open_leaf;

/* One split being expanded: its two children, [0] the smaller. */
typedef struct item {
    hpair *phist;        /* the parent's histogram, or NULL */
    uint32_t child[2];   /* node ids */
    uint32_t begin[2], end[2];
    double G[2], H[2];
    uint32_t depth;
    int need[2];         /* the child may split: find its best split */
    int direct[2];       /* built from its rows (else: parent minus the other) */
    hpair *hist[2];      /* the child's histogram (block 0 of a direct build) */
    uint32_t blocks[2];  /* blocks of a direct build */
    uint32_t part[2];    /* its blocks 1.. are g->parts[part ...] */
    split best[2];
} item;

/* A chunk of a split node's rows being partitioned: rows[begin..end) go,
 * lefts first, to tmp at the same place, then to rows at left/right. */
typedef struct chunk {
    uint32_t node, begin, end, nl;
    uint32_t left, right;    /* destinations in rows */
} chunk;

/* One block of one child's rows built into one buffer. */
typedef struct build {
    uint32_t begin, end; /* rows[begin..end) */
    hpair *out;
} build;

struct vg_gbdt_grower {
    const vg_gbdt_data *d;
    vg_gbdt_params p;
    int threads;
    uint32_t *tmp;           /* n_rows: partition scratch */
    size_t hist_bytes;
    uint32_t max_hists, n_hists;  /* allocated, in use or free */
    hpair **pool;            /* free buffers */
    uint32_t n_pool;
    open_leaf *open;
    uint32_t n_open, open_cap;
    item *items;
    uint32_t items_cap;
    build *builds;
    uint32_t n_builds, builds_cap;
    hpair **parts;           /* partial buffers of the current batch */
    uint32_t n_parts, parts_cap;
    uint32_t *feats;         /* features this tree may split on */
    uint32_t n_feats;
    uint32_t *group;         /* n_groups + 1: feature groups of a finish, as ranges of feats */
    uint32_t n_groups;
    split *gsplit;           /* (items, n_groups, 2): each group's best split of each child */
    uint32_t gsplit_cap;
    struct chunk *chunks;    /* partition chunks of the current batch */
    uint32_t n_chunks, chunks_cap;
    uint32_t *batch;         /* leaves chosen for expansion */
    uint32_t batch_cap;
    uint8_t *taken;
    uint32_t taken_cap;
    double *root_part;       /* (blocks, 2) root sums past ROOT_STACK_BLOCKS blocks */
    /* the call in progress */
    const float *gh;
    uint32_t *rows;
    vg_gbdt_tree *tree;
};

/* ---- small pieces ---- */

static double threshold_l1(double G, double alpha)
{
    if (G > alpha) return G - alpha;
    if (G < -alpha) return G + alpha;
    return 0.0;
}

/* The structure score of a node with sums G, H: its loss reduction when
 * given its optimal weight (XGBoost's CalcGain, without the 1/2). */
static double node_score(const vg_gbdt_params *p, double G, double H)
{
    double t = threshold_l1(G, p->reg_alpha), den = H + p->reg_lambda;
    return den > 0.0 ? t * t / den : 0.0;
}

static double leaf_weight(const vg_gbdt_params *p, double G, double H)
{
    double den = H + p->reg_lambda;
    return den > 0.0 ? -threshold_l1(G, p->reg_alpha) / den : 0.0;
}

void vg_gbdt_tree_free(vg_gbdt_tree *t)
{
    if (!t) return;
    vg_free(t->nodes);
    vg_free(t->left);
    memset(t, 0, sizeof *t);
}

static vg_status tree_add_nodes(vg_gbdt_tree *t, uint32_t k, uint32_t *first)
{
    if (t->n_nodes + k > t->nodes_cap) {
        uint32_t cap = t->nodes_cap ? t->nodes_cap : 64;
        while (cap < t->n_nodes + k) cap *= 2;
        vg_gbdt_node *n = vg_realloc(t->nodes, (size_t)cap * sizeof *n);
        if (!n) return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory growing a tree");
        t->nodes = n;
        t->nodes_cap = cap;
    }
    *first = t->n_nodes;
    memset(t->nodes + t->n_nodes, 0, (size_t)k * sizeof *t->nodes);
    for (uint32_t i = 0; i < k; i++) t->nodes[t->n_nodes + i].feature = -1;
    t->n_nodes += k;
    return VG_OK;
}

static vg_status tree_add_route(vg_gbdt_tree *t, uint32_t *offset)
{
    if (t->n_left + 256 > t->left_cap) {
        uint32_t cap = t->left_cap ? 2 * t->left_cap : 64 * 256;
        uint8_t *l = vg_realloc(t->left, cap);
        if (!l) return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory growing a tree");
        t->left = l;
        t->left_cap = cap;
    }
    *offset = t->n_left;
    t->n_left += 256;
    return VG_OK;
}

/* Grow *arr (elements of `size` bytes) to hold `need`. */
static int grow_array(void **arr, uint32_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 1;
    size_t c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    if (c >= UINT32_MAX) return 0;
    void *p = vg_realloc(*arr, c * size);
    if (!p) return 0;
    *arr = p;
    *cap = (uint32_t)c;
    return 1;
}

/* ---- histogram buffers ---- */

static hpair *hist_get(vg_gbdt_grower *g)
{
    if (g->n_pool > 0) return g->pool[--g->n_pool];
    if (g->n_hists >= g->max_hists) return NULL;
    hpair *h = vg_malloc(g->hist_bytes);
    if (h) g->n_hists++;
    return h;
}

static void hist_put(vg_gbdt_grower *g, hpair *h)
{
    if (h) g->pool[g->n_pool++] = h;  /* the pool has room for every buffer ever made */
}

/* A buffer, dropping open leaves' histograms (a cache) if none is left. */
static hpair *hist_need(vg_gbdt_grower *g)
{
    hpair *h = hist_get(g);
    for (uint32_t i = g->n_open; !h && i-- > 0;) {
        if (!g->open[i].hist || g->open[i].depth == UINT32_MAX) continue;
        h = g->open[i].hist;
        g->open[i].hist = NULL;
    }
    return h;
}

/* ---- building histograms ---- */

/* Add rows[0..n) to hist through the sparse rows (each row's slots are
 * distinct, so consecutive adds never wait on each other). */
static void hist_rows(const vg_gbdt_data *d, const float *gh, const uint32_t *rows, uint32_t n, hpair *hist)
{
    const uint64_t *start = d->row_start;
    if (d->slot16) {
        const uint16_t *slot = d->slot16;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t r = rows[i];
            const double gg = gh[2 * (size_t)r], hh = gh[2 * (size_t)r + 1];
            for (uint64_t j = start[r]; j < start[r + 1]; j++) {
                hpair *b = &hist[slot[j]];
                b->g += gg;
                b->h += hh;
            }
        }
    } else {
        const uint32_t *slot = d->slot32;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t r = rows[i];
            const double gg = gh[2 * (size_t)r], hh = gh[2 * (size_t)r + 1];
            for (uint64_t j = start[r]; j < start[r + 1]; j++) {
                hpair *b = &hist[slot[j]];
                b->g += gg;
                b->h += hh;
            }
        }
    }
}

/* The bins the sparse rows skip: each feature's most frequent bin holds the
 * node's total minus its other bins. */
static void hist_fill_default(const vg_gbdt_data *d, const uint32_t *feats, uint32_t nf, hpair *hist, double G,
                              double H)
{
    for (uint32_t k = 0; k < nf; k++) {
        uint32_t f = feats[k];
        double sg = 0.0, sh = 0.0;
        for (uint32_t b = d->hist_off[f]; b < d->hist_off[f + 1]; b++) {
            sg += hist[b].g;
            sh += hist[b].h;
        }
        hist[d->dflt[f]].g = G - sg;  /* it was zero */
        hist[d->dflt[f]].h = H - sh;
    }
}

/* ---- split search ---- */

/* Best split of feature f over its bins h (sums G, H of the node) into
 * *best when better than its gain. */
static void best_numeric(const vg_gbdt_grower *g, const hpair *h, uint32_t f, double G, double H, double min_h,
                         double parent_score, split *best)
{
    const vg_gbdt_params *p = &g->p;
    const vg_bins *bins = g->d->bins;
    uint32_t nb = bins->n_bins[f];
    hpair m = { 0.0, 0.0 };
    if (bins->has_missing[f]) m = h[nb];
    int has_m = m.h > REL_EPS * H;
    double GL = 0.0, HL = 0.0;
    for (uint32_t b = 0; b < nb; b++) {
        GL += h[b].g;
        HL += h[b].h;
        if (!(fabs(h[b].h) > REL_EPS * H)) continue;  /* no rows: the same partition as the bin before */
        /* missing right */
        double GR = G - GL, HR = H - HL;
        if (HL >= min_h && HR >= min_h) {
            double gain = node_score(p, GL, HL) + node_score(p, GR, HR) - parent_score;
            if (gain > best->gain) {
                *best = (split){ .gain = gain, .feature = (int32_t)f, .bin = b, .GL = GL, .HL = HL,
                                 .missing_left = has_m ? 0 : HL >= HR };
            }
        }
        if (!has_m) continue;
        double GL2 = GL + m.g, HL2 = HL + m.h, GR2 = G - GL2, HR2 = H - HL2;
        if (HL2 >= min_h && HR2 >= min_h) {
            double gain = node_score(p, GL2, HL2) + node_score(p, GR2, HR2) - parent_score;
            if (gain > best->gain)
                *best = (split){ .gain = gain, .feature = (int32_t)f, .bin = b, .GL = GL2, .HL = HL2,
                                 .missing_left = 1 };
        }
    }
}

/* Categorical: one category against the rest when the node has at most
 * max_cat_to_onehot of them; otherwise LightGBM's method. The categories
 * with enough rows (an estimated count of cat_smooth) are sorted by
 * G / (H + cat_smooth) and the prefixes of that order, taken from either
 * end and at most max_cat_threshold long, are tried as the left set; a
 * prefix is only tried once it has gained min_data_per_group rows since the
 * last one tried, and gains carry an extra L2 penalty cat_l2. For a
 * second-order loss the best partition is contiguous in that order, so this
 * finds the best subset split while the limits keep one split from carving
 * out an arbitrary set of rare categories, which fits noise. Categories
 * absent from the node or too rare go right. Row counts are estimated from
 * hessians as count = h * n_node / H, as LightGBM does. */
static void best_categorical(const vg_gbdt_grower *g, const hpair *h, uint32_t f, double G, double H, double min_h,
                             double parent_score, uint32_t n_node, split *best)
{
    const vg_gbdt_params *p = &g->p;
    const vg_bins *bins = g->d->bins;
    uint32_t nb = bins->n_bins[f];
    hpair m = { 0.0, 0.0 };
    if (bins->has_missing[f]) m = h[nb];
    int has_m = m.h > REL_EPS * H;
    double per_h = H > 0.0 ? (double)n_node / H : 0.0;  /* rows per unit of hessian */
    uint32_t present = 0;
    for (uint32_t b = 0; b < nb; b++) present += h[b].h > REL_EPS * H;
    if (present <= p->max_cat_to_onehot) {
        for (uint32_t b = 0; b < nb; b++) {
            if (!(h[b].h > REL_EPS * H)) continue;
            for (int ml = 0; ml <= has_m; ml++) {
                double gl = ml ? h[b].g + m.g : h[b].g, hl = ml ? h[b].h + m.h : h[b].h;
                double gr = G - gl, hr = H - hl;
                if (hl < min_h || hr < min_h) continue;
                double gain = node_score(p, gl, hl) + node_score(p, gr, hr) - parent_score;
                if (gain > best->gain) {
                    *best = (split){ .gain = gain, .feature = (int32_t)f, .categorical = 1,
                                     .missing_left = has_m ? ml : hl >= hr, .GL = gl, .HL = hl };
                    best->bits[b >> 5] |= 1u << (b & 31);
                }
            }
        }
        return;
    }
    uint8_t order[VG_BINS_MAX];
    double key[VG_BINS_MAX];
    uint32_t n = 0;
    for (uint32_t b = 0; b < nb; b++) {
        if (!(h[b].h > REL_EPS * H) || h[b].h * per_h < p->cat_smooth) continue;
        double k = h[b].g / (h[b].h + p->cat_smooth);
        /* insertion sort: few categories, and ties keep bin order */
        uint32_t j = n++;
        while (j > 0 && key[j - 1] > k) {
            key[j] = key[j - 1];
            order[j] = order[j - 1];
            j--;
        }
        key[j] = k;
        order[j] = (uint8_t)b;
    }
    vg_gbdt_params pc = *p;
    pc.reg_lambda += p->cat_l2;
    double pscore = node_score(&pc, G, H);
    uint32_t lim = VG_MIN(p->max_cat_threshold, (n + 1) / 2);
    uint32_t best_len = 0;
    int best_dir = 0, best_ml = 0;
    double best_GL = 0.0, best_HL = 0.0, best_gain = best->gain;
    for (int dir = 0; dir < 2; dir++) {
        double GL = 0.0, HL = 0.0, group = 0.0;
        for (uint32_t j = 0; j < lim; j++) {
            uint32_t b = dir == 0 ? order[j] : order[n - 1 - j];
            GL += h[b].g;
            HL += h[b].h;
            group += h[b].h * per_h;
            if (group < p->min_data_per_group) continue;
            group = 0.0;
            for (int ml = 0; ml <= has_m; ml++) {
                double gl = ml ? GL + m.g : GL, hl = ml ? HL + m.h : HL;
                double gr = G - gl, hr = H - hl;
                if (hl < min_h || hr < min_h) continue;
                double gain = node_score(&pc, gl, hl) + node_score(&pc, gr, hr) - pscore;
                if (gain > best_gain) {
                    best_gain = gain;
                    best_len = j + 1;
                    best_dir = dir;
                    best_ml = has_m ? ml : hl >= hr;
                    best_GL = gl;
                    best_HL = hl;
                }
            }
        }
    }
    if (best_len == 0) return;
    *best = (split){ .gain = best_gain, .feature = (int32_t)f, .categorical = 1, .missing_left = best_ml,
                     .GL = best_GL, .HL = best_HL };
    for (uint32_t j = 0; j < best_len; j++) {
        uint32_t b = best_dir == 0 ? order[j] : order[n - 1 - j];
        best->bits[b >> 5] |= 1u << (b & 31);
    }
}

/* Best split of a node over the features feats[0..nf). */
static void best_split(const vg_gbdt_grower *g, const hpair *hist, const uint32_t *feats, uint32_t nf, double G,
                       double H, uint32_t n_node, split *best)
{
    const vg_gbdt_params *p = &g->p;
    double min_h = VG_MAX(p->min_child_weight, REL_EPS * H);
    double parent_score = node_score(p, G, H);
    memset(best, 0, sizeof *best);
    best->feature = -1;
    best->gain = VG_MAX(p->gamma, MIN_GAIN);  /* a split must beat this */
    for (uint32_t k = 0; k < nf; k++) {
        uint32_t f = feats[k];
        const hpair *h = hist + g->d->hist_off[f];
        if (g->d->bins->categorical[f]) best_categorical(g, h, f, G, H, min_h, parent_score, n_node, best);
        else best_numeric(g, h, f, G, H, min_h, parent_score, best);
    }
    if (best->feature < 0) best->gain = 0.0;
}

/* ---- the parallel steps ---- */

static void build_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    vg_gbdt_grower *g = ctx;
    const build *b = &g->builds[task];
    memset(b->out, 0, g->hist_bytes);
    hist_rows(g->d, g->gh, g->rows + b->begin, b->end - b->begin, b->out);
}

/* Per split and group of features: finish both children's histograms over
 * the group's features and find each child's best split among them. The
 * groups of a split are then reduced in feature order (finish_reduce), so
 * how features are grouped, and on which thread, changes no split. */
static void finish_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    vg_gbdt_grower *g = ctx;
    const vg_gbdt_data *d = g->d;
    item *it = &g->items[task / g->n_groups];
    uint32_t grp = (uint32_t)(task % g->n_groups);
    const uint32_t *feats = g->feats + g->group[grp];
    uint32_t nf = g->group[grp + 1] - g->group[grp];
    split *out = g->gsplit + 2 * task;  /* (2): this group's best of each child */
    for (int s = 0; s < 2; s++) {
        if (!it->direct[s]) continue;
        hpair *h = it->hist[s];
        for (uint32_t b = 1; b < it->blocks[s]; b++) {
            const hpair *q = g->parts[it->part[s] + b - 1];
            for (uint32_t k = 0; k < nf; k++) {
                uint32_t f = feats[k];
                for (uint32_t j = d->hist_off[f]; j < d->hist_off[f + 1]; j++) {
                    h[j].g += q[j].g;
                    h[j].h += q[j].h;
                }
            }
        }
        hist_fill_default(d, feats, nf, h, it->G[s], it->H[s]);
    }
    if (it->hist[1] && !it->direct[1]) {
        /* larger = parent - smaller, in the parent's buffer */
        hpair *big = it->hist[1];
        const hpair *small = it->hist[0];
        for (uint32_t k = 0; k < nf; k++) {
            uint32_t f = feats[k];
            for (uint32_t j = d->hist_off[f]; j < d->hist_off[f + 1]; j++) {
                big[j].g -= small[j].g;
                big[j].h -= small[j].h;
            }
        }
    }
    for (int s = 0; s < 2; s++) {
        if (it->need[s]) {
            best_split(g, it->hist[s], feats, nf, it->G[s], it->H[s], it->end[s] - it->begin[s], &out[s]);
        } else {
            memset(&out[s], 0, sizeof out[s]);
            out[s].feature = -1;
        }
    }
}

/* Each split's best over its groups, in group (so feature) order: a later
 * group wins only with a strictly higher gain, as a later feature does
 * within best_split. */
static void finish_reduce(vg_gbdt_grower *g, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        item *it = &g->items[i];
        for (int s = 0; s < 2; s++) {
            split *best = &it->best[s];
            *best = g->gsplit[2 * (size_t)i * g->n_groups + (size_t)s];
            for (uint32_t grp = 1; grp < g->n_groups; grp++) {
                const split *c = &g->gsplit[2 * ((size_t)i * g->n_groups + grp) + (size_t)s];
                if (c->feature >= 0 && (best->feature < 0 || c->gain > best->gain)) *best = *c;
            }
        }
    }
}

/* Cut this tree's features into groups of about equal histogram slots:
 * enough tasks for every thread when a batch has few splits (the top of a
 * tree), one group when it has many. */
static vg_status plan_groups(vg_gbdt_grower *g, uint32_t n)
{
    uint32_t want = 1;
    if (g->threads > 1 && n < 4u * (uint32_t)g->threads)
        want = VG_MIN((4u * (uint32_t)g->threads + n - 1) / n, VG_MAX(g->n_feats, 1u));
    uint64_t total = 0;
    for (uint32_t k = 0; k < g->n_feats; k++) total += g->d->hist_off[g->feats[k] + 1] - g->d->hist_off[g->feats[k]];
    g->n_groups = 0;
    g->group[0] = 0;
    uint64_t acc = 0;
    for (uint32_t k = 0; k < g->n_feats; k++) {
        acc += g->d->hist_off[g->feats[k] + 1] - g->d->hist_off[g->feats[k]];
        if (acc * want >= total * (g->n_groups + 1) || k + 1 == g->n_feats) g->group[++g->n_groups] = k + 1;
    }
    if (g->n_groups == 0) g->group[++g->n_groups] = 0;  /* no feature: one empty group */
    if (!grow_array((void **)&g->gsplit, &g->gsplit_cap, 2 * (size_t)n * g->n_groups, sizeof *g->gsplit))
        return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory");
    return VG_OK;
}

/* Stable partition of a chunk of a split node's rows by its goes-left
 * table, into tmp: lefts first. */
static void part_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    vg_gbdt_grower *g = ctx;
    chunk *c = &g->chunks[task];
    const vg_gbdt_node *nd = &g->tree->nodes[c->node];
    const uint8_t *left = g->tree->left + nd->route;
    const uint8_t *col = g->d->codes + (size_t)nd->feature * g->d->n_rows;  /* col: (n_rows) codes */
    const uint32_t *rows = g->rows + c->begin;
    uint32_t *tmp = g->tmp + c->begin;
    uint32_t n = c->end - c->begin, nl = 0, nr = 0;
    uint32_t *right = tmp + n;  /* rights are written backwards from the end, then reversed */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = rows[i];
        uint32_t l = left[col[r]];
        tmp[nl] = r;      /* written to both ends, kept at one: no branch to mispredict */
        right[-1 - (int64_t)nr] = r;
        nl += l;
        nr += l ^ 1u;
    }
    for (uint32_t i = 0, j = n - 1; i < nr / 2; i++, j--) {
        uint32_t t = tmp[nl + i];
        tmp[nl + i] = tmp[j];
        tmp[j] = t;
    }
    c->nl = nl;
}

/* Copy a partitioned chunk back to its places in rows. */
static void join_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    vg_gbdt_grower *g = ctx;
    const chunk *c = &g->chunks[task];
    const uint32_t *tmp = g->tmp + c->begin;
    memcpy(g->rows + c->left, tmp, (size_t)c->nl * sizeof *tmp);
    memcpy(g->rows + c->right, tmp + c->nl, (size_t)(c->end - c->begin - c->nl) * sizeof *tmp);
}

/* ---- growing ---- */

static int can_split(const vg_gbdt_grower *g, uint32_t depth, uint32_t n_rows, double H)
{
    if (g->p.max_depth > 0 && depth >= g->p.max_depth) return 0;
    return n_rows >= 2 && H > 0.0 && H >= 2.0 * g->p.min_child_weight;
}

static uint32_t blocks_for(uint32_t n)
{
    uint32_t b = (n + BLOCK_ROWS - 1) / BLOCK_ROWS;
    return VG_MAX(VG_MIN(b, MAX_BLOCKS), 1u);
}

/* Write split s into node id of the tree: its goes-left table and two new
 * children. */
static vg_status apply_split(vg_gbdt_grower *g, uint32_t id, const split *s)
{
    vg_gbdt_tree *t = g->tree;
    uint32_t route = 0, child = 0;
    vg_status st;
    if ((st = tree_add_route(t, &route)) != VG_OK) return st;
    if ((st = tree_add_nodes(t, 2, &child)) != VG_OK) return st;
    const vg_bins *bins = g->d->bins;
    uint32_t f = (uint32_t)s->feature;
    uint8_t *left = t->left + route;
    uint32_t nb = bins->n_bins[f];
    for (uint32_t c = 0; c < 256; c++) {
        if (bins->has_missing[f] && c == nb) left[c] = (uint8_t)s->missing_left;
        else if (s->categorical) left[c] = c < nb && ((s->bits[c >> 5] >> (c & 31)) & 1u);
        else left[c] = c <= s->bin;
    }
    vg_gbdt_node *nd = &t->nodes[id];
    nd->feature = (int32_t)f;
    nd->child = child;
    nd->route = route;
    nd->bin = s->bin;
    nd->flags = (s->missing_left ? VG_ENS_MISSING_LEFT : 0u) | (s->categorical ? VG_ENS_CATEGORICAL : 0u);
    nd->gain = (float)s->gain;
    return VG_OK;
}

static int build_larger_first(const void *a, const void *b)
{
    const build *x = a, *y = b;
    uint32_t nx = x->end - x->begin, ny = y->end - y->begin;
    return (nx < ny) - (nx > ny);
}

/* Give the children of items[0..n) their buffers and plan the builds.
 * A parent's buffer goes to its larger child when that one needs a
 * histogram (by subtraction), else back to the pool. */
static vg_status plan_builds(vg_gbdt_grower *g, uint32_t n)
{
    g->n_builds = 0;
    g->n_parts = 0;
    for (uint32_t i = 0; i < n; i++) {
        item *it = &g->items[i];
        if (it->need[1] && it->phist) it->hist[1] = it->phist;
        else hist_put(g, it->phist);
        it->phist = NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        item *it = &g->items[i];
        for (int s = 0; s < 2; s++) {
            /* the smaller child is needed for itself or to subtract */
            int want = s == 0 ? it->need[0] || it->hist[1] : it->need[1] && !it->hist[1];
            if (!want) continue;
            uint32_t rows = it->end[s] - it->begin[s];
            it->direct[s] = 1;
            it->blocks[s] = blocks_for(rows);
            it->part[s] = g->n_parts;
            if (!grow_array((void **)&g->builds, &g->builds_cap, (size_t)g->n_builds + it->blocks[s],
                            sizeof *g->builds) ||
                !grow_array((void **)&g->parts, &g->parts_cap, (size_t)g->n_parts + it->blocks[s],
                            sizeof *g->parts))
                return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory");
            for (uint32_t b = 0; b < it->blocks[s]; b++) {
                hpair *h = hist_need(g);
                if (!h) return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory for histograms");
                if (b == 0) it->hist[s] = h;
                else g->parts[g->n_parts++] = h;
                g->builds[g->n_builds++] = (build){
                    .begin = it->begin[s] + (uint32_t)((uint64_t)rows * b / it->blocks[s]),
                    .end = it->begin[s] + (uint32_t)((uint64_t)rows * (b + 1) / it->blocks[s]),
                    .out = h,
                };
            }
        }
    }
    /* Larger builds first, for the balance of the workers; the order
     * changes no sum. */
    qsort(g->builds, g->n_builds, sizeof *g->builds, build_larger_first);
    return VG_OK;
}

/* Build, finish and search items[0..n), then open the children that can
 * split (appended to the open list) and release what is left. */
static vg_status run_items(vg_gbdt_grower *g, uint32_t n)
{
    vg_status st = plan_builds(g, n);
    if (st == VG_OK) {
        uint64_t rows = 0;
        for (uint32_t i = 0; i < g->n_builds; i++) rows += g->builds[i].end - g->builds[i].begin;
        vg_parallel_for(rows >= PAR_ROWS ? g->threads : 1, g->n_builds, build_task, g);
        st = plan_groups(g, n);
    }
    if (st == VG_OK) {
        uint64_t slots = (uint64_t)n * 2 * g->d->n_slots;
        vg_parallel_for(slots >= PAR_SLOTS ? g->threads : 1, (size_t)n * g->n_groups, finish_task, g);
        finish_reduce(g, n);
    }
    for (uint32_t i = 0; i < g->n_parts; i++) hist_put(g, g->parts[i]);
    g->n_parts = 0;
    for (uint32_t i = 0; i < n; i++) {
        item *it = &g->items[i];
        for (int s = 0; s < 2; s++) {
            if (st != VG_OK || it->best[s].feature < 0 || !it->need[s]) {
                hist_put(g, it->hist[s]);
                it->hist[s] = NULL;
                continue;
            }
            g->open[g->n_open++] = (open_leaf){ .id = it->child[s], .depth = it->depth, .G = it->G[s],
                                                .H = it->H[s], .hist = it->hist[s], .best = it->best[s] };
        }
    }
    return st;
}

static vg_status ensure_items(vg_gbdt_grower *g, uint32_t n)
{
    if (!grow_array((void **)&g->items, &g->items_cap, n, sizeof *g->items) ||
        !grow_array((void **)&g->open, &g->open_cap, (size_t)g->n_open + 2 * (size_t)n, sizeof *g->open))
        return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory");
    return VG_OK;
}

/* Expand open leaves batch[0..n) (indices into g->open): split, partition,
 * histograms, best splits of the children. The expanded leaves leave the
 * open list (which keeps its order); children that can split join its end. */
static vg_status expand(vg_gbdt_grower *g, const uint32_t *batch, uint32_t n)
{
    vg_status st;
    if ((st = ensure_items(g, n)) != VG_OK) return st;
    vg_gbdt_tree *t = g->tree;
    uint64_t total = 0;
    g->n_chunks = 0;
    for (uint32_t i = 0; i < n; i++) {
        open_leaf *o = &g->open[batch[i]];
        if ((st = apply_split(g, o->id, &o->best)) != VG_OK) return st;
        const vg_gbdt_node *nd = &t->nodes[o->id];
        uint32_t rows = nd->end - nd->begin, parts = (rows + PART_CHUNK - 1) / PART_CHUNK;
        if (!grow_array((void **)&g->chunks, &g->chunks_cap, (size_t)g->n_chunks + VG_MAX(parts, 1u),
                        sizeof *g->chunks))
            return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory");
        for (uint32_t c = 0; c < VG_MAX(parts, 1u); c++)
            g->chunks[g->n_chunks++] = (chunk){ .node = o->id, .begin = nd->begin + c * PART_CHUNK,
                                                .end = VG_MIN(nd->begin + (c + 1) * PART_CHUNK, nd->end) };
        total += rows;
    }
    int threads = total >= PAR_ROWS ? g->threads : 1;
    vg_parallel_for(threads, g->n_chunks, part_task, g);
    /* Each node's lefts, then its rights, in chunk order. */
    for (uint32_t c = 0, i = 0; c < g->n_chunks; c = i) {
        vg_gbdt_node *nd = &t->nodes[g->chunks[c].node];
        uint32_t nl = 0;
        for (i = c; i < g->n_chunks && g->chunks[i].node == g->chunks[c].node; i++) nl += g->chunks[i].nl;
        uint32_t left = nd->begin, right = nd->begin + nl;
        for (uint32_t k = c; k < i; k++) {
            g->chunks[k].left = left;
            g->chunks[k].right = right;
            left += g->chunks[k].nl;
            right += g->chunks[k].end - g->chunks[k].begin - g->chunks[k].nl;
        }
        vg_gbdt_node *kids = &t->nodes[nd->child];
        kids[0].begin = nd->begin;
        kids[0].end = nd->begin + nl;
        kids[1].begin = nd->begin + nl;
        kids[1].end = nd->end;
    }
    vg_parallel_for(threads, g->n_chunks, join_task, g);

    for (uint32_t i = 0; i < n; i++) {
        open_leaf *o = &g->open[batch[i]];
        const vg_gbdt_node *nd = &t->nodes[o->id];
        const vg_gbdt_node *kid = &t->nodes[nd->child];
        item *it = &g->items[i];
        memset(it, 0, sizeof *it);
        uint32_t nl = kid[0].end - kid[0].begin, nr = kid[1].end - kid[1].begin;
        double G[2] = { o->best.GL, o->G - o->best.GL }, H[2] = { o->best.HL, o->H - o->best.HL };
        for (int c = 0; c < 2; c++) {
            t->nodes[nd->child + (uint32_t)c].G = G[c];
            t->nodes[nd->child + (uint32_t)c].H = H[c];
        }
        int small = nr < nl;
        it->depth = o->depth + 1;
        for (int s = 0; s < 2; s++) {
            int c = s == 0 ? small : 1 - small;
            it->child[s] = nd->child + (uint32_t)c;
            it->begin[s] = kid[c].begin;
            it->end[s] = kid[c].end;
            it->G[s] = G[c];
            it->H[s] = H[c];
            it->need[s] = can_split(g, it->depth, it->end[s] - it->begin[s], H[c]);
            it->best[s].feature = -1;
        }
        it->phist = o->hist;
        o->hist = NULL;
        o->depth = UINT32_MAX;  /* marks it for removal below */
    }
    uint32_t kept = 0, old = g->n_open;
    for (uint32_t i = 0; i < old; i++)
        if (g->open[i].depth != UINT32_MAX) g->open[kept++] = g->open[i];
    g->n_open = kept;
    return run_items(g, n);
}

/* The root's sums in blocks of BLOCK_ROWS rows, each block on one thread,
 * then added in block order: the same sums for any thread count. */
typedef struct root_ctx {
    const float *gh;
    const uint32_t *rows;
    uint32_t n;
    double *part;  /* (blocks, 2) */
} root_ctx;

static void root_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    const root_ctx *c = ctx;
    uint32_t i0 = (uint32_t)task * BLOCK_ROWS, i1 = VG_MIN(i0 + BLOCK_ROWS, c->n);
    double G = 0.0, H = 0.0;
    for (uint32_t i = i0; i < i1; i++) {
        G += c->gh[2 * (size_t)c->rows[i]];
        H += c->gh[2 * (size_t)c->rows[i] + 1];
    }
    c->part[2 * task] = G;
    c->part[2 * task + 1] = H;
}

#define ROOT_STACK_BLOCKS 1024

static void root_sums(vg_gbdt_grower *g, uint32_t n, double *G, double *H)
{
    size_t blocks = ((size_t)n + BLOCK_ROWS - 1) / BLOCK_ROWS;
    double stack[2 * ROOT_STACK_BLOCKS];
    double *part = blocks <= ROOT_STACK_BLOCKS ? stack : g->root_part;
    root_ctx c = { g->gh, g->rows, n, part };
    vg_parallel_for(n >= PAR_ROWS ? g->threads : 1, blocks, root_task, &c);
    *G = *H = 0.0;
    for (size_t b = 0; b < blocks; b++) {
        *G += part[2 * b];
        *H += part[2 * b + 1];
    }
}

/* Gain order for choosing leaves: higher gain first, then lower node id. */
static int better(const open_leaf *a, const open_leaf *b)
{
    if (a->best.gain != b->best.gain) return a->best.gain > b->best.gain;
    return a->id < b->id;
}

/* The leaves to expand next into batch (at most cap): loss-guided the best
 * one; depth-wise the whole level, or its `room` best by gain. Sets
 * *limited when the level does not fit in room. */
static uint32_t choose(vg_gbdt_grower *g, uint32_t room, uint32_t cap, uint32_t *batch, uint8_t *taken,
                       int *limited)
{
    *limited = 0;
    if (g->p.grow_policy == VG_GBDT_LOSSGUIDE) {
        uint32_t best = 0;
        for (uint32_t i = 1; i < g->n_open; i++)
            if (better(&g->open[i], &g->open[best])) best = i;
        batch[0] = best;
        return 1;
    }
    uint32_t nb = VG_MIN(VG_MIN(g->n_open, room), cap);
    if (room >= g->n_open) {
        for (uint32_t i = 0; i < nb; i++) batch[i] = i;
        return nb;
    }
    *limited = 1;
    memset(taken, 0, g->n_open);
    for (uint32_t k = 0; k < nb; k++) {
        uint32_t best = UINT32_MAX;
        for (uint32_t i = 0; i < g->n_open; i++)
            if (!taken[i] && (best == UINT32_MAX || better(&g->open[i], &g->open[best]))) best = i;
        taken[best] = 1;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < g->n_open; i++)
        if (taken[i]) batch[k++] = i;
    return nb;
}

vg_status vg_gbdt_grow(vg_gbdt_grower *g, const float *gh, uint32_t *rows, uint32_t n, const uint8_t *use,
                       vg_gbdt_tree *out)
{
    const vg_gbdt_data *d = g->d;
    const vg_gbdt_params *p = &g->p;
    vg_status st;
    out->n_nodes = 0;
    out->n_left = 0;
    g->gh = gh;
    g->rows = rows;
    g->tree = out;
    g->n_open = 0;
    g->n_feats = 0;
    for (uint32_t f = 0; f < d->n_features; f++) {
        /* A column whose training values fill one bin cannot be split. */
        uint32_t slots = d->hist_off[f + 1] - d->hist_off[f];
        if (use[f] && slots >= 2) g->feats[g->n_feats++] = f;
    }
    uint32_t root;
    if ((st = tree_add_nodes(out, 1, &root)) != VG_OK) return st;
    double G, H;
    root_sums(g, n, &G, &H);
    out->nodes[root].begin = 0;
    out->nodes[root].end = n;
    out->nodes[root].G = G;
    out->nodes[root].H = H;
    if (can_split(g, 0, n, H) && g->n_feats > 0) {
        /* The root: the one child of a pseudo split with nothing to subtract. */
        if ((st = ensure_items(g, 1)) != VG_OK) return st;
        item *it = &g->items[0];
        *it = (item){ .child = { root, 0 }, .begin = { 0, 0 }, .end = { n, 0 }, .G = { G, 0 }, .H = { H, 0 },
                      .need = { 1, 0 } };
        it->best[0].feature = it->best[1].feature = -1;
        if ((st = run_items(g, 1)) != VG_OK) goto fail;
    }
    uint32_t leaves = 1;
    uint32_t cap = VG_MAX(g->max_hists / (2 * MAX_BLOCKS), 1u);  /* splits whose buffers fit at once */
    while (g->n_open > 0 && (p->max_leaves == 0 || leaves < p->max_leaves)) {
        uint32_t room = p->max_leaves ? p->max_leaves - leaves : UINT32_MAX;
        if (!grow_array((void **)&g->batch, &g->batch_cap, g->n_open, sizeof *g->batch) ||
            !grow_array((void **)&g->taken, &g->taken_cap, g->n_open, 1)) {
            st = vg_fail(VG_ERR_NOMEM, "gbdt: out of memory");
            goto fail;
        }
        int limited;
        uint32_t nb = choose(g, room, cap, g->batch, g->taken, &limited);
        uint32_t level_size = g->n_open;
        if ((st = expand(g, g->batch, nb)) != VG_OK) goto fail;
        leaves += nb;
        if (limited) {
            /* Depth-wise never goes back to a level: the leaves of it left
             * out stay leaves. They head the open list; the new children
             * follow. */
            uint32_t rest = level_size - nb, kept = 0;
            for (uint32_t i = 0; i < g->n_open; i++) {
                if (i < rest) {
                    hist_put(g, g->open[i].hist);
                    continue;
                }
                g->open[kept++] = g->open[i];
            }
            g->n_open = kept;
        }
    }
fail:
    for (uint32_t i = 0; i < g->n_open; i++) hist_put(g, g->open[i].hist);
    g->n_open = 0;
    if (st != VG_OK) return st;
    /* Leaf values and covers from the sums the splits found. */
    for (uint32_t j = 0; j < out->n_nodes; j++) {
        vg_gbdt_node *nd = &out->nodes[j];
        if (nd->feature < 0) nd->value = (float)(leaf_weight(p, nd->G, nd->H) * p->learning_rate);
        nd->cover = (float)nd->H;
    }
    return VG_OK;
}

vg_status vg_gbdt_grower_new(const vg_gbdt_data *d, const vg_gbdt_params *p, int threads, vg_gbdt_grower **out)
{
    *out = NULL;
    vg_gbdt_grower *g = vg_calloc(1, sizeof *g);
    if (!g) return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory");
    g->d = d;
    g->p = *p;
    g->threads = vg_threads_resolve(threads);
    g->hist_bytes = VG_MAX((size_t)d->n_slots, (size_t)1) * sizeof(hpair);
    size_t mh = HIST_BUDGET / g->hist_bytes;
    /* At least one split's worth of buffers: two children of MAX_BLOCKS blocks. */
    g->max_hists = (uint32_t)VG_MIN(VG_MAX(mh, (size_t)(2 * MAX_BLOCKS + 2)), (size_t)65536);
    g->pool = vg_malloc((size_t)g->max_hists * sizeof *g->pool);
    g->tmp = vg_malloc(VG_MAX((size_t)d->n_rows, (size_t)1) * sizeof *g->tmp);
    g->feats = vg_malloc(((size_t)d->n_features + 1) * sizeof *g->feats);
    g->group = vg_malloc(((size_t)d->n_features + 2) * sizeof *g->group);
    g->root_part = vg_malloc(2 * (((size_t)d->n_rows + BLOCK_ROWS - 1) / BLOCK_ROWS + 1) * sizeof *g->root_part);
    if (!g->pool || !g->tmp || !g->feats || !g->group || !g->root_part) {
        vg_gbdt_grower_free(g);
        return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory");
    }
    *out = g;
    return VG_OK;
}

void vg_gbdt_grower_free(vg_gbdt_grower *g)
{
    if (!g) return;
    for (uint32_t i = 0; i < g->n_pool; i++) vg_free(g->pool[i]);
    vg_free(g->pool);
    vg_free(g->tmp);
    vg_free(g->feats);
    vg_free(g->group);
    vg_free(g->gsplit);
    vg_free(g->root_part);
    vg_free(g->open);
    vg_free(g->items);
    vg_free(g->builds);
    vg_free(g->parts);
    vg_free(g->chunks);
    vg_free(g->batch);
    vg_free(g->taken);
    vg_free(g);
}
