/* Internal: the one distance kernel of the distance-based families (kmeans,
 * lof, knn): exact k-nearest-neighbour search over a prepared reference set,
 * and the dense tile kernel kmeans uses against its centroids. Euclidean
 * searches go to the k-d tree SMOTE uses (features/knn.h; see `tree` below
 * for why); the tiles described next serve manhattan and cosine.
 *
 * Rows come from the one-hot + standardised pipeline, so most columns are
 * one-hot indicators: 0 or 1 in every training row. Those "binary" columns
 * are packed as bits, and over them (a - b)^2 = |a - b| = popcount(a XOR b)
 * exactly; only the other ("dense") columns go through float arithmetic. On
 * NSL-KDD that leaves 38 of 122 columns dense, a third of the work. A query
 * with a value other than 0/1 in a binary column (an unusual scaled row) is
 * still exact: its binary part is a base plus one term per set bit of the
 * reference.
 *
 * Candidates are found with float32 distances (direct differences, never
 * ||a||^2 - 2ab + ||b||^2, so no cancellation), the best k + VG_DIST_SLACK per
 * query kept, then recomputed in double and sorted by (distance, index): the
 * neighbours and distances returned are the exact ones, and ties go to the
 * lower reference index whatever the thread count. The tile skipping below
 * never changes the answer: a skipped tile's rows are provably farther than
 * every candidate kept (with a margin for float32 rounding). */
#ifndef VG_MODELS_DISTANCE_H
#define VG_MODELS_DISTANCE_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

typedef enum vg_dist_metric {
    VG_DIST_EUCLIDEAN = 0,  /* returned as the distance, searched on its square */
    VG_DIST_MANHATTAN = 1,
    VG_DIST_COSINE = 2      /* 1 - cos(a, b); a zero row has similarity 0 (distance 1), as scikit-learn */
} vg_dist_metric;

#define VG_DIST_TILE 16   /* reference rows per packed tile */
#define VG_DIST_SLACK 8   /* extra float32 candidates per query re-ranked in double */

/* A reference set prepared for search. Borrows the rows X (the caller keeps
 * them alive and unchanged); owns the rest. */
typedef struct vg_dist_index {
    vg_dist_metric metric;
    size_t n;
    uint32_t d;
    const float *X;       /* n x d, borrowed */
    uint32_t nd, nb;      /* dense and binary column counts (nd + nb = d) */
    uint32_t *dense_col;  /* nd column indices */
    uint32_t *bin_col;    /* nb column indices (none for cosine) */
    uint32_t words;       /* 64-bit words of bits per row */
    float *tiles;         /* ceil(n / TILE) x nd x TILE: dense part, transposed per tile (cosine: normalised) */
    uint64_t *bits;       /* n x words, in slot order */
    double *norm;         /* cosine: ||x|| per reference row */
    /* Rows sit in "slots": the leaves of a k-d split (widest column, median)
     * of 16 rows each, so each tile is a small ball. A tile whose ball is
     * farther from a query than the query's current k-th candidate is
     * skipped (euclidean and manhattan; cosine scans every tile). */
    uint32_t *perm;       /* n: the row in each slot */
    uint32_t *slot;       /* n: the slot of each row */
    float *center;        /* n_tiles x d: each tile's mean row */
    float *ctiles;        /* the centers 16 at a time, transposed (d x TILE), for the kernel */
    double *radius;       /* n_tiles: largest euclidean distance of a tile's row to its center */
    /* Euclidean: a k-d tree (features/knn.h, SMOTE's) and none of the tile
     * fields above. Midpoint splits with a tight box per node prune where
     * the tiles' balls did not: on NSL-KDD's normal rows the balls skipped
     * under a tenth of the tiles, and the tree's search took a third of the
     * CPU of the tile scan. */
    struct vg_kdtree *tree;
} vg_dist_index;

/* Prepare X (n x d) for searching with metric. On failure *ix is zeroed. */
vg_status vg_dist_index_init(vg_dist_index *ix, const float *X, size_t n, uint32_t d, vg_dist_metric metric);
void vg_dist_index_free(vg_dist_index *ix);

/* The k nearest references of each query row Q (nq x d): idx and dist are
 * nq x k, nearest first (ties by lower index), dist the true metric value.
 * self: the queries are the references themselves (Q == ix->X) and query i
 * does not count itself (scikit-learn's kneighbors() without X); then
 * k < n, else k <= n. Threads over blocks of queries. */
vg_status vg_dist_knn(const vg_dist_index *ix, const float *Q, size_t nq, uint32_t k, int self, int threads,
                      uint32_t *idx, double *dist);

/* What vg_dist_knn_slices hands over per query: the family's state, its
 * output, the query's index and its k neighbours and distances. */
typedef void (*vg_dist_row_fn)(const void *state, void *out, size_t row, const uint32_t *idx, const double *dist);

/* vg_dist_knn (not self) over Q in slices of at most `slice` queries, so the
 * neighbour lists stay bounded whatever nq, each query then given to fn.
 * The predict loop of every neighbour family; VG_ERR_NOMEM when memory ran
 * out (then fn may have seen only the first slices). */
vg_status vg_dist_knn_slices(const vg_dist_index *ix, const float *Q, size_t nq, uint32_t k, size_t slice,
                             int threads, vg_dist_row_fn fn, const void *state, void *out);

/* The exact metric value between two rows of d floats (double arithmetic). */
double vg_dist_exact(vg_dist_metric metric, const float *a, const float *b, uint32_t d);

/* Squared euclidean distances, float32 direct differences, of QR query rows
 * q (QR x nd, row-major) against one tile t (nd x TILE) into out (QR x TILE),
 * QR = 4. The hot loop of every family here. */
void vg_dist_tile_sq4(const float *q, const float *t, uint32_t nd, float *out);

#endif
