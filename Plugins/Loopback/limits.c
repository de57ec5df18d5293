/* The ABI's limits on request strings (CDD_MAX_* in cloud_dispatch_driver.h). jansson has
 * already refused invalid UTF-8 (json_loads checks it), so only lengths are left; they count
 * characters, as the schema's maxLength does. A refusal names the field, never the value:
 * a 10 MB string is not echoed back. */
#include <stdio.h>

#include "loopback.h"

int lb_string_within(json_t *value, const char *field, long min, long max, char *why, size_t why_size) {
    long length = json_is_string(value) ? cdd_utf8_length(json_string_value(value)) : -1;
    if (length < 0) {
        snprintf(why, why_size, "%s: must be a UTF-8 string", field);
        return 0;
    }
    if (length < min || length > max) {
        snprintf(why, why_size, "%s: %ld characters, must be %ld to %ld", field, length, min, max);
        return 0;
    }
    return 1;
}

int lb_tags_within(json_t *tags, const char *field, char *why, size_t why_size) {
    if (!json_is_object(tags)) {
        snprintf(why, why_size, "%s: required object of string values", field);
        return 0;
    }
    const char *key;
    json_t *value;
    json_object_foreach(tags, key, value) {
        long length = cdd_utf8_length(key);
        if (length < 1 || length > CDD_MAX_TAG_KEY) {
            snprintf(why, why_size, "%s: a key of %ld characters; keys are 1 to %d", field, length, CDD_MAX_TAG_KEY);
            return 0;
        }
        char name[64];
        snprintf(name, sizeof name, "%s value", field);
        if (!lb_string_within(value, name, 0, CDD_MAX_TAG_VALUE, why, why_size)) return 0;
    }
    return 1;
}
