// scenario_check — asserts what the starvation scenarios mean, from their logs and PNGs.
//
//   scenario_check <check> <out_dir> [<out_dir_b> <name>...]
//
// <out_dir>/<name>/ holds what `boids_demo --scenario .../<name>.py --screenshot-dir
// <out_dir>/<name>` wrote: <name>.log and <name>_f<frame>.png (scenario_meaning.cmake runs it).
// Checks:
//   healthy | pump_paused | recovery | throttled   that scenario's story (below), plus the
//                                                  watchdog oracle on its log
//   paused_vs_healthy                              the paused golden frame differs from the
//                                                  healthy one far beyond the test budget
//   same <name>...                                 <out_dir>/<name> and <out_dir_b>/<name> hold
//                                                  identical PNGs and logs (below the header)
//   goldens                                        <out_dir> is tests/golden: the committed goldens
//                                                  say what their scenarios mean (no rendering)
//
// The watchdog oracle: the runtime samples the watchdog at pump() entry and the scenario runner
// once per frame after the step (the "monitor" sample). The log records the pinned queue at both
// points (pump_* and depth/age_ms/episode). An episode must be reported exactly once, at the
// first observation point where its age reached the threshold, and no other episode may be
// reported. (The oracle uses each frame's final threshold: scenarios that change watchdog_ms in
// the middle of an episode are out of its scope.)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "png_compare.h"

namespace {

int g_failures = 0;

void check(bool ok, const std::string& what)
{
    std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
    if (!ok)
        ++g_failures;
}

// ---- the log ----------------------------------------------------------------------------

struct Record
{
    std::string type;  // frame, action, watchdog, screenshot, end, error
    long long frame = -1;
    std::map<std::string, std::string> kv;
    std::string rest;  // action text
    std::string raw;

    bool has(const std::string& k) const { return kv.count(k) != 0; }
    long long num(const std::string& k) const
    {
        const auto it = kv.find(k);
        return it == kv.end() ? -1 : std::atoll(it->second.c_str());
    }
    double real(const std::string& k) const
    {
        const auto it = kv.find(k);
        return it == kv.end() ? -1.0 : std::atof(it->second.c_str());
    }
    std::string str(const std::string& k) const
    {
        const auto it = kv.find(k);
        return it == kv.end() ? std::string() : it->second;
    }
};

struct Log
{
    std::string name;
    std::vector<std::string> header;
    std::vector<std::string> body;
    std::vector<Record> records;
    std::vector<Record> frames;    // index == frame
    std::vector<Record> watchdog;  // in order
    std::vector<Record> actions;
};

bool read_log(const std::string& path, const std::string& name, Log& log)
{
    std::ifstream in(path);
    if (!in)
    {
        check(false, "read " + path);
        return false;
    }
    log.name = name;
    std::string line;
    while (std::getline(in, line))
    {
        if (line.rfind("#", 0) == 0)
        {
            log.header.push_back(line);
            continue;
        }
        log.body.push_back(line);
        Record r;
        r.raw = line;
        std::istringstream words(line);
        words >> r.type;
        if (r.type == "frame")
            words >> r.frame;
        std::string w;
        while (words >> w)
        {
            const auto eq = w.find('=');
            if (eq != std::string::npos && r.rest.empty())
                r.kv[w.substr(0, eq)] = w.substr(eq + 1);
            else
                r.rest += (r.rest.empty() ? "" : " ") + w;
        }
        if (r.type != "frame" && r.has("frame"))
            r.frame = r.num("frame");
        log.records.push_back(r);
        if (r.type == "frame")
            log.frames.push_back(r);
        else if (r.type == "watchdog")
            log.watchdog.push_back(r);
        else if (r.type == "action")
            log.actions.push_back(r);
    }
    bool contiguous = true;
    for (std::size_t i = 0; i < log.frames.size(); ++i)
        contiguous = contiguous && log.frames[i].frame == static_cast<long long>(i);
    check(contiguous && !log.frames.empty(), name + ": one log line per frame, in order");
    return contiguous && !log.frames.empty();
}

// The frame at which `text` was applied (e.g. "pause_pump True"), all occurrences.
std::vector<long long> action_frames(const Log& log, const std::string& text)
{
    std::vector<long long> out;
    for (const Record& a : log.actions)
        if (a.rest == text)
            out.push_back(a.frame);
    return out;
}

void watchdog_oracle(const Log& log)
{
    // (episode) -> (frame, source) of the first observation at or past the threshold.
    std::map<long long, std::pair<long long, std::string>> expected;
    for (const Record& f : log.frames)
    {
        if (f.str("warn_ms") == "off")
            continue;
        const double warn = f.real("warn_ms");
        if (f.str("pump") == "ran" && f.num("pump_depth") > 0 && f.num("pump_age_ms") >= warn)
            expected.emplace(f.num("pump_episode"), std::make_pair(f.frame, std::string("pump")));
        if (f.num("depth") > 0 && f.real("age_ms") >= warn)
            expected.emplace(f.num("episode"), std::make_pair(f.frame, std::string("monitor")));
    }
    std::map<long long, int> seen;
    bool all_expected = true;
    for (const Record& w : log.watchdog)
    {
        const long long e = w.num("episode");
        ++seen[e];
        const auto it = expected.find(e);
        const bool ok = it != expected.end() && it->second.first == w.frame && it->second.second == w.str("source");
        all_expected = all_expected && ok;
        if (!ok)
            std::printf("  unexpected report: %s\n", w.raw.c_str());
    }
    bool once = true;
    for (const auto& [e, where] : expected)
    {
        if (seen[e] != 1)
        {
            once = false;
            std::printf("  episode %lld (threshold reached at frame %lld, %s): %d report(s)\n", e, where.first,
                        where.second.c_str(), seen[e]);
        }
    }
    check(all_expected, log.name + ": every watchdog report is the first time its episode reached the threshold");
    check(once, log.name + ": each starving episode (" + std::to_string(expected.size()) + ") reported exactly once");
    // The panel's counter agrees with the reports.
    check(log.frames.back().num("watchdog_total") == static_cast<long long>(log.watchdog.size()),
          log.name + ": the panel's report count equals the reports in the log");
}

// ---- images -----------------------------------------------------------------------------

bool load(const std::string& path, boc::pngdiff::Image& img)
{
    std::string err;
    const bool ok = boc::pngdiff::load_png(path, img, err);
    check(ok, "load " + path + (ok ? "" : ": " + err));
    return ok;
}

// Pixels of the starvation banner's fill (panel_style::kBannerRed = 0.78, 0.08, 0.08 ->
// 199, 20, 20). No boid has a channel that low (their value is 0.95, saturation 0.75), and
// nothing else in the UI is that red.
long long banner_pixels(const boc::pngdiff::Image& img)
{
    long long n = 0;
    for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x)
        {
            const std::uint8_t* p = img.pixel(x, y);
            if (std::abs(p[0] - 199) <= 2 && std::abs(p[1] - 20) <= 2 && std::abs(p[2] - 20) <= 2)
                ++n;
        }
    return n;
}

