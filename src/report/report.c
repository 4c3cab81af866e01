/* The HTML evaluation report (see vigil/report.h): the document, its
 * sections and its stylesheet. Charts come from report_svg.c, the curves and
 * histograms they draw from report_data.c - the same ones the evaluation JSON
 * stores for the dashboard. */
#include "vigil/report.h"
#include "vigil/decision.h"
#include "eval/report_data.h"
#include "report/report_anomalies.h"
#include "report/report_sources.h"
#include "report/report_svg.h"
#include "vigil/alerts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print first: white sections without borders, colours kept (heat map and
 * bars carry meaning), a chart never split across pages. */
static const char css[] =
    ":root{--ink:#1c2430;--muted:#5d6878;--faint:#8b95a3;--line:#e3e7ec;--bg:#f4f5f7;--accent:#0b6bcb}"
    "*{box-sizing:border-box}"
    "html{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "body{margin:0;background:var(--bg);color:var(--ink);"
    "font:14px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif}"
    "main{max-width:1100px;margin:0 auto;padding:36px 32px 48px}"
    "header.top{padding:0 4px 8px}"
    ".kicker{font-size:11.5px;font-weight:600;letter-spacing:.09em;text-transform:uppercase;color:var(--accent)}"
    "h1{font-size:26px;font-weight:650;letter-spacing:-.01em;margin:4px 0 14px}"
    "h1 .sub{color:var(--muted);font-weight:400}"
    "dl.meta{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px 28px;margin:0}"
    "dl.meta div{min-width:0}"
    "dl.meta dt{font-size:11.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}"
    "dl.meta dd{margin:0;font-weight:500;overflow-wrap:anywhere}"
    "dl.meta div.wide{grid-column:span 2}"
    "section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:22px 26px;margin-top:18px}"
    "h2{font-size:16px;font-weight:650;margin:0 0 2px}"
    "p.note{color:var(--muted);font-size:12.5px;margin:0 0 16px;max-width:75ch}"
    ".cards{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:12px}"
    ".card{border:1px solid var(--line);border-radius:8px;padding:12px 14px 10px;background:#fbfcfd}"
    ".card .k{font-size:12px;color:var(--muted);font-weight:500}"
    ".card .v{font-size:26px;font-weight:600;font-variant-numeric:tabular-nums;letter-spacing:-.01em;line-height:1.3}"
    ".card .d{font-size:11.5px;color:var(--faint);overflow-wrap:anywhere}"
    ".grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:28px 36px}"
    ".grid3{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:24px 28px}"
    ".grid3+h3{margin-top:26px}"
    "figure{margin:0;break-inside:avoid}"
    "figcaption{font-weight:600;font-size:13.5px;margin-bottom:6px}"
    "svg.chart{width:100%;height:auto;display:block;font-size:11px}"
    "svg .grid{stroke:#edf0f3;stroke-width:1}"
    "svg .axis{stroke:#9aa4b1;stroke-width:1;fill:none}"
    "svg .chance{stroke:#a8b1bd;stroke-width:1;stroke-dasharray:4 4}"
    "svg .mark{stroke:#5d6878;stroke-width:1;stroke-dasharray:3 3;vector-effect:non-scaling-stroke}"
    "svg .tick{fill:var(--muted);font-size:11px}"
    "svg .label{fill:#3b4452;font-size:12px}"
    ".legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin-top:6px;font-size:12.5px}"
    ".legend span{display:inline-flex;align-items:center;gap:6px}"
    ".legend b{font-weight:600;font-variant-numeric:tabular-nums}"
    ".sw{display:inline-block;width:12px;height:12px;border-radius:3px;flex:none}"
    ".ln{display:inline-block;width:18px;height:3px;border-radius:2px;flex:none}"
    ".scroll{overflow-x:auto}"
    "table{border-collapse:collapse;font-variant-numeric:tabular-nums}"
    ".tablewrap{overflow-x:auto}td.record{font-size:11.5px;color:var(--muted);max-width:70ch;word-break:break-word}"
    "tr.alert td:first-child{border-left:3px solid #c0392b}"
    "table.data{width:100%}"
    "table.data th,table.data td{padding:7px 12px;border-bottom:1px solid var(--line);text-align:right;"
    "white-space:nowrap}"
    "table.data th:first-child,table.data td:first-child{text-align:left}"
    "table.data thead th{font-size:12px;font-weight:600;color:var(--muted);border-bottom:1px solid #cdd3db;"
    "vertical-align:bottom}"
    "table.data tbody tr:last-child td{border-bottom:none}"
    "td.best{font-weight:700;color:var(--accent)}"
    "table.cm{margin-top:4px}"
    "table.cm th{font-size:12px;font-weight:600;color:var(--muted);padding:6px 10px;text-align:center;"
    "max-width:120px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}"
    "table.cm th.row{text-align:right}"
    "table.cm td{width:104px;height:64px;text-align:center;border:2px solid #fff;border-radius:6px;line-height:1.25}"
    "table.cm td .c{display:block;font-weight:600;font-size:14.5px}"
    "table.cm td .p{display:block;font-size:11.5px;opacity:.85}"
    "table.cm.small td{width:60px;height:40px}"
    "table.cm.small td .c{font-size:12px}"
    "table.cm .axis-t{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--faint);font-weight:600}"
    ".cmwrap{display:flex;flex-wrap:wrap;gap:24px 56px;align-items:flex-start}"
    "dl.outcomes{margin:28px 0 0;display:grid;grid-template-columns:repeat(2,minmax(170px,1fr));gap:14px 28px}"
    ".oc{border-left:3px solid var(--line);padding:2px 0 2px 12px}"
    ".oc.good{border-color:#0b6bcb}.oc.bad{border-color:#d55e00}"
    ".oc dt{font-size:12px;color:var(--muted);font-weight:500}"
    ".oc dd{margin:0;font-size:12.5px;color:var(--muted)}"
    ".oc dd b{display:block;font-size:20px;color:var(--ink);font-weight:600;font-variant-numeric:tabular-nums}"
    ".cmkey{display:flex;gap:18px;font-size:12px;color:var(--muted);margin-top:10px}"
    ".cmkey span{display:inline-flex;align-items:center;gap:6px}"
    ".hist{display:grid;gap:6px;max-width:860px}"
    ".hrow{display:grid;grid-template-columns:170px 1fr;gap:14px;align-items:end}"
    ".hlab{display:flex;align-items:center;gap:7px;min-width:0;padding-bottom:4px;font-weight:500}"
    ".hlab .hname{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}"
    ".hlab small{color:var(--faint);font-weight:400;white-space:nowrap;margin-left:auto}"
    ".hist svg{width:100%;height:72px;display:block}"
    ".hist line{vector-effect:non-scaling-stroke}"
    ".hx{position:relative;height:16px;font-size:11px;color:var(--muted)}"
    ".hx span{position:absolute;transform:translateX(-50%)}"
    ".hx span:first-child{transform:none}.hx span:last-child{transform:translateX(-100%)}"
    ".hxl{text-align:center;font-size:12px;color:#3b4452}"
    ".bars{display:grid;grid-template-columns:minmax(120px,220px) 1fr 64px 64px;gap:5px 14px;align-items:center;"
    "max-width:860px;font-variant-numeric:tabular-nums}"
    ".bars .h{font-size:12px;color:var(--muted);font-weight:600}"
    ".bars .f{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;text-align:right}"
    ".bars .t{background:#eef1f5;border-radius:3px;height:14px}"
    ".bars .b{background:var(--accent);border-radius:3px;height:14px}"
    ".bars .n{text-align:right}"
    ".bars .m{text-align:right;color:var(--muted)}"
    ".models{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:24px 36px}"
    "h3{font-size:14px;font-weight:650;margin:0 0 8px}"
    "footer{color:var(--faint);font-size:12px;margin-top:22px;padding:0 4px}"
    "@media (max-width:820px){.cards{grid-template-columns:repeat(2,minmax(0,1fr))}dl.meta div.wide{grid-column:auto}}"
    "@media (max-width:640px){main{padding:20px 14px}section{padding:16px}.hrow{grid-template-columns:110px 1fr}"
    ".bars{grid-template-columns:110px 1fr 56px}.bars .m{display:none}}"
    "@media print{body{background:#fff;font-size:12px}main{max-width:none;padding:0}"
    "section{border:none;border-top:1px solid var(--line);border-radius:0;padding:14px 0 0;margin-top:16px;"
    "break-inside:avoid}section.long{break-inside:auto}.card{background:#fff;padding:8px 10px}"
    ".cards{grid-template-columns:repeat(4,minmax(0,1fr))}.card .v{font-size:21px}"
    ".grid2{grid-template-columns:1fr 1fr}dl.meta div.wide{grid-column:span 2}}";

/* Models report their class names as `char **`; the helpers take them const. */
static const char *const *class_names(const vg_model *m)
{
    return (const char *const *)vg_model_classes(m)->names;
}

static const char *model_name(const vg_report_input *in)
{
    return in->name ? in->name : vg_model_family(in->model);
}

static void meta_item(vg_wbuf *w, const char *key, const char *value)
{
    /* Paths get two columns: they are long and break badly in one. */
    int wide = value && strlen(value) > 24;
    vg_html_put(w, "<div%s><dt>%s</dt><dd>", wide ? " class=\"wide\"" : "", key);
    vg_html_text(w, value && *value ? value : "\xe2\x80\x93");
    vg_html_put(w, "</dd></div>");
}

static void meta_count(vg_wbuf *w, const char *key, size_t v, size_t excluded)
{
    vg_html_put(w, "<div><dt>%s</dt><dd>", key);
    vg_html_count(w, v);
    if (excluded) {
        vg_html_put(w, " <span style=\"color:var(--muted);font-weight:400\">(+");
        vg_html_count(w, excluded);
        vg_html_put(w, " with unknown labels, not scored)</span>");
    }
    vg_html_put(w, "</dd></div>");
}

static void put_created(vg_wbuf *w, const vg_report_params *p)
{
    time_t now = p->created ? p->created : time(NULL);
    struct tm tm;
    char date[64] = "";
    if (gmtime_r(&now, &tm)) strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
    meta_item(w, "Created", date);
    meta_item(w, "vigil version", VG_VERSION_STRING);
}

/* A report of an alert store alone: no model to name. */
static void put_store_header(vg_wbuf *w, const vg_report_params *p)
{
    vg_html_put(w, "<header class=\"top\"><div class=\"kicker\">vigil &middot; ");
    vg_html_text(w, p->title ? p->title : "Alert report");
    vg_html_put(w, "</div><h1>Alerts <span class=\"sub\">from the alert store</span></h1><dl class=\"meta\">");
    meta_item(w, "Alert store", p->alerts_path);
    put_created(w, p);
    vg_html_put(w, "</dl></header>");
}

static void put_header(vg_wbuf *w, const vg_report_input *in, size_t n, const vg_report_params *p)
{
    if (n == 0) {
        put_store_header(w, p);
        return;
    }
    const vg_model *m = in[0].model;
    const char *title = p->title ? p->title : n > 1 ? "Model comparison" : in[0].eval ? "Evaluation report"
                                                                                       : "Log report";
    vg_html_put(w, "<header class=\"top\"><div class=\"kicker\">vigil &middot; ");
    vg_html_text(w, title);
    vg_html_put(w, "</div><h1>");
    if (n == 1) {
        vg_html_text(w, model_name(in));
        vg_html_put(w, " <span class=\"sub\">");
        vg_html_text(w, vg_task_str(vg_model_task(m)));
        vg_html_put(w, vg_model_is_regression(m) ? " model</span>" : " detector</span>");
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i) vg_html_put(w, "<span class=\"sub\"> vs </span>");
            vg_html_text(w, model_name(&in[i]));
        }
    }
    vg_html_put(w, "</h1><dl class=\"meta\">");
    if (n == 1) {
        meta_item(w, "Model family", vg_model_family(m));
        if (in[0].source) meta_item(w, "Model file", in[0].source);
    }
    meta_item(w, "Task", vg_task_str(vg_model_task(m)));
    if (!vg_model_is_regression(m)) {
        /* The class list, shortened when a label task has dozens. */
        const vg_classes *c = vg_model_classes(m);
        vg_html_put(w, "<div><dt>Classes</dt><dd>");
        for (uint32_t i = 0; i < c->n && i < 8; i++) {
            if (i) vg_html_put(w, ", ");
            vg_html_text(w, c->names[i]);
        }
        if (c->n > 8) vg_html_put(w, " and %u more", c->n - 8);
        vg_html_put(w, "</dd></div>");
    }
    meta_item(w, "Evaluated on", p->data);
    if (p->train) meta_item(w, "Trained on", p->train);
    if (in[0].eval) meta_count(w, "Rows scored", vg_evaluation_scored_rows(in[0].eval), in[0].eval->excluded);
    else meta_item(w, "Labels", "none in the data");
    meta_count(w, "Training rows", vg_model_train_rows(m), 0);
    if (p->alerts_path) meta_item(w, "Alert store", p->alerts_path);
    put_created(w, p);
    vg_html_put(w, "</dl></header>");
}

