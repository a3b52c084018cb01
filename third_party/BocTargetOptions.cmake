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
  if(BOC_SANITIZER)
    target_compile_options(${tgt} PRIVATE -fsanitize=${BOC_SANITIZER} -fno-omit-frame-pointer -g)
    target_link_options(${tgt} PRIVATE -fsanitize=${BOC_SANITIZER})
  endif()
endfunction()
