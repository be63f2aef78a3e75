/*
 * values.c: numbers of any element type (IDX, .npy) read into bytes or
 * float32 as they arrive (reader.h: data_read_values).
 *
 * uint8 may stay bytes (the caller scales them per batch); every other
 * type becomes float32: int64 beyond 2^24 is rounded as C converts it, a
 * float64 beyond float's range becomes inf (seqrt_dataset_check refuses
 * it with the sample's name).
 */
#define _POSIX_C_SOURCE 200809L

#include "data/reader.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { VALUES_CHUNK = 1 << 16 }; /* raw bytes converted at a time */

size_t data_dtype_size(data_dtype t)
{
    static const size_t size[] = {1, 1, 2, 2, 4, 4, 8, 8, 4, 8};
    return size[t];
}

const char *data_dtype_name(data_dtype t)
{
    static const char *const name[] = {"uint8",  "int8",  "uint16", "int16",   "uint32",
                                       "int32",  "uint64", "int64", "float32", "float64"};
    return name[t];
}

static int host_is_big(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 0;
}

/* dst[0..n) = the n elements at src, byte order swapped when swap. */
#define CONVERT(type, n, src, swap, dst)                                  \
    do {                                                                  \
        for (size_t i_ = 0; i_ < (n); i_++) {                             \
            unsigned char b_[sizeof(type)];                               \
            memcpy(b_, (src) + i_ * sizeof(type), sizeof(type));          \
            if (swap)                                                     \
                for (size_t k_ = 0; k_ < sizeof(type) / 2; k_++) {        \
                    unsigned char c_ = b_[k_];                            \
                    b_[k_] = b_[sizeof(type) - 1 - k_];                   \
                    b_[sizeof(type) - 1 - k_] = c_;                       \
                }                                                         \
            type v_;                                                      \
            memcpy(&v_, b_, sizeof(type));                                \
            (dst)[i_] = (float)v_;                                        \
        }                                                                 \
    } while (0)

static void convert(data_dtype t, int swap, const unsigned char *src, size_t n, float *dst)
{
    switch (t) {
    case DATA_U8:
        for (size_t i = 0; i < n; i++)
            dst[i] = (float)src[i];
        break;
    case DATA_I8:
        for (size_t i = 0; i < n; i++)
            dst[i] = (float)(int8_t)src[i];
        break;
    case DATA_U16: CONVERT(uint16_t, n, src, swap, dst); break;
    case DATA_I16: CONVERT(int16_t, n, src, swap, dst); break;
    case DATA_U32: CONVERT(uint32_t, n, src, swap, dst); break;
    case DATA_I32: CONVERT(int32_t, n, src, swap, dst); break;
    case DATA_U64: CONVERT(uint64_t, n, src, swap, dst); break;
    case DATA_I64: CONVERT(int64_t, n, src, swap, dst); break;
    case DATA_F32:
        if (!swap)
            memcpy(dst, src, n * sizeof(float));
        else
            CONVERT(float, n, src, 1, dst);
        break;
    case DATA_F64: CONVERT(double, n, src, swap, dst); break;
    }
}

int data_read_values(data_src *s, data_budget *b, data_dtype t, int big, size_t count,
                     int keep_u8, data_values *v, seqrt_error *err)
{
    const size_t each = data_dtype_size(t);
    const int bytes = keep_u8 && t == DATA_U8;
    const size_t out_each = bytes ? 1 : sizeof(float);
    const int swap = big != host_is_big();
    void *buf = NULL;
    unsigned char *chunk = NULL;
    memset(v, 0, sizeof *v);
    /* the most the result can take: what the caller's count asks for */
    size_t most = count > SIZE_MAX / out_each ? SIZE_MAX : count * out_each;

    /* bytes the source surely holds: the result's first size, so a large
     * array is read with no copies from growing */
    size_t plain, hint = s->size_hint;
    if (!hint && data_src_plain_size(s, &plain))
        hint = plain;
    if (hint / each) {
        size_t first = hint / each < count ? hint / each : count;
        if (data_grow(b, &buf, &v->cap, first * out_each, most, err) < 0)
            goto fail;
    }
    if (bytes || (t == DATA_F32 && !swap)) {
        /* stored as the result holds them: straight into it, one read
         * per buffer size */
        while (v->got < count) {
            if (v->got == v->cap / out_each &&
                data_grow(b, &buf, &v->cap, (v->got + 1) * out_each, most, err) < 0)
                goto fail;
            size_t room = v->cap / out_each - v->got, n;
            if (data_src_read(s, (uint8_t *)buf + v->got * out_each, room * out_each, &n,
                              err) < 0)
                goto fail;
            v->got += n / out_each;
            if (n < room * out_each)
                break; /* the end of the bytes (a partial element is dropped) */
        }
        if (bytes)
            v->u8 = buf;
        else
            v->f32 = buf;
        return 0;
    }
    chunk = malloc(VALUES_CHUNK);
    if (!chunk) {
        seqrt_fail(err, "%s: out of memory", s->path);
        goto fail;
    }
    const size_t per_chunk = VALUES_CHUNK / each;
    while (v->got < count) {
        size_t want = count - v->got < per_chunk ? count - v->got : per_chunk, n;
        if (data_src_read(s, chunk, want * each, &n, err) < 0)
            goto fail;
        size_t whole = n / each;
        if (whole) {
            if (data_grow(b, &buf, &v->cap, (v->got + whole) * out_each, most, err) < 0)
                goto fail;
            convert(t, swap, chunk, whole, (float *)buf + v->got);
            v->got += whole;
        }
        if (n < want * each)
            break; /* the end of the bytes (a partial element is dropped) */
    }
    free(chunk);
    v->f32 = buf;
    return 0;
fail:
    free(chunk);
    free(buf);
    data_release(b, v->cap);
    memset(v, 0, sizeof *v);
    return -1;
}
