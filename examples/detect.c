/* Using libvigil from C: train a model on a labelled CSV, save it, load it
 * back and decide on the records of another file, the way `vigil train` and
 * `vigil predict` do. Build against an installed libvigil with
 *   cc detect.c $(pkg-config --cflags --libs vigil) -o detect
 * and run: ./detect TRAIN.csv LABEL_COLUMN NEW.csv MODEL.vgm */
#include <math.h>
#include <stdio.h>

#include <vigil/decision.h>
#include <vigil/model.h>

static int fail(const char *what)
{
    fprintf(stderr, "detect: %s: %s\n", what, vg_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: detect TRAIN.csv LABEL_COLUMN NEW.csv MODEL.vgm\n");
        return 2;
    }
    vg_data_spec spec = { .format = "csv", .label = argv[2], .task = VG_TASK_BINARY };
    vg_table *train = NULL;
    if (vg_data_read(argv[1], &spec, &train)) return fail("read");
    const char *params[] = { "n_estimators=20" };
    vg_train_request rq = { .table = train, .data = spec, .model = "forest", .params = params, .n_params = 1,
                            .seed = 1 };
    vg_model *m = NULL;
    if (vg_model_train(&rq, &m) || vg_model_save(m, argv[4])) return fail("train");
    vg_model_free(m);
    vg_table_free(train);

    /* Later, elsewhere: the model file is all that is needed. */
    vg_table *t = NULL;
    float *out = NULL;
    vg_decision_rule rule;
    if (vg_model_load(argv[4], &m) || vg_model_read_data(m, argv[3], &t) || vg_model_predict(m, t, 0, &out) ||
        vg_decision_rule_for_model(m, NAN, &rule))
        return fail("predict");
    const vg_classes *c = vg_model_classes(m);
    size_t anomalies = 0;
    for (size_t i = 0; i < vg_table_rows(t); i++) {
        vg_decision d = vg_decision_make(&rule, out + i * rule.n_outputs);
        anomalies += (size_t)d.anomaly;
        if (i < 3) printf("record %zu: score %.4f, %s\n", i + 1, d.score, c->names[d.label]);
    }
    printf("%zu of %zu records are anomalies\n", anomalies, vg_table_rows(t));
    vg_free(out);
    vg_table_free(t);
    vg_model_free(m);
    return 0;
}
