/* The fitted CART model: grown trees compiled into the shared ensemble
 * layout (see cart.h), and the check that a loaded ensemble has the shape a
 * CART model must have. Prediction, TreeSHAP, importance, save/load and the
 * description are the ensemble's own (ensemble*.c). */
#include "models/cart.h"

#include <string.h>

vg_status vg_cart_compile(const vg_cart_tree *trees, uint32_t n_trees, const vg_feature *features,
                          uint32_t n_features, uint32_t n_classes, vg_ensemble **out)
{
    *out = NULL;
    uint64_t nodes = 0, leaves = 0, words = 0;
    for (uint32_t t = 0; t < n_trees; t++) {
        nodes += trees[t].n_nodes;
        leaves += trees[t].n_leaves;
        words += trees[t].n_cat_words;
    }
    if (n_trees == 0 || nodes >= UINT32_MAX || leaves * n_classes >= UINT32_MAX || words >= UINT32_MAX)
        return vg_fail(VG_ERR_LIMIT, "forest: %u trees of %llu nodes do not fit one model", n_trees,
                       (unsigned long long)nodes);
    vg_ensemble *e;
    vg_status st = vg_ensemble_alloc(n_features, n_classes, n_classes, n_classes, n_trees, (uint32_t)nodes,
                                     (uint32_t)leaves, (uint32_t)words, &e);
    if (st != VG_OK) return st;
    e->link = VG_LINK_PROBA;
    /* The mean of the trees: summed in tree order, then scaled (base 0). */
    e->scale = (float)(1.0 / n_trees);
    for (uint32_t f = 0; f < n_features; f++)
        e->n_categories[f] = features[f].kind == VG_FEATURE_CATEGORICAL ? features[f].n_categories : 0;
    uint32_t node_base = 0, leaf_base = 0, cat_base = 0;
    for (uint32_t t = 0; t < n_trees; t++) {
        const vg_cart_tree *tr = &trees[t];
        e->tree_start[t] = node_base;
        for (uint32_t j = 0; j < tr->n_nodes; j++) {
            /* Child links stay tree-local; leaf and bitset offsets become global. */
            vg_ens_node nd = tr->nodes[j];
            if (nd.feature < 0) nd.child += leaf_base;
            else if (nd.flags & VG_ENS_CATEGORICAL) nd.u.cats += cat_base;
            e->nodes[node_base + j] = nd;
        }
        memcpy(e->cover + node_base, tr->cover, (size_t)tr->n_nodes * sizeof(float));
        memcpy(e->gain + node_base, tr->gain, (size_t)tr->n_nodes * sizeof(float));
        memcpy(e->leaves + (size_t)leaf_base * n_classes, tr->values,
               (size_t)tr->n_leaves * n_classes * sizeof(float));
        if (tr->n_cat_words) memcpy(e->cats + cat_base, tr->cats, tr->n_cat_words * sizeof(uint32_t));
        node_base += tr->n_nodes;
        leaf_base += tr->n_leaves;
        cat_base += tr->n_cat_words;
    }
    e->tree_start[n_trees] = node_base;
    *out = e;
    return VG_OK;
}

vg_status vg_cart_check(const vg_ensemble *e, uint32_t n_trees)
{
    if (e->link != VG_LINK_PROBA || e->n_classes < 2 || e->n_outputs != e->n_classes ||
        e->leaf_width != e->n_outputs)
        return vg_fail(VG_ERR_FORMAT, "tree model: not a classification tree ensemble (link %d, %u classes, "
                       "%u outputs, leaf width %u)", (int)e->link, e->n_classes, e->n_outputs, e->leaf_width);
    if (e->n_trees == 0 || (n_trees && e->n_trees != n_trees))
        return vg_fail(VG_ERR_FORMAT, "tree model: holds %u trees, expected %u", e->n_trees, n_trees);
    /* The probabilities are the mean of the trees' leaves: anything else
     * would silently rescale them. */
    if (e->scale != (float)(1.0 / e->n_trees))
        return vg_fail(VG_ERR_FORMAT, "tree model: scale %g is not 1/%u", (double)e->scale, e->n_trees);
    for (uint32_t k = 0; k < e->n_outputs; k++)
        if (e->base[k] != 0.0f) return vg_fail(VG_ERR_FORMAT, "tree model: base score %u is not 0", k);
    return VG_OK;
}
