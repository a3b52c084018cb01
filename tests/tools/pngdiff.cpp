// pngdiff — compare two PNGs on decoded pixels.
//
//   pngdiff [--tol N] [--budget N] [--diff OUT.png] [--side-by-side OUT.png] expected.png actual.png
//
// Prints one summary line, e.g.
//   pngdiff: 640x360, 0 px over tol 2 (budget 0), max channel diff 0 -> PASS
// On failure it writes a diff image (pixels over tolerance in red over a dimmed grey
// copy of the expected image) and a side-by-side strip (expected | actual | diff).
// Without --diff / --side-by-side they go next to the actual image as
// <actual>.diff.png and <actual>.side-by-side.png.
// Exit status: 0 pass, 1 fail (pixels or size), 2 usage error or unreadable input.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>

#include "png_compare.h"

namespace {

constexpr int kExitPass = 0;
constexpr int kExitFail = 1;
constexpr int kExitError = 2;

void print_usage(std::ostream& os) {
  os << "usage: pngdiff [--tol N] [--budget N] [--diff OUT.png] [--side-by-side OUT.png] expected.png actual.png\n"
        "  --tol N            per-channel tolerance, 0..255 (default 2)\n"
        "  --budget N         pixels allowed over the tolerance (default 0)\n"
        "  --diff OUT         diff image written on failure (default <actual>.diff.png)\n"
        "  --side-by-side OUT expected|actual|diff strip written on failure (default <actual>.side-by-side.png)\n"
        "exit status: 0 pass, 1 fail, 2 usage or I/O error\n";
}

bool parse_int(std::string_view text, long long min, long long max, long long& out) {
  long long v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < min || v > max) {
    return false;
  }
  out = v;
  return true;
}

std::string strip_png(const std::string& path) {
  constexpr std::string_view kExt = ".png";
  if (path.size() >= kExt.size() && path.compare(path.size() - kExt.size(), kExt.size(), kExt) == 0) {
    return path.substr(0, path.size() - kExt.size());
  }
  return path;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace boc::pngdiff;
  CompareOptions options;
  std::string diff_path;
  std::string side_by_side_path;
  std::string positional[2];
  int npositional = 0;

  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      if (i + 1 >= argc) {
        std::cerr << "pngdiff: " << name << " needs a value\n";
        return nullptr;
      }
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      print_usage(std::cout);
      return kExitPass;
    }
    if (arg == "--tol" || arg == "--budget") {
      const char* v = value(arg);
      long long n = 0;
      const long long max = arg == "--tol" ? 255 : (1LL << 40);
      if (v == nullptr || !parse_int(v, 0, max, n)) {
        if (v != nullptr) {
          std::cerr << "pngdiff: invalid " << arg << " value '" << v << "'\n";
        }
        print_usage(std::cerr);
        return kExitError;
      }
      if (arg == "--tol") {
        options.tolerance = static_cast<int>(n);
      } else {
        options.budget = n;
      }
    } else if (arg == "--diff" || arg == "--side-by-side") {
      const char* v = value(arg);
      if (v == nullptr) {
        print_usage(std::cerr);
        return kExitError;
      }
      (arg == "--diff" ? diff_path : side_by_side_path) = v;
    } else if (arg.size() > 1 && arg[0] == '-') {
      std::cerr << "pngdiff: unknown option '" << arg << "'\n";
      print_usage(std::cerr);
      return kExitError;
    } else if (npositional < 2) {
      positional[npositional++] = std::string(arg);
    } else {
      std::cerr << "pngdiff: too many arguments\n";
      print_usage(std::cerr);
      return kExitError;
    }
  }
  if (npositional != 2) {
    print_usage(std::cerr);
    return kExitError;
  }
  const std::string& expected_path = positional[0];
  const std::string& actual_path = positional[1];

  Image expected;
  Image actual;
  std::string error;
  if (!load_png(expected_path, expected, error) || !load_png(actual_path, actual, error)) {
    std::cerr << "pngdiff: error: " << error << "\n";
    return kExitError;
  }

  const CompareResult result = compare(expected, actual, options);
  std::cout << summary_line(result, options) << std::endl;
  if (result.pass) {
    return kExitPass;
  }

  if (diff_path.empty()) {
    diff_path = strip_png(actual_path) + ".diff.png";
  }
  if (side_by_side_path.empty()) {
    side_by_side_path = strip_png(actual_path) + ".side-by-side.png";
  }
  const Image diff = make_diff_image(expected, actual, options.tolerance);
  // The verdict stays "fail" (1) even if a report image cannot be written.
  if (!diff.empty()) {
    if (save_png(diff_path, diff, error)) {
      std::cerr << "pngdiff: wrote diff image " << diff_path << "\n";
    } else {
      std::cerr << "pngdiff: warning: " << error << "\n";
    }
  }
  if (save_png(side_by_side_path, make_side_by_side(expected, actual, diff), error)) {
    std::cerr << "pngdiff: wrote side-by-side " << side_by_side_path << " (expected | actual"
              << (diff.empty() ? "" : " | diff") << ")\n";
  } else {
    std::cerr << "pngdiff: warning: " << error << "\n";
  }
  return kExitFail;
}
