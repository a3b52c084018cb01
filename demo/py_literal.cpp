#include "py_literal.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>

namespace boc::demo {

namespace {

// Concatenation by append: GCC 12 -O2 raises a false -Wrestrict on "x" + std::string.
std::string cat(std::initializer_list<std::string_view> parts)
{
    std::string out;
    for (const std::string_view p : parts)
        out.append(p);
    return out;
}

class Parser
{
public:
    Parser(std::string_view src, std::string_view origin) : src_(src), origin_(origin) {}

    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }

    // Skips blanks, newlines and comments. Python's line structure does not matter inside
    // brackets, and at module level we only accept `NAME = literal`, so newlines are blanks.
    void skip_space()
    {
        while (pos_ < src_.size())
        {
            const char c = src_[pos_];
            if (c == '#')
            {
                while (pos_ < src_.size() && src_[pos_] != '\n')
                    ++pos_;
            }
            else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f')
            {
                ++pos_;
            }
            else if (c == '\\' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '\n')
            {
                pos_ += 2;  // explicit line joining
            }
            else
            {
                break;
            }
        }
    }

    bool at_end()
    {
        skip_space();
        return pos_ >= src_.size();
    }

    bool peek(char c)
    {
        skip_space();
        return pos_ < src_.size() && src_[pos_] == c;
    }

    bool accept(char c)
    {
        if (!peek(c))
            return false;
        ++pos_;
        return true;
    }

    bool expect(char c, const char* what)
    {
        if (accept(c))
            return true;
        fail(cat({"expected ", what}));
        return false;
    }

    std::string_view identifier()
    {
        skip_space();
        const std::size_t start = pos_;
        while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) != 0 || src_[pos_] == '_'))
            ++pos_;
        if (start < src_.size() && std::isdigit(static_cast<unsigned char>(src_[start])) != 0)
        {
            pos_ = start;
            return {};
        }
        return src_.substr(start, pos_ - start);
    }

    bool starts_string()
    {
        skip_space();
        if (pos_ >= src_.size())
            return false;
        std::size_t p = pos_;
        // String prefixes we accept: r / R (raw). b, f and u prefixes are refused below.
        if ((src_[p] == 'r' || src_[p] == 'R') && p + 1 < src_.size())
            ++p;
        return src_[p] == '\'' || src_[p] == '"';
    }

    PyLiteral value(int depth = 0)
    {
        PyLiteral v;
        skip_space();
        v.line = line_of(pos_);
        if (depth > 64)
        {
            fail("literal nested too deeply");
            return v;
        }
        if (pos_ >= src_.size())
        {
            fail("expected a value, got the end of the file");
            return v;
        }
        const char c = src_[pos_];
        if (c == '{')
        {
            ++pos_;
            v.kind = PyLiteral::Kind::kDict;
            while (!failed() && !accept('}'))
            {
                PyLiteral key = value(depth + 1);
                if (failed() || !expect(':', "':' after a dict key"))
                    return v;
                PyLiteral val = value(depth + 1);
                if (failed())
                    return v;
                v.entries.emplace_back(std::move(key), std::move(val));
                if (!accept(','))
                {
                    expect('}', "',' or '}' in a dict");
                    break;
                }
            }
            return v;
        }
        if (c == '[')
        {
            ++pos_;
            v.kind = PyLiteral::Kind::kList;
            while (!failed() && !accept(']'))
            {
                v.items.push_back(value(depth + 1));
                if (failed())
                    return v;
                if (!accept(','))
                {
                    expect(']', "',' or ']' in a list");
                    break;
                }
            }
            return v;
        }
        if (c == '(')
        {
            ++pos_;
            v.kind = PyLiteral::Kind::kTuple;
            if (accept(')'))
                return v;  // ()
            PyLiteral first = value(depth + 1);
            if (failed())
                return v;
            if (accept(')'))
                return first;  // (x): just parentheses
            if (!expect(',', "',' or ')' in a tuple"))
                return v;
            v.items.push_back(std::move(first));
            while (!failed() && !accept(')'))
            {
                v.items.push_back(value(depth + 1));
                if (failed())
                    return v;
                if (!accept(','))
                {
                    expect(')', "',' or ')' in a tuple");
                    break;
                }
            }
            return v;
        }
        if (starts_string())
        {
            v.kind = PyLiteral::Kind::kStr;
            // Adjacent string literals concatenate, as in Python.
            while (!failed() && starts_string())
                v.s += string_literal();
            return v;
        }
        if (c == '-' || c == '+' || c == '.' || std::isdigit(static_cast<unsigned char>(c)) != 0)
        {
            return number();
        }
        const std::size_t start = pos_;
        const std::string_view word = identifier();
        if (word == "True" || word == "False")
        {
            v.kind = PyLiteral::Kind::kBool;
            v.b = word == "True";
            return v;
        }
        if (word == "None")
        {
            v.kind = PyLiteral::Kind::kNone;
            return v;
        }
        pos_ = start;
        // Built with append, not operator+: GCC 12 -O2 raises a false -Wrestrict on "'" + std::string.
        std::string message;
        if (word.empty())
        {
            message.append("unexpected character '").push_back(c);
            message.push_back('\'');
        }
        else
        {
            message.push_back('\'');
            message.append(word).append("' is not a literal (scenario files hold plain data: numbers, strings, "
                                        "True/False/None, tuples, lists and dicts)");
        }
        fail(message);
        return v;
    }

    void fail(const std::string& message)
    {
        if (failed())
            return;
        std::size_t line = 1;
        std::size_t col = 1;
        for (std::size_t k = 0; k < pos_ && k < src_.size(); ++k)
        {
            if (src_[k] == '\n')
            {
                ++line;
                col = 1;
            }
            else
            {
                ++col;
            }
        }
        char where[64];
        std::snprintf(where, sizeof(where), ":%zu:%zu: ", line, col);
        error_ = std::string(origin_) + where + message;
    }

