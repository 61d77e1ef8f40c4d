// libgit2's public API (Debian libgit2-dev, found through pkg-config).
#include <git2.h>
