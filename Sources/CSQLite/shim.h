#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro; Swift cannot import it. It tells SQLite to copy bound text and
// blobs before the bind call returns, so Swift's temporary buffers may go away afterwards.
static inline sqlite3_destructor_type csqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

// sqlite3_db_config is variadic; Swift cannot call it. Turns off the checkpoint SQLite runs when
// the last connection to a WAL file closes, so closing (evicting) a tenant costs no fsync.
static inline int csqlite_disable_checkpoint_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}
