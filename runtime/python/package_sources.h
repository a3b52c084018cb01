// The embedded sources of the `bocpy` Python package (generated at build time).
#pragma once

namespace boc::py {

struct EmbeddedSource {
  const char* module;  ///< dotted module name, e.g. "bocpy.behaviors"
  bool is_package;
  const char* source;
};

/// Terminated by an entry whose module is nullptr.
extern const EmbeddedSource kPackageSources[];

}  // namespace boc::py
