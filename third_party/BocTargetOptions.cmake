# boc_set_target_options(<target>): warnings, -Werror and the sanitizer for the
# project's own targets. Third-party code (ImGui backends, glad) never gets these.
function(boc_set_target_options tgt)
  target_compile_options(${tgt} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
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
  if(BOC_SANITIZER)
    target_compile_options(${tgt} PRIVATE -fsanitize=${BOC_SANITIZER} -fno-omit-frame-pointer -g)
    target_link_options(${tgt} PRIVATE -fsanitize=${BOC_SANITIZER})
  endif()
endfunction()
