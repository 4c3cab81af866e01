/* The binned training problem of gradient boosting (see gbdt.h): histogram
 * offsets per feature, each feature's most frequent bin, and the sparse
 * rows the histogram loop reads. Skipping the most frequent bin is what
 * makes histograms cheap on security data, where most columns are counts
 * and flags that are zero in most rows: a row of NSL-KDD keeps about a
 * third of its 41 codes. */
#include "models/gbdt.h"

#include <string.h>

#include "vigil/parallel.h"

#define ROW_BLOCK 8192

typedef struct data_ctx {
    vg_gbdt_data *d;
    uint32_t *count;   /* per feature: 256 code counts (pass 1) */
} data_ctx;

/* Pass 1, per feature: the most frequent code. */
static void dflt_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    data_ctx *c = ctx;
    vg_gbdt_data *d = c->d;
    uint32_t f = (uint32_t)task;
    uint32_t *count = c->count + (size_t)f * 256;
    const uint8_t *col = d->codes + (size_t)f * d->n_rows;
    for (uint32_t r = 0; r < d->n_rows; r++) count[col[r]]++;
    uint32_t best = 0;
    for (uint32_t b = 1; b < 256; b++)
        if (count[b] > count[best]) best = b;
    d->dflt[f] = d->hist_off[f] + best;
}

/* Pass 2, per block of rows: how many slots each row keeps. */
static void count_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    data_ctx *c = ctx;
    vg_gbdt_data *d = c->d;
    uint32_t r0 = (uint32_t)task * ROW_BLOCK, r1 = VG_MIN(r0 + ROW_BLOCK, d->n_rows);
    uint64_t *n = d->row_start + 1;  /* counts first, prefix sums later */
    for (uint32_t r = r0; r < r1; r++) n[r] = 0;
    for (uint32_t f = 0; f < d->n_features; f++) {
        const uint8_t *col = d->codes + (size_t)f * d->n_rows;
        uint32_t skip = d->dflt[f] - d->hist_off[f];
        for (uint32_t r = r0; r < r1; r++) n[r] += col[r] != skip;
    }
}

/* Pass 3, per block of rows: the slots, in feature order within a row. */
static void fill_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    data_ctx *c = ctx;
    vg_gbdt_data *d = c->d;
    uint32_t r0 = (uint32_t)task * ROW_BLOCK, r1 = VG_MIN(r0 + ROW_BLOCK, d->n_rows);
    uint64_t pos[ROW_BLOCK];
    for (uint32_t r = r0; r < r1; r++) pos[r - r0] = d->row_start[r];
    for (uint32_t f = 0; f < d->n_features; f++) {
        const uint8_t *col = d->codes + (size_t)f * d->n_rows;
        uint32_t off = d->hist_off[f], skip = d->dflt[f] - off;
        for (uint32_t r = r0; r < r1; r++) {
            if (col[r] == skip) continue;
            if (d->slot16) d->slot16[pos[r - r0]++] = (uint16_t)(off + col[r]);
            else d->slot32[pos[r - r0]++] = off + col[r];
        }
    }
}

vg_status vg_gbdt_data_build(const vg_bins *bins, const uint8_t *codes, uint32_t n_rows, int threads,
                             vg_gbdt_data *out)
{
    memset(out, 0, sizeof *out);
    uint32_t nf = bins->n_features;
    out->n_rows = n_rows;
    out->n_features = nf;
    out->bins = bins;
    out->codes = codes;
    out->hist_off = vg_malloc(((size_t)nf + 1) * sizeof *out->hist_off);
    out->dflt = vg_malloc(VG_MAX((size_t)nf, (size_t)1) * sizeof *out->dflt);
    out->row_start = vg_malloc(((size_t)n_rows + 1) * sizeof *out->row_start);
    uint32_t *count = vg_calloc(VG_MAX((size_t)nf, (size_t)1) * 256, sizeof *count);
    if (!out->hist_off || !out->dflt || !out->row_start || !count) {
        vg_free(count);
        vg_gbdt_data_free(out);
        return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory");
    }
    uint64_t slots = 0;
    for (uint32_t f = 0; f < nf; f++) {
        out->hist_off[f] = (uint32_t)slots;
        slots += (uint32_t)bins->n_bins[f] + bins->has_missing[f];
    }
    if (slots >= UINT32_MAX / 64) {
        vg_free(count);
        vg_gbdt_data_free(out);
        return vg_fail(VG_ERR_LIMIT, "gbdt: %u features are too many", nf);
    }
    out->hist_off[nf] = (uint32_t)slots;
    out->n_slots = (uint32_t)slots;
    data_ctx c = { out, count };
    vg_parallel_for(threads, nf, dflt_task, &c);
    vg_free(count);
    size_t blocks = ((size_t)n_rows + ROW_BLOCK - 1) / ROW_BLOCK;
    vg_parallel_for(threads, blocks, count_task, &c);
    out->row_start[0] = 0;
    for (uint32_t r = 0; r < n_rows; r++) out->row_start[r + 1] += out->row_start[r];
    uint64_t nnz = out->row_start[n_rows];
    if (slots <= 65536) out->slot16 = vg_malloc(VG_MAX(nnz, (uint64_t)1) * sizeof *out->slot16);
    else out->slot32 = vg_malloc(VG_MAX(nnz, (uint64_t)1) * sizeof *out->slot32);
    if (!out->slot16 && !out->slot32) {
        vg_gbdt_data_free(out);
        return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory for %llu binned values", (unsigned long long)nnz);
    }
    vg_parallel_for(threads, blocks, fill_task, &c);
    return VG_OK;
}

void vg_gbdt_data_free(vg_gbdt_data *d)
{
    if (!d) return;
    vg_free(d->hist_off);
    vg_free(d->dflt);
    vg_free(d->row_start);
    vg_free(d->slot16);
    vg_free(d->slot32);
    memset(d, 0, sizeof *d);
}
