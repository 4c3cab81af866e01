/* A vigil model: everything needed to turn raw records into scores. It
 * bundles how the data is read (format, label column and column roles), the
 * classes of the task, the fitted pipeline, the fitted estimator with its
 * parameters, training metadata and the evaluation metrics, and it is what a
 * .vgm file holds. eval, predict, serve and watch need only the model and the
 * data. Opaque; free with vg_model_free. */
#ifndef VIGIL_MODEL_H
#define VIGIL_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/estimator.h"
#include "vigil/format.h"
#include "vigil/labels.h"
#include "vigil/logformat.h"
#include "vigil/pipeline.h"
#include "vigil/table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_model vg_model;

/* How data is read and which column plays which role. */
typedef struct vg_data_spec {
    const char *format;                /* "csv" (default), "kdd" or a log format ("login", "weblog") */
    const char *label;                 /* label column; NULL = "label" for kdd, the last column for csv */
    vg_task task;                      /* regression keeps a numeric label */
    const char *positive;              /* binary: positive label value, or NULL to choose */
    const char *normal;                /* the normal label value (--normal), or NULL: see vigil/decision.h */
    const char *const *ignore;         /* columns never used as features */
    size_t n_ignore;
    const char *const *categorical;    /* columns read as categories even if they look numeric */
    size_t n_categorical;
    const char *const *text;           /* csv: text columns (URLs, paths) turned into URL/text features */
    size_t n_text;
    const vg_logfmt_options *log;         /* log formats: options, NULL = defaults */
    char delimiter;                    /* csv: field separator, 0 = detect (, ; TAB |) */
    /* Event windows (families that read them, e.g. lstm): the column naming
     * each row's entity (--entity; log formats: their own, the "entity"
     * column their reader adds) and the column ordering the rows in time
     * (--order; NULL: file order). Neither is ever a feature. */
    const char *entity;
    const char *order;
    /* csv: IP address columns (--ip; vigil/ipfeat.h) made into network,
     * class and flag features, beside those found by their values; geoip a
     * GeoIP database (--geoip) that adds each one's country, or NULL. */
    const char *const *ip;
    size_t n_ip;
    const char *geoip;
} vg_data_spec;

/* Read a data file as `spec` says (csv, kdd or a log format; plain or gzip).
 * Bad lines of a log are skipped, counted and reported through vg_log. */
VG_API vg_status vg_data_read(const char *path, const vg_data_spec *spec, vg_table **out);

/* Read a second file of the same data (a --test file) as `spec` says, but
 * with the columns that `like` (the training table) holds as categories
 * read as categories too: typed on its own, a test file whose port column
 * happens to hold only numbers would come out numeric, and a model fitted
 * on the training table's categories would refuse it. */
VG_API vg_status vg_data_read_like(const char *path, const vg_data_spec *spec, const vg_table *like, vg_table **out);

/* The label column `spec` means for table t: --label, else "label" for KDD
 * and log formats, else the last column read from the file (not one made
 * from a --text column). Borrowed from spec or t. */
VG_API const char *vg_data_label(const vg_table *t, const vg_data_spec *spec);

/* The format row spec names (vigil/format.h; no name: the default, csv), or
 * NULL for a name no format has. Static storage. */
VG_API const vg_format *vg_data_format(const vg_data_spec *spec);

typedef struct vg_train_request {
    const vg_table *table;             /* training rows */
    int threshold_set;                 /* 1: save `threshold` as the model's operating point */
    double threshold;                  /* anomaly when score >= threshold (vigil/decision.h) */
    const char *threshold_by;          /* how it was chosen, saved with it; NULL = "train --threshold" */
    vg_data_spec data;
    const char *model;                 /* estimator family name, e.g. "forest" */
    const char *const *params;         /* "key=value" strings (scikit-learn/XGBoost names) */
    size_t n_params;
    const char *sampler;               /* vigil/sampler.h name, applied to the training rows; NULL = none */
    const char *const *sampler_params; /* its "key=value" strings */
    size_t n_sampler_params;
    uint64_t seed;
    int threads;                       /* 0 = all CPUs */
    vg_progress_fn progress;           /* may be NULL */
    void *progress_user;
    /* Anomaly models (families fitted without labels, vigil/estimator.h): */
    int fit_on_normal;                 /* 1: fit on the rows labelled normal only (--fit-on normal) */
    double contamination;              /* share of the fitted rows at or above the threshold, in
                                          (0, 0.5]; 0 = VG_DEFAULT_CONTAMINATION (--contamination,
                                          --alert-rate) */
    /* Feature selection (--select K, --select-by): the K best columns of the
     * training rows of this fit, by "importance" (default) or "mutual_info";
     * 0 = every column. The model's family becomes "select" over `model`. */
    uint32_t select_k;
    const char *select_by;
} vg_train_request;

/* An anomaly model's default operating point when none is asked for: one
 * fitted row in a hundred scores at or above the threshold. */
#define VG_DEFAULT_CONTAMINATION 0.01

