// `bocpy`: runs ordinary bocpy programs on this runtime, the way `python`
// runs them on upstream bocpy.
//
//   bocpy [options] script.py [args]   run a file (or a directory / zip with __main__.py)
//   bocpy [options] -m module [args]   run a library module as a script
//   bocpy [options] -c code [args]     run a program passed as a string
//   bocpy [options] - [args]           read the program from standard input
//
// The exit status is the program's (SystemExit code, 1 for an uncaught
// exception, 130 for KeyboardInterrupt), or 2 for a usage error.

#include <Python.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <climits>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "embedded_python.h"

namespace {

constexpr int kUsageStatus = 2;
/// bocpy keeps the owner index of a worker in an int16.
constexpr long kMaxWorkers = 32767;

constexpr const char* kUsage = "usage: bocpy [option] ... (script.py | -m module | -c code | -) [arg] ...\n";

constexpr const char* kHelp =
    "Options:\n"
    "  --workers N, --workers=N\n"
    "               number of worker sub-interpreters (sets BOCPY_WORKERS=N,\n"
    "               which bocpy reads for WORKER_COUNT)\n"
    "  -m module    run library module as a script (terminates option list)\n"
    "  -c code      program passed in as string (terminates option list)\n"
    "  -u           unbuffered binary stdout and stderr (PYTHONUNBUFFERED=1)\n"
    "  -B           don't write .pyc files on import (PYTHONDONTWRITEBYTECODE=1)\n"
    "  -h, --help   print this help message and exit\n"
    "  --version    print the bocpy and CPython versions and exit\n"
    "Arguments:\n"
    "  script.py    program read from a file (or a directory / zip with __main__.py)\n"
    "  -            program read from stdin\n"
    "  arg ...      arguments passed to the program in sys.argv[1:]\n";

enum class Mode { kFile, kModule, kCode, kStdin, kVersion };

struct Command {
  Mode mode = Mode::kFile;
  std::string target;             // script path, module name or code
  std::vector<std::string> argv;  // sys.argv (argv[0] is replaced by the runner)
};

std::optional<long> parse_workers(const char* text) {
  if (text == nullptr || *text == '\0') {
    return std::nullopt;
  }
  errno = 0;
  char* end = nullptr;
  long n = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || n < 1 || n > kMaxWorkers) {
    return std::nullopt;
  }
  return n;
}

int usage_error(const std::string& message) {
  if (!message.empty()) {
    std::fprintf(stderr, "bocpy: %s\n", message.c_str());
  }
  std::fputs(kUsage, stderr);
  std::fputs("Try `bocpy -h' for more information.\n", stderr);
  return kUsageStatus;
}

