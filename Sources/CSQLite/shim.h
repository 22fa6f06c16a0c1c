#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro; Swift cannot import it. It tells SQLite to copy bound text and
// blobs before the bind call returns, so Swift's temporary buffers may go away afterwards.
static inline sqlite3_destructor_type csqlite_transient(void) {
    return SQLITE_TRANSIENT;
}
