// png_compare.h — pixel comparison behind the `pngdiff` tool and the visual tests.
//
// Images are compared on decoded pixels, never on PNG bytes (the encoder may change).
// Both sides are decoded to RGBA8, so an RGB capture compares equal to an RGBA
// capture with opaque alpha. A pixel is "over tolerance" when any channel differs
// by more than `tolerance`; the comparison passes when at most `budget` pixels are
// over tolerance (README "Visual tests": tol=2, budget=0 on the pinned image).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace boc::pngdiff {

/// A decoded image: row-major, top row first, 4 channels (RGBA8) per pixel.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgba;  // width * height * 4 bytes

  Image() = default;
  Image(int w, int h, std::uint8_t r = 0, std::uint8_t g = 0, std::uint8_t b = 0, std::uint8_t a = 255);

  [[nodiscard]] bool empty() const { return width <= 0 || height <= 0; }
  [[nodiscard]] std::uint8_t* pixel(int x, int y) {
    return rgba.data() +
           (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) * 4;
  }
  [[nodiscard]] const std::uint8_t* pixel(int x, int y) const {
    return rgba.data() +
           (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) * 4;
  }
  void set(int x, int y, std::uint8_t r, std::uint8_t g, std::uint8_t b, std::uint8_t a = 255);
};

struct CompareOptions {
  int tolerance = 2;        ///< allowed absolute difference per channel (0..255)
  std::int64_t budget = 0;  ///< pixels allowed over `tolerance`
};

struct CompareResult {
  bool size_match = false;
  int expected_width = 0, expected_height = 0;
  int actual_width = 0, actual_height = 0;
  std::int64_t pixels_differing = 0;  ///< pixels with any channel difference > 0
  std::int64_t pixels_over_tol = 0;   ///< pixels with any channel difference > tolerance
  int max_channel_diff = 0;           ///< largest absolute channel difference seen
  bool pass = false;
};

/// Compares `actual` against `expected`. A size mismatch never passes.
[[nodiscard]] CompareResult compare(const Image& expected, const Image& actual, const CompareOptions& options);

/// The one-line verdict printed by `pngdiff`, e.g.
/// "pngdiff: 640x360, 0 px over tol 2 (budget 0), max channel diff 0 -> PASS".
[[nodiscard]] std::string summary_line(const CompareResult& result, const CompareOptions& options);

/// Diff visualisation (same size as the inputs, opaque): a dimmed grey copy of `expected`
/// with every pixel over `tolerance` painted pure red. Requires equal sizes.
[[nodiscard]] Image make_diff_image(const Image& expected, const Image& actual, int tolerance);

/// Side-by-side strip "expected | actual | diff" (diff may be empty, e.g. on size mismatch).
/// Panels are top-aligned, separated by a 4 px gap, on an opaque dark background.
[[nodiscard]] Image make_side_by_side(const Image& expected, const Image& actual, const Image& diff);

/// PNG I/O through Debian's libstb (stb_image / stb_image_write). Returns false and
/// fills `error` on failure. Any PNG colour type is decoded to RGBA8.
[[nodiscard]] bool load_png(const std::string& path, Image& out, std::string& error);
[[nodiscard]] bool save_png(const std::string& path, const Image& image, std::string& error);

}  // namespace boc::pngdiff
