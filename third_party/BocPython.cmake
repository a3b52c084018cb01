# ---- Select an embeddable CPython >= 3.12 (own-GIL sub-interpreters, PEP 684) ----
# Newest first, 3.13 preferred; real binaries only, never pyenv shims (they resolve
# to pyenv's global 3.11). README "Python selection".
set(BOC_PYTHON_MIN_VERSION 3.12)
if(NOT Python3_EXECUTABLE AND NOT Python3_ROOT_DIR AND NOT DEFINED ENV{Python3_ROOT_DIR})
  if(DEFINED ENV{PYENV_ROOT})
    set(_boc_pyenv "$ENV{PYENV_ROOT}")
  else()
    set(_boc_pyenv "$ENV{HOME}/.pyenv")
  endif()
  set(_boc_candidates "")
  foreach(_v 3.15 3.14 3.13 3.12)
    file(GLOB _g "${_boc_pyenv}/versions/${_v}.*/bin/python${_v}")
    list(FILTER _g EXCLUDE REGEX "/versions/[^/]*t/")   # skip free-threaded builds
    list(SORT _g COMPARE NATURAL ORDER DESCENDING)
    foreach(_p IN LISTS _g ITEMS "/usr/local/bin/python${_v}" "/usr/bin/python${_v}")
      if(EXISTS "${_p}")
        list(APPEND _boc_candidates "${_p}")
      endif()
    endforeach()
  endforeach()
  if(_boc_candidates)
    list(GET _boc_candidates 0 _boc_py)
    set(Python3_EXECUTABLE "${_boc_py}" CACHE FILEPATH "CPython used for embedding (>= ${BOC_PYTHON_MIN_VERSION})")
  endif()
endif()
# Interpreter must be requested too: CMake 3.25 knows names only up to 3.12 and a
# Development-only search ignores Python3_EXECUTABLE.
find_package(Python3 ${BOC_PYTHON_MIN_VERSION} COMPONENTS Interpreter Development.Embed Development.Module GLOBAL)
if(NOT Python3_FOUND OR NOT Python3_Development.Embed_FOUND)
  message(FATAL_ERROR
    "bocpy needs CPython >= ${BOC_PYTHON_MIN_VERSION} with headers and libpython "
    "(found: '${Python3_EXECUTABLE}' version '${Python3_VERSION}'). Debian 12's python3 is 3.11, "
    "which has no per-interpreter GIL. Install one (e.g. pyenv with PYTHON_CONFIGURE_OPTS=--enable-shared) "
    "and/or pass -DPython3_EXECUTABLE=/path/to/python3.13 or -DPython3_ROOT_DIR=/prefix.")
endif()
message(STATUS "bocpy: embedding CPython ${Python3_VERSION}: ${Python3_EXECUTABLE} lib=${Python3_LIBRARIES}")
set(BOC_PYTHON_EXECUTABLE "${Python3_EXECUTABLE}" CACHE INTERNAL "")

# What the Python layer links: libpython for the hosts that embed CPython (the
# runner, the demo, the tests), headers only for the importable extension
# (runtime/python/extension), whose symbols come from the interpreter that
# loads it. Evaluated on the consuming target, so one set of static libraries
# serves both.
#
# Hosts link CPython's static archive when the installation has one (pyenv and
# source builds install it in sysconfig's LIBPL): calls into CPython then skip
# the PLT, and its thread-state lookups (`_Py_tss_tstate`, several per
# behavior) become one %fs-relative load instead of a `__tls_get_addr` call.
# The whole archive goes in and the executable exports its symbols, as
# CPython's own `python` is linked (sysconfig's LINKFORSHARED), so the stdlib's
# extension modules (lib-dynload/*.so, which do not link libpython) resolve
# every C-API function they use. README "Python selection".
option(BOC_STATIC_LIBPYTHON "Link libpython's static archive into the hosts when it exists" ON)
set(_boc_host_python Python3::Python)
if(BOC_STATIC_LIBPYTHON)
  execute_process(
    COMMAND "${Python3_EXECUTABLE}" -c
      "import sysconfig as s; print(s.get_config_var('LIBPL') or '', s.get_config_var('LIBRARY') or '', sep='/')"
    OUTPUT_VARIABLE _boc_libpython_a OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _boc_rc)
  if(_boc_rc EQUAL 0 AND _boc_libpython_a MATCHES "\\.a$" AND EXISTS "${_boc_libpython_a}")
    add_library(boc_libpython_static STATIC IMPORTED GLOBAL)
    set_target_properties(boc_libpython_static PROPERTIES IMPORTED_LOCATION "${_boc_libpython_a}")
    target_include_directories(boc_libpython_static INTERFACE ${Python3_INCLUDE_DIRS})
    target_link_libraries(boc_libpython_static INTERFACE ${CMAKE_DL_LIBS} m Threads::Threads)
    target_link_options(boc_libpython_static INTERFACE "LINKER:--export-dynamic")
    set(_boc_host_python "$<LINK_LIBRARY:WHOLE_ARCHIVE,boc_libpython_static>")
    message(STATUS "bocpy: hosts link ${_boc_libpython_a}")
  endif()
endif()
add_library(boc_cpython INTERFACE)
target_link_libraries(boc_cpython INTERFACE
  "$<IF:$<BOOL:$<TARGET_PROPERTY:BOC_PYTHON_EXTENSION>>,Python3::Module,${_boc_host_python}>")
