/* Learning while watching: a windowed isolation forest (see iforest.h).
 * Streaming detectors such as OpenSearch's random cut forests keep a
 * sample of recent points and update their trees as points arrive; here
 * the update is coarser and simpler: a whole tree is regrown, one at a
 * time in turn, from psi rows drawn from a ring of the last `window`
 * events, with the same grower (iforest_grow.c) and the same normaliser
 * c(psi) as the forest it started from, so scores stay on one scale while
 * the trees drift with the traffic. A shift in traffic stops raising alerts
 * once most trees were grown on it; a burst shorter than the window stays
 * a minority of every tree's sample, and keeps scoring high.
 *
 * The replaced forest is rebuilt compactly (every category word and oblique
 * term copied from the node that uses it), checked by vg_iforest_finish,
 * and swapped in. Tree growth reads all columns (the state does not record
 * max_features) without bootstrap, at the forest's extension level. */
#include "models/iforest.h"

#include <string.h>

struct vg_iforest_window {
    vg_iforest *f;
    uint32_t n_features, window, refresh;
    float *rows;           /* window x n_features, a ring */
    uint32_t filled, pos;  /* rows held (<= window); the slot the next row goes to */
    vg_feature *features;  /* n_features, from the forest's column types */
    uint64_t seen, replaced, seed;  /* rows learnt in all; trees replaced in all */
};

vg_status vg_iforest_window_new(const vg_iforest *f, vg_iforest_window_params p, uint64_t seed,
                                vg_iforest_window **out)
{
    *out = NULL;
    if (p.refresh < 1) return vg_fail(VG_ERR_INVALID, "adapt: the refresh interval must be at least 1 event");
    if (p.window < f->psi)
        return vg_fail(VG_ERR_INVALID, "adapt: a window of %u events is smaller than the %u rows each tree "
                       "samples", p.window, f->psi);
    vg_iforest_window *w = vg_calloc(1, sizeof *w);
    if (!w) return vg_fail(VG_ERR_NOMEM, "adapt: out of memory");
    w->n_features = f->n_features;
    w->window = p.window;
    w->refresh = p.refresh;
    w->seed = seed;
    w->rows = vg_malloc((size_t)p.window * f->n_features * sizeof *w->rows);
    w->features = vg_calloc(f->n_features, sizeof *w->features);
    w->f = vg_iforest_alloc(f->n_features, f->n_trees, f->n_nodes, f->n_words, f->n_terms);
    if (!w->rows || !w->features || !w->f) {
        vg_iforest_window_free(w);
        return vg_fail(VG_ERR_NOMEM, "adapt: out of memory");
    }
    /* A copy field by field: the arrays live in the copy's own block. */
    vg_iforest *c = w->f;
    c->psi = f->psi, c->extension_level = f->extension_level, c->c_psi = f->c_psi, c->h0 = f->h0;
    memcpy(c->n_categories, f->n_categories, (size_t)f->n_features * sizeof *c->n_categories);
    memcpy(c->tree_start, f->tree_start, ((size_t)f->n_trees + 1) * sizeof *c->tree_start);
    memcpy(c->nodes, f->nodes, (size_t)f->n_nodes * sizeof *c->nodes);
    memcpy(c->n_samples, f->n_samples, (size_t)f->n_nodes * sizeof *c->n_samples);
    memcpy(c->words, f->words, (size_t)f->n_words * sizeof *c->words);
    memcpy(c->term_feature, f->term_feature, (size_t)f->n_terms * sizeof *c->term_feature);
    memcpy(c->term_weight, f->term_weight, (size_t)f->n_terms * sizeof *c->term_weight);
    memcpy(c->term_share, f->term_share, (size_t)f->n_terms * sizeof *c->term_share);
    vg_iforest_flatten(c);
    for (uint32_t i = 0; i < f->n_features; i++)
        w->features[i] = f->n_categories[i] ? (vg_feature){ "column", VG_FEATURE_CATEGORICAL, f->n_categories[i] }
                                            : (vg_feature){ "column", VG_FEATURE_NUMERIC, 0 };
    *out = w;
    return VG_OK;
}

void vg_iforest_window_free(vg_iforest_window *w)
{
    if (!w) return;
    vg_iforest_free(w->f);
    vg_free(w->rows);
    vg_free(w->features);
    vg_free(w);
}

const vg_iforest *vg_iforest_window_forest(const vg_iforest_window *w)
{
    return w->f;
}

uint64_t vg_iforest_window_replaced(const vg_iforest_window *w)
{
    return w->replaced;
}

static uint32_t words_of(const vg_iforest *f, const vg_iforest_node *nd)
{
    return (f->n_categories[nd->info & VG_IFOREST_INDEX_MASK] + 1 + 31) / 32;
}

