# record_roundtrip.cmake — `cmake -P` driver for the recording round trip (README, "Recording a
# session as a scenario"): run a scenario with --record-scenario, replay the recorded file, and
# require the same per-frame log lines (frame and watchdog records) and a pixel-identical golden
# frame. Exit 77 from the renderer (no display) prints "SKIPPED:".
#
#   cmake -DDEMO=<boids_demo> -DPNGDIFF=<pngdiff> -DSCENARIO=<file.py> -DOUT=<dir> -P record_roundtrip.cmake
cmake_minimum_required(VERSION 3.25)

foreach(_var DEMO PNGDIFF SCENARIO OUT)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "record_roundtrip.cmake: -D${_var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")

function(_run label)
  string(REPLACE ";" " " _pretty "${ARGN}")
  message(STATUS "${label}: ${_pretty}")
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${OUT}" RESULT_VARIABLE _rc OUTPUT_VARIABLE _out
                  ERROR_VARIABLE _err)
  if(_rc STREQUAL "77")
    message("SKIPPED: no display (run under xvfb-run)")
    set(_skipped ON PARENT_SCOPE)
    return()
  endif()
  if(NOT _rc STREQUAL "0")
    message("${_out}${_err}")
    message(FATAL_ERROR "${label} failed (exit ${_rc})")
  endif()
endfunction()

set(_skipped OFF)
_run(record "${DEMO}" --scenario "${SCENARIO}" --scenario-log "${OUT}/original.log"
     --screenshot "${OUT}/original.png" --record-scenario "${OUT}/recorded.py")
if(_skipped)
  return()
endif()
_run(replay "${DEMO}" --scenario "${OUT}/recorded.py" --scenario-log "${OUT}/replay.log"
     --screenshot "${OUT}/replay.png")
if(_skipped)
  return()
endif()

# The frame and watchdog records (JSON Lines, "kind" first); header, action and screenshot lines
# name the files and keep the original's notes, so they differ on purpose.
function(_records log out)
  file(STRINGS "${log}" _lines REGEX "^.\"kind\":\"(frame|watchdog)\"")
  set(${out} "${_lines}" PARENT_SCOPE)
endfunction()
_records("${OUT}/original.log" _a)
_records("${OUT}/replay.log" _b)
list(LENGTH _a _na)
list(LENGTH _b _nb)
if(_na EQUAL 0)
  message(FATAL_ERROR "no frame records in ${OUT}/original.log")
endif()
if(NOT _a STREQUAL _b)
  math(EXPR _last "${_na} - 1")
  foreach(_i RANGE ${_last})
    list(GET _a ${_i} _la)
    if(_i LESS _nb)
      list(GET _b ${_i} _lb)
    else()
      set(_lb "(missing)")
    endif()
    if(NOT _la STREQUAL _lb)
      message("first difference:\n  original: ${_la}\n  replay:   ${_lb}")
      break()
    endif()
  endforeach()
  message(FATAL_ERROR "the replay's log differs from the original (${_na} vs ${_nb} records); see ${OUT}")
endif()
message(STATUS "logs: ${_na} frame/watchdog records identical")

execute_process(COMMAND "${PNGDIFF}" --tol 0 "${OUT}/original.png" "${OUT}/replay.png" RESULT_VARIABLE _rc)
if(NOT _rc STREQUAL "0")
  message(FATAL_ERROR "the replay's golden frame differs from the original's (pngdiff exit ${_rc})")
endif()
message(STATUS "PASS: ${SCENARIO} -> recorded.py -> replay: same log, same pixels")
