// Scenario files: the Python-literal reader, the scenario vocabulary and its errors, what a
// scenario does to the command line, and that every shipped scenario reads the same in CPython.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"
#include "demo_controls.h"
#include "py_literal.h"
#include "scenario.h"

using namespace boc::demo;

namespace {

PyLiteral lit(const std::string& text)
{
    const PyModuleParse p = parse_py_literal(text, "<test>");
    EXPECT_TRUE(p.ok()) << p.error;
    return p.value;
}

std::string literal_error(const std::string& text)
{
    const PyModuleParse p = parse_py_literal(text, "<test>");
    EXPECT_FALSE(p.ok()) << text;
    return p.error;
}

ScenarioLoad scenario(const std::string& body)
{
    return parse_scenario("SCENARIO = " + body, "scen/demo_case.py");
}

std::string scenario_error(const std::string& body)
{
    const ScenarioLoad s = scenario(body);
    EXPECT_FALSE(s.ok()) << body;
    return s.error;
}

std::vector<std::filesystem::path> shipped_scenarios()
{
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(BOC_SCENARIO_DIR))
        if (e.path().extension() == ".py")
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

TEST(PyLiteral, ReadsTheDataSubsetOfPython)
{
    const PyLiteral v = lit(R"( { 'a': 1, "b": -2.5, 'c': (1,), 'd': (2), 'e': [True, False, None,],
                               'f': 'x' "y", 'g': 1_000, 'h': (), 'i': 1e3, 'j': '''tri'ple''' ,  # comment
                               7: "k" } )");
    ASSERT_EQ(v.kind, PyLiteral::Kind::kDict);
    EXPECT_EQ(v.find("a")->i, 1);
    EXPECT_DOUBLE_EQ(v.find("b")->f, -2.5);
    EXPECT_EQ(v.find("c")->kind, PyLiteral::Kind::kTuple);
    EXPECT_EQ(v.find("c")->items.size(), 1u);
    EXPECT_EQ(v.find("d")->kind, PyLiteral::Kind::kInt);  // (2) is just parentheses
    EXPECT_EQ(v.find("e")->items.size(), 3u);
    EXPECT_EQ(v.find("f")->s, "xy");
    EXPECT_EQ(v.find("g")->i, 1000);
    EXPECT_TRUE(v.find("h")->items.empty());
    EXPECT_DOUBLE_EQ(v.find("i")->f, 1000.0);
    EXPECT_EQ(v.find("j")->s, "tri'ple");
    EXPECT_EQ(v.find("missing"), nullptr);
    EXPECT_EQ(v.repr(), "{'a': 1, 'b': -2.5, 'c': (1,), 'd': 2, 'e': [True, False, None], 'f': 'xy', 'g': 1000, "
                        "'h': (), 'i': 1000.0, 'j': \"tri'ple\", 7: 'k'}");
}

TEST(PyLiteral, RejectsWhatIsNotALiteralWithAPosition)
{
    EXPECT_NE(literal_error("range(3)").find("'range' is not a literal"), std::string::npos);
    EXPECT_NE(literal_error("[1, 2").find("<test>:1:6: expected ',' or ']'"), std::string::npos);
    EXPECT_NE(literal_error("{'a' 1}").find("expected ':'"), std::string::npos);
    EXPECT_NE(literal_error("'abc").find("unterminated string"), std::string::npos);
    EXPECT_NE(literal_error("0x10").find("unsupported number syntax"), std::string::npos);
    EXPECT_NE(literal_error("1 2").find("unexpected text after the literal"), std::string::npos);
    EXPECT_NE(literal_error("\n\n  @").find("<test>:3:3: unexpected character '@'"), std::string::npos);
}

TEST(PyLiteral, ModuleHoldsOneAssignment)
{
    const PyModuleParse ok = parse_py_assignment("\"\"\"doc\"\"\"\n# c\nSCENARIO = {'x': 1}\n", "SCENARIO", "f.py");
    ASSERT_TRUE(ok.ok()) << ok.error;
    EXPECT_EQ(ok.value.find("x")->i, 1);
    EXPECT_NE(parse_py_assignment("OTHER = 1", "SCENARIO", "f.py").error.find("only `SCENARIO = ...`"),
              std::string::npos);
    EXPECT_NE(parse_py_assignment("SCENARIO = 1\nSCENARIO = 2", "SCENARIO", "f.py").error.find("assigned twice"),
              std::string::npos);
    EXPECT_NE(parse_py_assignment("# nothing", "SCENARIO", "f.py").error.find("no `SCENARIO = ...`"),
              std::string::npos);
    EXPECT_NE(parse_py_assignment("import os", "SCENARIO", "f.py").error.find("only `SCENARIO = ...`"),
              std::string::npos);
}

