#include "driver_factory.h"

#include "fake_starvation_driver.h"
#include "native_driver.h"

namespace boc::demo {

std::unique_ptr<SimulationDriver> make_driver(const CliOptions& options)
{
    std::unique_ptr<SimulationDriver> driver = std::make_unique<NativeDriver>();
    if (options.debug_fake_starvation)
    {
        driver = std::make_unique<FakeStarvationDriver>(std::move(driver));
    }
    return driver;
}

std::vector<BenchDriverEntry> bench_drivers(const CliOptions&)
{
    std::vector<BenchDriverEntry> entries;
    entries.push_back({"native", [] { return std::make_unique<NativeDriver>(); }});
    return entries;
}

}  // namespace boc::demo
