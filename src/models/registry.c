/* The estimator registry (name -> vtable) and the parameter-parsing helpers
 * every family's params_set uses, so messages read the same everywhere. */
#include "vigil/estimator.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const vg_estimator_kind *const all_kinds[] = {
    &vg_logreg_kind,
    &vg_tree_kind,
    &vg_forest_kind,
    &vg_gbdt_kind,
    &vg_kmeans_kind,
    &vg_lof_kind,
    &vg_knn_kind,
    &vg_linear_svm_kind,
    &vg_mlp_kind,
    &vg_autoencoder_kind,
    &vg_iforest_kind,
    &vg_svm_kind,
    &vg_lstm_kind,
    &vg_gru_kind,
    &vg_vote_kind,
    &vg_stack_kind,
    &vg_adaboost_kind,
    &vg_bagging_kind,
    &vg_select_kind,
    &vg_hybrid_kind,
    NULL,
};

const vg_estimator_kind *const *vg_estimator_all(void)
{
    return all_kinds;
}

const char *vg_estimator_check(const vg_estimator_kind *k)
{
    if (!k->name || !k->summary || !k->params_default || !k->params_set || !k->params_check || !k->fit ||
        !k->n_classes || !k->save || !k->load || !k->free)
        return "a required function or name is missing";
    if (!k->outputs || (k->outputs & ~(unsigned)(VG_ESTIMATOR_OUT_PROBA | VG_ESTIMATOR_OUT_VALUE | VG_ESTIMATOR_OUT_SCORE)))
        return "outputs must name what predict writes";
    if ((k->outputs & VG_ESTIMATOR_OUT_SCORE) && k->needs_labels)
        return "an anomaly-score family fits without labels";
    if (!k->inputs || (k->inputs & ~(unsigned)(VG_ESTIMATOR_IN_DENSE | VG_ESTIMATOR_IN_SPARSE | VG_ESTIMATOR_IN_WINDOW)))
        return "inputs must be dense, sparse and/or windows";
    if ((k->inputs & VG_ESTIMATOR_IN_WINDOW) && !(k->inputs & VG_ESTIMATOR_IN_DENSE))
        return "a window family reads its windows as dense rows";
    if ((k->inputs & VG_ESTIMATOR_IN_DENSE) && !k->predict) return "a dense family needs predict";
    if ((k->inputs & VG_ESTIMATOR_IN_SPARSE) && !k->predict_sparse) return "a sparse family needs predict_sparse";
    int hooks = !!k->adapt_new + !!k->adapt_rows + !!k->adapt_state + !!k->adapt_free;
    if (hooks != 0 && (hooks != 4 || !(k->outputs & VG_ESTIMATOR_OUT_SCORE)))
        return "the adapt hooks come all four together, for an anomaly-score family";
    if ((k->adapt_save || k->adapt_load) && (!k->adapt_save || !k->adapt_load || !hooks))
        return "adapt_save and adapt_load come together, with the adapt hooks";
    return NULL;
}

int vg_estimator_reads_sparse(const vg_estimator_kind *k, size_t n_text)
{
    if (!(k->inputs & VG_ESTIMATOR_IN_SPARSE)) return 0;
    return n_text > 0 || !(k->inputs & VG_ESTIMATOR_IN_DENSE);
}

const vg_estimator_kind *vg_estimator_find(const char *name)
{
    if (!name) return NULL;
    /* "vote:gbdt,forest": the family before the colon, its parts after
     * (the train path hands them to the family as its "estimators"). */
    const char *colon = strchr(name, ':');
    size_t n = colon ? (size_t)(colon - name) : strlen(name);
    for (size_t i = 0; all_kinds[i]; i++)
        if (strlen(all_kinds[i]->name) == n && strncmp(all_kinds[i]->name, name, n) == 0) return all_kinds[i];
    return NULL;
}

vg_status vg_param_double(const char *key, const char *value, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (end == value || *end != '\0' || errno == ERANGE || !isfinite(v))
        return vg_fail(VG_ERR_INVALID, "parameter %s: '%s' is not a number", key, value);
    if (v < lo || v > hi)
        return vg_fail(VG_ERR_INVALID, "parameter %s: %s is out of range [%g, %g]", key, value, lo, hi);
    *out = v;
    return VG_OK;
}

vg_status vg_param_int(const char *key, const char *value, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (end == value || *end != '\0' || errno == ERANGE)
        return vg_fail(VG_ERR_INVALID, "parameter %s: '%s' is not a whole number", key, value);
    if (v < lo || v > hi)
        return vg_fail(VG_ERR_INVALID, "parameter %s: %s is out of range [%ld, %ld]", key, value, lo, hi);
    *out = v;
    return VG_OK;
}

vg_status vg_param_bool(const char *key, const char *value, int *out)
{
    static const char *yes[] = { "true", "1", "yes", "on" };
    static const char *no[] = { "false", "0", "no", "off" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(value, yes[i]) == 0) return *out = 1, VG_OK;
        if (strcasecmp(value, no[i]) == 0) return *out = 0, VG_OK;
    }
    return vg_fail(VG_ERR_INVALID, "parameter %s: '%s' is not true or false", key, value);
}

vg_status vg_param_unknown(const char *family, const char *key)
{
    return vg_fail(VG_ERR_INVALID, "parameter %s: not a parameter of model '%s' (see vigil train --help)",
                   key, family);
}
