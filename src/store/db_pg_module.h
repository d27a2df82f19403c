/* The table of the PostgreSQL driver module (recistry-postgresql.so, include/recistry/module.h): the driver's one
 * entry point, rcy_db_postgresql_open; everything after the open goes through the connection's driver table. */
#ifndef RECISTRY_STORE_DB_PG_MODULE_H
#define RECISTRY_STORE_DB_PG_MODULE_H

#include "db_driver.h"
#include "recistry/module.h"

typedef struct rcy_postgresql_module_table {
  rcy_module_header header;
  int (*open)(rcy_db **out, const char *uri, rcy_error *err);
} rcy_postgresql_module_table;

#endif
