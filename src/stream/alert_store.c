/* The SQLite alert store (schema: docs/alerts.md; alerts as JSON: alert.c).
 * Inserts go through one prepared statement inside a transaction that stays
 * open for a batch (BEGIN IMMEDIATE, so several writer processes queue on
 * the lock instead of failing on a read-to-write upgrade); WAL with
 * synchronous=NORMAL makes a commit cheap and the file safe after a crash. */
#include "vigil/alerts.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCHEMA_VERSION 1

/* ---- the store ------------------------------------------------------------- */

struct vg_alert_store {
    sqlite3 *db;
    char *path;
    vg_alert_store_params p;
    sqlite3_stmt *insert;
    size_t pending;
    int in_txn;
    double txn_started;
    uint64_t added;
};

static vg_status db_fail(vg_alert_store *s, const char *what)
{
    int code = sqlite3_errcode(s->db);
    vg_status st = code == SQLITE_NOTADB || code == SQLITE_CORRUPT ? VG_ERR_FORMAT : VG_ERR_IO;
    return vg_fail(st, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static vg_status exec(vg_alert_store *s, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        vg_status st = db_fail(s, sql);
        sqlite3_free(err);
        return st;
    }
    return VG_OK;
}

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS alerts ("
    " id INTEGER PRIMARY KEY,"
    " time REAL NOT NULL,"
    " source TEXT NOT NULL,"
    " line_no INTEGER NOT NULL,"
    " entity TEXT,"
    " model TEXT NOT NULL,"
    " label TEXT NOT NULL,"
    " score REAL NOT NULL,"
    " explanation_json TEXT,"
    " raw TEXT NOT NULL,"
    " created REAL NOT NULL);"
    "CREATE INDEX IF NOT EXISTS alerts_time ON alerts(time);"
    "CREATE INDEX IF NOT EXISTS alerts_entity ON alerts(entity, time);"
    "CREATE INDEX IF NOT EXISTS alerts_source_line ON alerts(source, line_no);";

/* Optional beside the alerts (older stores lack it until a writer opens
 * them; readers never need it), so the schema version stays 1. */
static const char positions_sql[] =
    "CREATE TABLE IF NOT EXISTS watch_positions ("
    " path TEXT PRIMARY KEY,"
    " dev INTEGER NOT NULL,"
    " ino INTEGER NOT NULL,"
    " offset INTEGER NOT NULL,"
    " line_no INTEGER NOT NULL,"
    " updated REAL NOT NULL)";

static vg_status int_query(vg_alert_store *s, const char *sql, long long *out)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) return db_fail(s, sql);
    int rc = sqlite3_step(q);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(s, sql);
    return VG_OK;
}

/* Refuse a file that is someone else's database or from a newer vigil. */
static vg_status check_schema(vg_alert_store *s)
{
    long long version, has_table;
    vg_status st = int_query(s, "PRAGMA user_version", &version);
    if (!st) st = int_query(s, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='alerts'", &has_table);
    if (st) return st;
    if (version > SCHEMA_VERSION)
        return vg_fail(VG_ERR_FORMAT, "%s: alert store schema version %lld is newer than this vigil's (%d)", s->path,
                       version, SCHEMA_VERSION);
    if (has_table && version != SCHEMA_VERSION)
        return vg_fail(VG_ERR_FORMAT, "%s: has an 'alerts' table that is not a vigil alert store", s->path);
    if (!has_table && s->p.read_only)
        return vg_fail(VG_ERR_FORMAT, "%s: not a vigil alert store (no alerts table)", s->path);
    if (!has_table) {
        if ((st = exec(s, "BEGIN IMMEDIATE"))) return st;
        if ((st = exec(s, schema_sql)) || (st = exec(s, "PRAGMA user_version = 1"))) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return st;
        }
        return exec(s, "COMMIT");
    }
    return VG_OK;
}

/* WAL mode, the schema checked (created in a new file) and the positions
 * table, all idempotent. */
static vg_status prepare_file(vg_alert_store *s)
{
    vg_status st = VG_OK;
    if (!s->p.read_only && ((st = exec(s, "PRAGMA journal_mode=WAL")) || (st = exec(s, "PRAGMA synchronous=NORMAL"))))
        return st;
    if ((st = check_schema(s))) return st;
    return s->p.read_only ? VG_OK : exec(s, positions_sql);
}