std::string png(const std::string& dir, const std::string& name, int frame)
{
    char buf[32];
    std::snprintf(buf, sizeof(buf), "_f%04d.png", frame);
    return dir + "/" + name + "/" + name + buf;
}

constexpr long long kBannerMin = 2000;  // the banner is ~210 x 45 px at 640x360

// ---- the scenarios ----------------------------------------------------------------------

void healthy(const std::string& dir)
{
    Log log;
    if (!read_log(dir + "/healthy/healthy.log", "healthy", log))
        return;
    watchdog_oracle(log);
    bool pumped = true, drained = true, fresh = true, moving = true;
    for (const Record& f : log.frames)
    {
        pumped = pumped && f.str("pump") == "ran" && f.num("executed") == 1;
        drained = drained && f.num("drained_depth") == 0;
        fresh = fresh && f.num("depth") <= 1 && f.real("age_ms") == 0.0 && f.num("banner") == 0;
        moving = moving && (f.frame == 0 || f.num("behaviors") > 1);
    }
    check(pumped, "healthy: pump() ran every frame and executed the one write-back");
    check(drained, "healthy: the pinned queue is empty after every pump()");
    check(fresh, "healthy: at every snapshot at most the next write-back waits (age 0 ms), no banner");
    check(moving, "healthy: tile behaviors ran every frame (the flock is stepped)");
    check(log.watchdog.empty(), "healthy: no watchdog report");
    boc::pngdiff::Image img;
    if (load(png(dir, "healthy", 120), img))
        check(banner_pixels(img) == 0, "healthy: no banner in the golden frame");
}

