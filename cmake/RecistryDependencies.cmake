# Finds every external dependency, failing with the Debian package to install when one is missing.
# scripts/setup.sh installs all of them; this file only reports.
find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config (or run scripts/setup.sh)")
endif()

# rcy_pkg(<prefix> <pkg-config module> <debian package>) -> imported target PkgConfig::<prefix>
macro(rcy_pkg prefix module debpkg)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "${module} not found: apt-get install ${debpkg} (or run scripts/setup.sh)")
  endif()
endmacro()

rcy_pkg(SQLITE3 sqlite3 libsqlite3-dev)
rcy_pkg(LIBPQ libpq libpq-dev)
rcy_pkg(PNG libpng libpng-dev)
rcy_pkg(JANSSON jansson libjansson-dev)
rcy_pkg(MHD libmicrohttpd libmicrohttpd-dev)
rcy_pkg(INIH inih libinih-dev)
rcy_pkg(SODIUM libsodium libsodium-dev)
rcy_pkg(CAIRO cairo libcairo2-dev)
rcy_pkg(OPENSSL openssl libssl-dev)
rcy_pkg(ZLIB zlib zlib1g-dev)
if(RCY_TESTS)
  rcy_pkg(CMOCKA cmocka libcmocka-dev)
endif()

find_package(DCMTK CONFIG QUIET)
if(NOT DCMTK_FOUND)
  message(FATAL_ERROR "DCMTK not found: apt-get install libdcmtk-dev (or run scripts/setup.sh)")
endif()

find_package(ITK 5 CONFIG QUIET)
if(NOT ITK_FOUND)
  message(FATAL_ERROR "ITK not found: apt-get install libinsighttoolkit5-dev (or run scripts/setup.sh)")
endif()

# libcsv ships no pkg-config file.
find_library(RCY_CSV_LIBRARY csv)
find_path(RCY_CSV_INCLUDE csv.h)
if(NOT RCY_CSV_LIBRARY OR NOT RCY_CSV_INCLUDE)
  message(FATAL_ERROR "libcsv not found: apt-get install libcsv-dev (or run scripts/setup.sh)")
endif()