static void card(vg_wbuf *w, const char *key, double v, int decimals, const char *detail, const char *detail_data)
{
    vg_html_put(w, "<div class=\"card\"><div class=\"k\">%s</div><div class=\"v\">", key);
    vg_html_num(w, v, decimals);
    vg_html_put(w, "</div><div class=\"d\">%s", detail ? detail : "");
    vg_html_text(w, detail_data);
    vg_html_put(w, "</div></div>");
}

static void put_cards(vg_wbuf *w, const vg_report_input *in)
{
    const vg_evaluation *e = in->eval;
    vg_html_put(w, "<section id=\"summary\"><h2>Headline metrics</h2>");
    if (e->regression) {
        const vg_regression_metrics *r = &e->reg;
        vg_html_put(w, "<p class=\"note\">Errors of the predicted value against the true one.</p>"
                    "<div class=\"cards\">");
        card(w, "RMSE", r->rmse, 4, "root mean squared error", NULL);
        card(w, "MAE", r->mae, 4, "mean absolute error", NULL);
        card(w, "R\xc2\xb2", r->r2, 4, "share of variance explained", NULL);
        card(w, "Mean target", r->mean_target, 4, "average true value", NULL);
        vg_html_put(w, "</div></section>");
        return;
    }
    const vg_metrics *mt = &e->metrics;
    const char *const *names = class_names(in->model);
    int pos = vg_model_positive_class(in->model);
    if (pos >= 0) {
        vg_html_put(w, "<p class=\"note\">Precision, recall, F1 and the false-positive rate are those of the positive "
                    "class <b>");
        vg_html_text(w, names[pos]);
        vg_html_put(w, "</b>, at the model's decision (score >= its threshold, the rule predict, serve and watch use).</p><div class=\"cards\">");
        card(w, "Accuracy", mt->accuracy, 4, "rows classified right", NULL);
        card(w, "Precision", mt->precision, 4, "alerts that are ", names[pos]);
        card(w, "Recall", mt->recall, 4, "detection rate of ", names[pos]);
        card(w, "F1", mt->f1, 4, "of precision and recall", NULL);
        card(w, "False-positive rate", mt->fpr, 4, "false alarms among ", names[1 - pos]);
        card(w, "ROC-AUC", mt->roc_auc, 4, "ranking quality", NULL);
        card(w, "PR-AUC", mt->pr_auc, 4, "average precision", NULL);
        card(w, "Log loss", mt->log_loss, 4, "lower is better", NULL);
    } else {
        vg_html_put(w, "<p class=\"note\">Multiclass: precision, recall and F1 are macro averages over the classes; "
                    "ROC-AUC and PR-AUC are one-vs-rest macro averages.</p><div class=\"cards\">");
        card(w, "Accuracy", mt->accuracy, 4, "rows classified right", NULL);
        card(w, "Macro F1", mt->macro_f1, 4, "classes weighted equally", NULL);
        card(w, "Weighted F1", mt->weighted_f1, 4, "weighted by support", NULL);
        card(w, "Precision", mt->precision, 4, "macro average", NULL);
        card(w, "Recall", mt->recall, 4, "macro average", NULL);
        card(w, "ROC-AUC", mt->roc_auc, 4, "one-vs-rest macro", NULL);
        card(w, "PR-AUC", mt->pr_auc, 4, "one-vs-rest macro", NULL);
        card(w, "Log loss", mt->log_loss, 4, "lower is better", NULL);
    }
    vg_html_put(w, "</div></section>");
}