TEST(Scenario, ParsesTheVocabulary)
{
    const ScenarioLoad s = scenario(R"({
        "name": "x", "description": "d", "boids": 50, "seed": 3, "size": (320, 200), "frames": 10,
        "workers": 3, "deadline_ms": None, "max_behaviors": 8, "watchdog_ms": 0, "dispatch": "per_item",
        "script": "other.py",
        "actions": {
            0: [("pause_pump", True), ("stall_ms", 5), ("stall_once", 40), ("dispatch", "coarse")],
            2: [("set", "max_behaviors", None), ("max_behaviors", 1), ("watchdog_ms", 100), ("cohesion", 2.0)],
            3: ("pause_sim", True),
            4: ["step", "clear_errors", ("note", "hello"), ("set", "boids", 20)],
        },
        "screenshots": [9, 2, 2],
        "golden": 2,
    })");
    ASSERT_TRUE(s.ok()) << s.error;
    const Scenario& c = s.scenario;
    EXPECT_EQ(c.name, "x");
    EXPECT_EQ(c.boids, 50u);
    EXPECT_EQ(c.width, 320);
    EXPECT_EQ(c.height, 200);
    EXPECT_EQ(c.frames, 10u);
    EXPECT_EQ(c.workers, 3u);
    ASSERT_TRUE(c.deadline_ms.has_value());
    EXPECT_FALSE(c.deadline_ms->has_value());  // None: unbounded
    EXPECT_EQ(**c.max_behaviors, 8u);
    ASSERT_TRUE(c.watchdog_ms.has_value());
    EXPECT_FALSE(c.watchdog_ms->has_value());  // 0: off
    EXPECT_EQ(*c.dispatch, "per_item");
    EXPECT_EQ(*c.script, "other.py");
    EXPECT_EQ(c.screenshots, (std::vector<std::uint64_t>{2, 9}));
    EXPECT_EQ(c.golden_frame, 2u);
    ASSERT_EQ(c.actions.at(0).size(), 4u);
    EXPECT_EQ(c.actions.at(0)[2].text(), "stall_once 40");
    ASSERT_EQ(c.actions.at(2).size(), 4u);
    EXPECT_EQ(c.actions.at(2)[0].text(), "set max_behaviors None");
    EXPECT_EQ(c.actions.at(2)[1].text(), "set max_behaviors 1");  // short form
    EXPECT_EQ(c.actions.at(2)[3].text(), "set cohesion 2.0");
    EXPECT_EQ(c.actions.at(3)[0].text(), "pause_sim True");  // a single action without a list
    EXPECT_EQ(c.actions.at(4)[0].text(), "step");
    EXPECT_EQ(c.actions.at(4)[2].text(), "note hello");
}

TEST(Scenario, DefaultsToTheLastFrame)
{
    const ScenarioLoad s = scenario("{'frames': 5}");
    ASSERT_TRUE(s.ok()) << s.error;
    EXPECT_EQ(s.scenario.name, "demo_case");  // the file's stem
    EXPECT_EQ(s.scenario.screenshots, (std::vector<std::uint64_t>{4}));
    EXPECT_EQ(s.scenario.golden_frame, 4u);
}

TEST(Scenario, RejectsEachMistakeWithItsLine)
{
    EXPECT_NE(scenario_error("[1]").find("SCENARIO must be a dict"), std::string::npos);
    EXPECT_NE(scenario_error("{'bodis': 3}").find("unknown SCENARIO key 'bodis'"), std::string::npos);
    EXPECT_NE(scenario_error("{'boids': 0}").find("boids: expected an integer in [1, 1000000], got 0"),
              std::string::npos);
    EXPECT_NE(scenario_error("{'size': 640}").find("size: expected (width, height)"), std::string::npos);
    EXPECT_NE(scenario_error("{'dispatch': 'fine'}").find("expected 'coarse' or 'per_item'"), std::string::npos);
    EXPECT_NE(scenario_error("{'frames': 5, 'actions': {5: []}}").find("frame 5 is past the last frame (4)"),
              std::string::npos);
    EXPECT_NE(scenario_error("{'frames': 5, 'screenshots': [7]}").find("frame 7 is past the last frame"),
              std::string::npos);
    EXPECT_NE(scenario_error("{'screenshots': [3], 'golden': 4}").find("golden: frame 4 is not listed"),
              std::string::npos);
    const std::string unknown = scenario_error("{\n'actions': {\n1: [\n('pause', True)]}}");
    EXPECT_NE(unknown.find("scen/demo_case.py:4: actions[1]: unknown action 'pause'"), std::string::npos) << unknown;
    EXPECT_NE(scenario_error("{'actions': {1: [('pause_pump',)]}}").find("'pause_pump' takes 1 argument(s)"),
              std::string::npos);
    EXPECT_NE(scenario_error("{'actions': {1: [('pause_pump', 1)]}}").find("expected True or False"),
              std::string::npos);
    EXPECT_NE(scenario_error("{'actions': {1: [('set', 'speed', 1)]}}").find("unknown knob 'speed'"),
              std::string::npos);
    EXPECT_NE(scenario_error("{'actions': {1: [('max_behaviors', 0)]}}").find("set max_behaviors: expected an "
                                                                             "integer"),
              std::string::npos);
    EXPECT_NE(scenario_error("{'actions': {1: [('deadline_ms', 0)]}}").find("positive number or None"),
              std::string::npos);
    EXPECT_NE(scenario_error("{'actions': {1: [42]}}").find("an action is a tuple"), std::string::npos);
}

