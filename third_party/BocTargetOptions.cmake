# boc_set_target_options(<target>): warnings, -Werror and the sanitizer for the
# project's own targets. Third-party code (ImGui backends, glad) never gets these.

# Systematic testing (the `systematic` preset): the core's hook points call a
# seeded scheduler (runtime/include/boc/systematic.h). Core and its tests only.
option(BOC_SYSTEMATIC "Build the core with the systematic-testing scheduler (tests only)" OFF)
if(BOC_SYSTEMATIC AND (BOC_WITH_PYTHON OR BOC_WITH_DEMO OR BOC_WITH_BENCH))
  message(FATAL_ERROR "BOC_SYSTEMATIC builds the core and its tests only: set BOC_WITH_PYTHON, BOC_WITH_DEMO and BOC_WITH_BENCH OFF")
endif()
function(boc_set_target_options tgt)
  target_compile_options(${tgt} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor> -Wcast-align
    -Wformat=2 -Wimplicit-fallthrough
    # Deterministic floating point: never contract a*b+c into an FMA.
    -ffp-contract=off)
  if(BOC_WERROR)
    target_compile_options(${tgt} PRIVATE -Werror)
  endif()
  if(BOC_LTO_ODR)
    # Link-time optimisation lets GCC compare every class across all
    # translation units of a binary: two different definitions under one
    # name (an ODR violation) fail the link.
    target_compile_options(${tgt} PRIVATE -flto=auto -Wodr -Werror=odr -Werror=lto-type-mismatch)
    target_link_options(${tgt} PRIVATE -flto=auto -Wodr -Werror=odr -Werror=lto-type-mismatch)
  endif()
  if(BOC_SYSTEMATIC)
    target_compile_definitions(${tgt} PUBLIC BOC_SYSTEMATIC=1)
  endif()
  if(BOC_SANITIZER)
    target_compile_options(${tgt} PRIVATE -fsanitize=${BOC_SANITIZER} -fno-omit-frame-pointer -g)
    target_link_options(${tgt} PRIVATE -fsanitize=${BOC_SANITIZER})
  endif()
endfunction()
