/*
 * test_cquote.c: the one path from user text to generated C (cquote.h).
 * Every byte value goes through cq_string and must read back the same
 * (decoding the escapes as a C compiler does) with no '?' (trigraphs), no
 * bare quote or backslash; cq_comment's text never ends or opens a comment,
 * never holds a trigraph, a backslash or a line break. (This file is C11:
 * its own question marks are written "?\?" so they form no trigraph.)
 */
#include <string.h>

#include "back/cquote.h"
#include "util/arena.h"
#include "testutil.h"

/* the bytes a C compiler reads from literal q ("..."), into out */
static size_t decode(const char *q, char *out)
{
    size_t n = 0;
    assert_int_equal(*q++, '"');
    while (*q != '"') {
        assert_true(*q != 0);
        assert_true(*q != '?'); /* a '?' could start a trigraph */
        if (*q == '\\') {
            int v = 0;
            for (int k = 1; k <= 3; k++) {
                assert_true(q[k] >= '0' && q[k] <= '7');
                v = v * 8 + (q[k] - '0');
            }
            out[n++] = (char)v;
            q += 4;
        } else {
            out[n++] = *q++;
        }
    }
    assert_int_equal(q[1], 0);
    return n;
}

static void test_every_byte_reads_back(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    char all[256], back[256];
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char)i;
    all[255] = 0;
    size_t n = decode(cq_string(&a, all), back);
    assert_int_equal(n, 255);
    assert_memory_equal(all, back, 255);
    assert_string_equal(cq_string(&a, "models/mnist_bn.seq"), "\"models/mnist_bn.seq\"");
    assert_string_equal(cq_string(&a, "a?\?/\"1"), "\"a\\077\\077/\\0421\"");
    arena_free(&a);
}

static void test_comments_stay_comments(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    const char *hostile[] = {"*/ int x; /*", "a*//b", "/*/", "x?\?/", "end\\", "two\nlines",
                             "tri?\?=?\?(?\?)", "\xff\xfe", "**/**", "//*"};
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        const char *c = cq_comment(&a, hostile[i]);
        assert_int_equal(strlen(c), strlen(hostile[i]));
        assert_null(strstr(c, "*/"));
        assert_null(strstr(c, "/*"));
        assert_null(strpbrk(c, "?\\\n\r"));
        for (const char *p = c; *p; p++)
            assert_true(*p >= 32 && *p < 127);
    }
    assert_string_equal(cq_comment(&a, "models/mnist_bn.seq"), "models/mnist_bn.seq");
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte_reads_back),
        cmocka_unit_test(test_comments_stay_comments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
