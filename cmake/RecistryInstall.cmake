# What `cmake --install` puts under a prefix and what the Debian package (CPack DEB) holds, and the build tree's
# mirror of the installed layout. The program finds its shipped files from where it runs (rcy_path_shared in
# src/common/path.c): PREFIX/share/recistry installed, build/share/recistry in the build tree, so both layouts
# must agree.
#
#   bin/recistry
#   lib/recistry/recistry-*.so               the program's modules, opened on first use (include/recistry/module.h)
#   share/recistry/dose-thresholds.ini       the EANM 2022 table (recistry dose, docs/dosimetry.md)
#   share/recistry/web/                      the reader workstation's UI (readers/web/dist, scripts/build-ui.sh)
#   share/doc/recistry/                      README.md and docs/*.md
#   share/doc/recistry/examples/             core.ini, core-postgresql.ini (commented key by key)
#   lib/systemd/system/                      recistry-ingest.service, recistry-serve.service
#   /etc/recistry/core.ini                   only in the .deb (a conffile), never by `cmake --install`
include(GNUInstallDirs)

# Installing and packaging take the build as it is: `make install`, and cpack's preinstall step, do not first
# rebuild everything (the tests included), so the package test runs cpack on a built tree in seconds rather
# than minutes. Build first (scripts/build.sh), then install or package.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

option(RCY_INSTALL_WEB "Install the web UI (readers/web/dist must be built: scripts/build-ui.sh)" ON)
set(RCY_WEB_DIST ${PROJECT_SOURCE_DIR}/readers/web/dist)

# The build tree's web root is a link to the UI scripts/build-ui.sh builds in the source tree, so a rebuilt UI
# is served at once without a copy step; the link may dangle until the UI is built (the server then says so).
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/share/recistry)
file(CREATE_LINK ${RCY_WEB_DIST} ${PROJECT_BINARY_DIR}/share/recistry/web SYMBOLIC)

# `cmake --build build --target ui` builds the UI the way scripts/build.sh does (npm ci + vite build); not part
# of `all`, since npm may need the network the first time and C developers rarely need it.
find_program(RCY_NPM npm)
if(RCY_NPM)
  add_custom_target(ui COMMAND ${PROJECT_SOURCE_DIR}/scripts/build-ui.sh
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} USES_TERMINAL
    COMMENT "Building the web UI (scripts/build-ui.sh -> readers/web/dist)")
endif()

install(TARGETS recistry RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

if(RCY_INSTALL_WEB)
  # Checked when installing or packaging, not when configuring: the UI is usually built after CMake runs.
  install(CODE "
    if(NOT EXISTS \"${RCY_WEB_DIST}/index.html\")
      message(FATAL_ERROR \"recistry: the web UI is not built (${RCY_WEB_DIST}/index.html is missing). \"
        \"Build it with scripts/build-ui.sh (or: cmake --build <build dir> --target ui), or configure with \"
        \"-DRCY_INSTALL_WEB=OFF to install without it.\")
    endif()")
  install(DIRECTORY ${RCY_WEB_DIST}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/recistry/web)
endif()

set(RCY_DOCDIR ${CMAKE_INSTALL_DATADIR}/doc/recistry)
install(FILES README.md DESTINATION ${RCY_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${RCY_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(FILES config/examples/core.ini config/examples/core-postgresql.ini DESTINATION ${RCY_DOCDIR}/examples)
# The units name /usr/bin/recistry (the .deb's path); from a source install under another prefix, ExecStart is
# overridden in a drop-in (docs/install.md).
install(FILES packaging/systemd/recistry-ingest.service packaging/systemd/recistry-serve.service
  DESTINATION lib/systemd/system)

# /etc/recistry/core.ini: in its own component left out of a plain `cmake --install` (which must never write
# to the real /etc), packaged by CPack below as a dpkg conffile so an admin's edits survive upgrades.
install(FILES config/examples/core.ini DESTINATION /etc/recistry COMPONENT conffiles EXCLUDE_FROM_ALL)

# ---- the Debian package: `cpack --config build/CPackConfig.cmake` (tests/integration/package_deb.sh) ----
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME recistry)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "recistry")
set(CPACK_PACKAGE_CONTACT "recistry maintainers <recistry@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "imaging core of a multicentre cancer registry (DICOM ingest, RECIST 1.1 reads)")
set(CPACK_PACKAGE_DESCRIPTION "recistry receives anonymised CT/MRI studies from trial sites by DICOM C-STORE \
(only known sites, only anonymised instances, every acknowledged instance stored durably), checks each study's \
geometry, serves a web workstation for central RECIST 1.1 reads, and computes responses, concordance, registry \
endpoints, exports and TARE 90Y dosimetry.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# One package holding the default component and the /etc conffile.
set(CPACK_COMPONENTS_ALL Unspecified conffiles)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.org/recistry")
# Libraries from dpkg-shlibdeps; adduser for the system user postinst creates. The program runs no external
# tool (DCMTK, ITK, SQLite, libpq... are linked). DCMTK's command-line tools are what sites and the docs use to
# send test studies.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "dcmtk")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql, sqlite3")
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
  ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
  ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
  ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
include(CPack)
