/* Log formats' options (the formats themselves are rows of the format
 * registry, vigil/format.h). */
#include "vigil/logformat.h"

#include <string.h>

vg_logfmt_options vg_logfmt_options_default(void)
{
    return (vg_logfmt_options){ .max_line_bytes = 65536, .max_entities = 1000000, .entity_ttl = 7 * 86400.0 };
}