/* Check the family name and every parameter before any work (unknown or
 * out-of-range -> VG_ERR_INVALID). class_weight=balanced|NAME:W,... is
 * accepted for every family and becomes per-row weights. */
VG_API vg_status vg_train_request_check(const vg_train_request *rq);

/* Fit the pipeline and estimator on rq->table. *out is new. */
VG_API vg_status vg_model_train(const vg_train_request *rq, vg_model **out);
VG_API void vg_model_free(vg_model *m);

/* Read a data file the way the model's training data was read (same format,
 * the model's column types forced, so text in a numeric field is an error). */
VG_API vg_status vg_model_read_data(const vg_model *m, const char *path, vg_table **out);
/* The same, the ground truth of a log model's data taken from labels_path, a
 * side file of that file's attack line numbers or event ids (as `--labels`);
 * NULL reads as vg_model_read_data. A labels file for a model whose format is
 * not a log format is VG_ERR_INVALID. */
VG_API vg_status vg_model_read_labelled(const vg_model *m, const char *path, const char *labels_path, vg_table **out);

/* The model's outputs for every row of t: class probabilities (rows x
 * n_classes), or one value per row for regression and anomaly models
 * (vg_model_n_outputs says how many); new (vg_malloc'd; caller frees). */
VG_API vg_status vg_model_predict(const vg_model *m, const vg_table *t, int threads, float **proba);

/* True classes of t's label column (-1 for labels the model never saw, counted
 * in *unseen). VG_ERR_INVALID if t has no label column. */
VG_API vg_status vg_model_true_classes(const vg_model *m, const vg_table *t, int32_t *y, size_t *unseen);
/* Score one record given as name/value pairs (see vg_field in pipeline.h):
 * proba gets n_classes values (regression: 1). Absent fields are imputed,
 * unknown fields ignored and counted in *report (may be NULL); text in a
 * numeric field that is not a number fails with VG_ERR_PARSE. */
VG_API vg_status vg_model_predict_record(const vg_model *m, const vg_field *fields, size_t n_fields, float *proba,
                                  vg_record_report *report);

/* Per-prediction explanations, folded back to the raw input fields (one-hot
 * columns summed into their field): for each row, contrib holds one value per
 * input field plus the bias (last), and they sum to the raw score explained:
 * binary - the positive class (gbdt: its log-odds; forest/tree: its
 * probability); multiclass - the class the decision rule labels the row with
 * (vigil/decision.h, default threshold); regression - the value. */
typedef struct vg_explanation {
    size_t rows, n_inputs;
    double *contrib;    /* rows x (n_inputs + 1), owned */
    uint32_t *output;   /* per row: the class whose raw score is explained, owned */
    double *raw;        /* per row: that raw score, owned */
} vg_explanation;

/* 1 if the model scores CSR rows (vg_estimator_reads_sparse of its family
 * and its pipeline's text inputs): predict and explain take that path. */
VG_API int vg_model_reads_sparse(const vg_model *m);

/* 1 if the model's family can explain its predictions. */
VG_API int vg_model_can_explain(const vg_model *m);
VG_API vg_status vg_model_explain(const vg_model *m, const vg_table *t, int threads, vg_explanation *out);
VG_API void vg_explanation_free(vg_explanation *e);
/* The same for one record: contrib has n_inputs + 1 values; *output and *raw as above. */
VG_API vg_status vg_model_explain_record(const vg_model *m, const vg_field *fields, size_t n_fields, double *contrib,
                                  uint32_t *output, double *raw);

/* Feature importance per raw input field (n_inputs values, summed over the
 * field's encoded columns): kind 0 gain, 1 cover, 2 split count.
 * VG_ERR_UNSUPPORTED if the family has none. */
VG_API vg_status vg_model_importance(const vg_model *m, int kind, double *out);

/* Regression: the numeric label of every row of t (rows floats). */
VG_API vg_status vg_model_targets(const vg_model *m, const vg_table *t, float *target);
/* 1 for a regression model: predict gives one value per row, the prediction. */
VG_API int vg_model_is_regression(const vg_model *m);
/* 1 for a model fitted without labels: one anomaly score per row, two
 * classes (normal, anomaly) decided by its threshold. */
VG_API int vg_model_is_anomaly(const vg_model *m);
/* Values per output row of vg_model_predict / vg_model_predict_record. */
VG_API uint32_t vg_model_n_outputs(const vg_model *m);

/* Columns of the rows the estimator reads: the pipeline's features, its CSR
 * columns for a sparse model, or 1 + window x features for a model over
 * event windows. */
VG_API size_t vg_model_row_width(const vg_model *m);
/* Event windows (a model whose family reads them, trained with an entity):
 * the events' window length, 0 for a model that scores single rows. */
VG_API uint32_t vg_model_window(const vg_model *m);