private:
    int line_of(std::size_t p) const
    {
        int line = 1;
        for (std::size_t k = 0; k < p && k < src_.size(); ++k)
            line += src_[k] == '\n' ? 1 : 0;
        return line;
    }

    std::string string_literal()
    {
        skip_space();
        bool raw = false;
        if (src_[pos_] == 'r' || src_[pos_] == 'R')
        {
            raw = true;
            ++pos_;
        }
        const char quote = src_[pos_];
        const bool triple = pos_ + 2 < src_.size() && src_[pos_ + 1] == quote && src_[pos_ + 2] == quote;
        pos_ += triple ? 3 : 1;
        std::string out;
        for (;;)
        {
            if (pos_ >= src_.size())
            {
                fail("unterminated string");
                return out;
            }
            const char c = src_[pos_];
            if (c == quote)
            {
                if (!triple)
                {
                    ++pos_;
                    return out;
                }
                if (pos_ + 2 < src_.size() && src_[pos_ + 1] == quote && src_[pos_ + 2] == quote)
                {
                    pos_ += 3;
                    return out;
                }
                out.push_back(c);
                ++pos_;
                continue;
            }
            if (c == '\n' && !triple)
            {
                fail("unterminated string (newline in a single-quoted string)");
                return out;
            }
            if (c == '\\' && pos_ + 1 < src_.size())
            {
                const char e = src_[pos_ + 1];
                if (raw)
                {
                    out.push_back('\\');
                    out.push_back(e);
                    pos_ += 2;
                    continue;
                }
                pos_ += 2;
                switch (e)
                {
                case 'n': out.push_back('\n'); break;
                case 't': out.push_back('\t'); break;
                case 'r': out.push_back('\r'); break;
                case '0': out.push_back('\0'); break;
                case '\\': out.push_back('\\'); break;
                case '\'': out.push_back('\''); break;
                case '"': out.push_back('"'); break;
                case '\n': break;  // line continuation inside the string
                default:
                    // Python keeps unknown escapes verbatim (with a warning).
                    out.push_back('\\');
                    out.push_back(e);
                    break;
                }
                continue;
            }
            out.push_back(c);
            ++pos_;
        }
    }

    PyLiteral number()
    {
        PyLiteral v;
        v.line = line_of(pos_);
        bool negative = false;
        while (pos_ < src_.size() && (src_[pos_] == '-' || src_[pos_] == '+'))
        {
            negative ^= src_[pos_] == '-';
            ++pos_;
            skip_space();
        }
        const std::size_t start = pos_;
        bool is_float = false;
        std::string digits;
        while (pos_ < src_.size())
        {
            const char c = src_[pos_];
            if (std::isdigit(static_cast<unsigned char>(c)) != 0)
            {
                digits.push_back(c);
            }
            else if (c == '_')
            {
                // digit separator: only between digits
                if (digits.empty() || pos_ + 1 >= src_.size() ||
                    std::isdigit(static_cast<unsigned char>(src_[pos_ + 1])) == 0)
                {
                    fail("misplaced '_' in a number");
                    return v;
                }
            }
            else if (c == '.' || c == 'e' || c == 'E')
            {
                is_float = true;
                digits.push_back(c);
                const bool signed_exp = pos_ + 1 < src_.size() && (src_[pos_ + 1] == '-' || src_[pos_ + 1] == '+');
                if ((c == 'e' || c == 'E') && signed_exp)
                {
                    digits.push_back(src_[pos_ + 1]);
                    ++pos_;
                }
            }
            else if (std::isalpha(static_cast<unsigned char>(c)) != 0)
            {
                fail("unsupported number syntax (use plain decimal integers and floats)");
                return v;
            }
            else
            {
                break;
            }
            ++pos_;
        }
        if (pos_ == start || digits.empty())
        {
            fail("expected a number");
            return v;
        }
        if (!is_float && digits.size() > 1 && digits[0] == '0')
        {
            bool all_zero = digits.find_first_not_of('0') == std::string::npos;
            if (!all_zero)
            {
                fail("leading zeros in a decimal integer are not allowed");
                return v;
            }
        }
        if (is_float)
        {
            std::string text = digits;
            if (text.front() == '.')
                text.insert(text.begin(), '0');
            double d = 0.0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
            if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(d))
            {
                fail(cat({"malformed float '", digits, "'"}));
                return v;
            }
            v.kind = PyLiteral::Kind::kFloat;
            v.f = negative ? -d : d;
            return v;
        }
        std::int64_t n = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (ec != std::errc() || end != digits.data() + digits.size())
        {
            fail(cat({"integer '", digits, "' out of range (64-bit)"}));
            return v;
        }
        v.kind = PyLiteral::Kind::kInt;
        v.i = negative ? -n : n;
        return v;
    }

    std::string_view src_;
    std::string_view origin_;
    std::size_t pos_ = 0;
    std::string error_;

};