/* A colour between white and (r, g, b) at strength t in [0, 1], as #rrggbb. */
static void mix(double t, int r, int g, int b, char out[8])
{
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    snprintf(out, 8, "#%02x%02x%02x", (int)lround(255 + (r - 255) * t), (int)lround(255 + (g - 255) * t),
             (int)lround(255 + (b - 255) * t));
}

/* Rows = truth, columns = prediction; the shade is the cell's share of its
 * row (square-rooted, so a 2% error rate is still visible next to a 98%
 * diagonal): blue where the model is right, orange where it is wrong. */
static void put_confusion(vg_wbuf *w, const vg_model *m, const vg_metrics *mt, int small)
{
    uint32_t k = mt->n_classes;
    const char *const *names = class_names(m);
    vg_html_put(w, "<div class=\"scroll\"><table class=\"cm%s\"><thead><tr><th></th>"
                "<th class=\"axis-t\" colspan=\"%u\">Predicted</th></tr><tr><th class=\"row axis-t\">True</th>",
                small ? " small" : "", k);
    for (uint32_t j = 0; j < k; j++) {
        vg_html_put(w, "<th title=\"");
        vg_html_text(w, names[j]);
        vg_html_put(w, "\">");
        vg_html_text(w, names[j]);
        vg_html_put(w, "</th>");
    }
    vg_html_put(w, "</tr></thead><tbody>");
    for (uint32_t i = 0; i < k; i++) {
        size_t row = 0;
        for (uint32_t j = 0; j < k; j++) row += mt->confusion[(size_t)i * k + j];
        vg_html_put(w, "<tr><th class=\"row\" title=\"");
        vg_html_text(w, names[i]);
        vg_html_put(w, "\">");
        vg_html_text(w, names[i]);
        vg_html_put(w, "</th>");
        for (uint32_t j = 0; j < k; j++) {
            size_t v = mt->confusion[(size_t)i * k + j];
            double share = row ? (double)v / (double)row : 0;
            double t = sqrt(share) * 0.92;
            char bg[8];
            if (i == j) mix(t, 0x0b, 0x6b, 0xcb, bg);
            else mix(t, 0xd5, 0x5e, 0x00, bg);
            vg_html_put(w, "<td style=\"background:%s;color:%s\"><span class=\"c\">", bg,
                        t > 0.55 ? "#fff" : "#1c2430");
            vg_html_count(w, v);
            vg_html_put(w, "</span>");
            if (!small || k <= 6) {
                vg_html_put(w, "<span class=\"p\">");
                if (row) vg_html_put(w, "%.1f%%", 100 * share);
                else vg_html_put(w, "&ndash;");
                vg_html_put(w, "</span>");
            }
            vg_html_put(w, "</td>");
        }
        vg_html_put(w, "</tr>");
    }
    vg_html_put(w, "</tbody></table></div>");
}

