#include "sim/driver_factory.h"

#include "sim/native_driver.h"
#include "sim/python_driver.h"
#include "sim/python_host.h"

namespace boc::demo {

std::unique_ptr<SimulationDriver> make_driver(const CliOptions& options) {
  std::unique_ptr<SimulationDriver> driver;
  if (options.native) {
    driver = std::make_unique<NativeDriver>();
  } else {
    PythonDriverOptions python;
    python.script = options.script;
    python.workers = options.workers;
    // A fixed dt asks for a reproducible run: one simulation step per frame.
    python.lockstep = options.fixed_dt;
    driver = std::make_unique<PythonDriver>(python);
  }
  return driver;
}

std::vector<BenchDriverEntry> bench_drivers(const CliOptions& options) {
  std::vector<BenchDriverEntry> entries;
  entries.push_back({"native", [] { return std::make_unique<NativeDriver>(); }});
  // Lockstep: every measured frame is one simulation step, as for the native rows.
  for (const std::size_t workers : {std::size_t{1}, std::size_t{2}}) {
    PythonDriverOptions python;
    python.script = options.script;
    python.workers = workers;
    python.lockstep = true;
    entries.push_back(
        {"python x" + std::to_string(workers), [python] { return std::make_unique<PythonDriver>(python); }});
  }
  return entries;
}

void shutdown_drivers() { PythonHost::shutdown(); }

}  // namespace boc::demo
