# ---- Rendering stack for the demo (and stb for the pngdiff test tool) ----
# Debian 12 packages only (tests/install_deps.sh):
#   libglfw3-dev libimgui-dev libstb-dev python3-glad
# Targets defined here, all visible project-wide (GLOBAL finds):
#   glfw                   GLFW 3.3 (X11 build)
#   glad                   OpenGL 3.3 core loader (+ GL_KHR_debug), generated at build time, offline
#   imgui_core             ImGui headers + Debian's libimgui.a (+ -lstb via imgui.pc's Requires)
#   imgui_backend_glfw     ImGui GLFW platform backend
#   imgui_backend_opengl3  ImGui OpenGL3 renderer backend (keeps its own imgl3w loader: never mix with glad in a TU)
#   boc_stb                stb_image / stb_image_write / stb_truetype (libstb.so has the implementations:
#                          never #define STB_*_IMPLEMENTATION)
# Third-party targets get no project warnings and no sanitizer (boc_set_target_options is not applied).
find_package(PkgConfig REQUIRED)

find_package(glfw3 3.3 REQUIRED GLOBAL)
# libGL/GLVND: the demo loads GL through glad; GLFW creates the context (GLX).
find_package(OpenGL REQUIRED GLOBAL)

pkg_check_modules(IMGUI REQUIRED IMPORTED_TARGET GLOBAL imgui)
pkg_check_modules(STB REQUIRED IMPORTED_TARGET GLOBAL stb)

# ---- stb ----
add_library(boc_stb INTERFACE)
target_link_libraries(boc_stb INTERFACE PkgConfig::STB)

# ---- glad 2: generated at build time from the packaged spec ----
# --reproducible is mandatory offline (otherwise glad downloads gl.xml from Khronos).
# Always Debian's /usr/bin/glad (shebang /usr/bin/python3): pyenv's python3 has no glad module.
find_program(GLAD_EXECUTABLE glad PATHS /usr/bin NO_DEFAULT_PATH REQUIRED)
set(BOC_GLAD_DIR ${CMAKE_BINARY_DIR}/glad)
set(BOC_GLAD_OUTPUTS
  ${BOC_GLAD_DIR}/src/gl.c
  ${BOC_GLAD_DIR}/include/glad/gl.h
  ${BOC_GLAD_DIR}/include/KHR/khrplatform.h)
add_custom_command(
  OUTPUT ${BOC_GLAD_OUTPUTS}
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${BOC_GLAD_DIR}
  COMMAND ${CMAKE_COMMAND} -E env --unset=PYTHONHOME --unset=PYTHONPATH
          ${GLAD_EXECUTABLE} --quiet --reproducible --api gl:core=3.3 --extensions=GL_KHR_debug
          --out-path ${BOC_GLAD_DIR} c
  DEPENDS ${GLAD_EXECUTABLE}
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  COMMENT "glad: generating the OpenGL 3.3 core loader (+GL_KHR_debug) into ${BOC_GLAD_DIR}"
  VERBATIM)
add_library(glad STATIC ${BOC_GLAD_DIR}/src/gl.c)
target_include_directories(glad SYSTEM PUBLIC ${BOC_GLAD_DIR}/include)
target_link_libraries(glad PUBLIC ${CMAKE_DL_LIBS})
target_compile_options(glad PRIVATE -w)
set_target_properties(glad PROPERTIES POSITION_INDEPENDENT_CODE ON C_EXTENSIONS OFF)

# ---- Dear ImGui 1.86 ----
pkg_get_variable(_boc_imgui_includedir imgui includedir)
if(NOT _boc_imgui_includedir)
  set(_boc_imgui_includedir /usr/include/imgui)
endif()
add_library(imgui_core INTERFACE)
target_include_directories(imgui_core SYSTEM INTERFACE
  ${_boc_imgui_includedir} ${_boc_imgui_includedir}/backends)
target_link_libraries(imgui_core INTERFACE PkgConfig::IMGUI)

set(IMGUI_BACKEND_SOURCE_DIR /usr/share/doc/libimgui-dev/examples/backends CACHE PATH
  "Directory holding Debian's imgui_impl_{glfw,opengl3}.cpp (or .cpp.gz)")
set(IMGUI_BACKENDS AUTO CACHE STRING
  "ImGui backends: AUTO, SOURCES (compile the files in IMGUI_BACKEND_SOURCE_DIR) or SYSTEM_ARCHIVE (objects already in libimgui.a)")