static void confusion_key(vg_wbuf *w)
{
    vg_html_put(w, "<div class=\"cmkey\"><span><i class=\"sw\" style=\"background:#3d88d6\"></i>correct</span>"
                "<span><i class=\"sw\" style=\"background:#e08a4d\"></i>error</span>"
                "<span>shade and percentage: share of the true class's rows</span></div>");
}

static void legend_line(vg_wbuf *w, const char *color, const char *name, const char *metric, double v)
{
    vg_html_put(w, "<span><i class=\"ln\" style=\"background:%s\"></i>", color);
    vg_html_text(w, name);
    vg_html_put(w, " %s <b>", metric);
    vg_html_num(w, v, 3);
    vg_html_put(w, "</b></span>");
}

static double prevalence(const vg_metrics *mt, uint32_t c)
{
    return mt->rows ? (double)mt->per_class[c].support / (double)mt->rows : -1;
}

static void put_curves_single(vg_wbuf *w, const vg_report_input *in, const vg_eval_plots *pl)
{
    const vg_metrics *mt = &in->eval->metrics;
    const char *const *names = class_names(in->model);
    vg_html_put(w, "<section id=\"curves\"><h2>ROC and precision-recall curves</h2><p class=\"note\">");
    if (pl->binary && pl->n_curves) {
        vg_html_put(w, "Every threshold on the probability of <b>");
        vg_html_text(w, names[pl->roc[0].cls]);
        vg_html_put(w, "</b>: the ROC curve trades detections against false alarms, the precision-recall curve "
                    "shows how many alerts are real. Dashed: a detector that guesses.");
    } else {
        vg_html_put(w, "One-vs-rest curve of each class on its own probability. Dashed: a detector that guesses.");
    }
    vg_html_put(w, "</p><div class=\"grid2\">");
    vg_svg_series *s = vg_calloc(pl->n_curves ? pl->n_curves : 1, sizeof *s);
    if (!s) {
        w->failed = 1;
        return;
    }
    for (int kind = 0; kind < 2; kind++) {
        const vg_plot_line *lines = kind == 0 ? pl->roc : pl->pr;
        for (size_t i = 0; i < pl->n_curves; i++)
            s[i] = (vg_svg_series){ .xy = lines[i].xy, .n = lines[i].n,
                                    .color = pl->binary ? vg_svg_color(0) : vg_svg_color(lines[i].cls),
                                    .area = pl->binary };
        vg_svg_chart c = { .width = 420, .height = 350, .diagonal = kind == 0, .baseline = -1,
                           .title = kind == 0 ? "ROC curve" : "Precision-recall curve",
                           .x_label = kind == 0 ? "False-positive rate" : "Recall",
                           .y_label = kind == 0 ? "True-positive rate" : "Precision" };
        if (kind == 1 && pl->binary && pl->n_curves) c.baseline = prevalence(mt, pl->pr[0].cls);
        vg_html_put(w, "<figure id=\"%s\"><figcaption>%s</figcaption>", kind == 0 ? "roc" : "pr", c.title);
        vg_svg_curves(w, s, pl->n_curves, &c);
        vg_html_put(w, "<div class=\"legend\">");
        for (size_t i = 0; i < pl->n_curves; i++) {
            const vg_class_report *cr = &mt->per_class[lines[i].cls];
            legend_line(w, s[i].color, names[lines[i].cls], kind == 0 ? "AUC" : "PR-AUC",
                        kind == 0 ? cr->roc_auc : cr->pr_auc);
        }
        vg_html_put(w, "</div></figure>");
    }
    vg_free(s);
    vg_html_put(w, "</div></section>");
}

