/* The alert store in a libvigil built without SQLite (VG_WITH_SQLITE=OFF):
 * opening one fails with a message saying so, so `watch --alerts`, `alerts`,
 * `report --alerts` and `serve --alerts` refuse clearly while everything
 * else works. The functions past open are unreachable without a store and
 * fail the same way. */
#include "vigil/alerts.h"

static vg_status unsupported(void)
{
    return vg_fail(VG_ERR_UNSUPPORTED, "alert stores need SQLite: this libvigil was built without it "
                                       "(cmake -DVG_WITH_SQLITE=ON)");
}

vg_status vg_alert_store_open(const char *path, const vg_alert_store_params *p, vg_alert_store **out)
{
    (void)path, (void)p;
    *out = NULL;
    return unsupported();
}

vg_status vg_alert_store_close(vg_alert_store *s)
{
    (void)s;
    return VG_OK;
}

vg_status vg_alert_store_add(vg_alert_store *s, const vg_alert *a) { (void)s, (void)a; return unsupported(); }
vg_status vg_alert_store_commit(vg_alert_store *s) { (void)s; return unsupported(); }
size_t vg_alert_store_pending(const vg_alert_store *s) { (void)s; return 0; }
uint64_t vg_alert_store_added(const vg_alert_store *s) { (void)s; return 0; }
vg_status vg_alert_store_count(vg_alert_store *s, uint64_t *out) { (void)s, (void)out; return unsupported(); }

vg_status vg_alert_store_put_position(vg_alert_store *s, const char *path, const vg_tail_position *pos)
{
    (void)s, (void)path, (void)pos;
    return unsupported();
}

vg_status vg_alert_store_get_position(vg_alert_store *s, const char *path, vg_tail_position *pos)
{
    (void)s, (void)path, (void)pos;
    return unsupported();
}

vg_status vg_alert_store_list(vg_alert_store *s, const vg_alert_filter *f,
                              int (*fn)(const vg_alert_row *row, void *user), void *user)
{
    (void)s, (void)f, (void)fn, (void)user;
    return unsupported();
}

vg_status vg_alert_store_summarize(vg_alert_store *s, const vg_alert_filter *f, size_t top, double bucket_seconds,
                                   vg_alert_summary *out)
{
    (void)s, (void)f, (void)top, (void)bucket_seconds, (void)out;
    return unsupported();
}

vg_status vg_alert_store_time_range(vg_alert_store *s, double *first, double *last)
{
    (void)s, (void)first, (void)last;
    return unsupported();
}
