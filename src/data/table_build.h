/* Table construction helpers for the library's own readers (internal, not
 * part of the public API): capacity reservation and the column reset the CSV
 * reader needs when a column it believed numeric turns out categorical, and
 * trimming what a reader reserved but did not use. */
#ifndef VG_DATA_TABLE_BUILD_H
#define VG_DATA_TABLE_BUILD_H

#include "vigil/table.h"

/* Make room for `rows` values in every column and for their line numbers,
 * so a reader that can estimate its row count avoids repeated regrowth. */
vg_status vg_table_reserve(vg_table *t, size_t rows);

/* Drop every value of column `col` (and its dictionary) and give it `type`;
 * the column keeps its name and index. */
vg_status vg_table_reset_column(vg_table *t, size_t col, vg_column_type type);

/* Give back the capacity beyond the rows pushed (a reader that reserved an
 * upper bound, such as its line count, calls this once it is done). */
void vg_table_shrink(vg_table *t);

/* Number of values pushed so far to column `col`. */
size_t vg_table_column_len(const vg_table *t, size_t col);

#endif
