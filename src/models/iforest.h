/* The isolation forest ("iforest") shared by its three files: iforest.c
 * (parameters, the vtable, the state's file section), iforest_grow.c (fitting)
 * and iforest_score.c (scores and explanations).
 *
 * A fitted forest is flat arrays carved from one allocation. Tree t owns the
 * nodes [tree_start[t], tree_start[t + 1]); inside a tree, node 0 is the root
 * and a split sends a row to `left` or `left + 1` (local indices, always
 * greater than the node's own, so a walk cannot loop). Kinds:
 *   axis      x[feature] <= value goes left;
 *   category  the code's bit in words[aux ..] set goes left; the codes are
 *             0..K-1 plus K for NaN (missing or unseen at training), so
 *             a feature of K categories has ceil((K + 1) / 32) words;
 *   oblique   sum_j w_j x[f_j] (in double, in term order) <= value goes left,
 *             over the `count` terms from aux (extended isolation forest);
 *   leaf      left == 0; value is its path length depth + c(n_samples).
 * A value that no branch describes (NaN in a numeric column, a code that is
 * not a category, a category the node never saw) goes to the child that
 * received fewer training rows, as a rare value should isolate sooner; the
 * bitsets already hold that side for the unseen categories, the MISSING_LEFT
 * flag holds it for the rest.
 *
 * The file section (little-endian, after the model file's own framing):
 *   u32 version (1), u32 n_features, u32 n_trees, u32 psi, u32 n_nodes,
 *   u32 n_words, u32 n_terms, i32 extension_level (-1 = full),
 *   u32 n_categories[n_features] (0 = numeric),
 *   u32 tree_start[n_trees] (tree_start[0] = 0; the end is n_nodes),
 *   u32 left[n_nodes], u32 info[n_nodes], u32 aux[n_nodes], f32 value[n_nodes],
 *   u32 n_samples[n_nodes],
 *   u32 words[n_words], u32 term_feature[n_terms], f32 term_weight[n_terms],
 *   f32 term_share[n_terms].
 * A leaf's value is recomputed from its depth and n_samples on load, never
 * trusted; every index, count, kind and feature type is checked. */
#ifndef VG_MODELS_IFOREST_H
#define VG_MODELS_IFOREST_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/estimator.h"

#define VG_IFOREST_FORMAT_VERSION 1u

enum {
    VG_IFOREST_AXIS = 0,
    VG_IFOREST_CATEGORY = 1,
    VG_IFOREST_OBLIQUE = 2,
    VG_IFOREST_LEAF = 3
};
#define VG_IFOREST_KIND_SHIFT 30
#define VG_IFOREST_MISSING_LEFT (1u << 29)
#define VG_IFOREST_INDEX_MASK ((1u << 29) - 1)
/* The deepest tree a file may hold (a fitted one is at most ceil(log2 psi)). */
#define VG_IFOREST_MAX_DEPTH 64u
/* The most categories a categorical column may have here (the pipeline keeps 1000 by default). */
#define VG_IFOREST_MAX_CATEGORIES (1u << 20)

typedef struct vg_iforest_node {
    uint32_t left;  /* local index of the left child (right = left + 1); 0 for a leaf */
    uint32_t info;  /* kind << 30 | MISSING_LEFT | feature (axis, category) or term count (oblique) */
    uint32_t aux;   /* category: first word; oblique: first term */
    float value;    /* axis threshold, oblique offset, or a leaf's path length */
} vg_iforest_node;

typedef struct vg_iforest {
    uint32_t n_features, n_trees, psi, n_nodes, n_words, n_terms;
    int32_t extension_level;  /* 0 = axis-parallel cuts, -1 = full, k = k + 1 terms per cut */
    double c_psi;             /* c(psi): E[h] is divided by it */
    double h0;                /* mean over trees of c(root's n_samples): the explanations' reference */
    uint32_t *n_categories;   /* n_features; 0 = numeric */
    uint32_t *tree_start;     /* n_trees + 1 */
    vg_iforest_node *nodes;   /* n_nodes */
    uint32_t *n_samples;      /* n_nodes: distinct training rows that reached the node */
    uint32_t *words;          /* n_words */
    uint32_t *term_feature;   /* n_terms */
    float *term_weight;       /* n_terms */
    float *term_share;        /* n_terms: the term's share of an oblique cut's credit in explanations */
    struct vg_iforest_flat *flat; /* the scoring layout (iforest_score.c), derived, own allocation; NULL: none */
} vg_iforest;

/* c(n), the average path length of an unsuccessful search in a binary search
 * tree of n points (Liu et al. 2008), with the harmonic number approximated
 * as scikit-learn's _average_path_length does, H(i) ~ ln(i) + Euler's gamma:
 * 0 for n <= 1, 1 for n = 2, else 2 (ln(n - 1) + gamma) - 2 (n - 1) / n. */
double vg_iforest_c(double n);

/* A forest with room for the given counts (arrays zeroed, one allocation);
 * NULL when out of memory. Free with vg_iforest_free. */
