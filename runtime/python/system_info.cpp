#include "system_info.h"

#include <sched.h>

#include <fstream>
#include <set>
#include <string>

namespace boc::py {
namespace {

// Distinct physical cores among the CPUs this process may run on: SMT
// siblings share one core (Linux sysfs thread_siblings_list; its first CPU
// names the core). 0 when the topology cannot be read.
long physical_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
  std::set<std::string> cores;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    std::ifstream in("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/thread_siblings_list");
    std::string siblings;
    if (!std::getline(in, siblings)) return 0;
    cores.insert(siblings.substr(0, siblings.find_first_of(",-")));
  }
  return static_cast<long>(cores.size());
}

PyObject* physical_cpu_count(PyObject*, PyObject*) {
  long n = 0;
  Py_BEGIN_ALLOW_THREADS n = physical_cpus();
  Py_END_ALLOW_THREADS return PyLong_FromLong(n);
}

PyMethodDef system_methods[] = {{"physical_cpu_count", physical_cpu_count, METH_NOARGS,
                                 "Physical cores (SMT siblings counted once) this process may run on; 0 if unknown."},
                                {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_system_functions(PyObject* module) { return PyModule_AddFunctions(module, system_methods); }

}  // namespace boc::py