/// Parses the command line. Returns an exit status when the runner should
/// stop right away (help, usage error), or nullopt with `cmd` filled in.
std::optional<int> parse(int argc, char** argv, Command& cmd) {
  int i = 1;
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (arg == "--version" || arg == "-V") {
      cmd.mode = Mode::kVersion;
      return std::nullopt;
    }
    if (arg == "--workers" || arg.rfind("--workers=", 0) == 0) {
      const char* value = nullptr;
      if (arg == "--workers") {
        if (i + 1 >= argc) {
          return usage_error("--workers needs a value");
        }
        value = argv[++i];
      } else {
        value = argv[i] + std::strlen("--workers=");
      }
      std::optional<long> n = parse_workers(value);
      if (!n) {
        return usage_error(std::string("--workers: expected an integer from 1 to ") + std::to_string(kMaxWorkers) +
                           ", got '" + value + "'");
      }
      // Before CPython starts, so os.environ (and bocpy's WORKER_COUNT) see it.
      ::setenv("BOCPY_WORKERS", std::to_string(*n).c_str(), 1);
      continue;
    }
    if (arg == "-u") {
      ::setenv("PYTHONUNBUFFERED", "1", 1);
      continue;
    }
    if (arg == "-B") {
      ::setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
      continue;
    }
    // python's flags that change nothing here, accepted so that programs
    // re-running sys.executable (the runner) with them keep working, e.g.
    // multiprocessing's `-s -c ...` or a `-E -I` isolation probe.
    if (arg == "-s" || arg == "-S" || arg == "-E" || arg == "-I" || arg == "-P" || arg == "-q" || arg == "-b" ||
        arg == "-bb" || arg == "-O" || arg == "-OO" || arg == "-d" || arg == "-v") {
      continue;
    }
    if (arg == "-X" || arg == "-W") {
      if (i + 1 >= argc) return usage_error("Argument expected for the " + arg + " option");
      ++i;
      continue;
    }
    if (arg.rfind("-X", 0) == 0 || arg.rfind("-W", 0) == 0) continue;
    if (arg == "-m" || arg == "-c") {
      if (i + 1 >= argc) {
        return usage_error("Argument expected for the " + arg + " option");
      }
      cmd.mode = arg == "-m" ? Mode::kModule : Mode::kCode;
      cmd.target = argv[++i];
      cmd.argv.push_back(arg);
      break;
    }
    if (arg.rfind("-m", 0) == 0 || arg.rfind("-c", 0) == 0) {  // -mmodule / -ccode, as python accepts
      cmd.mode = arg[1] == 'm' ? Mode::kModule : Mode::kCode;
      cmd.target = arg.substr(2);
      cmd.argv.push_back(arg.substr(0, 2));
      break;
    }
    if (arg == "-") {
      cmd.mode = Mode::kStdin;
      cmd.argv.push_back(arg);
      break;
    }
    if (arg == "--") {
      ++i;
      if (i >= argc) {
        return usage_error("no script given");
      }
      cmd.mode = Mode::kFile;
      cmd.target = argv[i];
      cmd.argv.push_back(cmd.target);
      break;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      return usage_error("unknown option " + arg);
    }
    cmd.mode = Mode::kFile;
    cmd.target = arg;
    cmd.argv.push_back(arg);
    break;
  }
  if (i >= argc) {
    // As python: a program piped on stdin runs without `-`.
    if (!::isatty(STDIN_FILENO)) {
      cmd.mode = Mode::kStdin;
      cmd.argv.emplace_back("-");
      return std::nullopt;
    }
    return usage_error("no script given");
  }
  for (++i; i < argc; ++i) {
    cmd.argv.emplace_back(argv[i]);
  }
  return std::nullopt;
}

/// `bocpy --version`: the bocpy package version and the embedded CPython's.
int print_version() {
  std::string bocpy_version = "unknown";
  PyObject* mod = PyImport_ImportModule("bocpy");
  PyObject* v = mod != nullptr ? PyObject_GetAttrString(mod, "__version__") : nullptr;
  const char* text = v != nullptr && PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : nullptr;
  if (text != nullptr) {
    bocpy_version = text;
  }
  Py_XDECREF(v);
  Py_XDECREF(mod);
  PyErr_Clear();
  std::printf("bocpy %s (CPython %s)\n", bocpy_version.c_str(), PY_VERSION);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Command cmd;
  if (std::optional<int> early = parse(argc, argv, cmd)) {
    return *early;
  }

  boc::py::EmbedOptions options;
  options.argv = cmd.argv;
  // sys.executable is this runner, so a program that starts sys.executable
  // (a child script, a `-c` probe) gets bocpy again.
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) options.sys_executable.assign(self, static_cast<std::size_t>(n));
  if (options.argv.empty()) {
    options.argv.emplace_back(argc > 0 ? argv[0] : "bocpy");
  }
  try {
    boc::py::EmbeddedPython python(options);
    int status = 0;
    switch (cmd.mode) {
      case Mode::kFile: status = python.run_file(cmd.target); break;
      case Mode::kModule: status = python.run_module(cmd.target); break;
      case Mode::kCode: status = python.run_code(cmd.target); break;
      case Mode::kStdin: status = python.run_stdin(); break;
      case Mode::kVersion: status = print_version(); break;
    }
    if (python.finalize() < 0 && status == 0) {
      status = boc::py::kFinalizeFailedExitStatus;
    }
    return status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bocpy: %s\n", e.what());
    return 1;
  }
}
