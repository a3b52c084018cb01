// png_compare.cpp — see png_compare.h.
#include "png_compare.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

// Declarations only: Debian's libstb.so carries the implementations (never define
// STB_IMAGE_IMPLEMENTATION / STB_IMAGE_WRITE_IMPLEMENTATION here).
#include <stb_image.h>
#include <stb_image_write.h>

namespace boc::pngdiff {

Image::Image(int w, int h, std::uint8_t r, std::uint8_t g, std::uint8_t b, std::uint8_t a)
    : width(w),
      height(h),
      rgba(static_cast<std::size_t>(std::max(w, 0)) * static_cast<std::size_t>(std::max(h, 0)) * 4) {
  for (std::size_t i = 0; i < rgba.size(); i += 4) {
    rgba[i + 0] = r;
    rgba[i + 1] = g;
    rgba[i + 2] = b;
    rgba[i + 3] = a;
  }
}

void Image::set(int x, int y, std::uint8_t r, std::uint8_t g, std::uint8_t b, std::uint8_t a) {
  std::uint8_t* p = pixel(x, y);
  p[0] = r;
  p[1] = g;
  p[2] = b;
  p[3] = a;
}

namespace {

int max_channel_delta(const std::uint8_t* e, const std::uint8_t* a) {
  int m = 0;
  for (int c = 0; c < 4; ++c) {
    m = std::max(m, std::abs(static_cast<int>(e[c]) - static_cast<int>(a[c])));
  }
  return m;
}

}  // namespace

CompareResult compare(const Image& expected, const Image& actual, const CompareOptions& options) {
  CompareResult r;
  r.expected_width = expected.width;
  r.expected_height = expected.height;
  r.actual_width = actual.width;
  r.actual_height = actual.height;
  r.size_match =
      expected.width == actual.width && expected.height == actual.height && expected.rgba.size() == actual.rgba.size();
  if (!r.size_match) {
    r.pass = false;
    return r;
  }
  for (int y = 0; y < expected.height; ++y) {
    for (int x = 0; x < expected.width; ++x) {
      const int d = max_channel_delta(expected.pixel(x, y), actual.pixel(x, y));
      if (d > 0) {
        ++r.pixels_differing;
      }
      if (d > options.tolerance) {
        ++r.pixels_over_tol;
      }
      r.max_channel_diff = std::max(r.max_channel_diff, d);
    }
  }
  r.pass = r.pixels_over_tol <= options.budget;
  return r;
}

std::string summary_line(const CompareResult& r, const CompareOptions& options) {
  std::ostringstream s;
  s << "pngdiff: ";
  if (!r.size_match) {
    s << "size mismatch: expected " << r.expected_width << "x" << r.expected_height << ", actual " << r.actual_width
      << "x" << r.actual_height << " -> FAIL";
    return s.str();
  }
  s << r.expected_width << "x" << r.expected_height << ", " << r.pixels_over_tol << " px over tol " << options.tolerance
    << " (budget " << options.budget << "), max channel diff " << r.max_channel_diff << " -> "
    << (r.pass ? "PASS" : "FAIL");
  return s.str();
}

Image make_diff_image(const Image& expected, const Image& actual, int tolerance) {
  if (expected.width != actual.width || expected.height != actual.height) {
    return {};
  }
  Image out(expected.width, expected.height);
  for (int y = 0; y < expected.height; ++y) {
    for (int x = 0; x < expected.width; ++x) {
      const std::uint8_t* e = expected.pixel(x, y);
      if (max_channel_delta(e, actual.pixel(x, y)) > tolerance) {
        out.set(x, y, 255, 0, 0);
      } else {
        // Rec. 601 luma, dimmed to a third so the red marks stand out.
        const int luma = (77 * e[0] + 150 * e[1] + 29 * e[2]) >> 8;
        const auto g = static_cast<std::uint8_t>(luma / 3);
        out.set(x, y, g, g, g);
      }
    }
  }
  return out;
}

Image make_side_by_side(const Image& expected, const Image& actual, const Image& diff) {
  constexpr int kGap = 4;
  const Image* panels[] = {&expected, &actual, &diff};
  int width = 0;
  int height = 0;
  int count = 0;
  for (const Image* p : panels) {
    if (p->empty()) {
      continue;
    }
    width += (count > 0 ? kGap : 0) + p->width;
    height = std::max(height, p->height);
    ++count;
  }
  if (count == 0) {
    return {};
  }
  Image out(width, height, 32, 32, 32);
  int x0 = 0;
  for (const Image* p : panels) {
    if (p->empty()) {
      continue;
    }
    for (int y = 0; y < p->height; ++y) {
      std::copy_n(p->pixel(0, y), static_cast<std::size_t>(p->width) * 4, out.pixel(x0, y));
    }
    // Panels are shown opaque so a transparent capture stays visible.
    for (int y = 0; y < p->height; ++y) {
      for (int x = 0; x < p->width; ++x) {
        out.pixel(x0 + x, y)[3] = 255;
      }
    }
    x0 += p->width + kGap;
  }
  return out;
}

bool load_png(const std::string& path, Image& out, std::string& error) {
  int w = 0;
  int h = 0;
  int channels_in_file = 0;
  stbi_uc* data = stbi_load(path.c_str(), &w, &h, &channels_in_file, 4);
  if (data == nullptr) {
    const char* reason = stbi_failure_reason();
    error = "cannot read '" + path + "': " + (reason != nullptr ? reason : "unknown error");
    return false;
  }
  out.width = w;
  out.height = h;
  out.rgba.assign(data, data + static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 4);
  stbi_image_free(data);
  return true;
}

bool save_png(const std::string& path, const Image& image, std::string& error) {
  if (image.empty()) {
    error = "cannot write '" + path + "': empty image";
    return false;
  }
  // libstb keeps the flip flag as process-wide state; rows here are already top-first.
  stbi_flip_vertically_on_write(0);
  if (stbi_write_png(path.c_str(), image.width, image.height, 4, image.rgba.data(), image.width * 4) == 0) {
    error = "cannot write '" + path + "'";
    return false;
  }
  return true;
}

}  // namespace boc::pngdiff