set_property(CACHE IMGUI_BACKENDS PROPERTY STRINGS AUTO SOURCES SYSTEM_ARCHIVE)

# Resolve each backend source: plain .cpp, or .cpp.gz unpacked into the build tree (A.4).
set(_boc_backend_sources_ok ON)
foreach(_b glfw opengl3)
  set(_src ${IMGUI_BACKEND_SOURCE_DIR}/imgui_impl_${_b}.cpp)
  if(EXISTS ${_src})
    set(_boc_imgui_src_${_b} ${_src})
  elseif(EXISTS ${_src}.gz)
    find_program(GZIP_EXECUTABLE gzip REQUIRED)
    set(_out ${CMAKE_CURRENT_BINARY_DIR}/imgui_backends/imgui_impl_${_b}.cpp)
    add_custom_command(
      OUTPUT ${_out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/imgui_backends
      COMMAND sh -c "'${GZIP_EXECUTABLE}' -dc '${_src}.gz' > '${_out}'"
      DEPENDS ${_src}.gz
      COMMENT "imgui: unpacking imgui_impl_${_b}.cpp.gz"
      VERBATIM)
    set(_boc_imgui_src_${_b} ${_out})
  else()
    set(_boc_backend_sources_ok OFF)
  endif()
endforeach()

set(_boc_backends ${IMGUI_BACKENDS})
if(_boc_backends STREQUAL "AUTO")
  if(_boc_backend_sources_ok)
    set(_boc_backends SOURCES)
  else()
    set(_boc_backends SYSTEM_ARCHIVE)
    message(STATUS "imgui: backend sources not found in ${IMGUI_BACKEND_SOURCE_DIR}; "
                   "using the backend objects inside libimgui.a (IMGUI_BACKENDS=SYSTEM_ARCHIVE)")
  endif()
elseif(_boc_backends STREQUAL "SOURCES" AND NOT _boc_backend_sources_ok)
  message(FATAL_ERROR "IMGUI_BACKENDS=SOURCES but imgui_impl_{glfw,opengl3}.cpp(.gz) are not in "
                      "IMGUI_BACKEND_SOURCE_DIR=${IMGUI_BACKEND_SOURCE_DIR} "
                      "(a dpkg path-exclude for /usr/share/doc?). Use -DIMGUI_BACKENDS=SYSTEM_ARCHIVE.")
elseif(NOT _boc_backends MATCHES "^(SOURCES|SYSTEM_ARCHIVE)$")
  message(FATAL_ERROR "IMGUI_BACKENDS must be AUTO, SOURCES or SYSTEM_ARCHIVE (got '${IMGUI_BACKENDS}')")
endif()
set(BOC_IMGUI_BACKENDS ${_boc_backends} CACHE INTERNAL "ImGui backends in use")
message(STATUS "imgui: backends from ${_boc_backends}")

if(_boc_backends STREQUAL "SOURCES")
  # Separate libraries: the GLFW platform backend and the OpenGL3 renderer backend.
  # Static libraries come before libimgui.a on the link line, so these objects win over
  # the archive's prebuilt copies (no duplicate symbols: the archive members are not pulled).
  add_library(imgui_backend_glfw STATIC ${_boc_imgui_src_glfw})
  target_link_libraries(imgui_backend_glfw PUBLIC imgui_core glfw)
  add_library(imgui_backend_opengl3 STATIC ${_boc_imgui_src_opengl3})
  # imgl3w dlopen()s libGL.so.1 at ImGui_ImplOpenGL3_Init.
  target_link_libraries(imgui_backend_opengl3 PUBLIC imgui_core ${CMAKE_DL_LIBS})
  foreach(_t imgui_backend_glfw imgui_backend_opengl3)
    target_compile_options(${_t} PRIVATE -w)
    set_target_properties(${_t} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  endforeach()
else()
  # libimgui.a already contains imgui_impl_glfw.o and imgui_impl_opengl3.o.
  add_library(imgui_backend_glfw INTERFACE)
  target_link_libraries(imgui_backend_glfw INTERFACE imgui_core glfw ${CMAKE_DL_LIBS})
  add_library(imgui_backend_opengl3 INTERFACE)
  target_link_libraries(imgui_backend_opengl3 INTERFACE imgui_core ${CMAKE_DL_LIBS})
endif()
