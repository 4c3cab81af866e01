/* Hashed character n-grams with sublinear TF-IDF (see vigil/textgrams.h).
 *
 * A value's n-grams are hashed into one array of column numbers, sorted, and
 * counted by runs: the row comes out in ascending column order, as CSR wants,
 * and collisions merge there. The idf of every column is kept as a float
 * (the rows are float32 anyway), and the (column, df) pairs of the columns
 * training hit are what the model file holds: a few tens of thousands of
 * pairs, not a million idf values. */
#include "vigil/textgrams.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SAVE_VERSION 1u

struct vg_textgrams {
    vg_textgrams_params p;
    uint64_t n_docs;
    float *idf;          /* n_features */
    size_t n_seen;       /* columns with df > 0 */
    uint32_t *seen_col;  /* n_seen, ascending */
    uint64_t *seen_df;   /* n_seen */
};

vg_textgrams_params vg_textgrams_params_default(void)
{
    return (vg_textgrams_params){ .ngram_min = 1, .ngram_max = 3, .n_features = 1u << 20 };
}

/* A whole string as an unsigned number in [lo, hi], or -1. */
static int parse_u32(const char *s, unsigned long lo, unsigned long hi, uint32_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+') return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) return -1;
    *out = (uint32_t)v;
    return 0;
}

vg_status vg_textgrams_params_set(vg_textgrams_params *p, const char *key, const char *value)
{
    if (strcmp(key, "ngram_range") == 0) {
        const char *comma = value ? strchr(value, ',') : NULL;
        char lo[16];
        uint32_t a, b;
        size_t n = comma ? (size_t)(comma - value) : 0;
        if (!comma || n == 0 || n >= sizeof lo)
            return vg_fail(VG_ERR_INVALID, "parameter ngram_range: '%s' is not MIN,MAX (e.g. 1,3)", value);
        memcpy(lo, value, n);
        lo[n] = '\0';
        if (parse_u32(lo, 1, VG_TEXTGRAMS_MAX_N, &a) || parse_u32(comma + 1, 1, VG_TEXTGRAMS_MAX_N, &b) || a > b)
            return vg_fail(VG_ERR_INVALID, "parameter ngram_range: '%s' is out of range: MIN,MAX with "
                                           "1 <= MIN <= MAX <= %u", value, VG_TEXTGRAMS_MAX_N);
        p->ngram_min = a, p->ngram_max = b;
        return VG_OK;
    }
    if (strcmp(key, "n_features") == 0) {
        uint32_t v;
        if (value && strncmp(value, "2^", 2) == 0) {
            uint32_t e;
            if (parse_u32(value + 2, 4, VG_TEXTGRAMS_MAX_BITS, &e))
                return vg_fail(VG_ERR_INVALID, "parameter n_features: '%s' is out of range: 2^4 .. 2^%u", value,
                               VG_TEXTGRAMS_MAX_BITS);
            v = 1u << e;
        } else if (parse_u32(value, 16, VG_TEXTGRAMS_MAX_FEATURES, &v)) {
            return vg_fail(VG_ERR_INVALID, "parameter n_features: '%s' is not a whole number in [16, %u] "
                                           "(or 2^K, K in 4..%u)", value, VG_TEXTGRAMS_MAX_FEATURES,
                           VG_TEXTGRAMS_MAX_BITS);
        }
        p->n_features = v;
        return VG_OK;
    }
    return vg_fail(VG_ERR_INVALID, "text n-grams: unknown parameter '%s' (ngram_range, n_features)", key);
}

int vg_textgrams_is_param(const char *key)
{
    return strcmp(key, "ngram_range") == 0 || strcmp(key, "n_features") == 0;
}

const char *vg_textgrams_params_check(const vg_textgrams_params *p)
{
    if (p->ngram_min < 1 || p->ngram_min > p->ngram_max || p->ngram_max > VG_TEXTGRAMS_MAX_N)
        return "ngram_range must be MIN,MAX with 1 <= MIN <= MAX <= 8";
    if (p->n_features < 16 || p->n_features > VG_TEXTGRAMS_MAX_FEATURES)
        return "n_features must be in [16, 2^24]";
    return NULL;
}

