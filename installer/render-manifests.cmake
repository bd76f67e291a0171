# Install-time script (install(SCRIPT)): writes the system-wide host manifests into
# $ENV{DESTDIR}<dir> for each dir of OMNI_SYSTEM_MANIFEST_DIRS, naming
# ${CMAKE_INSTALL_PREFIX}/bin/omnibridge-host, the prefix of *this* install (CPack's /usr for the
# .deb), not the one the build tree was configured with. Inputs (set by install(CODE)):
# OMNI_MANIFEST_TEMPLATE, OMNI_SYSTEM_MANIFEST_DIRS, OMNI_SHIPPED_EXTENSION_IDS.
set(OMNI_HOST_NAME org.omnibridge.host)
set(OMNI_HOST_PATH "${CMAKE_INSTALL_PREFIX}/bin/omnibridge-host")
set(origins "")
foreach(id ${OMNI_SHIPPED_EXTENSION_IDS})
  list(APPEND origins "\"chrome-extension://${id}/\"")
endforeach()
list(JOIN origins ", " OMNI_ALLOWED_ORIGINS)
foreach(dir ${OMNI_SYSTEM_MANIFEST_DIRS})
  set(out "$ENV{DESTDIR}${dir}/${OMNI_HOST_NAME}.json")
  message(STATUS "Installing: ${out}")
  configure_file(${OMNI_MANIFEST_TEMPLATE} ${out} @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endforeach()
