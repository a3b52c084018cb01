# cmake -P embed_package.cmake -DOUT=<file.cpp> -DPKG_DIR=<dir with bocpy/*.py>
#       [-DC_ABI_INCLUDE=<dir>]
# Writes the bocpy package sources as C++ string constants (see package_install.cpp).
# C_ABI_INCLUDE adds a module bocpy._c_abi_location naming where the C ABI
# headers lie on disk (bocpy/_c_abi.py: the embedded package has no folder).
file(GLOB _sources RELATIVE "${PKG_DIR}" "${PKG_DIR}/bocpy/*.py")
list(SORT _sources)
set(_body "// Generated from runtime/python/bocpy/*.py by embed_package.cmake. Do not edit.\n")
string(APPEND _body "#include \"package_sources.h\"\n\nnamespace boc::py {\n\nconst EmbeddedSource kPackageSources[] = {\n")
foreach(_rel IN LISTS _sources)
  file(READ "${PKG_DIR}/${_rel}" _text)
  string(REGEX REPLACE "\\.py$" "" _mod "${_rel}")
  string(REPLACE "/" "." _mod "${_mod}")
  set(_is_pkg false)
  if(_mod MATCHES "\\.__init__$")
    string(REGEX REPLACE "\\.__init__$" "" _mod "${_mod}")
    set(_is_pkg true)
  endif()
  string(APPEND _body "    {\"${_mod}\", ${_is_pkg}, R\"BOCPYSRC(${_text})BOCPYSRC\"},\n")
endforeach()
if(DEFINED C_ABI_INCLUDE)
  string(APPEND _body "    {\"bocpy._c_abi_location\", false, R\"BOCPYSRC(INCLUDE_DIR = r\"${C_ABI_INCLUDE}\"\n)BOCPYSRC\"},\n")
endif()
string(APPEND _body "    {nullptr, false, nullptr}};\n\n}  // namespace boc::py\n")
file(WRITE "${OUT}.tmp" "${_body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