void vg_textgrams_free(vg_textgrams *tg)
{
    if (!tg) return;
    vg_free(tg->idf);
    vg_free(tg->seen_col);
    vg_free(tg->seen_df);
    vg_free(tg);
}

/* idf of every column from n_docs and the seen (column, df) pairs. */
static void fill_idf(vg_textgrams *tg)
{
    float base = (float)(log((1.0 + (double)tg->n_docs) / 1.0) + 1.0);
    for (uint32_t j = 0; j < tg->p.n_features; j++) tg->idf[j] = base;
    for (size_t k = 0; k < tg->n_seen; k++)
        tg->idf[tg->seen_col[k]] =
            (float)(log((1.0 + (double)tg->n_docs) / (1.0 + (double)tg->seen_df[k])) + 1.0);
}

vg_status vg_textgrams_new(const vg_textgrams_params *p, vg_textgrams **out)
{
    *out = NULL;
    const char *msg = vg_textgrams_params_check(p);
    if (msg) return vg_fail(VG_ERR_INVALID, "text n-grams: %s", msg);
    vg_textgrams *tg = vg_calloc(1, sizeof *tg);
    if (!tg || !(tg->idf = vg_malloc((size_t)p->n_features * sizeof *tg->idf))) {
        vg_free(tg);
        return vg_fail(VG_ERR_NOMEM, "out of memory for %u text columns", p->n_features);
    }
    tg->p = *p;
    fill_idf(tg);
    *out = tg;
    return VG_OK;
}

vg_textgrams_params vg_textgrams_get_params(const vg_textgrams *tg) { return tg->p; }

static inline uint32_t to_column(uint64_t h, uint32_t n)
{
    return (uint32_t)(((unsigned __int128)h * n) >> 64);
}

uint32_t vg_textgrams_column(const vg_textgrams *tg, const char *gram, size_t n)
{
    return to_column(vg_hash(gram, n, VG_TEXTGRAMS_SEED), tg->p.n_features);
}

static inline int is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* Step 1 of the header: s[0..len) into t, returning the new length. */
static size_t preprocess(const char *s, size_t len, char *t)
{
    if (len > VG_TEXTGRAMS_MAX_BYTES) len = VG_TEXTGRAMS_MAX_BYTES;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (is_space(c) && i + 1 < len && is_space((unsigned char)s[i + 1])) {
            while (i < len && is_space((unsigned char)s[i])) i++;
            t[n++] = ' ';
            continue;
        }
        t[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        i++;
    }
    return n;
}

size_t vg_textgrams_max_entries(const vg_textgrams *tg, size_t len)
{
    if (len > VG_TEXTGRAMS_MAX_BYTES) len = VG_TEXTGRAMS_MAX_BYTES;
    return (size_t)(tg->p.ngram_max - tg->p.ngram_min + 1) * len + 1;
}

/* Sort a[0..n) ascending: insertion sort for a short value, else LSD radix
 * sort by bytes through tmp (n entries): 3 passes for 2^20 columns. A
 * comparison sort was a third of training time. */
static void sort_cols(uint32_t *a, uint32_t *tmp, size_t n, uint32_t n_features)
{
    if (n < 48) {
        for (size_t i = 1; i < n; i++) {
            uint32_t x = a[i];
            size_t j = i;
            for (; j > 0 && a[j - 1] > x; j--) a[j] = a[j - 1];
            a[j] = x;
        }
        return;
    }
    int bits = 0;
    while (bits < 32 && ((uint64_t)1 << bits) < n_features) bits++;
    uint32_t *src = a, *dst = tmp;
    for (int shift = 0; shift < bits; shift += 8) {
        uint32_t count[257] = { 0 };
        for (size_t i = 0; i < n; i++) count[((src[i] >> shift) & 255) + 1]++;
        for (int d = 0; d < 256; d++) count[d + 1] += count[d];
        for (size_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & 255]++] = src[i];
        uint32_t *t = src;
        src = dst, dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
}