static void put_scores(vg_wbuf *w, const vg_report_input *in, const vg_eval_plots *pl)
{
    const char *const *names = class_names(in->model);
    uint32_t k = pl->n_classes;
    const char **colors = vg_malloc(k * sizeof *colors);
    if (!colors) {
        w->failed = 1;
        return;
    }
    for (uint32_t c = 0; c < k; c++) colors[c] = vg_svg_color(c);
    vg_html_put(w, "<section id=\"scores\"><h2>Score distribution per class</h2><p class=\"note\">");
    vg_decision_rule rule;
    int known = vg_decision_rule_for_model(in->model, pl->threshold, &rule) == VG_OK;
    int anomaly = known && rule.kind == VG_OUTPUT_SCORE;
    if (anomaly) {
        vg_html_put(w, "How the model's anomaly score (from ");
        vg_html_num(w, pl->lo, 4);
        vg_html_put(w, " to ");
        vg_html_num(w, pl->hi, 4);
        vg_html_put(w, ")");
    } else if (pl->binary) {
        vg_html_put(w, "How the probability of <b>");
        vg_html_text(w, names[known ? rule.positive : 1]);
        vg_html_put(w, "</b> (the anomaly score)");
    } else {
        vg_html_put(w, "How 1 - the probability of <b>");
        vg_html_text(w, names[known ? rule.normal : 0]);
        vg_html_put(w, "</b> (the anomaly score)");
    }
    vg_html_put(w, " spreads over the rows of each true class. Well separated classes pile up at opposite ends; "
                "the dashed line is the decision threshold, ");
    vg_html_num(w, pl->threshold, anomaly ? 4 : 2);
    vg_html_put(w, ". Bar heights grow with the square root of the class's share, so thin tails stay "
                "visible; hover a bar for its count.</p>");
    const char *xl = anomaly ? "Anomaly score (the range above)"
                     : pl->binary ? "Probability of the positive class" : "1 - probability of the normal class";
    /* The drawing spans [0, 1]: the threshold as a share of the range. */
    double at = (pl->threshold - pl->lo) / (pl->hi - pl->lo);
    vg_svg_histograms(w, pl->hist, k, VG_PLOT_BINS, names, colors, xl, at >= 0 && at <= 1 ? at : -1);
    vg_html_put(w, "</section>");
    vg_free(colors);
}

typedef struct ranked {
    size_t input;
    double value;
} ranked;

static int by_value_desc(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->value != y->value) return (x->value < y->value) - (x->value > y->value);
    return (x->input > y->input) - (x->input < y->input);
}

/* Gain shares of the top fields; nothing when the family has no importance. */
static void put_importance(vg_wbuf *w, const vg_model *m, size_t top, int heading, const char *color)
{
    const vg_pipeline *p = vg_model_pipeline(m);
    size_t n = vg_pipeline_n_inputs(p);
    double *gain = vg_malloc((n ? n : 1) * sizeof *gain), *splits = vg_malloc((n ? n : 1) * sizeof *splits);
    ranked *r = vg_malloc((n ? n : 1) * sizeof *r);
    if (!gain || !splits || !r) {
        w->failed = 1;
        goto done;
    }
    if (n == 0 || vg_model_importance(m, 0, gain) || vg_model_importance(m, 2, splits)) {
        vg_clear_error();
        goto done;
    }
    double total = 0;
    for (size_t i = 0; i < n; i++) total += gain[i], r[i] = (ranked){ i, gain[i] };
    if (!(total > 0)) goto done;
    qsort(r, n, sizeof *r, by_value_desc);
    size_t shown = VG_MIN(top, n);
    if (heading) {
        vg_html_put(w, "<section id=\"importance\"><h2>Feature importance</h2><p class=\"note\">Share of the total "
                    "split gain earned by each input field (one-hot columns summed into their field); the top %zu of "
                    "%zu fields.</p>", shown, n);
    }
    vg_html_put(w, "<div class=\"bars\"><div class=\"h\" style=\"text-align:right\">field</div><div class=\"h\">gain "
                "share</div><div class=\"h\" style=\"text-align:right\">share</div><div class=\"h m\">splits</div>");
    double max = r[0].value / total;
    for (size_t i = 0; i < shown; i++) {
        double share = r[i].value / total;
        const char *name = vg_pipeline_input_name(p, r[i].input);
        vg_html_put(w, "<div class=\"f\" title=\"");
        vg_html_text(w, name);
        vg_html_put(w, "\">");
        vg_html_text(w, name);
        vg_html_put(w, "</div><div class=\"t\"><div class=\"b\" style=\"width:%.2f%%;background:%s\"></div></div>"
                    "<div class=\"n\">%.1f%%</div><div class=\"m\">", max > 0 ? 100 * share / max : 0, color,
                    100 * share);
        vg_html_count(w, (size_t)llround(splits[r[i].input]));
        vg_html_put(w, "</div>");
    }
    vg_html_put(w, "</div>");
    if (heading) vg_html_put(w, "</section>");
done:
    vg_free(gain), vg_free(splits), vg_free(r);
}

static void put_per_class(vg_wbuf *w, const vg_model *m, const vg_metrics *mt)
{
    const char *const *names = class_names(m);
    vg_html_put(w, "<section id=\"per-class\" class=\"long\"><h2>Per-class report</h2><p class=\"note\">Each class "
                "against the rest. Support: true rows of the class; predicted: rows the model gave it.</p>"
                "<div class=\"scroll\"><table class=\"data\"><thead><tr><th>class</th><th>support</th>"
                "<th>predicted</th><th>precision</th><th>recall</th><th>F1</th><th>FPR</th><th>ROC-AUC</th>"
                "<th>PR-AUC</th></tr></thead><tbody>");
    for (uint32_t c = 0; c < mt->n_classes; c++) {
        const vg_class_report *r = &mt->per_class[c];
        vg_html_put(w, "<tr><td><i class=\"sw\" style=\"background:%s;margin-right:8px;vertical-align:-1px\"></i>",
                    vg_svg_color(c));
        vg_html_text(w, names[c]);
        vg_html_put(w, "</td><td>");
        vg_html_count(w, r->support);
        vg_html_put(w, "</td><td>");
        vg_html_count(w, r->predicted);
        const double v[] = { r->precision, r->recall, r->f1, r->fpr, r->roc_auc, r->pr_auc };
        for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
            vg_html_put(w, "</td><td>");
            vg_html_num(w, v[i], 4);
        }
        vg_html_put(w, "</td></tr>");
    }
    vg_html_put(w, "</tbody></table></div></section>");
}

static void outcome(vg_wbuf *w, const char *what, const char *tone, size_t v, size_t of, const char *of_what,
                    const char *cls)
{
    vg_html_put(w, "<div class=\"oc %s\"><dt>%s</dt><dd><b>", tone, what);
    vg_html_count(w, v);
    vg_html_put(w, "</b> ");
    if (of) vg_html_put(w, "%.1f%% of ", 100.0 * (double)v / (double)of);
    vg_html_put(w, "%s ", of_what);
    vg_html_text(w, cls);
    vg_html_put(w, "</dd></div>");
}

