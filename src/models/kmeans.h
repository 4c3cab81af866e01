/* Internal: the parts of k-means ("kmeans") that tests need beyond the
 * vtable: the parameter struct, a fit from given initial centroids (the
 * golden test against scikit-learn's KMeans(init=array)), and read access to
 * the fitted centroids. */
#ifndef VG_MODELS_KMEANS_H
#define VG_MODELS_KMEANS_H

#include <stdint.h>
#include "vigil/estimator.h"

typedef enum vg_kmeans_algorithm { VG_KMEANS_LLOYD = 0, VG_KMEANS_ELKAN = 1 } vg_kmeans_algorithm;

typedef struct vg_kmeans_params {
    long n_clusters;          /* (8); with k_max > n_clusters, the range n_clusters..k_max */
    long k_max;               /* 0 unless n_clusters was given as LO..HI */
    long n_init;              /* k-means++ restarts, best inertia kept (1, scikit-learn's 'auto') */
    long max_iter;            /* (300) */
    double tol;               /* relative: times the mean feature variance, as scikit-learn (1e-4) */
    vg_kmeans_algorithm algorithm;  /* (lloyd) */
    long silhouette_sample;   /* rows sampled for the silhouette of the range form (2000) */
    int scale_cluster;        /* 1: score = distance / the cluster's mean training distance (default); 0: distance */
} vg_kmeans_params;

/* Fit from init (n_clusters x n_features doubles) with one run, no
 * restarts; otherwise as the vtable's fit. */
vg_status vg_kmeans_fit_init(const vg_kmeans_params *p, const vg_train_set *ts, const double *init, int threads,
                             void **out_state);
/* The fitted centroids (n_clusters x n_features, borrowed), their count,
 * the training inertia and the Lloyd/Elkan iterations of the kept run. */
const double *vg_kmeans_centroids(const void *state, uint32_t *n_clusters, double *inertia, uint32_t *iterations);

#endif