vg_status vg_alert_store_open(const char *path, const vg_alert_store_params *p, vg_alert_store **out)
{
    *out = NULL;
    vg_alert_store *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "out of memory");
    s->p = p ? *p : vg_alert_store_params_default();
    if (!s->p.batch_rows) s->p.batch_rows = 1;
    if (!(s->path = vg_strdup(path))) {
        vg_free(s);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    int flags = s->p.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    vg_status st;
    if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        st = s->db ? db_fail(s, "open") : vg_fail(VG_ERR_NOMEM, "out of memory");
        goto err;
    }
    sqlite3_busy_timeout(s->db, s->p.busy_timeout_ms);
    /* Two processes opening a new store at once (consumers started
     * together) race for the switch to WAL, which SQLite refuses at once
     * with "database is locked" instead of calling the busy handler: try
     * again within busy_timeout_ms. */
    for (double t0 = vg_now();;) {
        st = prepare_file(s);
        int code = sqlite3_errcode(s->db) & 0xff;
        if (!st || (code != SQLITE_BUSY && code != SQLITE_LOCKED) || vg_now() - t0 > s->p.busy_timeout_ms / 1000.0)
            break;
        nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
    }
    if (st) goto err;
    if (!s->p.read_only) {
        const char *sql =
            s->p.dedup ? "INSERT INTO alerts(time,source,line_no,entity,model,label,score,explanation_json,raw,created)"
                         " SELECT ?1,?2,?3,?4,?5,?6,?7,?8,?9,?10"
                         " WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE source=?2 AND line_no=?3)"
                       : "INSERT INTO alerts(time,source,line_no,entity,model,label,score,explanation_json,raw,created)"
                         " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)";
        if (sqlite3_prepare_v2(s->db, sql, -1, &s->insert, NULL) != SQLITE_OK) {
            st = db_fail(s, "prepare insert");
            goto err;
        }
    }
    *out = s;
    return VG_OK;
err:
    sqlite3_finalize(s->insert);
    sqlite3_close(s->db);
    vg_free(s->path);
    vg_free(s);
    return st;
}

vg_status vg_alert_store_commit(vg_alert_store *s)
{
    if (!s->in_txn) return VG_OK;
    vg_status st = exec(s, "COMMIT");
    if (st) return st;
    s->in_txn = 0;
    s->pending = 0;
    return VG_OK;
}

vg_status vg_alert_store_close(vg_alert_store *s)
{
    if (!s) return VG_OK;
    vg_status st = vg_alert_store_commit(s);
    if (st) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_finalize(s->insert);
    sqlite3_close(s->db);
    vg_free(s->path);
    vg_free(s);
    return st;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The open batch's transaction, begun if there is none. */
static vg_status begin(vg_alert_store *s)
{
    if (!s->insert) return vg_fail(VG_ERR_INVALID, "%s: opened read-only", s->path);
    if (s->in_txn) return VG_OK;
    vg_status st = exec(s, "BEGIN IMMEDIATE");
    if (st) return st;
    s->in_txn = 1;
    s->txn_started = vg_now();
    return VG_OK;
}

vg_status vg_alert_store_add(vg_alert_store *s, const vg_alert *a)
{
    vg_status st = begin(s);
    if (st) return st;
    sqlite3_stmt *q = s->insert;
    const char *src = a->source ? a->source : "";
    sqlite3_bind_double(q, 1, a->time);
    sqlite3_bind_text(q, 2, src, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)a->line_no);
    if (a->entity) sqlite3_bind_text(q, 4, a->entity, (int)a->entity_len, SQLITE_STATIC);
    else sqlite3_bind_null(q, 4);
    sqlite3_bind_text(q, 5, a->model ? a->model : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, a->label ? a->label : "", -1, SQLITE_STATIC);
    sqlite3_bind_double(q, 7, a->score);
    if (a->explanation_json) sqlite3_bind_text(q, 8, a->explanation_json, -1, SQLITE_STATIC);
    else sqlite3_bind_null(q, 8);
    sqlite3_bind_text(q, 9, a->raw ? a->raw : "", a->raw ? (int)a->raw_len : 0, SQLITE_STATIC);
    sqlite3_bind_double(q, 10, wall_now());
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (rc != SQLITE_DONE) return db_fail(s, "insert");
    s->added += (uint64_t)sqlite3_changes(s->db);
    s->pending++;
    if (s->pending >= s->p.batch_rows || vg_now() - s->txn_started >= s->p.batch_seconds)
        return vg_alert_store_commit(s);
    return VG_OK;
}

size_t vg_alert_store_pending(const vg_alert_store *s) { return s->pending; }
uint64_t vg_alert_store_added(const vg_alert_store *s) { return s->added; }

vg_status vg_alert_store_count(vg_alert_store *s, uint64_t *out)
{
    long long n;
    vg_status st = int_query(s, "SELECT count(*) FROM alerts", &n);
    *out = st ? 0 : (uint64_t)n;
    return st;
}

/* ---- positions ------------------------------------------------------------- */

