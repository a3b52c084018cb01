// Unit tests for the pixel comparison behind pngdiff, plus one end-to-end run of the
// pngdiff binary on PNGs written with stbi_write_png.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <stb_image_write.h>

#include "png_compare.h"

namespace {

using boc::pngdiff::CompareOptions;
using boc::pngdiff::CompareResult;
using boc::pngdiff::Image;

Image gradient(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      img.set(x, y, static_cast<std::uint8_t>(x * 7), static_cast<std::uint8_t>(y * 5),
              static_cast<std::uint8_t>((x + y) * 3));
    }
  }
  return img;
}

TEST(PngCompare, IdenticalImagesPass) {
  const Image a = gradient(32, 16);
  const CompareOptions options;
  const CompareResult r = compare(a, a, options);
  EXPECT_TRUE(r.size_match);
  EXPECT_TRUE(r.pass);
  EXPECT_EQ(r.pixels_differing, 0);
  EXPECT_EQ(r.pixels_over_tol, 0);
  EXPECT_EQ(r.max_channel_diff, 0);
  EXPECT_EQ(summary_line(r, options), "pngdiff: 32x16, 0 px over tol 2 (budget 0), max channel diff 0 -> PASS");
}

TEST(PngCompare, OnePixelOffByThreeFailsWithTolTwo) {
  const Image a = gradient(32, 16);
  Image b = a;
  b.pixel(5, 7)[1] = static_cast<std::uint8_t>(a.pixel(5, 7)[1] + 3);
  const CompareOptions options{.tolerance = 2, .budget = 0};
  const CompareResult r = compare(a, b, options);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.pixels_over_tol, 1);
  EXPECT_EQ(r.pixels_differing, 1);
  EXPECT_EQ(r.max_channel_diff, 3);
  EXPECT_EQ(summary_line(r, options), "pngdiff: 32x16, 1 px over tol 2 (budget 0), max channel diff 3 -> FAIL");
}

TEST(PngCompare, DifferenceWithinTolerancePasses) {
  const Image a = gradient(32, 16);
  Image b = a;
  b.pixel(0, 0)[0] = static_cast<std::uint8_t>(a.pixel(0, 0)[0] + 2);
  b.pixel(31, 15)[2] = static_cast<std::uint8_t>(a.pixel(31, 15)[2] - 1);
  const CompareResult r = compare(a, b, CompareOptions{.tolerance = 2, .budget = 0});
  EXPECT_TRUE(r.pass);
  EXPECT_EQ(r.pixels_differing, 2);
  EXPECT_EQ(r.pixels_over_tol, 0);
  EXPECT_EQ(r.max_channel_diff, 2);
  // Tolerance 0 makes the same images fail.
  EXPECT_FALSE(compare(a, b, CompareOptions{.tolerance = 0, .budget = 0}).pass);
}

TEST(PngCompare, BudgetAllowsNPixelsOverTolerance) {
  const Image a(20, 10, 10, 20, 30);
  Image b = a;
  for (int i = 0; i < 5; ++i) {
    b.set(i, i, 200, 20, 30);
  }
  EXPECT_TRUE(compare(a, b, CompareOptions{.tolerance = 2, .budget = 5}).pass);
  EXPECT_TRUE(compare(a, b, CompareOptions{.tolerance = 2, .budget = 6}).pass);
  const CompareResult r = compare(a, b, CompareOptions{.tolerance = 2, .budget = 4});
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.pixels_over_tol, 5);
  EXPECT_EQ(r.max_channel_diff, 190);
}

TEST(PngCompare, SizeMismatchFails) {
  const Image a(64, 36);
  const Image b(32, 36);
  const CompareOptions options{.tolerance = 255, .budget = 1'000'000};
  const CompareResult r = compare(a, b, options);
  EXPECT_FALSE(r.size_match);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(summary_line(r, options), "pngdiff: size mismatch: expected 64x36, actual 32x36 -> FAIL");
  EXPECT_TRUE(make_diff_image(a, b, 2).empty());
  const Image sbs = make_side_by_side(a, b, Image{});
  EXPECT_EQ(sbs.width, 64 + 4 + 32);
  EXPECT_EQ(sbs.height, 36);
}

