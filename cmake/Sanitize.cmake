# SPDX-License-Identifier: GPL-2.0-only
#
# -DCGFW_SANITIZE=ON: AddressSanitizer (LeakSanitizer included) and
# UndefinedBehaviorSanitizer on everything this project compiles for the host
# (the libraries, the CLI, the tests, the benchmarks), never on the BPF
# programs. Any report ends the program with a failure (`make test-asan`).
#
# Every executable also gets cmake/sanitize_options.c: default options that
# hold when nothing sets ASAN_OPTIONS / UBSAN_OPTIONS, as when runc or podman
# run `cgfw oci-hook` with an empty environment. Reports of such runs go to
# ${CGFW_SANITIZE_LOG_DIR}/NAME.PID (ctest's runs set log_path=stderr), which
# `make test-asan` requires to be empty.
option(CGFW_SANITIZE "build with ASan + UBSan (LeakSanitizer on); see make test-asan" OFF)
if(NOT CGFW_SANITIZE)
  return()
endif()
if(CMAKE_VERSION VERSION_LESS 3.19)
  message(FATAL_ERROR "CGFW_SANITIZE needs CMake 3.19 or newer")
endif()

set(CGFW_SANITIZE_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer)
add_compile_options(${CGFW_SANITIZE_FLAGS})
add_link_options(${CGFW_SANITIZE_FLAGS})
set(CGFW_SANITIZE_LOG_DIR ${CMAKE_BINARY_DIR}/sanitizer-logs CACHE PATH
    "where sanitized programs run without ASAN_OPTIONS write their reports")
file(MAKE_DIRECTORY ${CGFW_SANITIZE_LOG_DIR})
message(STATUS "sanitizers: ASan + UBSan + LSan; reports of runs without options: "
               "${CGFW_SANITIZE_LOG_DIR}")

# At the end of the top-level CMakeLists.txt, when every target exists: the
# default options go into each executable.
function(_cgfw_sanitize_executables dir)
  get_property(_targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(_t ${_targets})
    get_target_property(_type ${_t} TYPE)
    if(_type STREQUAL "EXECUTABLE")
      target_sources(${_t} PRIVATE ${CMAKE_SOURCE_DIR}/cmake/sanitize_options.c)
      target_compile_definitions(${_t} PRIVATE
        CGFW_SANITIZE_LOG="${CGFW_SANITIZE_LOG_DIR}/${_t}")
    endif()
  endforeach()
  get_property(_subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(_d ${_subdirs})
    _cgfw_sanitize_executables(${_d})
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL _cgfw_sanitize_executables
               ${CMAKE_SOURCE_DIR})
