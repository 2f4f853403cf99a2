# SPDX-License-Identifier: GPL-2.0-only
#
# CPack runs this after installing into its staging directory and before it
# builds the .deb (CPACK_PRE_BUILD_SCRIPTS): what Debian wants of a binary
# package and `make install` does not do: executables stripped as dh_strip
# does (.comment and .note too), man pages compressed with gzip -9n, a
# changelog.gz next to the copyright file.
set(_root "${CPACK_TEMPORARY_DIRECTORY}${CPACK_PACKAGING_INSTALL_PREFIX}")

file(GLOB _exes "${_root}/${CPACK_CGFW_SBINDIR}/*")
foreach(_exe IN LISTS _exes)
  execute_process(COMMAND strip --remove-section=.comment --remove-section=.note "${_exe}"
                  RESULT_VARIABLE _rc)
  if(_rc)
    message(FATAL_ERROR "strip ${_exe} failed: ${_rc}")
  endif()
endforeach()

file(GLOB_RECURSE _pages "${_root}/${CPACK_CGFW_MANDIR}/*")
foreach(_page IN LISTS _pages)
  if(NOT _page MATCHES "\\.gz$")
    execute_process(COMMAND gzip -9nf "${_page}" RESULT_VARIABLE _rc)
    if(_rc)
      message(FATAL_ERROR "gzip ${_page} failed: ${_rc}")
    endif()
  endif()
endforeach()

set(PROJECT_VERSION "${CPACK_PACKAGE_VERSION}")
set(CGFW_DEB_VERSION "${CPACK_DEBIAN_PACKAGE_VERSION}")
set(CGFW_DEB_MAINTAINER "${CPACK_DEBIAN_PACKAGE_MAINTAINER}")
set(CGFW_DEB_DATE "${CPACK_CGFW_DEB_DATE}")
set(_changelog "${_root}/${CPACK_CGFW_DOCDIR}/changelog")
file(READ "${CPACK_CGFW_CHANGELOG_IN}" _text)
string(REGEX REPLACE "(^|\n)#[^\n]*" "" _text "${_text}")
string(REGEX REPLACE "^\n+" "" _text "${_text}")
string(CONFIGURE "${_text}" _text @ONLY)
file(WRITE "${_changelog}" "${_text}")
execute_process(COMMAND gzip -9nf "${_changelog}" RESULT_VARIABLE _rc)
if(_rc)
  message(FATAL_ERROR "gzip ${_changelog} failed: ${_rc}")
endif()
