/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>

#include "strv.h"
#include "udev-wire.h"

struct header {
        char prefix[8];
        uint32_t magic;
        uint32_t header_size;
        uint32_t properties_off;
        uint32_t properties_len;
        uint32_t subsystem_hash;
        uint32_t devtype_hash;
        uint32_t tag_bloom_hi;
        uint32_t tag_bloom_lo;
};
_Static_assert(sizeof(struct header) == UDEV_WIRE_HEADER_SIZE, "libudev's header is 40 bytes");

/* Austin Appleby's MurmurHash2, as libudev computes it: words read in the
 * host's byte order. */
uint32_t udev_wire_hash32(const char *s) {
        const uint32_t m = 0x5bd1e995;
        size_t len = strlen(s);
        const unsigned char *p = (const unsigned char *) s;
        uint32_t h = (uint32_t) len;

        for (; len >= 4; len -= 4, p += 4) {
                uint32_t k;

                memcpy(&k, p, sizeof(k));
                k *= m;
                k ^= k >> 24;
                k *= m;
                h = h * m ^ k;
        }
        /* The last one to three bytes. */
        if (len >= 3)
                h ^= (uint32_t) p[2] << 16;
        if (len >= 2)
                h ^= (uint32_t) p[1] << 8;
        if (len >= 1) {
                h ^= p[0];
                h *= m;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
}

uint64_t udev_wire_tag_bloom(const char *tag) {
        uint32_t h = udev_wire_hash32(tag);

        return UINT64_C(1) << (h & 63) | UINT64_C(1) << ((h >> 6) & 63) | UINT64_C(1) << ((h >> 12) & 63) |
               UINT64_C(1) << ((h >> 18) & 63);
}

int udev_wire_build(char *const *properties, char *const *tags, char **ret, size_t *ret_size) {
        const char *subsystem = strv_env_get(properties, "SUBSYSTEM"), *devtype = strv_env_get(properties, "DEVTYPE");
        struct header h = {.prefix = "libudev", .magic = htobe32(UDEV_WIRE_MAGIC)};
        uint64_t bloom = 0;
        size_t len = 0;
        char *buf, *p;

        if (!subsystem)
                return -EINVAL;
        STRV_FOREACH(s, properties) {
                if (!strchr(*s, '='))
                        return -EINVAL;
                len += strlen(*s) + 1;
        }
        if (len > UINT32_MAX - UDEV_WIRE_HEADER_SIZE)
                return -E2BIG;
        STRV_FOREACH(t, tags)
                bloom |= udev_wire_tag_bloom(*t);

        h.header_size = UDEV_WIRE_HEADER_SIZE;
        h.properties_off = UDEV_WIRE_HEADER_SIZE;
        h.properties_len = (uint32_t) len;
        h.subsystem_hash = htobe32(udev_wire_hash32(subsystem));
        h.devtype_hash = devtype ? htobe32(udev_wire_hash32(devtype)) : 0;
        h.tag_bloom_hi = htobe32((uint32_t) (bloom >> 32));
        h.tag_bloom_lo = htobe32((uint32_t) bloom);

        buf = malloc(UDEV_WIRE_HEADER_SIZE + len);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, &h, sizeof(h));
        p = buf + UDEV_WIRE_HEADER_SIZE;
        STRV_FOREACH(s, properties)
                p = stpcpy(p, *s) + 1;
        *ret = buf;
        *ret_size = UDEV_WIRE_HEADER_SIZE + len;
        return 0;
}

void udev_wire_message_done(struct udev_wire_message *m) {
        m->properties = strv_free(m->properties);
}

int udev_wire_parse(const void *buf, size_t size, struct udev_wire_message *ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *p, *end;
        struct header h;
        int r;

        if (size < sizeof(h))
                return -EBADMSG;
        memcpy(&h, buf, sizeof(h));
        if (memcmp(h.prefix, "libudev", 8) != 0 || be32toh(h.magic) != UDEV_WIRE_MAGIC)
                return -EBADMSG;
        if (h.properties_off < sizeof(h) || h.properties_off > size || h.properties_len > size - h.properties_off)
                return -EBADMSG;

        p = (const char *) buf + h.properties_off;
        end = p + h.properties_len;
        while (p < end) {
                size_t n = strnlen(p, (size_t) (end - p));

                if (n == (size_t) (end - p) || n == 0 || !memchr(p, '=', n))
                        return -EBADMSG;
                r = strv_extend(&l, p);
                if (r < 0)
                        return r;
                p += n + 1;
        }
        *ret = (struct udev_wire_message){
                .properties = TAKE_PTR(l),
                .subsystem_hash = be32toh(h.subsystem_hash),
                .devtype_hash = be32toh(h.devtype_hash),
                .tag_bloom = (uint64_t) be32toh(h.tag_bloom_hi) << 32 | be32toh(h.tag_bloom_lo),
        };
        return 0;
}
