// A reader for the Python literal subset that scenario files use (python_scripts/scenarios/).
//
// Scenario files are plain Python modules: an optional docstring, comments, and one assignment
// `SCENARIO = <literal>`. The literal grammar is that of ast.literal_eval() minus complex
// numbers and sets: dicts, lists, tuples, str (single, double or triple quotes, adjacent
// literals concatenated, the common backslash escapes), int (with `_` separators), float,
// True, False, None, and a unary minus on numbers. So a file that parses here also imports in
// CPython and gives the same value, and a checker can read it with ast.literal_eval.
//
// The scenario is read before the simulation driver exists (it picks the worker count and the
// runtime's clock), i.e. before the embedded interpreter is created; hence this small parser
// instead of exec'ing the file in the driver's interpreter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boc::demo {

struct PyLiteral
{
    enum class Kind
    {
        kNone,
        kBool,
        kInt,
        kFloat,
        kStr,
        kList,
        kTuple,
        kDict,
    };

    Kind kind = Kind::kNone;
    bool b = false;
    std::int64_t i = 0;
    double f = 0.0;
    std::string s;
    std::vector<PyLiteral> items;                          // list, tuple
    std::vector<std::pair<PyLiteral, PyLiteral>> entries;  // dict, in source order
    int line = 0;                                          // where the literal starts (1-based)

    bool is_number() const { return kind == Kind::kInt || kind == Kind::kFloat; }
    bool is_sequence() const { return kind == Kind::kList || kind == Kind::kTuple; }
    double as_double() const { return kind == Kind::kInt ? static_cast<double>(i) : f; }
    // dict lookup by string key; nullptr when absent (or not a dict).
    const PyLiteral* find(std::string_view key) const;
    // Python-like repr, for error messages and logs: 'x', 3, 2.5, True, None, (1, 2), [..], {..}.
    std::string repr() const;
    const char* kind_name() const;
};

struct PyModuleParse
{
    PyLiteral value;    // the right-hand side of `<name> = ...`
    std::string error;  // "path:line:col: message" on failure
    bool ok() const { return error.empty(); }
};

// Parses `source` as a module holding exactly `name = <literal>` (plus an optional docstring
// and comments). `origin` prefixes error messages (usually the file path).
PyModuleParse parse_py_assignment(std::string_view source, std::string_view name, std::string_view origin);

// Parses a single literal expression (tests, and `--scenario` values given inline).
PyModuleParse parse_py_literal(std::string_view source, std::string_view origin);

}  // namespace boc::demo
