// Chooses the SimulationDriver for a run and lists the drivers the bench compares.
//
// By default a run uses PythonDriver: the BOC runtime with worker sub-interpreters running
// --script (python_scripts/boids.py). --native selects the serial C++ NativeDriver. The
// bench compares the native baseline with the Python driver on 1 and 2 workers.
#pragma once

#include <memory>
#include <vector>

#include "app/bench.h"
#include "app/cli.h"
#include "sim/simulation_driver.h"

namespace boc::demo {

// Throws ScriptError (python_driver.h) when the Python driver cannot load its script.
std::unique_ptr<SimulationDriver> make_driver(const CliOptions& options);

std::vector<BenchDriverEntry> bench_drivers(const CliOptions& options);

// Ends the embedded Python interpreter if a driver started one (after the last driver).
void shutdown_drivers();

}  // namespace boc::demo