// Python's repr(float): the shortest digits that round-trip, positional for exponents in
// [-4, 16), else d.ddde+XX.
std::string python_float_repr(double x)
{
    if (std::isnan(x))
        return "nan";
    if (std::isinf(x))
        return x < 0 ? "-inf" : "inf";
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::scientific);
    if (ec != std::errc())
        return "nan";
    const std::string sci(buf, end);  // e.g. "-1.2345e+03"
    const std::size_t epos = sci.find('e');
    std::string mant = sci.substr(0, epos);
    const int exp = std::atoi(sci.c_str() + epos + 1);
    std::string sign;
    if (!mant.empty() && mant[0] == '-')
    {
        sign = "-";
        mant.erase(0, 1);
    }
    std::string digits;
    for (const char c : mant)
        if (c != '.')
            digits.push_back(c);
    const int n = static_cast<int>(digits.size());
    std::string r;
    if (exp >= -4 && exp < 16)
    {
        if (exp >= n - 1)
            r = digits + std::string(static_cast<std::size_t>(exp - (n - 1)), '0') + ".0";
        else if (exp >= 0)
        {
            const auto point = static_cast<std::size_t>(exp + 1);
            r = digits.substr(0, point) + "." + digits.substr(point);
        }
        else
            r = "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
    }
    else
    {
        r = digits.substr(0, 1);
        if (n > 1)
            r += "." + digits.substr(1);
        char e[16];
        std::snprintf(e, sizeof(e), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        r += e;
    }
    return sign + r;
}