TEST(PngCompare, AlphaDifferencesCount) {
  const Image a(4, 4, 1, 2, 3, 255);
  const Image b(4, 4, 1, 2, 3, 0);
  const CompareResult r = compare(a, b, CompareOptions{});
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.pixels_over_tol, 16);
}

TEST(PngCompare, DiffImageMarksPixelsOverToleranceInRed) {
  const Image a(8, 8, 150, 150, 150);
  Image b = a;
  b.set(3, 4, 0, 0, 0);
  b.set(4, 4, 151, 150, 150);  // within tolerance: stays grey
  const Image diff = make_diff_image(a, b, 2);
  ASSERT_EQ(diff.width, 8);
  ASSERT_EQ(diff.height, 8);
  const std::uint8_t* red = diff.pixel(3, 4);
  EXPECT_EQ(red[0], 255);
  EXPECT_EQ(red[1], 0);
  EXPECT_EQ(red[2], 0);
  for (const auto& [x, y] : std::array<std::pair<int, int>, 2>{{{4, 4}, {0, 0}}}) {
    const std::uint8_t* grey = diff.pixel(x, y);
    EXPECT_EQ(grey[0], grey[1]);
    EXPECT_EQ(grey[1], grey[2]);
    EXPECT_LT(grey[0], 150) << "grey copy must be dimmed";
    EXPECT_EQ(grey[3], 255);
  }
  const Image sbs = make_side_by_side(a, b, diff);
  EXPECT_EQ(sbs.width, 3 * 8 + 2 * 4);
  EXPECT_EQ(sbs.height, 8);
  EXPECT_EQ(sbs.pixel(2 * (8 + 4) + 3, 4)[0], 255);  // the red mark in the third panel
}

// ---- PNG files and the pngdiff binary ----

class PngFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           (std::string("pngdiff_test_") + info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) {
      std::filesystem::remove_all(dir_);
    }
  }

  // Writes `img` as an RGB (3-channel) or RGBA PNG with stb_image_write.
  std::string write(const std::string& name, const Image& img, bool rgb) {
    const std::string path = (dir_ / name).string();
    std::vector<unsigned char> data;
    const int channels = rgb ? 3 : 4;
    for (std::size_t i = 0; i < img.rgba.size(); i += 4) {
      data.insert(data.end(), img.rgba.begin() + static_cast<std::ptrdiff_t>(i),
                  img.rgba.begin() + static_cast<std::ptrdiff_t>(i) + channels);
    }
    stbi_flip_vertically_on_write(0);
    EXPECT_NE(stbi_write_png(path.c_str(), img.width, img.height, channels, data.data(), img.width * channels), 0);
    return path;
  }

  struct Run {
    int status = -1;
    std::string output;  // stdout + stderr
  };
  static Run run_pngdiff(const std::string& args) {
    Run run;
    const std::string cmd = std::string("'") + BOC_PNGDIFF_EXE + "' " + args + " 2>&1";
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) {
      return run;
    }
    std::array<char, 512> buf{};
    while (std::fgets(buf.data(), static_cast<int>(buf.size()), pipe) != nullptr) {
      run.output += buf.data();
    }
    const int raw = ::pclose(pipe);
    run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    return run;
  }
  static std::string q(const std::string& s) { return "'" + s + "'"; }

  std::filesystem::path dir_;
};

