/* The registry of synthetic log generators (`vigil synth --format NAME`). */
#include "vigil/synth.h"

#include <string.h>

static const vg_synth_generator *const generators[] = {
    &vg_synth_login,
    &vg_synth_weblog,
    NULL,  /* a format with a generator adds it above this line */
};

vg_synth_params vg_synth_params_default(void)
{
    return (vg_synth_params){ .seed = 1, .events = 100000, .attack_fraction = 0.05, .start_time = 1767225600.0 };
}

const vg_synth_generator *vg_synth_find(const char *format)
{
    for (size_t i = 0; format && generators[i]; i++)
        if (strcmp(generators[i]->format->name, format) == 0) return generators[i];
    return NULL;
}

const vg_synth_generator *vg_synth_at(size_t i)
{
    return i < sizeof generators / sizeof *generators ? generators[i] : NULL;
}