/* The sorted columns of every n-gram of s (not unique) into the first half
 * of scratch, viewed as uint32 (the second half is the sort's buffer);
 * returns how many. text: room for len bytes. */
static size_t hash_grams(const vg_textgrams *tg, const char *s, size_t len, char *text, uint64_t *scratch)
{
    uint32_t *cols = (uint32_t *)scratch;
    size_t n = preprocess(s, len, text), k = 0;
    for (uint32_t g = tg->p.ngram_min; g <= tg->p.ngram_max; g++)
        for (size_t i = 0; i + g <= n; i++) cols[k++] = vg_textgrams_column(tg, text + i, g);
    sort_cols(cols, cols + k, k, tg->p.n_features);
    return k;
}

vg_status vg_textgrams_transform(const vg_textgrams *tg, const char *s, size_t len, uint64_t *scratch,
                                 uint32_t *cols, float *vals, size_t *nnz)
{
    *nnz = 0;
    size_t cap = vg_textgrams_max_entries(tg, len), blen = VG_MIN(len, (size_t)VG_TEXTGRAMS_MAX_BYTES);
    char stack_text[1024];
    uint64_t stack_h[2048];
    uint64_t *h = scratch ? scratch : cap <= 2048 ? stack_h : vg_malloc(cap * sizeof *h);
    char *text = blen <= sizeof stack_text ? stack_text : vg_malloc(blen);
    if (!h || !text) {
        if (h != scratch && h != stack_h) vg_free(h);
        if (text != stack_text) vg_free(text);
        return vg_fail(VG_ERR_NOMEM, "out of memory for text n-grams");
    }
    size_t k = hash_grams(tg, s, len, text, h), n = 0;
    const uint32_t *hc = (const uint32_t *)h;
    double ss = 0;
    for (size_t i = 0; i < k;) {
        size_t j = i;
        while (j < k && hc[j] == hc[i]) j++;
        uint32_t c = hc[i];
        double v = (1.0 + log((double)(j - i))) * tg->idf[c];
        cols[n] = c;
        vals[n++] = (float)v;
        ss += v * v;
        i = j;
    }
    if (ss > 0) {
        double inv = 1.0 / sqrt(ss);
        for (size_t i = 0; i < n; i++) vals[i] = (float)(vals[i] * inv);
    }
    *nnz = n;
    if (h != scratch && h != stack_h) vg_free(h);
    if (text != stack_text) vg_free(text);
    return VG_OK;
}

vg_status vg_textgrams_fit(vg_textgrams *tg, const char *const *values, const size_t *lens, const size_t *counts,
                           size_t n_values, size_t n_docs)
{
    uint32_t nf = tg->p.n_features;
    uint64_t *df = vg_calloc(nf, sizeof *df);
    size_t maxlen = 0;
    for (size_t v = 0; v < n_values; v++) maxlen = VG_MAX(maxlen, VG_MIN(lens[v], (size_t)VG_TEXTGRAMS_MAX_BYTES));
    uint64_t *h = vg_malloc(vg_textgrams_max_entries(tg, maxlen) * sizeof *h);
    char *text = vg_malloc(maxlen + 1);
    vg_status st = df && h && text ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory fitting text n-grams");
    for (size_t v = 0; v < n_values && !st; v++) {
        size_t k = hash_grams(tg, values[v], lens[v], text, h);
        const uint32_t *hc = (const uint32_t *)h;
        for (size_t i = 0; i < k; i++)
            if (i == 0 || hc[i] != hc[i - 1]) df[hc[i]] += counts[v];
    }
    size_t seen = 0;
    for (uint32_t j = 0; !st && j < nf; j++) seen += df[j] > 0;
    uint32_t *sc = NULL;
    uint64_t *sd = NULL;
    if (!st) {
        sc = vg_malloc((seen ? seen : 1) * sizeof *sc);
        sd = vg_malloc((seen ? seen : 1) * sizeof *sd);
        if (!sc || !sd) st = vg_fail(VG_ERR_NOMEM, "out of memory fitting text n-grams");
    }
    if (!st) {
        size_t k = 0;
        for (uint32_t j = 0; j < nf; j++)
            if (df[j]) sc[k] = j, sd[k++] = df[j];
        vg_free(tg->seen_col), vg_free(tg->seen_df);
        tg->seen_col = sc, tg->seen_df = sd, tg->n_seen = seen, tg->n_docs = n_docs;
        sc = NULL, sd = NULL;
        fill_idf(tg);
    }
    vg_free(sc), vg_free(sd), vg_free(df), vg_free(h), vg_free(text);
    return st;
}