TEST_F(PngFiles, RgbPngDecodesLikeOpaqueRgba) {
  const Image a = gradient(16, 9);
  const std::string rgb = write("rgb.png", a, true);
  const std::string rgba = write("rgba.png", a, false);
  Image ra;
  Image rb;
  std::string error;
  ASSERT_TRUE(boc::pngdiff::load_png(rgb, ra, error)) << error;
  ASSERT_TRUE(boc::pngdiff::load_png(rgba, rb, error)) << error;
  EXPECT_EQ(ra.rgba, a.rgba);
  EXPECT_EQ(rb.rgba, a.rgba);
}

TEST_F(PngFiles, LoadMissingFileReportsError) {
  Image img;
  std::string error;
  EXPECT_FALSE(boc::pngdiff::load_png((dir_ / "missing.png").string(), img, error));
  EXPECT_NE(error.find("missing.png"), std::string::npos) << error;
}

TEST_F(PngFiles, EndToEndBinary) {
  const Image a = gradient(40, 30);
  Image b = a;
  b.pixel(10, 20)[0] = static_cast<std::uint8_t>(a.pixel(10, 20)[0] + 3);
  const std::string expected = write("expected.png", a, true);
  const std::string same = write("same.png", a, false);
  const std::string actual = write("actual.png", b, true);

  Run pass = run_pngdiff(q(expected) + " " + q(same));
  EXPECT_EQ(pass.status, 0) << pass.output;
  EXPECT_EQ(pass.output, "pngdiff: 40x30, 0 px over tol 2 (budget 0), max channel diff 0 -> PASS\n");

  const std::string diff = (dir_ / "d.png").string();
  const std::string sbs = (dir_ / "s.png").string();
  Run fail = run_pngdiff("--diff " + q(diff) + " --side-by-side " + q(sbs) + " " + q(expected) + " " + q(actual));
  EXPECT_EQ(fail.status, 1) << fail.output;
  EXPECT_NE(fail.output.find("pngdiff: 40x30, 1 px over tol 2 (budget 0), max channel diff 3 -> FAIL"),
            std::string::npos)
      << fail.output;
  Image d;
  Image s;
  std::string error;
  ASSERT_TRUE(boc::pngdiff::load_png(diff, d, error)) << error;
  ASSERT_TRUE(boc::pngdiff::load_png(sbs, s, error)) << error;
  EXPECT_EQ(d.pixel(10, 20)[0], 255);
  EXPECT_EQ(d.pixel(10, 20)[1], 0);
  EXPECT_EQ(s.width, 3 * 40 + 2 * 4);

  Run tol = run_pngdiff("--tol 3 " + q(expected) + " " + q(actual));
  EXPECT_EQ(tol.status, 0) << tol.output;
  Run budget = run_pngdiff("--budget 1 " + q(expected) + " " + q(actual));
  EXPECT_EQ(budget.status, 0) << budget.output;

  // Default report paths sit next to the actual image.
  Run defaults = run_pngdiff(q(expected) + " " + q(actual));
  EXPECT_EQ(defaults.status, 1) << defaults.output;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "actual.diff.png"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "actual.side-by-side.png"));

  const std::string small = write("small.png", Image(20, 30), true);
  Run size = run_pngdiff(q(expected) + " " + q(small));
  EXPECT_EQ(size.status, 1) << size.output;
  EXPECT_NE(size.output.find("pngdiff: size mismatch: expected 40x30, actual 20x30 -> FAIL"), std::string::npos)
      << size.output;

  EXPECT_EQ(run_pngdiff(q(expected)).status, 2);
  EXPECT_EQ(run_pngdiff("--tol x " + q(expected) + " " + q(actual)).status, 2);
  EXPECT_EQ(run_pngdiff("--tol 256 " + q(expected) + " " + q(actual)).status, 2);
  EXPECT_EQ(run_pngdiff("--bogus " + q(expected) + " " + q(actual)).status, 2);
  Run missing = run_pngdiff(q(expected) + " " + q((dir_ / "nope.png").string()));
  EXPECT_EQ(missing.status, 2) << missing.output;
}

}  // namespace
