/* The report's "Top anomalies" section for an anomaly model: the rows that
 * score highest, with the score, the truth when the data has it, the fields
 * that made each row unusual (the model's explanation, largest first) and
 * the row's raw values. An analyst reads this first: a model fitted without
 * labels is judged by whether its top rows are worth looking at. */
#include "report/report_anomalies.h"
#include "report/report_svg.h"
#include "vigil/decision.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct scored {
    size_t row;
    float score;
} scored;

static int by_score_desc(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return (x->row > y->row) - (x->row < y->row);  /* ties: file order */
}

typedef struct ranked_field {
    size_t input;
    double contrib;
} ranked_field;

static int by_contrib_desc(const void *a, const void *b)
{
    const ranked_field *x = a, *y = b;
    return (x->contrib < y->contrib) - (x->contrib > y->contrib);
}

static void put_value(vg_wbuf *w, const vg_table *t, size_t row, const char *name)
{
    long col = vg_table_find(t, name);
    if (col < 0) {
        vg_html_put(w, "&ndash;");
        return;
    }
    if (vg_table_type(t, (size_t)col) == VG_COLUMN_CATEGORICAL) {
        uint32_t code = vg_table_codes(t, (size_t)col)[row];
        if (code == VG_CODE_MISSING) vg_html_put(w, "<i>missing</i>");
        else vg_html_text(w, vg_table_category(t, (size_t)col, code));
    } else {
        double v = vg_table_numbers(t, (size_t)col)[row];
        if (isnan(v)) vg_html_put(w, "<i>missing</i>");
        else vg_html_num(w, v, v == floor(v) && fabs(v) < 1e15 ? 0 : 4);
    }
}

vg_status vg_report_put_top_anomalies(vg_wbuf *w, const vg_model *m, const vg_table *t, size_t top, int threads)
{
    vg_decision_rule rule;
    vg_status st = vg_decision_rule_for_model(m, NAN, &rule);
    if (st || rule.kind != VG_OUTPUT_SCORE || !t || vg_table_rows(t) == 0) return st;
    size_t rows = vg_table_rows(t);
    top = VG_MIN(top, rows);
    float *score = NULL;
    scored *order = vg_malloc(rows * sizeof *order);
    size_t *pick = vg_malloc(top * sizeof *pick);
    vg_table *sub = NULL;
    vg_explanation ex = { 0 };
    if (!order || !pick) {
        st = vg_fail(VG_ERR_NOMEM, "report: out of memory");
        goto done;
    }
    if ((st = vg_model_predict(m, t, threads, &score))) goto done;
    for (size_t r = 0; r < rows; r++) order[r] = (scored){ r, isnan(score[r]) ? -INFINITY : score[r] };
    qsort(order, rows, sizeof *order, by_score_desc);
    for (size_t i = 0; i < top; i++) pick[i] = order[i].row;
    /* Only the rows shown are explained. */
    int explain = vg_model_can_explain(m) && !vg_table_take(t, pick, top, &sub) && !vg_model_explain(m, sub, threads, &ex);
    const vg_pipeline *p = vg_model_pipeline(m);
    size_t ni = vg_pipeline_n_inputs(p);
    int log = vg_table_line(t, 0) != 0;
    int labelled = vg_model_has_labels(m, t);
    long label_col = labelled ? vg_table_find(t, vg_model_label(m)) : -1;
    vg_html_put(w, "<section id=\"top-anomalies\"><h2>Top anomalies</h2><p class=\"note\">The %zu rows that score "
                "highest, with the fields that made each one unusual (the model's explanation: ", top);
    vg_html_put(w, explain ? "largest contribution first" : "not available for this model");
    vg_html_put(w, ") and its raw values. Rows at or above the threshold, ");
    vg_html_num(w, rule.threshold, 4);
    vg_html_put(w, ", are alerts.</p><div class=\"tablewrap\"><table><thead><tr><th>%s</th><th>score</th>%s"
                "<th>why</th><th>record</th></tr></thead><tbody>", log ? "line" : "row", labelled ? "<th>label</th>" : "");
    ranked_field *rf = vg_malloc((ni ? ni : 1) * sizeof *rf);
    for (size_t i = 0; rf && i < top; i++) {
        size_t r = pick[i];
        vg_html_put(w, "<tr%s><td>", order[i].score >= rule.threshold ? " class=\"alert\"" : "");
        vg_html_count(w, log ? (size_t)vg_table_line(t, r) : r + 1);
        vg_html_put(w, "</td><td>");
        vg_html_num(w, score[r], 4);
        vg_html_put(w, "</td>");
        if (labelled) {
            vg_html_put(w, "<td>");
            put_value(w, t, r, vg_table_name(t, (size_t)label_col));
            vg_html_put(w, "</td>");
        }
        vg_html_put(w, "<td>");
        if (explain) {
            const double *c = ex.contrib + i * (ni + 1);
            for (size_t k = 0; k < ni; k++) rf[k] = (ranked_field){ k, c[k] };
            qsort(rf, ni, sizeof *rf, by_contrib_desc);
            for (size_t k = 0; k < ni && k < 3 && rf[k].contrib > 0; k++) {
                vg_html_put(w, "%s<b>", k ? ", " : "");
                vg_html_text(w, vg_pipeline_input_name(p, rf[k].input));
                vg_html_put(w, "</b> ");
                vg_html_num(w, rf[k].contrib, 4);
            }
        }
        vg_html_put(w, "</td><td class=\"record\">");
        for (size_t k = 0; k < ni; k++) {
            const char *name = vg_pipeline_input_name(p, k);
            vg_html_put(w, "%s", k ? " &middot; " : "");
            vg_html_text(w, name);
            vg_html_put(w, "=");
            put_value(w, t, r, name);
        }
        vg_html_put(w, "</td></tr>");
    }
    vg_html_put(w, "</tbody></table></div></section>");
    if (!rf) st = vg_fail(VG_ERR_NOMEM, "report: out of memory");
    vg_free(rf);
done:
    vg_explanation_free(&ex);
    vg_table_free(sub);
    vg_free(score), vg_free(order), vg_free(pick);
    return st;
}