/* The binary matrix read the way an analyst asks about it: what was
 * caught, what slipped through, how many alarms were false. */
static void put_outcomes(vg_wbuf *w, const vg_model *m, const vg_metrics *mt, uint32_t pos)
{
    const char *const *names = class_names(m);
    uint32_t neg = 1 - pos;
    size_t tp = mt->confusion[pos * 2 + pos], fn = mt->confusion[pos * 2 + neg];
    size_t fp = mt->confusion[neg * 2 + pos], tn = mt->confusion[neg * 2 + neg];
    vg_html_put(w, "<dl class=\"outcomes\">");
    outcome(w, "Detected", "good", tp, tp + fn, "rows of", names[pos]);
    outcome(w, "Missed", "bad", fn, tp + fn, "rows of", names[pos]);
    outcome(w, "False alarms", "bad", fp, tn + fp, "rows of", names[neg]);
    outcome(w, "Alerts raised", "", tp + fp, 0, "rows called", names[pos]);
    vg_html_put(w, "</dl>");
}

/* Unlabelled data: nothing to measure the model against, so the page says
 * so instead of showing empty metrics, and keeps what needs no labels. */
static void put_unlabelled(vg_wbuf *w, const vg_report_input *in, size_t n_sources, size_t top)
{
    vg_html_put(w, "<section id=\"no-labels\"><h2>No labels in the data</h2><p class=\"note\" style=\"margin:0\">"
                "The data carries no ground truth, so there is nothing to measure the model against: no accuracy, "
                "curves or confusion matrix. %s</p></section>",
                n_sources ? "The per-source summary below shows what the model raises on it."
                          : "Give labels (a log with a label column, or <code>--labels</code> for weblog) to evaluate.");
    put_importance(w, in->model, top, 1, vg_svg_color(0));
}

static void put_single(vg_wbuf *w, const vg_report_input *in, const vg_eval_plots *pl, size_t top)
{
    put_cards(w, in);
    if (in->eval->regression) {
        put_importance(w, in->model, top, 1, vg_svg_color(0));
        return;
    }
    const vg_metrics *mt = &in->eval->metrics;
    put_curves_single(w, in, pl);
    vg_html_put(w, "<section id=\"confusion\"><h2>Confusion matrix</h2><p class=\"note\">Rows are the true classes, "
                "columns the predicted ones; each cell gives its rows and its share of the true class.</p>");
    int pos = vg_model_positive_class(in->model);
    if (pos >= 0) vg_html_put(w, "<div class=\"cmwrap\"><div>");
    put_confusion(w, in->model, mt, mt->n_classes > 8);
    confusion_key(w);
    if (pos >= 0) {
        vg_html_put(w, "</div>");
        put_outcomes(w, in->model, mt, (uint32_t)pos);
        vg_html_put(w, "</div>");
    }
    vg_html_put(w, "</section>");
    put_scores(w, in, pl);
    put_importance(w, in->model, top, 1, vg_svg_color(0));
    put_per_class(w, in->model, mt);
}

/* Table of models side by side; the best figure of each column is marked. */
typedef struct column {
    const char *head;
    int higher_better;  /* 1 higher, 0 lower, -1 not compared */
    int decimals;
} column;

static double column_value(const vg_report_input *in, int regression, size_t col)
{
    const vg_evaluation *e = in->eval;
    if (regression) {
        if (!e->regression) return NAN;
        const double v[] = { e->reg.rmse, e->reg.mae, e->reg.r2, vg_model_train_seconds(in->model),
                             e->predict_seconds };
        return v[col];
    }
    if (e->regression) return NAN;
    const vg_metrics *m = &e->metrics;
    const double v[] = { m->accuracy, m->precision, m->recall, m->f1, m->fpr, m->roc_auc, m->pr_auc, m->log_loss,
                         vg_model_train_seconds(in->model), e->predict_seconds };
    return v[col];
}

static void put_compare_table(vg_wbuf *w, const vg_report_input *in, size_t n)
{
    static const column cls_cols[] = { { "accuracy", 1, 4 }, { "precision", 1, 4 }, { "recall", 1, 4 },
                                       { "F1", 1, 4 }, { "FPR", 0, 4 }, { "ROC-AUC", 1, 4 }, { "PR-AUC", 1, 4 },
                                       { "log loss", 0, 4 }, { "train s", -1, 2 }, { "predict s", -1, 3 } };
    static const column reg_cols[] = { { "RMSE", 0, 4 }, { "MAE", 0, 4 }, { "R\xc2\xb2", 1, 4 }, { "train s", -1, 2 },
                                       { "predict s", -1, 3 } };
    int regression = in[0].eval->regression;
    const column *cols = regression ? reg_cols : cls_cols;
    size_t nc = regression ? sizeof reg_cols / sizeof *reg_cols : sizeof cls_cols / sizeof *cls_cols;
    int pos = vg_model_positive_class(in[0].model);
    vg_html_put(w, "<section id=\"summary\"><h2>Models side by side</h2><p class=\"note\">");
    if (regression) vg_html_put(w, "Errors on the same rows; the best figure of each column is highlighted.");
    else if (pos >= 0) {
        vg_html_put(w, "Precision, recall, F1 and FPR of the positive class <b>");
        vg_html_text(w, class_names(in[0].model)[pos]);
        vg_html_put(w, "</b>. The best figure of each column is highlighted.");
    } else {
        vg_html_put(w, "Multiclass: precision, recall and F1 are macro averages, ROC-AUC and PR-AUC one-vs-rest "
                    "macro averages. The best figure of each column is highlighted.");
    }
    vg_html_put(w, "</p><div class=\"scroll\"><table class=\"data\"><thead><tr><th>model</th>");
    for (size_t c = 0; c < nc; c++) vg_html_put(w, "<th>%s</th>", cols[c].head);
    vg_html_put(w, "</tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        vg_html_put(w, "<tr><td><i class=\"ln\" style=\"background:%s;margin-right:8px;vertical-align:3px\"></i>",
                    vg_svg_color(i));
        vg_html_text(w, model_name(&in[i]));
        vg_html_put(w, "</td>");
        for (size_t c = 0; c < nc; c++) {
            double v = column_value(&in[i], regression, c);
            int best = cols[c].higher_better >= 0 && n > 1 && isfinite(v);
            for (size_t j = 0; best && j < n; j++) {
                double o = column_value(&in[j], regression, c);
                if (isfinite(o) && (cols[c].higher_better ? o > v : o < v)) best = 0;
            }
            vg_html_put(w, "<td%s>", best ? " class=\"best\"" : "");
            vg_html_num(w, v, cols[c].decimals);
            vg_html_put(w, "</td>");
        }
        vg_html_put(w, "</tr>");
    }
    vg_html_put(w, "</tbody></table></div></section>");
}