/* What tree t of f holds: nodes, category words, oblique terms. */
static void tree_counts(const vg_iforest *f, uint32_t t, uint64_t *nodes, uint64_t *words, uint64_t *terms)
{
    for (uint32_t i = f->tree_start[t]; i < f->tree_start[t + 1]; i++) {
        const vg_iforest_node *nd = &f->nodes[i];
        uint32_t kind = nd->info >> VG_IFOREST_KIND_SHIFT;
        if (nd->left && kind == VG_IFOREST_CATEGORY) *words += words_of(f, nd);
        if (nd->left && kind == VG_IFOREST_OBLIQUE) *terms += nd->info & VG_IFOREST_INDEX_MASK;
    }
    *nodes += f->tree_start[t + 1] - f->tree_start[t];
}

/* Append tree t of src to dst at node `at`, word `*wat`, term `*tat`. */
static void copy_tree(vg_iforest *dst, uint32_t at, uint32_t *wat, uint32_t *tat, const vg_iforest *src, uint32_t t)
{
    for (uint32_t i = src->tree_start[t]; i < src->tree_start[t + 1]; i++, at++) {
        vg_iforest_node nd = src->nodes[i];
        uint32_t kind = nd.info >> VG_IFOREST_KIND_SHIFT, n;
        if (nd.left && kind == VG_IFOREST_CATEGORY) {
            n = words_of(src, &nd);
            memcpy(dst->words + *wat, src->words + nd.aux, (size_t)n * sizeof *dst->words);
            nd.aux = *wat, *wat += n;
        } else if (nd.left && kind == VG_IFOREST_OBLIQUE) {
            n = nd.info & VG_IFOREST_INDEX_MASK;
            memcpy(dst->term_feature + *tat, src->term_feature + nd.aux, (size_t)n * sizeof *dst->term_feature);
            memcpy(dst->term_weight + *tat, src->term_weight + nd.aux, (size_t)n * sizeof *dst->term_weight);
            memcpy(dst->term_share + *tat, src->term_share + nd.aux, (size_t)n * sizeof *dst->term_share);
            nd.aux = *tat, *tat += n;
        }
        dst->nodes[at] = nd;
        dst->n_samples[at] = src->n_samples[i];
    }
}

/* f with tree k replaced by g's only tree, as a new forest. */
static vg_status splice(const vg_iforest *f, uint32_t k, const vg_iforest *g, vg_iforest **out)
{
    uint64_t nodes = 0, words = 0, terms = 0;
    for (uint32_t t = 0; t < f->n_trees; t++)
        if (t != k) tree_counts(f, t, &nodes, &words, &terms);
    tree_counts(g, 0, &nodes, &words, &terms);
    if (nodes > UINT32_MAX / 2 || words > UINT32_MAX / 2 || terms > UINT32_MAX / 2)
        return vg_fail(VG_ERR_INVALID, "adapt: the forest grew too large");
    vg_iforest *n = vg_iforest_alloc(f->n_features, f->n_trees, (uint32_t)nodes, (uint32_t)words, (uint32_t)terms);
    if (!n) return vg_fail(VG_ERR_NOMEM, "adapt: out of memory");
    n->psi = f->psi;
    n->extension_level = f->extension_level;
    memcpy(n->n_categories, f->n_categories, (size_t)f->n_features * sizeof *n->n_categories);
    uint32_t at = 0, wat = 0, tat = 0;
    for (uint32_t t = 0; t < f->n_trees; t++) {
        n->tree_start[t] = at;
        const vg_iforest *src = t == k ? g : f;
        uint32_t st = t == k ? 0 : t;
        copy_tree(n, at, &wat, &tat, src, st);
        at += src->tree_start[st + 1] - src->tree_start[st];
    }
    vg_status s = vg_iforest_finish(n);
    if (s != VG_OK) {
        vg_iforest_free(n);
        return s;
    }
    *out = n;
    return VG_OK;
}

static vg_status replace_one(vg_iforest_window *w)
{
    vg_iforest *f = w->f;
    uint32_t k = (uint32_t)(w->replaced % f->n_trees);
    vg_matrix X = { w->filled, w->n_features, w->rows };
    vg_train_set ts = { .X = &X, .features = w->features, .n_classes = 1 };
    vg_iforest_params p = { .n_estimators = 1, .max_samples_mode = VG_IFOREST_SAMPLES_COUNT,
                            .max_samples = f->psi, .max_features_count = 0, .max_features = 1.0,
                            .bootstrap = 0, .extension_level = f->extension_level };
    uint64_t n = w->replaced;
    vg_fit_options opt = { .seed = vg_hash(&n, sizeof n, w->seed), .threads = 1 };
    vg_iforest *g = NULL, *next = NULL;
    vg_status st = vg_iforest_grow(&p, &ts, &opt, &g);
    if (st == VG_OK) st = splice(f, k, g, &next);
    vg_iforest_free(g);
    if (st != VG_OK) return st;
    vg_iforest_free(w->f);
    w->f = next;
    w->replaced++;
    return VG_OK;
}

/* A row the grower would refuse (a non-finite number, a code that is not a
 * category) is scored but not learnt, so it cannot stall every later
 * replacement while it sits in the ring. */
static int learnable(const vg_iforest_window *w, const float *row)
{
    for (uint32_t c = 0; c < w->n_features; c++) {
        float v = row[c];
        uint32_t k = w->f->n_categories[c];
        if (!k && !(v - v == 0.0f)) return 0;
        if (k && v == v && !(v >= 0.0f && v < (float)k && v == (float)(uint32_t)v)) return 0;
    }
    return 1;
}

