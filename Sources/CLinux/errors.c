// Error text for errno values.
#include "CLinux.h"

#include <string.h>

const char *capstan_strerror(int err, char *buf, size_t len) {
    // With _GNU_SOURCE this is the GNU strerror_r: it may return a static string instead of filling buf.
    const char *text = strerror_r(err, buf, len);
    if (text != buf && len > 0) {
        strncpy(buf, text, len - 1);
        buf[len - 1] = '\0';
    }
    return buf;
}