TEST(Scenario, SetsTheRunsOptions)
{
    const ScenarioLoad s = scenario("{'boids': 50, 'seed': 3, 'size': (320, 200), 'frames': 10, 'workers': 3,"
                                    " 'max_behaviors': 1, 'watchdog_ms': 150}");
    ASSERT_TRUE(s.ok()) << s.error;
    CliOptions o = parse_cli(std::vector<std::string_view>{"--scenario", "x.py", "--frames", "99"}).options;
    apply_scenario(s.scenario, o);
    EXPECT_EQ(o.boids, 50u);
    EXPECT_EQ(o.seed, 3u);
    EXPECT_EQ(o.width, 320);
    EXPECT_EQ(o.frames, 10u);  // the scenario's frames win
    EXPECT_EQ(o.workers, 3u);
    EXPECT_EQ(*o.max_behaviors, 1u);
    EXPECT_EQ(*o.watchdog_ms, 150.0);
    EXPECT_EQ(*o.deadline_ms, 4.0);  // unset in the scenario: the CLI's
    EXPECT_TRUE(o.headless);
    EXPECT_TRUE(o.deterministic());

    CliOptions w = parse_cli(std::vector<std::string_view>{"--scenario", "x.py", "--workers", "1"}).options;
    apply_scenario(s.scenario, w);
    EXPECT_EQ(w.workers, 1u);  // --workers N > 0 overrides the scenario
}

TEST(Scenario, CommandLine)
{
    const CliResult r = parse_cli(std::vector<std::string_view>{"--scenario", "s.py", "--scenario-log", "s.log",
                                                                "--screenshot-dir", "shots"});
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.options.scenario, "s.py");
    EXPECT_EQ(r.options.scenario_log, "s.log");
    EXPECT_EQ(r.options.screenshot_dir, "shots");
    EXPECT_TRUE(r.options.headless);
    EXPECT_TRUE(r.options.fixed_dt);
    EXPECT_TRUE(r.options.test_mode());  // no display: exit 77 (skip)
    EXPECT_EQ(parse_cli(std::vector<std::string_view>{"--scenario-log", "s.log"}).error,
              "--scenario-log needs --scenario");
    EXPECT_EQ(parse_cli(std::vector<std::string_view>{"--screenshot-dir", "d"}).error,
              "--screenshot-dir needs --scenario");
    EXPECT_EQ(parse_cli(std::vector<std::string_view>{"--scenario", "s.py", "--bench"}).error,
              "--bench and --scenario cannot be combined");
    EXPECT_EQ(parse_cli(std::vector<std::string_view>{"--scenario", ""}).error,
              "--scenario: expected a path, got an empty string");
    const std::string usage = cli_usage();
    for (const char* option : {"--scenario", "--scenario-log", "--screenshot-dir"})
        EXPECT_NE(usage.find(option), std::string::npos) << option;
}

TEST(Scenario, ShippedScenariosLoad)
{
    const auto files = shipped_scenarios();
    ASSERT_GE(files.size(), 4u);
    for (const auto& f : files)
    {
        const ScenarioLoad s = load_scenario(f.string());
        EXPECT_TRUE(s.ok()) << s.error;
        EXPECT_FALSE(s.scenario.description.empty()) << f;
    }
}

// The scenario files are plain Python: CPython reads the same value (same repr) as py_literal.
TEST(Scenario, ShippedScenariosReadTheSameInCPython)
{
    for (const auto& f : shipped_scenarios())
    {
        std::ifstream in(f);
        std::stringstream text;
        text << in.rdbuf();
        const PyModuleParse ours = parse_py_assignment(text.str(), "SCENARIO", f.string());
        ASSERT_TRUE(ours.ok()) << ours.error;
        const std::string cmd = std::string("\"") + BOC_PYTHON + "\" -I -c \"import ast,sys; "
                                "t=ast.parse(open(sys.argv[1]).read()); "
                                "a=[n for n in t.body if isinstance(n, ast.Assign)]; "
                                "print(repr(ast.literal_eval(a[0].value)))\" \"" + f.string() + "\"";
        std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
        ASSERT_TRUE(pipe) << cmd;
        std::string out;
        std::array<char, 4096> buf{};
        while (std::fgets(buf.data(), buf.size(), pipe.get()) != nullptr)
            out += buf.data();
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
            out.pop_back();
        EXPECT_EQ(out, ours.value.repr()) << f;
    }
}