vg_status vg_iforest_window_observe(vg_iforest_window *w, const float *row, float *score)
{
    *score = vg_iforest_score_row(w->f, row);
    if (!learnable(w, row)) return VG_OK;
    memcpy(w->rows + (size_t)w->pos * w->n_features, row, (size_t)w->n_features * sizeof *row);
    w->pos = (w->pos + 1) % w->window;
    if (w->filled < w->window) w->filled++;
    w->seen++;
    if (w->seen % w->refresh == 0 && w->filled >= w->f->psi) return replace_one(w);
    return VG_OK;
}

/* ---- the learner's memory in the model file ----
 * The trees are the model's own state (ESTM); what else a restart needs to
 * continue exactly is the ring and the counters (the replacements' seeds
 * come from the seed and `replaced`, the refresh rhythm from `seen`). The
 * rows are written oldest first, so a restart with another --window keeps
 * the most recent ones, and with the same window puts each back in its slot
 * (the grower samples by slot, so the continuation is the same trees). */

#define WINDOW_STATE_VERSION 1u

vg_status vg_iforest_window_save(const vg_iforest_window *w, vg_wbuf *out)
{
    vg_wbuf_u32(out, WINDOW_STATE_VERSION);
    vg_wbuf_u32(out, w->n_features);
    vg_wbuf_u32(out, w->window);
    vg_wbuf_u32(out, w->refresh);
    vg_wbuf_u32(out, w->filled);
    vg_wbuf_u32(out, w->pos);
    vg_wbuf_u64(out, w->seen);
    vg_wbuf_u64(out, w->replaced);
    uint32_t first = (uint32_t)(((uint64_t)w->pos + w->window - w->filled) % w->window);
    for (uint32_t i = 0; i < w->filled; i++)
        vg_wbuf_f32s(out, w->rows + (size_t)((first + i) % w->window) * w->n_features, w->n_features);
    return out->failed ? vg_fail(VG_ERR_NOMEM, "adapt: out of memory") : VG_OK;
}

#define BAD(...) vg_fail(VG_ERR_FORMAT, "adapt state: " __VA_ARGS__)

vg_status vg_iforest_window_load(const vg_iforest *f, vg_rbuf *r, vg_iforest_window_params p, uint64_t seed,
                                 vg_iforest_window **out)
{
    *out = NULL;
    uint32_t version = vg_rbuf_u32(r), F = vg_rbuf_u32(r), W = vg_rbuf_u32(r), R = vg_rbuf_u32(r);
    uint32_t filled = vg_rbuf_u32(r), pos = vg_rbuf_u32(r);
    uint64_t seen = vg_rbuf_u64(r), replaced = vg_rbuf_u64(r);
    vg_status st = vg_rbuf_check(r);
    if (st != VG_OK) return st;
    if (version != WINDOW_STATE_VERSION)
        return BAD("version %u is not supported (this build reads %u)", version, WINDOW_STATE_VERSION);
    if (F != f->n_features) return BAD("rows of %u columns for a forest of %u", F, f->n_features);
    if (W < 1 || W > VG_IFOREST_WINDOW_MAX || R < 1 || R > VG_IFOREST_WINDOW_MAX || filled > W || pos >= W ||
        (filled < W && pos != filled) || seen < filled)
        return BAD("window %u, refresh %u, %u rows held, next slot %u, %llu seen do not fit together", W, R, filled,
                   pos, (unsigned long long)seen);
    if ((uint64_t)filled * F * 4 != r->len - r->pos)
        return BAD("%zu bytes of rows where %u rows of %u columns need %llu", r->len - r->pos, filled, F,
                   (unsigned long long)filled * F * 4);
    if (!p.window) p.window = W;
    if (!p.refresh) p.refresh = R;
    vg_iforest_window *w;
    if ((st = vg_iforest_window_new(f, p, seed, &w)) != VG_OK) return st;
    /* Keep the newest rows that fit; the same window puts them back in place. */
    uint32_t keep = VG_MIN(filled, w->window), skip = filled - keep;
    uint32_t first = w->window == W ? (uint32_t)(((uint64_t)pos + W - filled) % W) : 0;
    for (uint32_t i = 0; i < filled && st == VG_OK; i++) {
        float *dst = w->rows + (size_t)((first + i - skip) % w->window) * F;
        if (i < skip) {
            r->pos += (size_t)F * 4;
            continue;
        }
        for (uint32_t c = 0; c < F; c++) dst[c] = vg_rbuf_f32(r);
        if (!learnable(w, dst)) st = BAD("row %u is not one the forest could learn", i);
    }
    if (st == VG_OK) st = vg_rbuf_check(r);
    if (st != VG_OK) {
        vg_iforest_window_free(w);
        return st;
    }
    w->filled = keep;
    w->pos = w->window == W ? pos : keep % w->window;
    w->seen = seen;
    w->replaced = replaced;
    *out = w;
    return VG_OK;
}
