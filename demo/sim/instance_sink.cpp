#include "sim/instance_sink.h"

namespace boc::demo {

InstanceSink::~InstanceSink() = default;

}  // namespace boc::demo
