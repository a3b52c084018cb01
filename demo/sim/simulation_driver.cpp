#include "sim/simulation_driver.h"

namespace boc::demo {

SimulationDriver::~SimulationDriver() = default;

}  // namespace boc::demo
