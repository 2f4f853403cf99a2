# SPDX-License-Identifier: GPL-2.0-only
#
# Runs at install time (cgfw_install_configured() in packaging/CMakeLists.txt):
# configures a template for the prefix it is installed under and installs it.
# So `cmake --install build --prefix /usr` and CPack (which installs under
# /usr) get units, the OCI hook file and man pages that name /usr/sbin/cgfw,
# not the prefix the tree was configured with.
#
# In: CGFW_IC_TEMPLATE, CGFW_IC_NAME (installed file name), CGFW_IC_DESTINATION
# and CGFW_IC_DIRS (NAME=DIR pairs, DIR absolute or relative to the prefix):
# each NAME becomes @NAME@ as the full path. CMAKE_INSTALL_PREFIX is the
# install script's own.
set(_cgfw_prefix "${CMAKE_INSTALL_PREFIX}")
function(_cgfw_full ret dir)
  if(IS_ABSOLUTE "${dir}")
    set(${ret} "${dir}" PARENT_SCOPE)
  elseif(_cgfw_prefix STREQUAL "/")
    set(${ret} "/${dir}" PARENT_SCOPE)
  else()
    set(${ret} "${_cgfw_prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

foreach(_pair IN LISTS CGFW_IC_DIRS)
  string(FIND "${_pair}" "=" _eq)
  string(SUBSTRING "${_pair}" 0 ${_eq} _name)
  math(EXPR _eq "${_eq} + 1")
  string(SUBSTRING "${_pair}" ${_eq} -1 _dir)
  _cgfw_full(${_name} "${_dir}")
endforeach()
_cgfw_full(_dest "${CGFW_IC_DESTINATION}")

# One staging directory per destination root, so two installs at once (make
# install and a CPack run) never share a file.
string(MD5 _key "$ENV{DESTDIR}|${_cgfw_prefix}")
set(_out "${CGFW_IC_STAGING}/${_key}/${CGFW_IC_NAME}")
configure_file("${CGFW_IC_TEMPLATE}" "${_out}" @ONLY)
file(INSTALL DESTINATION "${_dest}" TYPE FILE FILES "${_out}")
