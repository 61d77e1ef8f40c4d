// libgit2's public API (Debian libgit2-dev, found through pkg-config).
#include <git2.h>

// git_libgit2_opts is variadic, which Swift cannot call: one wrapper for each option Capstan sets.
static inline int capstan_git_set_ssl_cert_locations(const char *file, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, path);
}
