# BocVisualTest.cmake — boc_add_visual_test(): one ctest that renders a screenshot and
# compares it with a golden PNG through tests/tools/visual_test.cmake and pngdiff.
#
#   boc_add_visual_test(NAME <name>
#                       COMMAND <program> [args...]
#                       GOLDEN <path/to/golden.png>
#                       [ACTUAL <path/to/actual.png>]   # default ${CMAKE_CURRENT_BINARY_DIR}/visual/<name>.png
#                       [TOL <n>] [BUDGET <n>]          # default 2 / 0 (README "Visual tests")
#                       [WORKING_DIRECTORY <dir>]
#                       [TIMEOUT <seconds>]             # default 120
#                       [LABELS <label>...])            # "visual" is always added
#
# Any COMMAND argument containing @ACTUAL@ has it replaced by the ACTUAL path; if none
# does, "--screenshot <ACTUAL>" is appended (the demo's CLI). COMMAND may use generator
# expressions ($<TARGET_FILE:boids_demo>). The renderer must exit 77 when there is no
# display: the test is then reported as skipped ("SKIPPED:" in its output).
# Regenerate goldens: BOC_UPDATE_GOLDEN=1 ctest -L visual, or build the target
# `update_goldens` (README, "Visual tests / regenerating goldens").
include_guard(GLOBAL)

set(BOC_VISUAL_TEST_DRIVER "${CMAKE_CURRENT_LIST_DIR}/visual_test.cmake" CACHE INTERNAL "")

function(boc_add_visual_test)
  cmake_parse_arguments(PARSE_ARGV 0 VT "" "NAME;GOLDEN;ACTUAL;TOL;BUDGET;WORKING_DIRECTORY;TIMEOUT"
                        "COMMAND;LABELS")
  if(VT_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "boc_add_visual_test: unknown arguments: ${VT_UNPARSED_ARGUMENTS}")
  endif()
  foreach(_req NAME COMMAND GOLDEN)
    if(NOT VT_${_req})
      message(FATAL_ERROR "boc_add_visual_test: ${_req} is required")
    endif()
  endforeach()
  if(NOT VT_ACTUAL)
    set(VT_ACTUAL "${CMAKE_CURRENT_BINARY_DIR}/visual/${VT_NAME}.png")
  endif()
  if(NOT IS_ABSOLUTE "${VT_GOLDEN}")
    set(VT_GOLDEN "${CMAKE_CURRENT_SOURCE_DIR}/${VT_GOLDEN}")
  endif()
  if(NOT DEFINED VT_TOL)
    set(VT_TOL 2)
  endif()
  if(NOT DEFINED VT_BUDGET)
    set(VT_BUDGET 0)
  endif()
  if(NOT VT_TIMEOUT)
    set(VT_TIMEOUT 120)
  endif()

  set(_cmd "")
  set(_has_placeholder OFF)
  foreach(_arg IN LISTS VT_COMMAND)
    if(_arg MATCHES "@ACTUAL@")
      set(_has_placeholder ON)
      string(REPLACE "@ACTUAL@" "${VT_ACTUAL}" _arg "${_arg}")
    endif()
    list(APPEND _cmd "${_arg}")
  endforeach()
  if(NOT _has_placeholder)
    list(APPEND _cmd --screenshot "${VT_ACTUAL}")
  endif()
  # Passed as one -D argument; the driver sees it as a list again.
  string(REPLACE ";" "$<SEMICOLON>" _cmd_arg "${_cmd}")

  set(_extra "")
  if(VT_WORKING_DIRECTORY)
    set(_extra "-DWORKING_DIRECTORY=${VT_WORKING_DIRECTORY}")
  endif()
  add_test(NAME ${VT_NAME}
    COMMAND ${CMAKE_COMMAND}
      "-DRENDER_CMD=${_cmd_arg}"
      "-DACTUAL=${VT_ACTUAL}"
      "-DGOLDEN=${VT_GOLDEN}"
      "-DPNGDIFF=$<TARGET_FILE:pngdiff>"
      "-DTOL=${VT_TOL}"
      "-DBUDGET=${VT_BUDGET}"
      ${_extra}
      -P "${BOC_VISUAL_TEST_DRIVER}")
  set(_labels visual ${VT_LABELS})
  list(REMOVE_DUPLICATES _labels)
  set_tests_properties(${VT_NAME} PROPERTIES
    SKIP_REGULAR_EXPRESSION "SKIPPED:"
    TIMEOUT ${VT_TIMEOUT}
    LABELS "${_labels}")
endfunction()