double vg_textgrams_idf(const vg_textgrams *tg, uint32_t col) { return col < tg->p.n_features ? tg->idf[col] : NAN; }
uint64_t vg_textgrams_n_docs(const vg_textgrams *tg) { return tg->n_docs; }
size_t vg_textgrams_n_seen(const vg_textgrams *tg) { return tg->n_seen; }

vg_status vg_textgrams_save(const vg_textgrams *tg, vg_wbuf *w)
{
    vg_wbuf_u32(w, SAVE_VERSION);
    vg_wbuf_u32(w, tg->p.ngram_min);
    vg_wbuf_u32(w, tg->p.ngram_max);
    vg_wbuf_u32(w, tg->p.n_features);
    vg_wbuf_u64(w, tg->n_docs);
    vg_wbuf_u64(w, tg->n_seen);
    vg_wbuf_u32s(w, tg->seen_col, tg->n_seen);
    for (size_t k = 0; k < tg->n_seen; k++) vg_wbuf_u64(w, tg->seen_df[k]);
    return w->failed ? vg_fail(VG_ERR_NOMEM, "out of memory saving text n-grams") : VG_OK;
}

vg_status vg_textgrams_load(vg_rbuf *r, vg_textgrams **out)
{
    *out = NULL;
    uint32_t version = vg_rbuf_u32(r);
    vg_textgrams_params p = { 0 };
    p.ngram_min = vg_rbuf_u32(r);
    p.ngram_max = vg_rbuf_u32(r);
    p.n_features = vg_rbuf_u32(r);
    uint64_t n_docs = vg_rbuf_u64(r), n_seen = vg_rbuf_u64(r);
    vg_rbuf_require(r, version == SAVE_VERSION, "text n-grams version");
    vg_rbuf_require(r, vg_textgrams_params_check(&p) == NULL, "text n-gram parameters");
    vg_rbuf_require(r, n_seen <= p.n_features && n_seen <= n_docs * 64 * VG_TEXTGRAMS_MAX_BYTES &&
                           n_seen <= (r->len - r->pos) / 12, "text n-gram column count");
    vg_rbuf_require_alloc(r, (uint64_t)p.n_features * sizeof(float), "text n-gram idf table");
    vg_status st = vg_rbuf_check(r);
    if (st) return st;
    vg_textgrams *tg;
    if ((st = vg_textgrams_new(&p, &tg))) return st;
    tg->n_docs = n_docs;
    tg->seen_col = vg_rbuf_u32s(r, (size_t)n_seen);
    tg->seen_df = vg_malloc((n_seen ? n_seen : 1) * sizeof *tg->seen_df);
    if (!tg->seen_df) r->failed = 1;
    tg->n_seen = tg->seen_col && tg->seen_df ? (size_t)n_seen : 0;
    for (size_t k = 0; k < tg->n_seen && !r->failed; k++) {
        tg->seen_df[k] = vg_rbuf_u64(r);
        vg_rbuf_require(r, tg->seen_col[k] < p.n_features && (k == 0 || tg->seen_col[k] > tg->seen_col[k - 1]),
                        "text n-gram columns (ascending, in range)");
        vg_rbuf_require(r, tg->seen_df[k] >= 1 && tg->seen_df[k] <= n_docs, "text n-gram document count");
    }
    if (!r->failed && n_seen && !tg->seen_col) r->failed = 1;
    if ((st = vg_rbuf_check(r))) {
        vg_textgrams_free(tg);
        return st;
    }
    fill_idf(tg);
    *out = tg;
    return VG_OK;
}