vg_iforest *vg_iforest_alloc(uint32_t n_features, uint32_t n_trees, uint32_t n_nodes, uint32_t n_words,
                             uint32_t n_terms);
void vg_iforest_free(vg_iforest *f);

/* Check every link, kind, index and count of f (as read from a file) and set
 * the leaves' path lengths, c_psi and h0 from the tree shapes. VG_ERR_FORMAT
 * naming the first fault. */
vg_status vg_iforest_finish(vg_iforest *f);

/* Fit (iforest_grow.c); params is the family's parameter struct. */
vg_status vg_iforest_grow(const void *params, const vg_train_set *ts, const vg_fit_options *opt, vg_iforest **out);

/* Build f->flat, the scoring layout (every tree padded to a perfect tree,
 * iforest_score.c), when the forest suits it (no oblique cut, shallow
 * trees); otherwise, or out of memory, scoring walks the nodes. Called by
 * vg_iforest_finish; the scores are the same floats either way. */
void vg_iforest_flatten(vg_iforest *f);

/* Sum over the trees of the path length of one row (iforest_score.c). */
double vg_iforest_path_sum(const vg_iforest *f, const float *row);
/* The anomaly score of one row (predict_row); the same float as vg_iforest_score. */
float vg_iforest_score_row(const vg_iforest *f, const float *row);
/* Anomaly scores 2^(-E[h] / c(psi)), one per row of X, in blocks of rows
 * over `threads` threads; identical for any thread count. */
void vg_iforest_score(const vg_iforest *f, const vg_matrix *X, int threads, float *out);
/* Path-length attributions of one row: contrib (n_features + 1) doubles
 * whose sum is the row's score (the last is the bias); see iforest_score.c. */
vg_status vg_iforest_explain(const vg_iforest *f, const float *row, double *contrib);

/* The family's parameters (iforest.c), read by the grower. */
typedef enum { VG_IFOREST_SAMPLES_AUTO = 0, VG_IFOREST_SAMPLES_COUNT, VG_IFOREST_SAMPLES_FRACTION } vg_iforest_samples;

typedef struct vg_iforest_params {
    uint32_t n_estimators;
    vg_iforest_samples max_samples_mode;
    double max_samples;     /* a count or a fraction, per the mode */
    int max_features_count; /* 1: max_features is a count; 0: a fraction */
    double max_features;
    int bootstrap;
    int32_t extension_level; /* 0 = axis cuts; -1 = full; k: k + 1 numeric columns per cut */
} vg_iforest_params;

/* ---- learning while watching (iforest_window.c) ----
 * A forest kept fresh on a stream: the last `window` events are kept in a
 * ring, and every `refresh` events one tree (round robin) is regrown on psi
 * rows drawn from the ring, so after about window + n_trees x refresh
 * events the forest describes only recent traffic. Memory is the ring plus
 * the forest, whatever the stream's length. */
typedef struct vg_iforest_window vg_iforest_window;

typedef struct vg_iforest_window_params {
    uint32_t window;   /* events kept; at least the forest's psi */
    uint32_t refresh;  /* events between two tree replacements; >= 1 */
} vg_iforest_window_params;

/* Start from a copy of f (f is not kept). seed makes the replacements
 * reproducible. VG_ERR_INVALID when window < psi or refresh == 0. */
vg_status vg_iforest_window_new(const vg_iforest *f, vg_iforest_window_params p, uint64_t seed,
                                vg_iforest_window **out);
void vg_iforest_window_free(vg_iforest_window *w);
/* Score row (n_features floats) with the current forest, then learn it.
 * A failed replacement keeps the old tree and is returned (the score is
 * still written). */
vg_status vg_iforest_window_observe(vg_iforest_window *w, const float *row, float *score);
/* The current forest; borrowed, valid until the next observe. */
const vg_iforest *vg_iforest_window_forest(const vg_iforest_window *w);
/* Trees replaced so far. */
uint64_t vg_iforest_window_replaced(const vg_iforest_window *w);
/* The most events a window or a refresh interval may span (the ring's
 * memory is window x n_features floats). */
#define VG_IFOREST_WINDOW_MAX (1u << 24)
/* The learner's memory beyond its forest (ring, counters), for a restart:
 * u32 version (1), u32 n_features, u32 window, u32 refresh, u32 filled,
 * u32 pos, u64 seen, u64 replaced, then f32 rows[filled][n_features],
 * oldest first. */
vg_status vg_iforest_window_save(const vg_iforest_window *w, vg_wbuf *out);
/* A learner over forest f (copied) restored from what _save wrote. A
 * window or refresh of 0 in p means the saved one; a smaller window keeps
 * the newest rows. VG_ERR_FORMAT for anything that does not fit f. */
vg_status vg_iforest_window_load(const vg_iforest *f, vg_rbuf *r, vg_iforest_window_params p, uint64_t seed,
                                 vg_iforest_window **out);

#endif
