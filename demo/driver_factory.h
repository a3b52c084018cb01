// Chooses the SimulationDriver for a run and lists the drivers the bench compares.
//
// Today there is only NativeDriver. The Python-backed driver (BOC runtime + worker
// sub-interpreters running --script) plugs in here: make_driver() returns it when the
// Python layer is built, and bench_drivers() appends its rows after the native baseline.
#pragma once

#include <memory>
#include <vector>

#include "bench.h"
#include "cli.h"
#include "simulation_driver.h"

namespace boc::demo {

std::unique_ptr<SimulationDriver> make_driver(const CliOptions& options);

std::vector<BenchDriverEntry> bench_drivers(const CliOptions& options);

}  // namespace boc::demo
