/* The ABI's limits on request strings (CDX_MAX_* in the header). jansson has already refused
 * invalid UTF-8, so lengths are left; they count characters, as the schema's maxLength does. */
#include <string.h>

#include "slurm_backend.h"

int slurm_string_within(json_t *v, long min, long max) {
    long n = json_is_string(v) ? cdd_utf8_length(json_string_value(v)) : -1;
    return n >= min && n <= max;
}

int slurm_valid_token(json_t *v) {
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > CDX_MAX_TOKEN) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("._-", *p))) return 0;
    return 1;
}

int slurm_valid_tags(json_t *tags) {
    const char *key;
    json_t *value;
    if (!json_is_object(tags)) return 0;
    json_object_foreach(tags, key, value) {
        long n = cdd_utf8_length(key);
        if (n < 1 || n > CDX_MAX_TAG_KEY || !slurm_string_within(value, 0, CDX_MAX_TAG_VALUE)) return 0;
    }
    return 1;
}
