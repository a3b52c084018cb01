# visual_test.cmake — `cmake -P` driver for one visual regression test:
# render, then compare the screenshot with its golden on decoded pixels.
#
#   cmake -DRENDER_CMD=<prog;arg;...> -DACTUAL=<png> -DGOLDEN=<png> -DPNGDIFF=<pngdiff exe>
#         [-DTOL=2] [-DBUDGET=0] [-DUPDATE_GOLDEN=ON] [-DWORKING_DIRECTORY=<dir>] -P visual_test.cmake
#
# * The renderer exiting 77 means "no display": prints "SKIPPED: no display (run under
#   xvfb-run)" and succeeds (the ctest has SKIP_REGULAR_EXPRESSION "SKIPPED:").
# * Any other non-zero exit, or no ACTUAL written, is a failure ("RENDER FAILED:" line).
# * A pixel mismatch prints "VISUAL MISMATCH: <actual> vs <golden>" and fails.
# * UPDATE_GOLDEN=ON (or environment BOC_UPDATE_GOLDEN=1) copies ACTUAL over GOLDEN
#   instead of comparing.
# * On mismatch, pngdiff writes <ACTUAL>.diff.png and <ACTUAL>.side-by-side.png.
# Render and compare are deliberately one test, not a FIXTURES pair: a skipped fixture
# setup would still run the compare step (README "Visual tests").
cmake_minimum_required(VERSION 3.25)

foreach(_var RENDER_CMD ACTUAL GOLDEN PNGDIFF)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "visual_test.cmake: -D${_var}=... is required")
  endif()
endforeach()
if(NOT DEFINED TOL OR TOL STREQUAL "")
  set(TOL 2)
endif()
if(NOT DEFINED BUDGET OR BUDGET STREQUAL "")
  set(BUDGET 0)
endif()
if(NOT DEFINED UPDATE_GOLDEN AND DEFINED ENV{BOC_UPDATE_GOLDEN})
  set(UPDATE_GOLDEN "$ENV{BOC_UPDATE_GOLDEN}")
endif()
if(NOT DEFINED WORKING_DIRECTORY OR WORKING_DIRECTORY STREQUAL "")
  get_filename_component(WORKING_DIRECTORY "${ACTUAL}" DIRECTORY)
endif()

# Never compare a stale screenshot from an earlier run.
get_filename_component(_actual_dir "${ACTUAL}" DIRECTORY)
file(MAKE_DIRECTORY "${_actual_dir}" "${WORKING_DIRECTORY}")
file(REMOVE "${ACTUAL}")

string(REPLACE ";" " " _render_pretty "${RENDER_CMD}")
message(STATUS "render: ${_render_pretty}")
execute_process(
  COMMAND ${RENDER_CMD}
  WORKING_DIRECTORY "${WORKING_DIRECTORY}"
  RESULT_VARIABLE _render_rc)
if(_render_rc STREQUAL "77")
  message("SKIPPED: no display (run under xvfb-run)")
  return()
endif()
if(NOT _render_rc STREQUAL "0")
  message("RENDER FAILED: exit ${_render_rc}")
  message(FATAL_ERROR "visual test: the render command failed (exit ${_render_rc}): ${_render_pretty}")
endif()
if(NOT EXISTS "${ACTUAL}")
  message("RENDER FAILED: no screenshot")
  message(FATAL_ERROR "visual test: the render command succeeded but wrote no screenshot at ${ACTUAL}")
endif()

if(UPDATE_GOLDEN)
  get_filename_component(_golden_dir "${GOLDEN}" DIRECTORY)
  file(MAKE_DIRECTORY "${_golden_dir}")
  file(COPY_FILE "${ACTUAL}" "${GOLDEN}")
  message("UPDATED GOLDEN: ${GOLDEN} (from ${ACTUAL}); review it and commit it")
  return()
endif()

if(NOT EXISTS "${GOLDEN}")
  message(FATAL_ERROR "visual test: golden ${GOLDEN} does not exist; the screenshot is ${ACTUAL}. "
                      "Create it with BOC_UPDATE_GOLDEN=1 ctest ... (see README, 'Visual tests').")
endif()

string(REGEX REPLACE "\\.png$" "" _stem "${ACTUAL}")
execute_process(
  COMMAND "${PNGDIFF}" --tol "${TOL}" --budget "${BUDGET}"
          --diff "${_stem}.diff.png" --side-by-side "${_stem}.side-by-side.png"
          "${GOLDEN}" "${ACTUAL}"
  RESULT_VARIABLE _diff_rc)
if(NOT _diff_rc STREQUAL "0")
  message("VISUAL MISMATCH: ${ACTUAL} vs ${GOLDEN}")
  message(FATAL_ERROR "visual test: ${ACTUAL} does not match ${GOLDEN} (pngdiff exit ${_diff_rc}); "
                      "see ${_stem}.diff.png and ${_stem}.side-by-side.png. If the change is intended, "
                      "regenerate with BOC_UPDATE_GOLDEN=1 (README, 'Visual tests').")
endif()