vg_status vg_alert_store_put_position(vg_alert_store *s, const char *path, const vg_tail_position *pos)
{
    vg_status st = begin(s);
    if (st) return st;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO watch_positions(path,dev,ino,offset,line_no,updated)"
                           " VALUES (?1,?2,?3,?4,?5,?6)",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, "prepare position");
    sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)pos->dev);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)pos->ino);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)pos->offset);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)pos->line_no);
    sqlite3_bind_double(q, 6, wall_now());
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? VG_OK : db_fail(s, "position");
}

vg_status vg_alert_store_get_position(vg_alert_store *s, const char *path, vg_tail_position *pos)
{
    *pos = (vg_tail_position){ 0 };
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT dev,ino,offset,line_no FROM watch_positions WHERE path = ?1", -1, &q, NULL) !=
        SQLITE_OK)
        return db_fail(s, "read position");
    sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        pos->known = 1;
        pos->dev = (uint64_t)sqlite3_column_int64(q, 0);
        pos->ino = (uint64_t)sqlite3_column_int64(q, 1);
        pos->offset = (uint64_t)sqlite3_column_int64(q, 2);
        pos->line_no = (uint64_t)sqlite3_column_int64(q, 3);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? VG_OK : db_fail(s, "read position");
}

/* ---- reading for reports and the dashboard ---------------------------------- */

/* The WHERE clause of f with numbered parameters, so every statement that
 * uses it binds the same way (bind_filter). */
static void filter_sql(const vg_alert_filter *f, char *sql, size_t cap)
{
    const char *col = f->by_stored ? "created" : "time";
    char since[32] = "", until[32] = "";
    if (!isnan(f->since)) snprintf(since, sizeof since, " AND %s >= ?1", col);
    if (!isnan(f->until)) snprintf(until, sizeof until, " AND %s < ?2", col);
    snprintf(sql, cap, " WHERE 1%s%s%s%s%s%s", since, until, f->entity ? " AND entity = ?3" : "",
             f->label ? " AND label = ?4" : "", f->source ? " AND source = ?5" : "",
             !isnan(f->min_score) ? " AND score >= ?6" : "");
}

static void bind_filter(sqlite3_stmt *q, const vg_alert_filter *f)
{
    if (!isnan(f->since)) sqlite3_bind_double(q, 1, f->since);
    if (!isnan(f->until)) sqlite3_bind_double(q, 2, f->until);
    if (f->entity) sqlite3_bind_text(q, 3, f->entity, -1, SQLITE_STATIC);
    if (f->label) sqlite3_bind_text(q, 4, f->label, -1, SQLITE_STATIC);
    if (f->source) sqlite3_bind_text(q, 5, f->source, -1, SQLITE_STATIC);
    if (!isnan(f->min_score)) sqlite3_bind_double(q, 6, f->min_score);
}

vg_status vg_alert_store_list(vg_alert_store *s, const vg_alert_filter *f,
                              int (*fn)(const vg_alert_row *row, void *user), void *user)
{
    char where[256], sql[640];
    filter_sql(f, where, sizeof where);
    snprintf(sql, sizeof sql,
             "SELECT id,time,source,line_no,entity,model,label,score,explanation_json,raw,created FROM alerts%s"
             " ORDER BY time DESC, id DESC LIMIT ?7", where);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) return db_fail(s, "list");
    bind_filter(q, f);
    sqlite3_bind_int64(q, 7, f->limit ? (sqlite3_int64)f->limit : -1);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        vg_alert_row r = { 0 };
        r.id = sqlite3_column_int64(q, 0);
        r.alert.time = sqlite3_column_double(q, 1);
        r.alert.source = (const char *)sqlite3_column_text(q, 2);
        r.alert.line_no = (uint64_t)sqlite3_column_int64(q, 3);
        r.alert.entity = (const char *)sqlite3_column_text(q, 4);
        r.alert.entity_len = (size_t)sqlite3_column_bytes(q, 4);
        r.alert.model = (const char *)sqlite3_column_text(q, 5);
        r.alert.label = (const char *)sqlite3_column_text(q, 6);
        r.alert.score = sqlite3_column_double(q, 7);
        r.alert.explanation_json = (const char *)sqlite3_column_text(q, 8);
        r.alert.raw = (const char *)sqlite3_column_text(q, 9);
        r.alert.raw_len = (size_t)sqlite3_column_bytes(q, 9);
        r.created = sqlite3_column_double(q, 10);
        if (fn(&r, user)) break;
    }
    vg_status out = rc == SQLITE_ROW || rc == SQLITE_DONE ? VG_OK : db_fail(s, "list");
    sqlite3_finalize(q);
    return out;
}