/* Same classes in the same order: only then can curves share a chart. */
static int same_classes(const vg_model *a, const vg_model *b)
{
    const vg_classes *x = vg_model_classes(a), *y = vg_model_classes(b);
    if (x->n != y->n) return 0;
    for (uint32_t i = 0; i < x->n; i++)
        if (strcmp(x->names[i], y->names[i]) != 0) return 0;
    return 1;
}

static const vg_plot_line *find_line(const vg_plot_line *lines, size_t n, uint32_t cls)
{
    for (size_t i = 0; i < n; i++)
        if (lines[i].cls == cls) return &lines[i];
    return NULL;
}

/* Binary: one ROC and one PR chart with a curve per model. Multiclass: a
 * small chart per class, models overlaid, ROC first then PR. */
static void put_compare_curves(vg_wbuf *w, const vg_report_input *in, const vg_eval_plots *pl, size_t n)
{
    const vg_model *m0 = in[0].model;
    const char *const *names = class_names(m0);
    int binary = pl[0].binary;
    vg_svg_series *s = vg_calloc(n, sizeof *s);
    size_t *who = vg_calloc(n, sizeof *who);
    if (!s || !who) {
        vg_free(s), vg_free(who);
        w->failed = 1;
        return;
    }
    vg_html_put(w, "<section id=\"curves\"><h2>ROC and precision-recall curves</h2><p class=\"note\">");
    if (binary) {
        vg_html_put(w, "Each model's curves for the positive class <b>");
        vg_html_text(w, names[1]);
        vg_html_put(w, "</b> on the same rows. Dashed: a detector that guesses.");
    } else {
        vg_html_put(w, "One-vs-rest curves per class, the models overlaid. Dashed: a detector that guesses.");
    }
    vg_html_put(w, "</p>");
    /* Binary: ROC and PR side by side in one grid; multiclass: a grid of
     * per-class charts for each kind. */
    if (binary) vg_html_put(w, "<div class=\"grid2\">");
    for (int kind = 0; kind < 2; kind++) {
        if (!binary)
            vg_html_put(w, "<h3>%s</h3><div class=\"grid3\">", kind == 0 ? "ROC curves" : "Precision-recall curves");
        int first = 1;  /* the first chart of a kind carries its id */
        for (uint32_t cls = binary ? 1 : 0; cls < (binary ? 2 : pl[0].n_classes); cls++) {
            size_t ns = 0;
            for (size_t i = 0; i < n; i++) {
                if (i > 0 && !same_classes(m0, in[i].model)) continue;
                const vg_plot_line *l = find_line(kind == 0 ? pl[i].roc : pl[i].pr, pl[i].n_curves, cls);
                if (!l) continue;
                who[ns] = i;
                s[ns++] = (vg_svg_series){ .xy = l->xy, .n = l->n, .color = vg_svg_color(i), .dashed = 0 };
            }
            if (ns == 0) continue;
            const char *title = kind == 0 ? "ROC curve" : "Precision-recall curve";
            vg_svg_chart c = { .width = binary ? 420 : 320, .height = binary ? 350 : 280, .diagonal = kind == 0,
                               .baseline = kind == 1 ? prevalence(&in[0].eval->metrics, cls) : -1, .title = title,
                               .x_label = kind == 0 ? "False-positive rate" : "Recall",
                               .y_label = kind == 0 ? "True-positive rate" : "Precision" };
            vg_html_put(w, "<figure%s><figcaption>", !first ? "" : kind == 0 ? " id=\"roc\"" : " id=\"pr\"");
            first = 0;
            if (binary) vg_html_put(w, "%s", title);
            else vg_html_text(w, names[cls]);
            vg_html_put(w, "</figcaption>");
            vg_svg_curves(w, s, ns, &c);
            vg_html_put(w, "<div class=\"legend\">");
            for (size_t j = 0; j < ns; j++) {
                const vg_class_report *cr = &in[who[j]].eval->metrics.per_class[cls];
                legend_line(w, s[j].color, model_name(&in[who[j]]), kind == 0 ? "AUC" : "PR-AUC",
                            kind == 0 ? cr->roc_auc : cr->pr_auc);
            }
            vg_html_put(w, "</div></figure>");
        }
        if (!binary) vg_html_put(w, "</div>");
    }
    if (binary) vg_html_put(w, "</div>");
    vg_html_put(w, "</section>");
    vg_free(s), vg_free(who);
}