void pump_paused(const std::string& dir)
{
    Log log;
    if (!read_log(dir + "/pump_paused/pump_paused.log", "pump_paused", log))
        return;
    watchdog_oracle(log);
    const std::vector<long long> paused_at = action_frames(log, "pause_pump True");
    check(paused_at.size() == 1, "pump_paused: the pump is paused once");
    if (paused_at.size() != 1)
        return;
    const long long p = paused_at[0];
    bool skipped = true, frozen = true, held = true, ageing = true;
    long long banner_from = -1;
    for (const Record& f : log.frames)
    {
        if (f.frame < p)
            continue;
        skipped = skipped && f.str("pump") == "skipped";
        frozen = frozen && f.num("behaviors") == 0 && f.num("pending") == 1;
        held = held && f.num("depth") == 1 && f.num("episode") == log.frames[p].num("episode");
        if (f.frame > p)
            ageing = ageing && f.real("age_ms") > log.frames[f.frame - 1].real("age_ms");
        if (banner_from < 0 && f.num("banner") == 1)
            banner_from = f.frame;
    }
    const Record& last = log.frames.back();
    check(skipped, "pump_paused: pump() is not called from frame " + std::to_string(p));
    check(frozen, "pump_paused: no behavior runs and the step stays in flight (the flock is frozen)");
    check(held, "pump_paused: the one write-back stays queued: depth 1, one episode");
    check(ageing, "pump_paused: the queue's age grows every frame");
    check(log.watchdog.size() == 1 && log.watchdog[0].num("depth") == 1 &&
              log.watchdog[0].real("age_ms") >= log.frames[p].real("warn_ms"),
          "pump_paused: one watchdog report, depth 1, at the threshold");
    check(banner_from >= 0 && log.watchdog.size() == 1 && banner_from == log.watchdog[0].frame,
          "pump_paused: the banner appears in the frame of the report and stays");
    check(last.num("banner") == 1 && last.real("age_ms") >= 1000.0,
          "pump_paused: the golden frame is starving for >= 1 s (age " + last.str("age_ms") + " ms)");
    boc::pngdiff::Image img;
    if (load(png(dir, "pump_paused", static_cast<int>(last.frame)), img))
    {
        const long long n = banner_pixels(img);
        check(n >= kBannerMin, "pump_paused: the banner is drawn (" + std::to_string(n) + " px)");
    }
}

void paused_vs_healthy(const std::string& dir)
{
    boc::pngdiff::Image healthy_img, paused_img;
    if (!load(png(dir, "healthy", 120), healthy_img) || !load(png(dir, "pump_paused", 120), paused_img))
        return;
    const boc::pngdiff::CompareOptions opts{2, 0};  // the visual tests' tol / budget
    const boc::pngdiff::CompareResult r = boc::pngdiff::compare(healthy_img, paused_img, opts);
    std::printf("  healthy vs pump_paused: %s\n", boc::pngdiff::summary_line(r, opts).c_str());
    check(r.size_match, "paused_vs_healthy: same size");
    // 0.5 % of the image: a frozen flock (60 frames behind) plus the banner, vs a budget of 0.
    const long long need = static_cast<long long>(healthy_img.width) * healthy_img.height / 200;
    check(r.pixels_over_tol >= need, "paused_vs_healthy: " + std::to_string(r.pixels_over_tol) +
                                         " px over tol 2, far beyond the budget 0 (need >= " + std::to_string(need) +
                                         ")");
    const long long hb = banner_pixels(healthy_img);
    const long long pb = banner_pixels(paused_img);
    check(hb == 0 && pb >= kBannerMin, "paused_vs_healthy: banner pixels " + std::to_string(hb) + " (healthy) vs " +
                                           std::to_string(pb) + " (paused)");
}

