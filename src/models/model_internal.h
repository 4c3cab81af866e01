/* The layout of vg_model, shared by the files that build it (train.c), save
 * and load it (model_file.c) and use it (model.c). */
#ifndef VG_MODEL_INTERNAL_H
#define VG_MODEL_INTERNAL_H

#include "vigil/model.h"

typedef struct vg_string_list {
    size_t n;
    char **items;
} vg_string_list;

struct vg_model {
    /* How data is read. */
    char *format;
    char *label;
    vg_task task;
    char *positive;                 /* as given by the user, may be NULL */
    vg_string_list ignore;
    vg_string_list categorical;     /* columns forced categorical when reading */
    vg_string_list text;            /* text columns expanded into URL features when reading */
    vg_string_list ip;              /* IP columns expanded into vigil/ipfeat.h features when reading */
    char *ip_geoip;                 /* the GeoIP database of their country feature, or NULL */
    vg_classes classes;
    /* The operating point saved at training: NaN = the decision default. */
    double threshold;
    char *threshold_by;             /* how it was chosen, e.g. "train --threshold" */
    /* Log formats only. */
    char *log_label;
    char *log_geoip;
    uint64_t log_max_entities;
    double log_entity_ttl;
    /* Event windows (families with VG_ESTIMATOR_IN_WINDOW): the estimator
     * reads rows of the last `window` events of the row's entity, the entity
     * being column `entity` (CSV --entity, or the log formats' "entity"),
     * rows taken in ascending `order` (--order; NULL: file order). window 0:
     * plain rows. */
    uint32_t window;
    char *entity;
    char *order;
    /* What was learned. */
    vg_pipeline *pipeline;
    const vg_estimator_kind *kind;
    vg_string_list params;          /* "key=value" as given */
    /* The sampler that resampled the training rows (NULL: none), its
     * "key=value" parameters as given, the rows before and after it and the
     * same per class ("normal 800 -> 800, attack 200 -> 800"). */
    char *sampler;
    vg_string_list sampler_params;
    uint64_t sampler_rows_before, sampler_rows_after;
    char *sampler_classes;
    void *state;
    void *learner;                  /* vg_model_adapt: the family's learner, whose state replaces `state` */
    uint8_t *adapt_saved;           /* a learner's memory read from the file (ADPT), restored by vg_model_adapt */
    size_t adapt_saved_len;
    /* Training metadata. */
    uint64_t seed;
    int threads;
    size_t train_rows;
    double train_seconds;
    uint64_t data_checksum;
    char *data_name;
    int64_t created;                /* unix seconds */
    char *vigil_version;
    char *metrics_json;             /* may be NULL */
};

/* Replace X (t encoded by the pipeline) by the event windows the estimator
 * reads, when the model has windows (model.c); else leave it. */
vg_status vg_model_window_rows(const vg_model *m, const vg_table *t, vg_matrix *X);
vg_status vg_string_list_copy(vg_string_list *dst, const char *const *src, size_t n);
void vg_string_list_free(vg_string_list *l);
vg_label_spec vg_model_label_spec(const vg_model *m);
/* Every parameter the model was fitted with, defaults included, as
 * "key=value, ..." (train.c, where parameters are built). */
void vg_model_params_describe(const vg_model *m, vg_wbuf *out);

#endif
