/* Internal: the k-d tree behind vg_knn (knn.c), kept as an object so a
 * model builds it once and queries it many times: SMOTE's search and the
 * euclidean search of the neighbour families (models/distance.c) are this
 * one tree. Midpoint splits on the widest column, a tight box per node,
 * exact squared distances in double, ties by lower position, the same
 * answers for any thread count. */
#ifndef VG_FEATURES_KNN_H
#define VG_FEATURES_KNN_H

#include "vigil/matrix.h"

typedef struct vg_kdtree vg_kdtree;

/* A tree over rows ref[0..nr) of X (ref NULL: rows 0..nr-1), numeric
 * columns searched by box, categorical ones (is_categorical, may be NULL)
 * adding cat_cost per mismatch. Copies the rows it needs: X may go after. */
vg_status vg_kdtree_new(const vg_matrix *X, const uint8_t *is_categorical, double cat_cost, const size_t *ref,
                        size_t nr, vg_kdtree **out);
void vg_kdtree_free(vg_kdtree *t);

/* The k nearest references of each query, nearest first: query i is row
 * rows[i] of Q (then the reference that is that same row of X is not its
 * own neighbour), or row i of Q when rows is NULL. Q has X's columns.
 * out: positions in ref (nq x k); dist (may be NULL): squared distances.
 * A query with fewer than k candidates (NaN values) repeats its last. */
vg_status vg_kdtree_query(const vg_kdtree *t, const float *Q, const size_t *rows, size_t nq, uint32_t k, int threads,
                          uint32_t *out, double *dist);

#endif