/* The `top` largest groups of column `col` (a fixed column name, never data). */
static vg_status group_by(vg_alert_store *s, const char *col, const char *where, const vg_alert_filter *f,
                          size_t top, vg_alert_group **out, size_t *n_out)
{
    char sql[640];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(%s,''), count(*), max(score) FROM alerts%s GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?7", col,
             where);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) return db_fail(s, "summary");
    bind_filter(q, f);
    sqlite3_bind_int64(q, 7, (sqlite3_int64)top);
    vg_alert_group *g = vg_calloc(top ? top : 1, sizeof *g);
    vg_status st = g ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
    size_t n = 0;
    int rc = SQLITE_DONE;
    while (!st && n < top && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(q, 0);
        g[n].key = vg_strdup(k ? k : "");
        g[n].n = (uint64_t)sqlite3_column_int64(q, 1);
        g[n].max_score = sqlite3_column_double(q, 2);
        if (!g[n++].key) st = vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    if (!st && rc != SQLITE_ROW && rc != SQLITE_DONE) st = db_fail(s, "summary");
    sqlite3_finalize(q);
    *out = g;
    *n_out = n;
    return st;
}

vg_status vg_alert_store_summarize(vg_alert_store *s, const vg_alert_filter *f, size_t top, double bucket_seconds,
                                   vg_alert_summary *out)
{
    memset(out, 0, sizeof *out);
    out->first = out->last = NAN;
    char where[256], sql[640];
    filter_sql(f, where, sizeof where);
    /* One read transaction: every figure comes from the same snapshot even
     * while a watcher commits (a writer's own open batch is already one). */
    int own_txn = sqlite3_get_autocommit(s->db);
    vg_status st = own_txn ? exec(s, "BEGIN") : VG_OK;
    if (st) return st;
    sqlite3_stmt *q = NULL;
    snprintf(sql, sizeof sql, "SELECT count(*), min(time), max(time) FROM alerts%s", where);
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
        st = db_fail(s, "summary");
        goto done;
    }
    bind_filter(q, f);
    if (sqlite3_step(q) != SQLITE_ROW) {
        st = db_fail(s, "summary");
        goto done;
    }
    out->total = (uint64_t)sqlite3_column_int64(q, 0);
    if (out->total) {
        out->first = sqlite3_column_double(q, 1);
        out->last = sqlite3_column_double(q, 2);
    }
    sqlite3_finalize(q);
    q = NULL;
    if ((st = group_by(s, "label", where, f, top, &out->labels, &out->n_labels)) ||
        (st = group_by(s, "source", where, f, top, &out->sources, &out->n_sources)) ||
        (st = group_by(s, "model", where, f, top, &out->models, &out->n_models)) ||
        (st = group_by(s, "entity", where, f, top, &out->entities, &out->n_entities)))
        goto done;

    /* The timeline spans the filter's window when it has one, else the data. */
    double lo = !isnan(f->since) ? f->since : out->first, hi = !isnan(f->until) ? f->until : out->last;
    if (isnan(lo) || isnan(hi) || hi < lo) goto done;
    double bs = bucket_seconds > 0 ? bucket_seconds : (hi - lo) / 3600.0 > 96 ? 86400.0 : 3600.0;
    while ((floor(hi / bs) - floor(lo / bs)) + 1 > 2000) bs *= 2;
    out->bucket_seconds = bs;
    out->bucket0 = floor(lo / bs) * bs;
    /* An open upper bound includes the last alert; a given one excludes itself. */
    size_t nb = (size_t)(floor(hi / bs) - floor(lo / bs)) + 1;
    if (!isnan(f->until) && hi == floor(hi / bs) * bs && nb > 1) nb--;
    out->buckets = vg_calloc(nb, sizeof *out->buckets);
    if (!out->buckets) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto done;
    }
    out->n_buckets = nb;
    snprintf(sql, sizeof sql, "SELECT CAST((time - ?8) / ?9 AS INTEGER), count(*) FROM alerts%s GROUP BY 1", where);
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
        st = db_fail(s, "summary");
        goto done;
    }
    bind_filter(q, f);
    sqlite3_bind_double(q, 8, out->bucket0);
    sqlite3_bind_double(q, 9, bs);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        sqlite3_int64 b = sqlite3_column_int64(q, 0);
        if (b >= 0 && (size_t)b < nb) out->buckets[b] += (uint64_t)sqlite3_column_int64(q, 1);
    }
    if (rc != SQLITE_DONE) st = db_fail(s, "summary");
done:
    sqlite3_finalize(q);
    if (own_txn) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (st) {
        vg_alert_summary_free(out);
        out->first = out->last = NAN;
    }
    return st;
}

vg_status vg_alert_store_time_range(vg_alert_store *s, double *first, double *last)
{
    *first = *last = NAN;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT min(time), max(time) FROM alerts", -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, "time range");
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        *first = sqlite3_column_double(q, 0);
        *last = sqlite3_column_double(q, 1);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? VG_OK : db_fail(s, "time range");
}
