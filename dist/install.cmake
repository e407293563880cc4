# install.cmake: the parts of `cmake --install` that depend on the prefix
# given at install time (cmake --install build --prefix P, or CPack's
# /usr): the mig-rsh link and the systemd unit, which names mig-homed's
# path. MIG_DIST is set by an install(CODE) line before this runs.
set(dest "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")

# mig-rsh is mig under another name, linked relatively so the tree can move.
message(STATUS "Installing: ${dest}/bin/mig-rsh -> mig")
file(MAKE_DIRECTORY "${dest}/bin")
file(CREATE_LINK mig "${dest}/bin/mig-rsh" SYMBOLIC)
list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_PREFIX}/bin/mig-rsh")

set(MIG_BINDIR "${CMAKE_INSTALL_PREFIX}/bin")
set(unit "${dest}/lib/systemd/user/mig-homed.service")
message(STATUS "Installing: ${unit}")
configure_file("${MIG_DIST}/mig-homed.service.in" "${unit}" @ONLY)
file(CHMOD "${unit}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
list(APPEND CMAKE_INSTALL_MANIFEST_FILES
     "${CMAKE_INSTALL_PREFIX}/lib/systemd/user/mig-homed.service")

# bash-completion looks a command's completion up by its name.
set(comp "${dest}/share/bash-completion/completions")
message(STATUS "Installing: ${comp}/mig-rsh -> mig")
file(MAKE_DIRECTORY "${comp}")
file(CREATE_LINK mig "${comp}/mig-rsh" SYMBOLIC)
list(APPEND CMAKE_INSTALL_MANIFEST_FILES
     "${CMAKE_INSTALL_PREFIX}/share/bash-completion/completions/mig-rsh")