static void put_compare(vg_wbuf *w, const vg_report_input *in, const vg_eval_plots *pl, size_t n, size_t top)
{
    put_compare_table(w, in, n);
    if (in[0].eval->regression) return;
    put_compare_curves(w, in, pl, n);
    vg_html_put(w, "<section id=\"confusion\"><h2>Confusion matrices</h2><p class=\"note\">Rows are the true "
                "classes, columns the predicted ones.</p><div class=\"models\">");
    for (size_t i = 0; i < n; i++) {
        if (in[i].eval->regression) continue;
        vg_html_put(w, "<div><h3><i class=\"ln\" style=\"background:%s;margin-right:8px;vertical-align:3px\"></i>",
                    vg_svg_color(i));
        vg_html_text(w, model_name(&in[i]));
        vg_html_put(w, "</h3>");
        put_confusion(w, in[i].model, &in[i].eval->metrics, 1);
        vg_html_put(w, "</div>");
    }
    vg_html_put(w, "</div>");
    confusion_key(w);
    vg_html_put(w, "</section>");
    /* Importance per model, for the families that have it. */
    vg_wbuf imp;
    vg_wbuf_init(&imp);
    for (size_t i = 0; i < n; i++) {
        size_t before = imp.len;
        vg_html_put(&imp, "<div><h3><i class=\"ln\" style=\"background:%s;margin-right:8px;vertical-align:3px\"></i>",
                    vg_svg_color(i));
        vg_html_text(&imp, model_name(&in[i]));
        vg_html_put(&imp, "</h3>");
        size_t mark = imp.len;
        put_importance(&imp, in[i].model, top < 10 ? top : 10, 0, vg_svg_color(i));
        if (imp.len == mark) imp.len = before;  /* no importance: drop the heading */
        else vg_html_put(&imp, "</div>");
    }
    if (imp.failed) w->failed = 1;
    if (imp.len) {
        vg_html_put(w, "<section id=\"importance\"><h2>Feature importance</h2><p class=\"note\">Share of the total "
                    "split gain per input field, top 10, for the models whose family reports it.</p>"
                    "<div class=\"models\">");
        vg_wbuf_bytes(w, imp.data, imp.len);
        vg_html_put(w, "</div></section>");
    }
    vg_wbuf_free(&imp);
}

vg_report_params vg_report_params_default(void)
{
    return (vg_report_params){ .top_features = 15 };
}

vg_status vg_report_html(const vg_report_input *in, size_t n, const vg_report_params *params, vg_wbuf *out)
{
    vg_report_params p = params ? *params : vg_report_params_default();
    if ((!in && n) || (n == 0 && !p.alerts)) return vg_fail(VG_ERR_INVALID, "report: no model to report on");
    for (size_t i = 0; i < n; i++) {
        if (!in[i].model) return vg_fail(VG_ERR_INVALID, "report: model %zu is missing", i + 1);
        if (!in[i].eval && n > 1) return vg_fail(VG_ERR_INVALID, "report: model %zu has no evaluation", i + 1);
    }
    if (p.top_features == 0) p.top_features = 15;
    vg_eval_plots *pl = vg_calloc(n ? n : 1, sizeof *pl);
    if (!pl) return vg_fail(VG_ERR_NOMEM, "report: out of memory");
    vg_status st = VG_OK;
    int evaluated = n > 0 && in[0].eval;
    for (size_t i = 0; i < n && !st; i++)
        if (in[i].eval && !in[i].eval->regression) st = vg_eval_plots_compute(in[i].model, in[i].eval, &pl[i]);
    if (st) goto done;
    vg_wbuf *w = out;
    size_t start = w->len;
    vg_html_put(w, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                "<meta name=\"generator\" content=\"vigil %s\"><title>", VG_VERSION_STRING);
    if (n == 0) {
        vg_html_put(w, "vigil alert report");
    } else if (n == 1) {
        vg_html_text(w, model_name(in));
        vg_html_put(w, evaluated ? " &middot; vigil evaluation report" : " &middot; vigil log report");
    } else {
        vg_html_put(w, "vigil model comparison");
    }
    vg_html_put(w, "</title><style>%s%s</style></head>\n<body><main>", css, vg_report_sources_css);
    put_header(w, in, n, &p);
    if (n == 1 && evaluated) put_single(w, in, pl, p.top_features);
    else if (n == 1) put_unlabelled(w, in, p.n_sources, p.top_features);
    else if (n > 1) put_compare(w, in, pl, n, p.top_features);
    if (n == 1 && in[0].data && (st = vg_report_put_top_anomalies(w, in[0].model, in[0].data, 20, p.threads))) goto done;
    vg_report_put_sources(w, p.sources, p.n_sources);
    if (p.alerts) vg_report_put_alert_store(w, p.alerts, p.alerts_path);
    vg_html_put(w, "<footer>Generated by vigil %s.", VG_VERSION_STRING);
    if (evaluated) vg_html_put(w, " Metrics follow scikit-learn's definitions.");
    if (evaluated && !in[0].eval->regression)
        vg_html_put(w, " Curves are thinned to at most %d points each, below what the eye can tell.",
                    VG_PLOT_MAX_POINTS);
    vg_html_put(w, "</footer></main></body></html>\n");
    if (w->failed) {
        w->len = start;
        st = vg_fail(VG_ERR_NOMEM, "report: out of memory");
    }
done:
    for (size_t i = 0; i < n; i++) vg_eval_plots_free(&pl[i]);
    vg_free(pl);
    return st;
}

vg_status vg_report_write(const char *path, const vg_report_input *in, size_t n, const vg_report_params *p)
{
    vg_wbuf w;
    vg_wbuf_init(&w);
    vg_status st = vg_report_html(in, n, p, &w);
    if (st) {
        vg_wbuf_free(&w);
        return st;
    }
    /* Write beside the target and rename, so a failed write never leaves a
     * half report where a good one was. */
    size_t len = strlen(path);
    char *tmp = vg_malloc(len + 8);
    if (!tmp) {
        vg_wbuf_free(&w);
        return vg_fail(VG_ERR_NOMEM, "report: out of memory");
    }
    snprintf(tmp, len + 8, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        st = vg_fail(VG_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    } else {
        size_t wrote = fwrite(w.data, 1, w.len, f);
        int bad = wrote != w.len || fflush(f) != 0;
        bad |= fclose(f) != 0;
        if (bad) st = vg_fail(VG_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        else if (rename(tmp, path) != 0) st = vg_fail(VG_ERR_IO, "%s: cannot replace: %s", path, strerror(errno));
        if (st) remove(tmp);
    }
    vg_free(tmp);
    vg_wbuf_free(&w);
    return st;
}