/* The per-entity memory of recent events a stream needs to score a window
 * model as `predict` scores a whole file: a stream pushes every event, in
 * order, through one history. Bounded by the model's max_entities (least
 * recently seen entity dropped). *out is NULL (and VG_OK) for a model
 * without windows. vg_model_predict_record scores a record as a window of
 * that one event. Not thread-safe: one history per stream. */
typedef struct vg_model_history vg_model_history;
VG_API vg_status vg_model_history_new(const vg_model *m, vg_model_history **out);
VG_API void vg_model_history_free(vg_model_history *h);
/* The event's encoded row (vg_pipeline_n_features floats, from
 * vg_pipeline_transform_record) into the row the estimator reads
 * (vg_model_row_width floats), remembered for the entity's next events.
 * The entity is the record's entity field when it has one (--entity),
 * else entity[0..entity_len) (a log event's), else none. */
VG_API vg_status vg_model_history_push(vg_model_history *h, const vg_field *fields, size_t n_fields,
                                       const char *entity, size_t entity_len, const float *row, float *out);
/* A whole event: encode, push and score (proba as vg_model_predict_record). */
VG_API vg_status vg_model_predict_event(const vg_model *m, vg_model_history *h, const vg_field *fields,
                                        size_t n_fields, const char *entity, size_t entity_len, float *proba);

/* 1 if `name` (len bytes) is a column of the model's data that is read but
 * not an input: the label column, an --ignore'd column, KDD's label and
 * difficulty. A record may carry these without them being unknown fields. */
VG_API int vg_model_column_set_aside(const vg_model *m, const char *name, size_t len);

/* 1 if t carries the model's label column. */
VG_API int vg_model_has_labels(const vg_model *m, const vg_table *t);

/* Accessors (borrowed; valid while m lives). */
VG_API const vg_classes *vg_model_classes(const vg_model *m);
/* The operating point saved at training (NaN: none, the decision default
 * applies) and, when by is not NULL, how it was chosen (borrowed; NULL if none). */
VG_API double vg_model_threshold(const vg_model *m, const char **by);
VG_API const char *vg_model_family(const vg_model *m);
VG_API const vg_estimator_kind *vg_model_kind(const vg_model *m);
VG_API const void *vg_model_state(const vg_model *m);
/* Learning while watching (vigil watch --adapt; families with the adapt
 * hooks of vigil/estimator.h, iforest): from now on every prediction on m
 * scores a row with the model as it is, then learns the row, keeping the
 * last `window` rows and refreshing every `refresh` rows. Predictions then
 * change m, so an adapting model is for one thread (the server never
 * adapts); vg_model_save writes the adapted state. VG_ERR_UNSUPPORTED for
 * a family that cannot, VG_ERR_INVALID for a window or refresh it refuses. */
VG_API int vg_model_can_adapt(const vg_model *m);
/* A model saved while adapting carries its learner's memory (the window
 * of recent rows): vg_model_adapt then continues from it, and a window or
 * refresh of 0 means the saved one (for a fresh learner, the defaults
 * below). */
#define VG_MODEL_ADAPT_WINDOW 4096u
#define VG_MODEL_ADAPT_REFRESH 64u
VG_API vg_status vg_model_adapt(vg_model *m, uint32_t window, uint32_t refresh);
/* Score rows the pipeline already encoded (X has its features): out gets
 * vg_model_n_outputs values per row. Fails only while adapting. */
VG_API vg_status vg_model_predict_rows(const vg_model *m, const vg_matrix *X, int threads, float *out);
VG_API const vg_pipeline *vg_model_pipeline(const vg_model *m);
VG_API vg_task vg_model_task(const vg_model *m);
VG_API const char *vg_model_format(const vg_model *m);
VG_API const char *vg_model_label(const vg_model *m);
VG_API size_t vg_model_train_rows(const vg_model *m);
VG_API double vg_model_train_seconds(const vg_model *m);
/* Positive class index for binary models (1), or -1 for multiclass. */
VG_API int vg_model_positive_class(const vg_model *m);

/* Log formats: the options the model was trained with (label, state bounds,
 * GeoIP file), for reading and watching logs the same way. */
VG_API vg_logfmt_options vg_model_log_options(const vg_model *m);

/* Metrics from an evaluation, kept as JSON text in the file (copied). */
VG_API vg_status vg_model_set_metrics_json(vg_model *m, const char *json);
VG_API const char *vg_model_metrics_json(const vg_model *m);  /* NULL if none */

/* Save to / load from a .vgm file. Loading validates everything and refuses
 * truncated, corrupted and newer-version files with VG_ERR_FORMAT. */
VG_API vg_status vg_model_save(const vg_model *m, const char *path);
VG_API vg_status vg_model_load(const char *path, vg_model **out);
/* The same from memory (for tests and fuzzing); `name` prefixes messages. */
VG_API vg_status vg_model_load_memory(const void *data, size_t len, const char *name, vg_model **out);

/* Human-readable description for `vigil inspect`. */
VG_API void vg_model_describe(const vg_model *m, vg_wbuf *out);

#ifdef __cplusplus
}
#endif

#endif
