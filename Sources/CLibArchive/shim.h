// libarchive's reader, for unpacking image layers (Debian: libarchive-dev),
// and <sys/xattr.h>, which Glibc's Swift module map leaves out.
#include <archive.h>
#include <archive_entry.h>
#include <sys/xattr.h>