void repr_into(const PyLiteral& v, std::string& out)
{
    switch (v.kind)
    {
    case PyLiteral::Kind::kNone: out += "None"; return;
    case PyLiteral::Kind::kBool: out += v.b ? "True" : "False"; return;
    case PyLiteral::Kind::kInt: out += std::to_string(v.i); return;
    case PyLiteral::Kind::kFloat:
        out += python_float_repr(v.f);
        return;
    case PyLiteral::Kind::kStr:
    {
        // Python's choice: single quotes unless the text has a ' and no ".
        const char q = v.s.find('\'') != std::string::npos && v.s.find('"') == std::string::npos ? '"' : '\'';
        out.push_back(q);
        for (const char c : v.s)
        {
            const auto u = static_cast<unsigned char>(c);
            if (c == q || c == '\\')
            {
                out.push_back('\\');
                out.push_back(c);
            }
            else if (c == '\n')
                out += "\\n";
            else if (c == '\r')
                out += "\\r";
            else if (c == '\t')
                out += "\\t";
            else if (u < 0x20 || u == 0x7f)
            {
                char hex[8];
                std::snprintf(hex, sizeof(hex), "\\x%02x", u);
                out += hex;
            }
            else
                out.push_back(c);  // UTF-8 bytes pass through, as Python prints printable text
        }
        out.push_back(q);
        return;
    }
    case PyLiteral::Kind::kList:
    case PyLiteral::Kind::kTuple:
    {
        const bool list = v.kind == PyLiteral::Kind::kList;
        out.push_back(list ? '[' : '(');
        for (std::size_t k = 0; k < v.items.size(); ++k)
        {
            if (k > 0)
                out += ", ";
            repr_into(v.items[k], out);
        }
        if (!list && v.items.size() == 1)
            out.push_back(',');
        out.push_back(list ? ']' : ')');
        return;
    }
    case PyLiteral::Kind::kDict:
        out.push_back('{');
        for (std::size_t k = 0; k < v.entries.size(); ++k)
        {
            if (k > 0)
                out += ", ";
            repr_into(v.entries[k].first, out);
            out += ": ";
            repr_into(v.entries[k].second, out);
        }
        out.push_back('}');
        return;
    }
}

}  // namespace

const PyLiteral* PyLiteral::find(std::string_view key) const
{
    if (kind != Kind::kDict)
        return nullptr;
    // The last entry wins, as in a Python dict display.
    for (auto it = entries.rbegin(); it != entries.rend(); ++it)
    {
        if (it->first.kind == Kind::kStr && it->first.s == key)
            return &it->second;
    }
    return nullptr;
}

std::string PyLiteral::repr() const
{
    std::string out;
    repr_into(*this, out);
    return out;
}

const char* PyLiteral::kind_name() const
{
    switch (kind)
    {
    case Kind::kNone: return "None";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kStr: return "str";
    case Kind::kList: return "list";
    case Kind::kTuple: return "tuple";
    case Kind::kDict: return "dict";
    }
    return "?";
}

PyModuleParse parse_py_assignment(std::string_view source, std::string_view name, std::string_view origin)
{
    PyModuleParse result;
    Parser p(source, origin);
    bool assigned = false;
    while (!p.at_end() && !p.failed())
    {
        // A module docstring (or any bare string statement) is allowed before the assignment.
        if (p.starts_string())
        {
            (void)p.value();
            continue;
        }
        const std::string_view target = p.identifier();
        if (target.empty())
        {
            p.fail(cat({"expected `", name, " = {...}`"}));
            break;
        }
        if (target != name)
        {
            p.fail(cat({"only `", name, " = ...` may be assigned in a scenario file, got '", target, "'"}));
            break;
        }
        if (assigned)
        {
            p.fail(cat({"`", name, "` is assigned twice"}));
            break;
        }
        if (!p.expect('=', "'='"))
            break;
        result.value = p.value();
        assigned = true;
    }
    if (!p.failed() && !assigned)
        p.fail(cat({"no `", name, " = ...` assignment found"}));
    result.error = p.error();
    return result;
}

PyModuleParse parse_py_literal(std::string_view source, std::string_view origin)
{
    PyModuleParse result;
    Parser p(source, origin);
    result.value = p.value();
    if (!p.failed() && !p.at_end())
        p.fail("unexpected text after the literal");
    result.error = p.error();
    return result;
}

}  // namespace boc::demo