void recovery(const std::string& dir)
{
    Log log;
    if (!read_log(dir + "/recovery/recovery.log", "recovery", log))
        return;
    watchdog_oracle(log);
    const std::vector<long long> pauses = action_frames(log, "pause_pump True");
    const std::vector<long long> resumes = action_frames(log, "pause_pump False");
    check(pauses.size() == resumes.size() && !pauses.empty(), "recovery: every pause is resumed");
    if (pauses.size() != resumes.size())
        return;
    int starving_episodes = 0;
    for (std::size_t k = 0; k < pauses.size(); ++k)
    {
        const long long p = pauses[k], r = resumes[k];
        const std::string span = "pause " + std::to_string(p) + "-" + std::to_string(r - 1);
        const Record& resumed = log.frames[r];
        check(resumed.str("pump") == "ran" && resumed.num("executed") >= 1 && resumed.num("drained_depth") == 0,
              "recovery: " + span + ": the first pump() after it runs the queued write-back and empties the queue");
        const long long next = k + 1 < pauses.size() ? pauses[k + 1] : static_cast<long long>(log.frames.size());
        bool clear = true;
        for (long long f = r; f < next; ++f)
            clear = clear && log.frames[f].num("banner") == 0 && log.frames[f].real("age_ms") == 0.0 &&
                    log.frames[f].num("drained_depth") == 0 && log.frames[f].str("pump") == "ran";
        check(clear, "recovery: " + span + ": from the resume on, no banner and the queue drains every frame");
        const double max_age = log.frames[r - 1].real("age_ms");
        const double warn = log.frames[r - 1].real("warn_ms");
        int reports = 0;
        for (const Record& w : log.watchdog)
            reports += (w.frame >= p && w.frame < r) ? 1 : 0;
        const int want = max_age >= warn ? 1 : 0;
        starving_episodes += want;
        check(reports == want, "recovery: " + span + " (age up to " + std::to_string(static_cast<int>(max_age)) +
                                   " ms): " + std::to_string(reports) + " report(s), expected " +
                                   std::to_string(want));
    }
    check(static_cast<int>(log.watchdog.size()) == starving_episodes,
          "recovery: no report outside the starving episodes");
    const Record& last = log.frames.back();
    check(last.num("banner") == 0 && last.num("drained_depth") == 0,
          "recovery: the golden frame has no banner and the queue drained");
    check(last.num("watchdog_total") == starving_episodes && starving_episodes >= 1,
          "recovery: the watchdog log still holds the " + std::to_string(starving_episodes) + " warning(s)");
    boc::pngdiff::Image during, after;
    if (load(png(dir, "recovery", 60), during) && load(png(dir, "recovery", static_cast<int>(last.frame)), after))
    {
        const long long d = banner_pixels(during), a = banner_pixels(after);
        check(d >= kBannerMin && a == 0, "recovery: banner pixels " + std::to_string(d) +
                                             " during the first episode, " + std::to_string(a) + " after recovery");
    }
}

void throttled(const std::string& dir)
{
    Log log;
    if (!read_log(dir + "/throttled/throttled.log", "throttled", log))
        return;
    watchdog_oracle(log);
    const std::vector<long long> at = action_frames(log, "set max_behaviors 1");
    check(at.size() == 1 && action_frames(log, "dispatch 'per_item'") == at,
          "throttled: per-item dispatch and max_behaviors 1 from one frame on");
    if (at.size() != 1)
        return;
    const long long t = at[0];
    long long boids = -1;
    for (const std::string& h : log.header)
        if (h.rfind("# boids ", 0) == 0)
            boids = std::atoll(h.c_str() + 8);
    // From frame t on, every step() queues one pinned upload per boid (each on a fresh
    // pinned cown, so all are runnable) and every pump() runs exactly one pinned behavior:
    // the depth grows by boids - 1 per frame.
    const long long before = log.frames[t - 1].num("depth");
    const long long first = log.frames[t].num("depth");
    bool one_per_pump = true, climbing = true, ageing = true, frozen = true, nonempty = true;
    for (long long f = t; f < static_cast<long long>(log.frames.size()); ++f)
    {
        const Record& r = log.frames[f];
        one_per_pump = one_per_pump && r.str("pump") == "ran" && r.num("executed") == 1;
        nonempty = nonempty && r.num("depth") > 0 && (f == t || r.num("drained_depth") > 0);
        if (f > t)
        {
            frozen = frozen && r.num("pending") == 1;
            climbing = climbing && r.num("depth") == log.frames[f - 1].num("depth") + boids - 1;
            ageing = ageing && r.real("age_ms") > log.frames[f - 1].real("age_ms");
        }
    }
    const Record& last = log.frames.back();
    check(before <= 1 && first >= before + boids - 1,
          "throttled: frame " + std::to_string(t) + " queues one pinned upload per boid (depth " +
              std::to_string(before) + " -> " + std::to_string(first) + ")");
    check(one_per_pump, "throttled: each pump() runs exactly one pinned behavior");
    check(climbing, "throttled: the depth climbs by boids - 1 every frame (" + last.str("depth") +
                        " at the golden frame)");
    check(nonempty, "throttled: the pinned queue is never empty again, not even right after pump()");
    check(ageing && last.real("age_ms") >= 1000.0,
          "throttled: the queue's age climbs every frame (" + last.str("age_ms") + " ms at the golden frame)");
    check(frozen, "throttled: no new step while the per-item write-back is in flight");
    check(log.watchdog.size() == 1 && log.watchdog[0].str("source") == "pump" && last.num("banner") == 1,
          "throttled: one watchdog report (at pump() entry) and the banner stays");
    boc::pngdiff::Image img;
    if (load(png(dir, "throttled", static_cast<int>(last.frame)), img))
        check(banner_pixels(img) >= kBannerMin, "throttled: the banner is drawn");
}

