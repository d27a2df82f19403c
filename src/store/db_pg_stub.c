/* The program's PostgreSQL driver entry (db_driver.h) without libpq: loads recistry-postgresql.so on the first
 * PostgreSQL open and forwards to it (include/recistry/module.h), so that an archive on SQLite never maps libpq
 * (nor the TLS and Kerberos libraries it brings). */
#include "db_pg_module.h"

RCY_MODULE_GETTER(postgresql, "postgresql", rcy_postgresql_module_table)

int rcy_db_postgresql_open(rcy_db **out, const char *uri, rcy_error *err) {
  *out = NULL;
  const rcy_postgresql_module_table *m = postgresql(err);
  return m ? m->open(out, uri, err) : postgresql_slot.error.code;
}
