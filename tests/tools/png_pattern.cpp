// png_pattern — writes a deterministic test-pattern PNG. Used only by the tests of
// the visual-test driver (tests/tools/CMakeLists.txt) as a stand-in renderer.
//
//   png_pattern OUT.png [--size WxH] [--rgb] [--bump X Y DELTA] [--exit N]
//
// --bump adds DELTA to the red channel of one pixel; --exit N writes nothing and
// exits with N (e.g. 77, "no display").
#include <charconv>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <stb_image_write.h>

namespace {

bool parse(std::string_view text, int& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

int main(int argc, char** argv) {
  std::string out;
  int width = 64;
  int height = 48;
  int channels = 4;
  int bump_x = -1;
  int bump_y = -1;
  int bump_delta = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--size" && i + 1 < argc) {
      const std::string_view v = argv[++i];
      const auto x = v.find('x');
      if (x == std::string_view::npos || !parse(v.substr(0, x), width) || !parse(v.substr(x + 1), height) ||
          width <= 0 || height <= 0) {
        std::cerr << "png_pattern: bad --size\n";
        return 2;
      }
    } else if (arg == "--rgb") {
      channels = 3;
    } else if (arg == "--bump" && i + 3 < argc) {
      if (!parse(argv[i + 1], bump_x) || !parse(argv[i + 2], bump_y) || !parse(argv[i + 3], bump_delta)) {
        std::cerr << "png_pattern: bad --bump\n";
        return 2;
      }
      i += 3;
    } else if (arg == "--exit" && i + 1 < argc) {
      int code = 0;
      if (!parse(argv[++i], code)) {
        return 2;
      }
      std::cout << "png_pattern: exiting with " << code << " as asked\n";
      return code;
    } else if (out.empty() && !arg.empty() && arg[0] != '-') {
      out = std::string(arg);
    } else {
      std::cerr << "usage: png_pattern OUT.png [--size WxH] [--rgb] [--bump X Y DELTA] [--exit N]\n";
      return 2;
    }
  }
  if (out.empty()) {
    std::cerr << "usage: png_pattern OUT.png [--size WxH] [--rgb] [--bump X Y DELTA] [--exit N]\n";
    return 2;
  }
  std::vector<unsigned char> px(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                                static_cast<std::size_t>(channels));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      unsigned char* p =
          px.data() + (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) *
                          static_cast<std::size_t>(channels);
      int r = (x * 255) / width;
      if (x == bump_x && y == bump_y) {
        r = (r + bump_delta) % 256;
      }
      p[0] = static_cast<unsigned char>(r);
      p[1] = static_cast<unsigned char>((y * 255) / height);
      p[2] = static_cast<unsigned char>(((x / 8 + y / 8) % 2) * 200);
      if (channels == 4) {
        p[3] = 255;
      }
    }
  }
  stbi_flip_vertically_on_write(0);
  if (stbi_write_png(out.c_str(), width, height, channels, px.data(), width * channels) == 0) {
    std::cerr << "png_pattern: cannot write " << out << "\n";
    return 2;
  }
  std::cout << "png_pattern: wrote " << out << " (" << width << "x" << height << ")\n";
  return 0;
}
