# `cmake --install` and the .deb (cpack -G DEB): the three programs in bin/
# and the run-time data in share/teredo-conformance/, in the layout
# conformance/engine/data_dir.hpp reads (the installed tool then needs neither
# this source tree nor ../shared).
include(GNUInstallDirs)

install(TARGETS teredo-conform teredo-ref teredo-nat RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(TEREDO_DATA_DEST ${CMAKE_INSTALL_DATADIR}/teredo-conformance)
install(FILES conformance/catalog/requirements.json conformance/catalog/case_durations.json
              conformance/catalog/README.md
        DESTINATION ${TEREDO_DATA_DEST}/catalog)
install(DIRECTORY conformance/iut/ DESTINATION ${TEREDO_DATA_DEST}/adapters FILES_MATCHING PATTERN "*.json")
install(DIRECTORY netns/topologies/ DESTINATION ${TEREDO_DATA_DEST}/topologies FILES_MATCHING PATTERN "*.json")
install(DIRECTORY reports/schema/ DESTINATION ${TEREDO_DATA_DEST}/schemas)
install(FILES conformance/interop/interop.schema.json DESTINATION ${TEREDO_DATA_DEST}/schemas)
install(FILES conformance/uncovered.json DESTINATION ${TEREDO_DATA_DEST})
install(DIRECTORY conformance/regressions/ DESTINATION ${TEREDO_DATA_DEST}/regressions FILES_MATCHING PATTERN "*.json")
install(FILES README.md conformance/JUDGING.md reports/FORMAT.md DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/teredo-conformance)

# Debian package. Shared-library dependencies (libc6, libstdc++6, libpcap0.8,
# libssl3, libfmt9, ...) come from dpkg-shlibdeps; the programs the lab runs
# (ip, ss: iproute2; nft: nftables) are named here.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME teredo-conformance)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "teredo-conformance maintainers <teredo-conformance@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Conformance and fuzz harness for Teredo (RFC 4380, 5991, 6081) implementations")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "iproute2, nftables")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "miredo, miredo-server")
include(CPack)
