# scenario_meaning.cmake — `cmake -P` driver for the scenario meaning tests: run one or more
# scenarios into a fresh directory, then run scenario_check.py (on bocpy) over their logs and PNGs.
#
#   cmake -DDEMO=<boids_demo> -DSCENARIO_DIR=<python_scripts/scenarios> -DSCENARIOS=<a;b>
#         -DOUT=<dir> [-DEXTRA=<arg;...>] [-DOUT_B=<dir> -DEXTRA_B=<arg;...>]
#         -DCHECK_CMD=<bocpy;scenario_check.py;check;args...> -P scenario_meaning.cmake
#
# Each scenario <s> runs as `DEMO --scenario SCENARIO_DIR/<s>.py --screenshot-dir OUT/<s> EXTRA`
# (and again into OUT_B with EXTRA_B when OUT_B is given). A renderer exit of 77 (no display)
# prints "SKIPPED: no display (run under xvfb-run)" and ends here: the ctest has
# SKIP_REGULAR_EXPRESSION "SKIPPED:". Render and check are one test on purpose: with a fixture,
# a skipped setup test would still let the check run (and fail on missing files).
cmake_minimum_required(VERSION 3.25)

foreach(_var DEMO SCENARIO_DIR SCENARIOS OUT CHECK_CMD)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "scenario_meaning.cmake: -D${_var}=... is required")
  endif()
endforeach()

function(_run_scenarios out extra)
  file(REMOVE_RECURSE "${out}")
  file(MAKE_DIRECTORY "${out}")
  foreach(_s IN LISTS SCENARIOS)
    set(_cmd "${DEMO}" --scenario "${SCENARIO_DIR}/${_s}.py" --screenshot-dir "${out}/${_s}" ${extra})
    string(REPLACE ";" " " _pretty "${_cmd}")
    message(STATUS "render: ${_pretty}")
    execute_process(COMMAND ${_cmd} WORKING_DIRECTORY "${out}" RESULT_VARIABLE _rc
                    OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
    if(_rc STREQUAL "77")
      message("SKIPPED: no display (run under xvfb-run)")
      set(_skipped ON PARENT_SCOPE)
      return()
    endif()
    if(NOT _rc STREQUAL "0")
      message("${_out}${_err}")
      message("RENDER FAILED: exit ${_rc}")
      message(FATAL_ERROR "scenario ${_s}: the render command failed (exit ${_rc}): ${_pretty}")
    endif()
  endforeach()
endfunction()

set(_skipped OFF)
_run_scenarios("${OUT}" "${EXTRA}")
if(_skipped)
  return()
endif()
if(DEFINED OUT_B AND NOT OUT_B STREQUAL "")
  _run_scenarios("${OUT_B}" "${EXTRA_B}")
  if(_skipped)
    return()
  endif()
endif()

execute_process(COMMAND ${CHECK_CMD} RESULT_VARIABLE _rc)
if(NOT _rc STREQUAL "0")
  message(FATAL_ERROR "scenario check failed (exit ${_rc}); the logs and PNGs are in ${OUT}")
endif()
