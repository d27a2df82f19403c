/* The PostgreSQL driver module's one export (db_pg_module.h): db_pg.c and libpq, linked into
 * recistry-postgresql.so, which the program opens only when an archive's database is PostgreSQL. */
#include "db_pg_module.h"

const rcy_postgresql_module_table rcy_postgresql_module = {
    RCY_MODULE_HEADER("postgresql", rcy_postgresql_module_table),
    rcy_db_postgresql_open,
};
