#include "values_test_support.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#ifdef BOC_VALUES_WITH_MATRIX
#include "matrix_module.h"
#endif
#include "own_gil_interpreter.h"

namespace boc::values_test {
namespace {

PyThreadState* g_main_tstate = nullptr;

// Run in every interpreter: a stub `bocpy` package (so `bocpy._math` can be
// imported without the real package), a test module with picklable classes
// registered in sys.modules, and a deep-comparison helper.
constexpr const char* kPrelude = R"PY(
import sys, types
if 'bocpy' not in sys.modules:
    _pkg = types.ModuleType('bocpy')
    _pkg.__path__ = []
    sys.modules['bocpy'] = _pkg

_TESTMOD = '''
import collections, dataclasses, enum

@dataclasses.dataclass
class Box:
    value: object
    tag: str = 'box'

Point = collections.namedtuple('Point', 'x y')

class Color(enum.IntEnum):
    RED = 1
    GREEN = 2

class MyStr(str):
    pass

class MyList(list):
    pass

class Unpicklable:
    def __reduce__(self):
        raise ValueError('refuse to pickle')
'''
if 'boc_values_testmod' not in sys.modules:
    _m = types.ModuleType('boc_values_testmod')
    sys.modules['boc_values_testmod'] = _m
    exec(_TESTMOD, _m.__dict__)
import boc_values_testmod as tm

import struct as _struct
def same(a, b):
    """Equal value and exactly the same types all the way down, floats bit-exact."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return _struct.pack('<d', a) == _struct.pack('<d', b)
    if type(a) is complex:
        return same(a.real, b.real) and same(a.imag, b.imag)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return len(a) == len(b) and all(same(k1, k2) and same(v1, v2)
                                        for (k1, v1), (k2, v2) in zip(a.items(), b.items()))
    return a == b
)PY";

void handle_destructor(PyObject* capsule) {
  auto* cown = static_cast<CownBase*>(PyCapsule_GetPointer(capsule, kHandleName));
  if (cown) {
    cown->release_ref();
  } else {
    PyErr_Clear();
  }
}

CownRef test_unwrap(PyObject* obj) {
  if (!PyCapsule_CheckExact(obj)) return {};
  const char* name = PyCapsule_GetName(obj);
  if (!name) {
    PyErr_Clear();
    return {};
  }
  if (std::strcmp(name, kHandleName) != 0) return {};
  return CownRef(static_cast<CownBase*>(PyCapsule_GetPointer(obj, kHandleName)));
}

PyObject* test_wrap(const CownRef& cown) {
  CownRef ref = cown;
  PyObject* capsule = PyCapsule_New(ref.get(), kHandleName, handle_destructor);
  if (capsule) ref.detach();  // the capsule owns that reference now
  return capsule;
}

void run_prelude_or_die() {
  if (PyRun_SimpleString(kPrelude) != 0) {
    std::fprintf(stderr, "values_test: prelude failed\n");
    std::abort();
  }
}

// Body of a sub-interpreter thread (pattern A). Returns "" or an error.
std::string sub_thread(const std::function<void()>& body) {
  std::string error;
  PyThreadState* sub = boc::py::new_own_gil_interpreter(error);
  if (sub == nullptr) return error;
  run_prelude_or_die();
  body();
  Py_EndInterpreter(sub);
  return "";
}

}  // namespace

void python_start() {
#ifdef BOC_VALUES_WITH_MATRIX
  if (PyImport_AppendInittab(boc::py::kMathModuleName, boc_py_init_math) != 0) {
    std::fprintf(stderr, "values_test: PyImport_AppendInittab failed\n");
    std::abort();
  }
#endif
  PyConfig config;
  PyConfig_InitIsolatedConfig(&config);
  config.install_signal_handlers = 0;
  PyStatus st = PyConfig_SetBytesString(&config, &config.executable, BOC_PYTHON_EXECUTABLE);
  if (!PyStatus_Exception(st)) st = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(st)) Py_ExitStatusException(st);
  run_prelude_or_die();
  g_main_tstate = PyEval_SaveThread();
}

int python_stop() {
  PyEval_RestoreThread(g_main_tstate);
  g_main_tstate = nullptr;
  return Py_FinalizeEx();
}

MainGil::MainGil() { PyEval_RestoreThread(g_main_tstate); }
MainGil::~MainGil() { g_main_tstate = PyEval_SaveThread(); }

std::string run_in_subinterpreter(const std::function<void()>& body) {
  std::string error;
  std::thread t([&] { error = sub_thread(body); });
  t.join();
  return error;
}

std::string run_in_subinterpreters(int count, const std::function<void(int)>& body) {
  std::mutex m;
  std::string errors;
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      std::string e = sub_thread([&] { body(i); });
      std::lock_guard<std::mutex> lock(m);
      errors += e;
    });
  }
  for (auto& t : threads) t.join();
  return errors;
}

PyObject* main_dict() {
  PyObject* main = PyImport_AddModule("__main__");  // borrowed, kept alive by sys.modules
  if (!main) return nullptr;
  return PyModule_GetDict(main);  // borrowed
}

std::string exec(const char* code) {
  PyObject* d = main_dict();
  PyObject* r = d ? PyRun_String(code, Py_file_input, d, d) : nullptr;
  if (!r) return take_error();
  Py_DECREF(r);
  return "";
}

PyObject* eval(const char* expr) {
  PyObject* d = main_dict();
  return d ? PyRun_String(expr, Py_eval_input, d, d) : nullptr;
}

void set_global(const char* name, PyObject* obj) {
  if (PyDict_SetItemString(main_dict(), name, obj) < 0) PyErr_Clear();
}

bool eval_true(const char* expr, std::string* error) {
  PyObject* r = eval(expr);
  int truth = r ? PyObject_IsTrue(r) : -1;
  Py_XDECREF(r);
  if (truth < 0) {
    std::string e = take_error();
    if (error) *error = e;
    return false;
  }
  return truth == 1;
}

std::string take_error() {
  PyObject* exc = PyErr_GetRaisedException();
  if (!exc) return "";
  std::string out = Py_TYPE(exc)->tp_name;
  PyObject* s = PyObject_Str(exc);
  if (s) {
    const char* u = PyUnicode_AsUTF8(s);
    if (u) out += std::string(": ") + u;
    Py_DECREF(s);
  }
  PyErr_Clear();
  Py_DECREF(exc);
  return out;
}

std::string error_type_name() {
  PyObject* exc = PyErr_GetRaisedException();
  if (!exc) return "";
  std::string out = Py_TYPE(exc)->tp_name;
  PyErr_SetRaisedException(exc);
  return out;
}

CownRef make_test_cown(int value) { return CownRef(new TestCown(value), CownRef::Adopt{}); }

void install_test_hooks() { boc::py::set_handle_hooks({test_unwrap, test_wrap}); }
void remove_test_hooks() { boc::py::set_handle_hooks({nullptr, nullptr}); }
PyObject* new_handle(const CownRef& cown) { return test_wrap(cown); }
CownRef handle_cown(PyObject* obj) { return test_unwrap(obj); }

}  // namespace boc::values_test