void same(const std::string& a, const std::string& b, const std::string& name)
{
    Log la, lb;
    if (!read_log(a + "/" + name + "/" + name + ".log", name + " (A)", la) ||
        !read_log(b + "/" + name + "/" + name + ".log", name + " (B)", lb))
        return;
    auto driver_line = [](const Log& l) {
        for (const std::string& h : l.header)
            if (h.find("workers") != std::string::npos)
                return h;
        return std::string("?");
    };
    check(la.body == lb.body,
          name + ": logs identical below the header (" + driver_line(la) + " | " + driver_line(lb) + ")");
    if (la.body != lb.body)
    {
        for (std::size_t i = 0; i < std::min(la.body.size(), lb.body.size()); ++i)
            if (la.body[i] != lb.body[i])
            {
                std::printf("  first difference:\n  A: %s\n  B: %s\n", la.body[i].c_str(), lb.body[i].c_str());
                break;
            }
    }
    for (const Record& s : la.records)
    {
        if (s.type != "screenshot")
            continue;
        boc::pngdiff::Image ia, ib;
        const std::string file = s.str("file");
        if (!load(a + "/" + name + "/" + file, ia) || !load(b + "/" + name + "/" + file, ib))
            continue;
        const boc::pngdiff::CompareOptions exact{0, 0};
        const boc::pngdiff::CompareResult r = boc::pngdiff::compare(ia, ib, exact);
        check(r.pass, name + ": " + file + " pixel-identical: " + boc::pngdiff::summary_line(r, exact));
    }
}

// The committed goldens (tests/golden/scenario_<name>.png), without rendering anything.
void goldens(const std::string& dir)
{
    std::map<std::string, boc::pngdiff::Image> img;
    for (const char* name : {"healthy", "pump_paused", "recovery", "throttled"})
        if (!load(dir + "/scenario_" + name + ".png", img[name]))
            return;
    const boc::pngdiff::CompareOptions opts{2, 0};  // the visual tests' tol / budget
    const boc::pngdiff::CompareResult r = boc::pngdiff::compare(img["healthy"], img["pump_paused"], opts);
    std::printf("  golden healthy vs golden pump_paused: %s\n", boc::pngdiff::summary_line(r, opts).c_str());
    const long long need = static_cast<long long>(img["healthy"].width) * img["healthy"].height / 200;
    check(r.size_match && r.pixels_over_tol >= need,
          "goldens: pump_paused differs from healthy by " + std::to_string(r.pixels_over_tol) +
              " px over tol 2, far beyond the budget 0 (need >= " + std::to_string(need) + ")");
    for (const auto& [name, want_banner] : std::vector<std::pair<std::string, bool>>{
             {"healthy", false}, {"pump_paused", true}, {"recovery", false}, {"throttled", true}})
    {
        const long long n = banner_pixels(img[name]);
        check(want_banner ? n >= kBannerMin : n == 0,
              "goldens: " + name + (want_banner ? " shows" : " does not show") + " the banner (" + std::to_string(n) +
                  " banner px)");
    }
}

}  // namespace

int main(int argc, char** argv)
{
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    if (argc < 3)
    {
        std::fprintf(stderr,
                     "usage: scenario_check healthy|pump_paused|recovery|throttled|paused_vs_healthy <out_dir>\n"
                     "       scenario_check goldens <tests/golden>\n"
                     "       scenario_check same <out_dir_a> <out_dir_b> <name>...\n");
        return 2;
    }
    const std::string what = argv[1];
    const std::string dir = argv[2];
    if (what == "healthy")
        healthy(dir);
    else if (what == "pump_paused")
        pump_paused(dir);
    else if (what == "recovery")
        recovery(dir);
    else if (what == "throttled")
        throttled(dir);
    else if (what == "paused_vs_healthy")
        paused_vs_healthy(dir);
    else if (what == "goldens")
        goldens(dir);
    else if (what == "same" && argc >= 5)
    {
        for (int i = 4; i < argc; ++i)
            same(dir, argv[3], argv[i]);
    }
    else
    {
        std::fprintf(stderr, "scenario_check: unknown check '%s'\n", what.c_str());
        return 2;
    }
    std::printf("%s: %d failure(s)\n", what.c_str(), g_failures);
    return g_failures == 0 ? 0 : 1;
}
