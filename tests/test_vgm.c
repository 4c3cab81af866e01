/* Unit tests for the .vgm container: round trip, alignment, and refusal of
 * truncated, corrupted, foreign and newer-version files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "testutil.h"
#include "vigil/vgm.h"

static void build(uint8_t **image, size_t *size)
{
    const char a[] = "first section", b[] = "second, longer section data";
    vg_vgm_section s[2] = { { "AAAA", a, sizeof a }, { "BBBB", b, sizeof b } };
    assert_int_equal(vg_vgm_build(s, 2, image, size), VG_OK);
}

static void test_roundtrip(void **state)
{
    (void)state;
    uint8_t *image;
    size_t size;
    build(&image, &size);
    vg_vgm_file f;
    assert_int_equal(vg_vgm_parse(image, size, "m.vgm", &f), VG_OK);
    assert_int_equal(f.n_sections, 2);
    const vg_vgm_section *b = vg_vgm_find(&f, "BBBB");
    assert_non_null(b);
    assert_string_equal(b->data, "second, longer section data");
    assert_int_equal(((const uint8_t *)b->data - image) % 16, 0);
    assert_null(vg_vgm_find(&f, "CCCC"));

    const char *path = vg_test_tmpfile("", 0, ".vgm");
    const char a[] = "x";
    vg_vgm_section s[1] = { { "AAAA", a, 1 } };
    assert_int_equal(vg_vgm_write(path, s, 1), VG_OK);
    assert_int_equal(vg_vgm_read(path, &f), VG_OK);
    assert_int_equal(f.sections[0].size, 1);
    vg_vgm_close(&f);
    assert_int_equal(vg_vgm_read("/nonexistent/m.vgm", &f), VG_ERR_IO);
    assert_non_null(strstr(vg_last_error(), "/nonexistent/m.vgm"));
    vg_free(image);
}

static void test_truncated_and_corrupted(void **state)
{
    (void)state;
    uint8_t *image;
    size_t size;
    build(&image, &size);
    vg_vgm_file f;
    for (size_t len = 0; len < size; len++) assert_int_equal(vg_vgm_parse(image, len, "m.vgm", &f), VG_ERR_FORMAT);
    assert_int_equal(vg_vgm_parse(image, size - 1, "m.vgm", &f), VG_ERR_FORMAT);
    assert_non_null(strstr(vg_last_error(), "truncated"));
    /* Any single flipped byte is caught (magic, header, directory or checksum). */
    for (size_t i = 0; i < size; i++) {
        image[i] ^= 0x01;
        assert_int_equal(vg_vgm_parse(image, size, "m.vgm", &f), VG_ERR_FORMAT);
        image[i] ^= 0x01;
    }
    assert_int_equal(vg_vgm_parse(image, size, "m.vgm", &f), VG_OK);
    vg_free(image);
}

static void test_foreign_and_newer(void **state)
{
    (void)state;
    vg_vgm_file f;
    const char text[] = "duration,protocol_type\n0,tcp\n";
    assert_int_equal(vg_vgm_parse((const uint8_t *)text, sizeof text, "data.csv", &f), VG_ERR_FORMAT);
    assert_non_null(strstr(vg_last_error(), "not a vigil model file"));
    uint8_t *image;
    size_t size;
    build(&image, &size);
    image[8] = 99;  /* version field */
    assert_int_equal(vg_vgm_parse(image, size, "m.vgm", &f), VG_ERR_FORMAT);
    assert_non_null(strstr(vg_last_error(), "newer"));
    vg_free(image);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_truncated_and_corrupted),
        cmocka_unit_test(test_foreign_and_newer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
