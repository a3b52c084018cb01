// Umbrella header for the C++ runtime API.
#pragma once

#include "boc/behavior.h"
#include "boc/clock.h"
#include "boc/cown.h"
#include "boc/pump.h"
#include "boc/runtime.h"
#include "boc/watchdog.h"
#include "boc/when.h"
