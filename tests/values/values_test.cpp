// Tests of boc::py::Parcel: native round trips, the pickle fallback, errors,
// identity relations, cown handles and crossing into own-GIL sub-interpreters.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "parcel.h"
#include "values_test_support.h"

using boc::CownBase;
using boc::CownRef;
using boc::py::Parcel;
using boc::py::parcel_decode;
using boc::py::parcel_encode;
namespace vt = boc::values_test;

namespace {

class PythonEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { vt::python_start(); }
  void TearDown() override { EXPECT_EQ(vt::python_stop(), 0); }
};

// A strong reference for test code.
class Obj {
 public:
  explicit Obj(PyObject* o = nullptr) : o_(o) {}
  Obj(Obj&& other) noexcept : o_(other.o_) { other.o_ = nullptr; }
  Obj& operator=(Obj&& other) noexcept {
    std::swap(o_, other.o_);
    return *this;
  }
  ~Obj() { Py_XDECREF(o_); }
  PyObject* get() const { return o_; }
  explicit operator bool() const { return o_ != nullptr; }

 private:
  PyObject* o_;
};

Obj eval_or_fail(const char* expr) {
  Obj o(vt::eval(expr));
  if (!o) ADD_FAILURE() << "eval(" << expr << ") failed: " << vt::take_error();
  return o;
}

// Encodes the value of expr, checks the path taken, decodes it and checks that
// the result is the same value with the same types. Binds `a` (original) and
// `b` (decoded) in __main__.
void expect_round_trip(const char* expr, bool pickled) {
  SCOPED_TRACE(expr);
  Obj a = eval_or_fail(expr);
  ASSERT_TRUE(a);
  Parcel p;
  ASSERT_TRUE(parcel_encode(a.get(), p)) << vt::take_error();
  EXPECT_FALSE(p.empty());
  EXPECT_EQ(p.pickled(), pickled);
  Obj b(parcel_decode(p));
  ASSERT_TRUE(b) << vt::take_error();
  vt::set_global("a", a.get());
  vt::set_global("b", b.get());
  std::string err;
  EXPECT_TRUE(vt::eval_true("same(a, b)", &err)) << err;
  // A second decode gives an equal but independent object.
  Obj c(parcel_decode(p));
  ASSERT_TRUE(c) << vt::take_error();
  vt::set_global("c", c.get());
  EXPECT_TRUE(vt::eval_true("same(a, c)", &err)) << err;
}

std::vector<unsigned char> bytes_of(const Parcel& p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p.bytes());
  return {b, b + p.byte_size()};
}

// ------------------------------------------------------------ native types --

TEST(ParcelNative, Singletons) {
  vt::MainGil gil;
  expect_round_trip("None", false);
  expect_round_trip("True", false);
  expect_round_trip("False", false);
  Obj n = eval_or_fail("None");
  Parcel p;
  ASSERT_TRUE(parcel_encode(n.get(), p));
  Obj back(parcel_decode(p));
  EXPECT_EQ(back.get(), Py_None);
}

TEST(ParcelNative, Ints) {
  vt::MainGil gil;
  const char* cases[] = {
      "0",      "1",         "-1",       "255",           "256",       "-128",     "-129",       "2**30", "-2**30",
      "2**31",  "2**62",     "2**63-1",  "-2**63",        "2**63",     "-2**63-1", "2**64-1",    "2**64", "-2**64",
      "2**100", "-(2**100)", "10**1000", "-(10**1000)+7", "-(2**127)", "2**127",   "-(2**128)+1"};
  for (const char* c : cases) expect_round_trip(c, false);
}

TEST(ParcelNative, RandomBigIntsExact) {
  vt::MainGil gil;
  ASSERT_EQ(vt::exec("import random\n"
                     "_r = random.Random(1234)\n"
                     "ints = []\n"
                     "for bits in range(1, 700):\n"
                     "    for sign in (1, -1):\n"
                     "        v = sign * _r.getrandbits(bits)\n"
                     "        ints += [v, sign * (1 << bits), sign * ((1 << bits) - 1)]\n"),
            "");
  expect_round_trip("ints", false);
  ASSERT_EQ(vt::exec("assert all(type(x) is int for x in b) and b == ints"), "");
}

TEST(ParcelNative, Floats) {
  vt::MainGil gil;
  ASSERT_EQ(vt::exec("import math, struct\n"
                     "payload_nan = struct.unpack('<d', bytes.fromhex('010000000000f87f'))[0]\n"
                     "neg_nan = struct.unpack('<d', bytes.fromhex('000000000000f8ff'))[0]\n"
                     "signalling_nan = struct.unpack('<d', bytes.fromhex('010000000000f07f'))[0]\n"),
            "");
  const char* cases[] = {"0.0",      "-0.0",
                         "1.5",      "-2.25",
                         "math.inf", "-math.inf",
                         "math.nan", "payload_nan",
                         "neg_nan",  "signalling_nan",
                         "5e-324",   "1.7976931348623157e308",
                         "0.1",      "[0.0, -0.0, math.nan, math.inf]"};
  for (const char* c : cases) expect_round_trip(c, false);
  expect_round_trip("payload_nan", false);
  ASSERT_EQ(vt::exec("assert struct.pack('<d', b) == struct.pack('<d', payload_nan)"), "");
  expect_round_trip("-0.0", false);
  ASSERT_EQ(vt::exec("assert math.copysign(1.0, b) == -1.0"), "");
}

TEST(ParcelNative, Complex) {
  vt::MainGil gil;
  expect_round_trip("1+2j", false);
  expect_round_trip("complex(-0.0, float('nan'))", false);
  expect_round_trip("complex(float('inf'), -0.0)", false);
}

TEST(ParcelNative, Strings) {
  vt::MainGil gil;
  const char* cases[] = {"''",
                         "'a'",
                         "'hello world'",
                         "'\\xe9'",
                         "'\\xff\\x80'",
                         "'\\u20ac'",
                         "'a\\u20acb'",
                         "'\\U0001F600'",
                         "'a\\U0001F600'",
                         "'\\ud800'",
                         "'\\udfff'",
                         "'x\\ud800y\\udc00'",
                         "'\\udfff\\ud800'",
                         "'\\U0001F600\\ud800'",
                         "'\\U0010ffff'",
                         "'\\x00'",
                         "'ab' * 5000",
                         "'\\u20ac' * 3000 + '\\ud800'",
                         "['\\ud800', {'\\udc00': '\\U0001F600'}]"};
  for (const char* c : cases) expect_round_trip(c, false);
  // Exactness down to code points, and the canonical (narrowest) storage:
  // str equality compares kinds first, so `same` already checks that.
  expect_round_trip("'x\\ud800y\\udc00'", false);
  ASSERT_EQ(vt::exec("assert [ord(c) for c in b] == [0x78, 0xd800, 0x79, 0xdc00]"), "");
  expect_round_trip("'abc'", false);
  ASSERT_EQ(vt::exec("assert b.isascii() and hash(b) == hash('abc')"), "");
}

TEST(ParcelNative, BytesAndByteArray) {
  vt::MainGil gil;
  expect_round_trip("b''", false);
  expect_round_trip("b'\\x00\\xff abc'", false);
  expect_round_trip("bytes(range(256)) * 4096", false);
  expect_round_trip("bytearray()", false);
  expect_round_trip("bytearray(b'abc\\x00')", false);
  expect_round_trip("[b'x', bytearray(b'y'), bytearray(b'y')]", false);  // equal, not shared
}

TEST(ParcelNative, Containers) {
  vt::MainGil gil;
  const char* cases[] = {"()",
                         "(1,)",
                         "(1, 2.5, 'x')",
                         "((1, (2, (3, ()))), None)",
                         "[]",
                         "[1, [2, [3, []]]]",
                         "list(range(1000))",
                         "[float(i) / 3 for i in range(100)]",
                         "{}",
                         "{'a': 1, 'b': [1, 2], 'c': {'d': (None, True)}}",
                         "{'z': 1, 'a': 2, 'm': 3}",
                         "{1: 'int', 2.5: 'float', None: 'none', (1, 'x'): 'tuple', True: 'bool', b'k': 'bytes'}",
                         "set()",
                         "{1, 2, 3}",
                         "{'a', (1, 2), 3.5, None, frozenset({1})}",
                         "frozenset()",
                         "frozenset({1, 'a', (1, 2)})",
                         "[{frozenset({1, 2}): {3, 4}}]",
                         "{'k%d' % i: i for i in range(500)}",
                         "[(1, 2)] * 3",  // the same tuple three times: immutable, stays native
                         "(lambda t: [t, t, (t, t)])(('shared', 1.5))",
                         "[[i] for i in range(2000)]",  // many distinct lists: the identity set grows
                         "[{'i': i} for i in range(100)] + [set([i]) for i in range(100)]"};
  for (const char* c : cases) expect_round_trip(c, false);
}

TEST(ParcelNative, DictKeepsInsertionOrder) {
  vt::MainGil gil;
  expect_round_trip("dict(zip('zyxwvu', range(6)))", false);
  ASSERT_EQ(vt::exec("assert list(b) == list('zyxwvu')"), "");
}

TEST(ParcelNative, DeepButBoundedNestingStaysNative) {
  vt::MainGil gil;
  ASSERT_EQ(vt::exec("deep = []\n_x = deep\nfor _ in range(150):\n    _x.append([]); _x = _x[0]\n"), "");
  expect_round_trip("deep", false);
}

TEST(ParcelFormat, DeterministicBytes) {
  vt::MainGil gil;
  const char* expr = "{'a': [1, 2.5, 'x\\u20ac', 2**80], 'b': (None, True, b'q'), 'c': {1, 2}, 'd': 3j}";
  Obj v1 = eval_or_fail(expr);
  Obj v2 = eval_or_fail(expr);
  ASSERT_NE(v1.get(), v2.get());
  Parcel p1, p2, p3;
  ASSERT_TRUE(parcel_encode(v1.get(), p1));
  ASSERT_TRUE(parcel_encode(v2.get(), p2));
  ASSERT_TRUE(parcel_encode(v1.get(), p3));
  EXPECT_EQ(bytes_of(p1), bytes_of(p2));
  EXPECT_EQ(bytes_of(p1), bytes_of(p3));
}

TEST(ParcelFormat, KnownLayout) {
  vt::MainGil gil;
  Obj v = eval_or_fail("(1, -1, 'a', None, 300)");
  Parcel p;
  ASSERT_TRUE(parcel_encode(v.get(), p));
  // kTuple 5, kInt zz(1)=2, kInt zz(-1)=1, kStrAscii 1 'a', kNone, kInt zz(300)=600 (varint d8 04)
  std::vector<unsigned char> expected = {0x0E, 5, 0x04, 2, 0x04, 1, 0x08, 1, 'a', 0x01, 0x04, 0xD8, 0x04};
  EXPECT_EQ(bytes_of(p), expected);
}

TEST(ParcelFormat, SmallValuesStayInline) {
  vt::MainGil gil;
  Obj v = eval_or_fail("(1, 2.5, 'abc')");
  Parcel p;
  ASSERT_TRUE(parcel_encode(v.get(), p));
  EXPECT_LE(p.byte_size(), Parcel::kInlineCapacity);
  // The bytes live inside the object.
  auto* begin = reinterpret_cast<const std::byte*>(&p);
  EXPECT_TRUE(p.bytes() >= begin && p.bytes() < begin + sizeof(Parcel));
}

TEST(ParcelFormat, ReencodingOverALargeBufferGivesItBackToItsAllocator) {
  // A parcel re-encoded (a cown's value at every release) drops a heap buffer
  // above 64 KiB; that buffer came from the runtime's pools, so it must go
  // back there (under ASan a mismatched free fails this test).
  vt::MainGil gil;
  Obj big = eval_or_fail("b'x' * 200000");
  Obj small = eval_or_fail("('after', 1)");
  Parcel p;
  ASSERT_TRUE(parcel_encode(big.get(), p));
  EXPECT_GT(p.byte_size(), 200000u);
  ASSERT_TRUE(parcel_encode(small.get(), p));
  EXPECT_LE(p.byte_size(), Parcel::kInlineCapacity);
  Obj back(parcel_decode(p));
  ASSERT_TRUE(back) << vt::take_error();
  EXPECT_EQ(PyObject_RichCompareBool(back.get(), small.get(), Py_EQ), 1);
}

// ------------------------------------------------------------ pickle paths --

TEST(ParcelPickle, SubclassesOfBuiltinsArePickled) {
  vt::MainGil gil;
  expect_round_trip("tm.Point(1, 2)", true);
  ASSERT_EQ(vt::exec("assert type(b) is tm.Point and b.x == 1"), "");
  expect_round_trip("tm.Color.RED", true);
  ASSERT_EQ(vt::exec("assert b is tm.Color.RED"), "");
  expect_round_trip("tm.MyStr('hi')", true);
  expect_round_trip("tm.MyList([1, 2])", true);
  expect_round_trip("__import__('collections').OrderedDict(a=1)", true);
  expect_round_trip("__import__('collections').defaultdict(int, a=1)", true);
  // A subclass anywhere inside makes the whole value pickled; the rest keeps its types.
  expect_round_trip("[1, 2.5, True, tm.Point(3, 4), {'k': tm.Color.GREEN}]", true);
}

TEST(ParcelPickle, StdlibAndUserClasses) {
  vt::MainGil gil;
  ASSERT_EQ(vt::exec("import fractions, decimal, datetime, uuid"), "");
  expect_round_trip("fractions.Fraction(1, 3)", true);
  expect_round_trip("decimal.Decimal('1.10')", true);
  expect_round_trip("datetime.datetime(2024, 5, 17, 12, 30, 1, 5)", true);
  expect_round_trip("uuid.UUID(int=12345)", true);
  // Plain-class instances are native (plain_class.h), with pickle's result.
  expect_round_trip("tm.Box([1, 2, {'x': 3}])", false);
  expect_round_trip("[tm.Box(1), tm.Box('x', tag='t')]", false);
  expect_round_trip("tm.Box(tm.Point(1, 2))", true);  // a namedtuple inside: pickled as a whole
  expect_round_trip("Ellipsis", true);
  expect_round_trip("range(3, 10, 2)", true);
  expect_round_trip("slice(1, 2)", true);
  expect_round_trip("int", true);  // classes pickle by reference
}

TEST(ParcelPickle, ExceptionsTravel) {
  vt::MainGil gil;
  Obj e = eval_or_fail("KeyError('missing')");
  Parcel p;
  ASSERT_TRUE(parcel_encode(e.get(), p)) << vt::take_error();
  EXPECT_TRUE(p.pickled());
  Obj back(parcel_decode(p));
  ASSERT_TRUE(back) << vt::take_error();
  vt::set_global("b", back.get());
  EXPECT_TRUE(vt::eval_true("type(b) is KeyError and b.args == ('missing',)"));
}

// Instances of plain classes are encoded natively (plain_class.h) with the
// result pickle would give; everything pickle treats specially still pickles.
constexpr const char* kObjectClasses = R"PY(
import copyreg, dataclasses, pickle
class Plain:
    def __init__(self, **kw):
        self.__dict__.update(kw)
class Sub(Plain):
    pass
class WithState(Plain):
    def __getstate__(self):
        return {'s': 1}
    def __setstate__(self, st):
        self.__dict__.update(st, restored=True)
class WithReduce(Plain):
    def __reduce__(self):
        return (Plain, (), {'reduced': True})
class Slotted:
    __slots__ = ('a',)
    def __init__(self):
        self.a = 1
@dataclasses.dataclass(frozen=True)
class Frozen:
    x: int
    y: object = None
class Guarded:
    @property
    def x(self):
        return self.__dict__['x']
    @x.setter
    def x(self, v):
        raise AssertionError('BUILD must not run setters')
class Meta(type):
    pass
class WithMeta(metaclass=Meta):
    pass
class Registered(Plain):
    pass
copyreg.pickle(Registered, lambda o: (Plain, (), {'via': 'copyreg'}))
class Err(Exception):
    pass
def state_q():
    return {'q': 1}
def _same(x, y):
    if type(x) is not type(y):
        return False
    if hasattr(x, '__dict__') and not isinstance(x, type):
        return vars(x).keys() == vars(y).keys() and all(_same(vars(x)[k], vars(y)[k]) for k in vars(x))
    return x == y
def like_pickle(a, b):
    p = pickle.loads(pickle.dumps(a, 5))
    return _same(b, p)
)PY";

TEST(ParcelObjects, SameResultAsPickle) {
  vt::MainGil gil;
  Obj src(PyUnicode_FromString(kObjectClasses));
  vt::set_global("src", src.get());
  ASSERT_EQ(vt::exec("exec(src, tm.__dict__)"), "");
  struct Case {
    const char* expr;
    bool pickled;
  };
  const Case cases[] = {
      {"tm.Plain(a=1, b='x', c=[1, (2, 3)], d={'k': 1.5})", false},
      {"tm.Plain()", false},
      {"tm.Sub(a=tm.Plain(b=2))", false},
      {"tm.Frozen(1, tm.Plain(z=3))", false},
      {"[tm.Plain(i=i) for i in range(20)]", false},
      {"tm.WithState(a=1)", true},
      {"tm.WithReduce(a=1)", true},
      {"tm.WithMeta()", true},
      {"tm.Registered(a=1)", true},
      {"tm.Plain(__getstate__=tm.state_q)", true},  // a hook on the instance: pickle's call
      {"tm.Plain(a=tm.Point(1, 2))", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expr);
    Obj a = eval_or_fail(c.expr);
    Parcel p;
    ASSERT_TRUE(parcel_encode(a.get(), p)) << vt::take_error();
    EXPECT_EQ(p.pickled(), c.pickled);
    Obj b(parcel_decode(p));
    ASSERT_TRUE(b) << vt::take_error();
    vt::set_global("a", a.get());
    vt::set_global("b", b.get());
    std::string err;
    if (PyList_Check(a.get())) {
      EXPECT_TRUE(vt::eval_true("all(tm.like_pickle(x, y) for x, y in zip(a, b)) and len(a) == len(b)", &err)) << err;
    } else {
      EXPECT_TRUE(vt::eval_true("tm.like_pickle(a, b)", &err)) << err;
    }
  }
  // A data descriptor of an attribute's name is bypassed, as pickle's BUILD does.
  ASSERT_EQ(vt::exec("g = tm.Guarded()\ng.__dict__['x'] = 5\n"), "");
  Obj g = eval_or_fail("g");
  Parcel pg;
  ASSERT_TRUE(parcel_encode(g.get(), pg)) << vt::take_error();
  EXPECT_FALSE(pg.pickled());
  Obj gb(parcel_decode(pg));
  ASSERT_TRUE(gb) << vt::take_error();
  vt::set_global("b", gb.get());
  EXPECT_TRUE(vt::eval_true("type(b) is tm.Guarded and b.x == 5"));
  // Shared instances keep their identity (pickled), __slots__ and exceptions pickle.
  for (const char* expr : {"[g, g]", "tm.Slotted()", "tm.Err('e')"}) {
    SCOPED_TRACE(expr);
    Obj v = eval_or_fail(expr);
    Parcel p;
    ASSERT_TRUE(parcel_encode(v.get(), p)) << vt::take_error();
    EXPECT_TRUE(p.pickled());
  }
}

TEST(ParcelObjects, ClassChangesAreSeen) {
  vt::MainGil gil;
  ASSERT_EQ(vt::exec("class Later:\n    pass\ntm.Later = Later\nLater.__module__ = tm.__name__\n"
                     "Later.__qualname__ = 'Later'\nlt = Later()\nlt.v = 1\n"),
            "");
  Obj v = eval_or_fail("lt");
  Parcel p;
  ASSERT_TRUE(parcel_encode(v.get(), p)) << vt::take_error();
  EXPECT_FALSE(p.pickled());
  // A __setstate__ added on the receiving side runs, as pickle's BUILD calls it.
  ASSERT_EQ(vt::exec("def _ss(self, st):\n    self.__dict__['got'] = st\ntm.Later.__setstate__ = _ss\n"), "");
  Obj b(parcel_decode(p));
  ASSERT_TRUE(b) << vt::take_error();
  vt::set_global("b", b.get());
  EXPECT_TRUE(vt::eval_true("vars(b) == {'got': {'v': 1}}"));
  // ... and, being a pickling hook, now sends the class through pickle.
  ASSERT_TRUE(parcel_encode(v.get(), p)) << vt::take_error();
  EXPECT_TRUE(p.pickled());
  // A class its module does not name (here: a local one) fails as pickle does.
  ASSERT_EQ(vt::exec("def _mk():\n    class Local:\n        pass\n    return Local()\nloc = _mk()\n"), "");
  Obj loc = eval_or_fail("loc");
  EXPECT_FALSE(parcel_encode(loc.get(), p));
  EXPECT_NE(vt::take_error(), "");
  ASSERT_EQ(vt::exec("del lt, loc, b"), "");
}

// The encoder remembers its verdict on a class (native_class.h): each change
// pickle would notice after a native encode must still be noticed.
TEST(ParcelObjects, ModuleAndRegistryChangesAfterANativeEncodeAreSeen) {
  vt::MainGil gil;
  ASSERT_EQ(vt::exec("class Moving:\n    pass\ntm.Moving = Moving\nMoving.__module__ = tm.__name__\n"
                     "Moving.__qualname__ = 'Moving'\nmv = Moving()\nmv.v = 1\n"),
            "");
  Obj v = eval_or_fail("mv");
  auto native = [&]() -> int {  // 1 native, 0 pickled, -1 refused
    Parcel p;
    if (!parcel_encode(v.get(), p)) {
      (void)vt::take_error();
      return -1;
    }
    return p.pickled() ? 0 : 1;
  };
  ASSERT_EQ(native(), 1);
  ASSERT_EQ(native(), 1);  // the remembered verdict
  // The module no longer names the class: pickle refuses ("not the same object").
  ASSERT_EQ(vt::exec("tm.Moving = None"), "");
  EXPECT_EQ(native(), -1);
  ASSERT_EQ(vt::exec("tm.Moving = Moving"), "");
  EXPECT_EQ(native(), 1);
  // A copyreg registration: pickle's dispatch_table decides.
  ASSERT_EQ(vt::exec("import copyreg\ncopyreg.pickle(Moving, lambda o: (dict, ()))"), "");
  EXPECT_EQ(native(), 0);
  ASSERT_EQ(vt::exec("del copyreg.dispatch_table[Moving]"), "");
  EXPECT_EQ(native(), 1);
  // sys.modules holds another module under that name.
  ASSERT_EQ(vt::exec("import sys, types\n_saved = sys.modules[tm.__name__]\n"
                     "sys.modules[tm.__name__] = types.ModuleType(tm.__name__)\n"),
            "");
  EXPECT_EQ(native(), -1);
  ASSERT_EQ(vt::exec("sys.modules[tm.__name__] = _saved\ndel _saved"), "");
  EXPECT_EQ(native(), 1);
  ASSERT_EQ(vt::exec("del mv, tm.Moving"), "");
}

TEST(ParcelPickle, UnpicklableValuesRaise) {
  vt::MainGil gil;
  struct Case {
    const char* expr;
    const char* exception;  // expected type name, or nullptr for "anything"
  };
  const Case cases[] = {
      {"lambda: 1", nullptr},  // PicklingError in 3.13
      {"__import__('threading').Lock()", "TypeError"},
      {"tm.Unpicklable()", "ValueError"},
      {"(x for x in ())", "TypeError"},
      {"[1, 2, lambda: 3]", nullptr},
      {"{'k': __import__('threading').Lock()}", "TypeError"},
      {"tm.Box(tm.Unpicklable())", "ValueError"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expr);
    Obj v = eval_or_fail(c.expr);
    ASSERT_TRUE(v);
    Parcel p;
    Obj filler = eval_or_fail("[1, 2, 3]");
    ASSERT_TRUE(parcel_encode(filler.get(), p));
    EXPECT_FALSE(parcel_encode(v.get(), p));
    ASSERT_NE(PyErr_Occurred(), nullptr);
    std::string type = vt::error_type_name();
    std::string err = vt::take_error();
    if (c.exception) {
      EXPECT_EQ(type, c.exception) << err;
    }
    EXPECT_TRUE(p.empty());
    EXPECT_TRUE(p.cowns().empty());
  }
  // The original exception object of a raising __reduce__ is kept.
  Obj v = eval_or_fail("tm.Unpicklable()");
  Parcel p;
  ASSERT_FALSE(parcel_encode(v.get(), p));
  EXPECT_EQ(vt::take_error(), "ValueError: refuse to pickle");
}

TEST(ParcelPickle, VeryDeepNestingFallsBackOrRaises) {
  vt::MainGil gil;
  ASSERT_EQ(vt::exec("deep = []\n_x = deep\nfor _ in range(400):\n    _x.append([]); _x = _x[0]\n"), "");
  expect_round_trip("deep", true);
  ASSERT_EQ(vt::exec("deeper = []\n_x = deeper\nfor _ in range(200000):\n    _x.append([]); _x = _x[0]\n"), "");
  Obj v = eval_or_fail("deeper");
  Parcel p;
  EXPECT_FALSE(parcel_encode(v.get(), p));
  EXPECT_NE(vt::take_error(), "");
  ASSERT_EQ(vt::exec("del deeper, _x"), "");
}

// ------------------------------------------------------ identity relations --

TEST(ParcelIdentity, SharedAndCyclicContainersKeepPickleSemantics) {
  vt::MainGil gil;
  ASSERT_EQ(vt::exec("shared = [1, 2]\n"
                     "cyc = [0]\ncyc.append(cyc)\n"
                     "dcyc = {}\ndcyc['self'] = dcyc\n"
                     "sd = {'k': 1}\n"
                     "ss = {1, 2}\n"
                     "ba = bytearray(b'x')\n"),
            "");
  struct Case {
    const char* expr;
    const char* check;
  };
  const Case cases[] = {
      {"[shared, shared]", "b[0] is b[1] and b[0] == [1, 2]"},
      {"(shared, [shared])", "b[0] is b[1][0]"},
      {"cyc", "b[1] is b and b[0] == 0"},
      {"dcyc", "b['self'] is b"},
      {"{'a': sd, 'b': (sd,)}", "b['a'] is b['b'][0]"},
      {"[ss, ss]", "b[0] is b[1] and b[0] == {1, 2}"},
      {"[ba, ba]", "b[0] is b[1]"},
      {"[[i] for i in range(500)] + [shared] + [{'i': i} for i in range(500)] + [shared]",
       "b[500] is b[1001] and b[500] is not b[0]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expr);
    Obj v = eval_or_fail(c.expr);
    Parcel p;
    ASSERT_TRUE(parcel_encode(v.get(), p)) << vt::take_error();
    EXPECT_TRUE(p.pickled());
    Obj b(parcel_decode(p));
    ASSERT_TRUE(b) << vt::take_error();
    vt::set_global("b", b.get());
    std::string err;
    EXPECT_TRUE(vt::eval_true(c.check, &err)) << err;
  }
}

// ------------------------------------------------------- parcel semantics --

TEST(ParcelObject, MoveCloneClearAndReuse) {
  vt::MainGil gil;
  Obj small = eval_or_fail("(1, 'a')");
  Obj large = eval_or_fail("list(range(1000))");
  for (PyObject* v : {small.get(), large.get()}) {
    Parcel a;
    ASSERT_TRUE(parcel_encode(v, a));
    std::vector<unsigned char> bytes = bytes_of(a);
    Parcel b(std::move(a));
    EXPECT_TRUE(a.empty());
    EXPECT_EQ(bytes_of(b), bytes);
    Parcel c;
    c = std::move(b);
    EXPECT_TRUE(b.empty());
    Parcel d = c.clone();
    EXPECT_EQ(bytes_of(c), bytes);
    EXPECT_EQ(bytes_of(d), bytes);
    Obj back(parcel_decode(d));
    ASSERT_TRUE(back);
    EXPECT_EQ(PyObject_RichCompareBool(back.get(), v, Py_EQ), 1);
    c.clear();
    EXPECT_TRUE(c.empty());
    EXPECT_EQ(c.byte_size(), 0u);
  }
  // Re-encoding replaces the old contents.
  Parcel p;
  ASSERT_TRUE(parcel_encode(large.get(), p));
  ASSERT_TRUE(parcel_encode(small.get(), p));
  Obj back(parcel_decode(p));
  EXPECT_EQ(PyObject_RichCompareBool(back.get(), small.get(), Py_EQ), 1);
}

TEST(ParcelObject, EmptyParcelDoesNotDecode) {
  vt::MainGil gil;
  Parcel p;
  EXPECT_EQ(parcel_decode(p), nullptr);
  EXPECT_EQ(vt::error_type_name(), "ValueError");
  vt::take_error();
}

TEST(ParcelObject, DecodesAreIndependentCopies) {
  vt::MainGil gil;
  Obj v = eval_or_fail("{'xs': [1, 2]}");
  Parcel p;
  ASSERT_TRUE(parcel_encode(v.get(), p));
  Obj b1(parcel_decode(p));
  Obj b2(parcel_decode(p));
  vt::set_global("b1", b1.get());
  vt::set_global("b2", b2.get());
  ASSERT_EQ(vt::exec("b1['xs'].append(3)"), "");
  EXPECT_TRUE(vt::eval_true("b2 == {'xs': [1, 2]} and b1['xs'] is not b2['xs']"));
}

TEST(ParcelObject, DestroyedOnAnotherThreadWithoutGil) {
  Parcel p;
  {
    vt::MainGil gil;
    Obj v = eval_or_fail("[b'x' * 10000, 'y' * 100]");
    ASSERT_TRUE(parcel_encode(v.get(), p));
  }
  std::thread t([q = std::move(p)]() mutable { q.clear(); });
  t.join();
  EXPECT_TRUE(p.empty());
}

// ----------------------------------------------------------------- handles --

class ParcelHandles : public ::testing::Test {
 protected:
  void SetUp() override { vt::install_test_hooks(); }
  void TearDown() override { vt::remove_test_hooks(); }
};

TEST_F(ParcelHandles, NativeHandlesKeepTheirCownsAlive) {
  std::size_t live_before = CownBase::live_count();
  Parcel p;
  CownBase* raw = nullptr;
  {
    vt::MainGil gil;
    CownRef cown = vt::make_test_cown(7);
    raw = cown.get();
    Obj h(vt::new_handle(cown));
    vt::set_global("h", h.get());
    Obj v = eval_or_fail("[h, {'again': h}, 3]");
    ASSERT_TRUE(parcel_encode(v.get(), p)) << vt::take_error();
    EXPECT_FALSE(p.pickled());
    ASSERT_EQ(p.cowns().size(), 2u);
    EXPECT_EQ(p.cowns()[0].get(), raw);
    ASSERT_EQ(vt::exec("del h"), "");
  }
  // Every handle and the C++ ref are gone: only the parcel keeps the cown.
  EXPECT_EQ(CownBase::live_count(), live_before + 1);
  {
    vt::MainGil gil;
    Obj back(parcel_decode(p));
    ASSERT_TRUE(back) << vt::take_error();
    EXPECT_EQ(vt::handle_cown(PyList_GET_ITEM(back.get(), 0)).get(), raw);
    PyObject* inner = PyDict_GetItemString(PyList_GET_ITEM(back.get(), 1), "again");
    ASSERT_NE(inner, nullptr);
    EXPECT_EQ(vt::handle_cown(inner).get(), raw);
    EXPECT_EQ(static_cast<vt::TestCown*>(raw)->value.load(), 7);
  }
  // Dropping the parcel on a thread that holds no GIL frees the cown.
  std::thread t([q = std::move(p)]() mutable { q.clear(); });
  t.join();
  EXPECT_EQ(CownBase::live_count(), live_before);
}

TEST_F(ParcelHandles, RootHandle) {
  vt::MainGil gil;
  CownRef cown = vt::make_test_cown(1);
  Obj h(vt::new_handle(cown));
  Parcel p;
  ASSERT_TRUE(parcel_encode(h.get(), p));
  EXPECT_FALSE(p.pickled());
  Obj back(parcel_decode(p));
  ASSERT_TRUE(back);
  EXPECT_NE(back.get(), h.get());
  EXPECT_EQ(vt::handle_cown(back.get()), cown);
}

TEST_F(ParcelHandles, HandlesInsidePickledObjects) {
  vt::MainGil gil;
  CownRef c1 = vt::make_test_cown(1);
  CownRef c2 = vt::make_test_cown(2);
  Obj h1(vt::new_handle(c1));
  Obj h2(vt::new_handle(c2));
  vt::set_global("h1", h1.get());
  vt::set_global("h2", h2.get());
  Obj v = eval_or_fail("tm.Box({'first': h1, 'pair': (h2, tm.Point(h1, 5))}, tag='cowns')");
  Parcel p;
  ASSERT_TRUE(parcel_encode(v.get(), p)) << vt::take_error();
  EXPECT_TRUE(p.pickled());
  ASSERT_EQ(p.cowns().size(), 3u);
  Obj back(parcel_decode(p));
  ASSERT_TRUE(back) << vt::take_error();
  vt::set_global("b", back.get());
  ASSERT_TRUE(vt::eval_true("type(b) is tm.Box and b.tag == 'cowns' and b.value['pair'][1].y == 5"));
  Obj first = eval_or_fail("b.value['first']");
  Obj second = eval_or_fail("b.value['pair'][0]");
  Obj third = eval_or_fail("b.value['pair'][1].x");
  EXPECT_EQ(vt::handle_cown(first.get()), c1);
  EXPECT_EQ(vt::handle_cown(second.get()), c2);
  EXPECT_EQ(vt::handle_cown(third.get()), c1);
  ASSERT_EQ(vt::exec("del h1, h2, b"), "");
}

// parcel_encode called from inside a pickling in progress (a __reduce__ that
// encodes): the inner encode gets its own pickler and cown table.
PyObject* nested_round_trip(PyObject*, PyObject* arg) {
  Parcel inner;
  if (!parcel_encode(arg, inner)) return nullptr;
  if (inner.cowns().size() != 1) {
    PyErr_SetString(PyExc_AssertionError, "inner parcel should hold exactly one cown");
    return nullptr;
  }
  return parcel_decode(inner);
}
PyMethodDef kNestedRoundTripDef = {"nested_round_trip", nested_round_trip, METH_O, nullptr};

TEST_F(ParcelHandles, ReentrantEncodeFromReduce) {
  vt::MainGil gil;
  Obj fn(PyCFunction_New(&kNestedRoundTripDef, nullptr));
  vt::set_global("nested_round_trip", fn.get());
  ASSERT_EQ(vt::exec("class Reentrant:\n"
                     "    def __init__(self, inner):\n"
                     "        self.inner = inner\n"
                     "    def __reduce__(self):\n"
                     "        return (tm.Box, (nested_round_trip(self.inner), 'outer'))\n"),
            "");
  CownRef c1 = vt::make_test_cown(1);
  CownRef c2 = vt::make_test_cown(2);
  Obj h1(vt::new_handle(c1));
  Obj h2(vt::new_handle(c2));
  vt::set_global("h1", h1.get());
  vt::set_global("h2", h2.get());
  Obj v = eval_or_fail("[Reentrant(tm.Box(h1)), h2, Reentrant(tm.Box(h2))]");
  Parcel p;
  ASSERT_TRUE(parcel_encode(v.get(), p)) << vt::take_error();
  EXPECT_TRUE(p.pickled());
  ASSERT_EQ(p.cowns().size(), 3u);
  EXPECT_EQ(p.cowns()[0], c1);
  EXPECT_EQ(p.cowns()[1], c2);
  EXPECT_EQ(p.cowns()[2], c2);
  Obj back(parcel_decode(p));
  ASSERT_TRUE(back) << vt::take_error();
  vt::set_global("b", back.get());
  ASSERT_TRUE(vt::eval_true("type(b[0]) is tm.Box and b[0].tag == 'outer' and type(b[0].value) is tm.Box"));
  Obj inner = eval_or_fail("b[0].value.value");
  Obj second = eval_or_fail("b[1]");
  EXPECT_EQ(vt::handle_cown(inner.get()), c1);
  EXPECT_EQ(vt::handle_cown(second.get()), c2);
  // The spare pickler is back in service afterwards.
  Obj again = eval_or_fail("tm.Box(h1)");
  ASSERT_TRUE(parcel_encode(again.get(), p)) << vt::take_error();
  EXPECT_EQ(p.cowns().size(), 1u);
  ASSERT_EQ(vt::exec("del h1, h2, b, Reentrant, nested_round_trip"), "");
}

TEST_F(ParcelHandles, WithoutHooksHandlesCannotCross) {
  vt::MainGil gil;
  CownRef cown = vt::make_test_cown(1);
  Obj h(vt::new_handle(cown));
  Parcel with_handle;
  ASSERT_TRUE(parcel_encode(h.get(), with_handle));
  vt::remove_test_hooks();
  // Encoding: a capsule is then just an unpicklable object.
  Parcel p;
  EXPECT_FALSE(parcel_encode(h.get(), p));
  EXPECT_EQ(vt::error_type_name(), "TypeError");
  vt::take_error();
  // Decoding a parcel that holds a handle needs the wrap hook.
  EXPECT_EQ(parcel_decode(with_handle), nullptr);
  EXPECT_EQ(vt::error_type_name(), "RuntimeError");
  vt::take_error();
}

// Encoding/decoding (also failing ones) must not leak Python objects:
// sys.getallocatedblocks() stays flat over many rounds.
TEST_F(ParcelHandles, NoReferenceLeaks) {
  vt::MainGil gil;
  CownRef cown = vt::make_test_cown(3);
  Obj h(vt::new_handle(cown));
  vt::set_global("h", h.get());
  ASSERT_EQ(
      vt::exec(
          "import fractions, threading, sys, gc\n"
          "_shared = [1]\n"
          "leak_values = [\n"
          "  [1, 2.5, 'x\\u20ac', 2**90, (None, True), {'k': {1, 2}}, frozenset({3}), b'b', bytearray(b'a'), 1j],\n"
          "  {'h': h, 'l': [h]},\n"
          "  tm.Box({'h': h, 'f': fractions.Fraction(1, 7)}),\n"
          "  [_shared, _shared],\n"
          "]\n"
          "leak_failing = [lambda: 1, threading.Lock(), tm.Unpicklable(), [1, lambda: 2]]\n"),
      "");
  if (vt::kHaveMatrix) {
    ASSERT_EQ(vt::exec("from bocpy._math import Matrix\n"
                       "leak_values.append([Matrix(4, 4, 1.5), tm.Box(Matrix(2, 2, 2.0))])\n"),
              "");
  }
  Obj values = eval_or_fail("leak_values");
  Obj failing = eval_or_fail("leak_failing");
  auto round = [&] {
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(values.get()); ++i) {
      Parcel p;
      if (!parcel_encode(PyList_GET_ITEM(values.get(), i), p)) return false;
      Obj b(parcel_decode(p));
      if (!b) return false;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(failing.get()); ++i) {
      Parcel p;
      if (parcel_encode(PyList_GET_ITEM(failing.get(), i), p)) return false;
      PyErr_Clear();
    }
    return true;
  };
  auto blocks = [] {
    Obj n = eval_or_fail("(gc.collect(), sys.getallocatedblocks())[1]");
    return PyLong_AsLongLong(n.get());
  };
  constexpr int kRounds = 3000;
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(round()) << vt::take_error();  // warm caches
  long long before = blocks();
  for (int i = 0; i < kRounds; ++i) ASSERT_TRUE(round()) << vt::take_error();
  long long after = blocks();
  // A leak of even one block per round would show as >= kRounds; caches,
  // free lists and GC generations move the count by a few hundred at most.
  EXPECT_LT(after - before, kRounds / 3) << "before " << before << " after " << after;
  ASSERT_EQ(vt::exec("del h, leak_values, leak_failing, _shared"), "");
}

// ------------------------------------------------------------------ matrix --

TEST(ParcelMatrix, RoundTripAndIdentity) {
  if (!vt::kHaveMatrix) GTEST_SKIP() << "bocpy._math is not built";
  vt::MainGil gil;
  ASSERT_EQ(vt::exec("from bocpy._math import Matrix\n"
                     "m = Matrix(3, 4)\n"
                     "for i in range(3):\n"
                     "    for j in range(4):\n"
                     "        m[i, j] = i * 10 + j + 0.5\n"
                     "m[0, 0] = -0.0\n"),
            "");
  Obj m = eval_or_fail("m");
  Parcel p;
  ASSERT_TRUE(parcel_encode(m.get(), p)) << vt::take_error();
  EXPECT_FALSE(p.pickled());
  // The buffer moves into the parcel's buffer table, not into its bytes.
  EXPECT_EQ(p.buffers().size(), 1u);
  EXPECT_LT(p.byte_size(), 12 * sizeof(double));
  EXPECT_TRUE(vt::eval_true("not m.acquired"));
  Obj b(parcel_decode(p));
  ASSERT_TRUE(b) << vt::take_error();
  vt::set_global("b", b.get());
  std::string err;
  EXPECT_TRUE(
      vt::eval_true("type(b) is Matrix and b is not m and b.shape == m.shape and "
                    "all(b[i, j] == m[i, j] for i in range(3) for j in range(4)) and "
                    "str(b[0, 0]) == '-0.0'",
                    &err))
      << err;
  // Inside containers (native), and shared (pickled through __reduce__, identity kept).
  expect_round_trip("[1, {'m': m}]", false);
  ASSERT_TRUE(vt::eval_true("type(b[1]['m']) is Matrix and b[1]['m'][2, 3] == 23.5", &err)) << err;
  Obj twice = eval_or_fail("[m, m]");
  ASSERT_TRUE(parcel_encode(twice.get(), p)) << vt::take_error();
  EXPECT_TRUE(p.pickled());
  Obj b2(parcel_decode(p));
  ASSERT_TRUE(b2) << vt::take_error();
  vt::set_global("b", b2.get());
  EXPECT_TRUE(vt::eval_true("b[0] is b[1] and b[0][1, 2] == 12.5", &err)) << err;
}

// ------------------------------------------------------- sub-interpreters --

// Pickle must not be touched for native values: a fresh sub-interpreter ends
// with neither the pickle module nor the pickle helpers.
TEST(ParcelSubinterpreter, NativeValuesDoNotTouchPickle) {
  Parcel p;
  {
    vt::MainGil gil;
    Obj v = eval_or_fail("[1, 2.5, (3, 'x'), {'k': [None, True, 2**70]}, {1, 2}, b'z', 1j]");
    ASSERT_TRUE(parcel_encode(v.get(), p));
    ASSERT_FALSE(p.pickled());
  }
  std::string e = vt::run_in_subinterpreter([&] {
    bool pickle_before = vt::eval_true("'pickle' in __import__('sys').modules");
    Obj b(parcel_decode(p));
    ASSERT_TRUE(b) << vt::take_error();
    Parcel again;
    EXPECT_TRUE(parcel_encode(b.get(), again));
    EXPECT_EQ(bytes_of(again), bytes_of(p));
    if (!pickle_before) {
      EXPECT_FALSE(vt::eval_true("'pickle' in __import__('sys').modules"));
    }
    PyObject* state = PyInterpreterState_GetDict(PyInterpreterState_Get());
    ASSERT_NE(state, nullptr);
    EXPECT_EQ(PyDict_GetItemString(state, "boc.values.pickle"), nullptr);
  });
  EXPECT_EQ(e, "");
}

TEST(ParcelSubinterpreter, RoundTripThroughOwnGilInterpreter) {
  vt::install_test_hooks();
  CownRef cown = vt::make_test_cown(42);
  Parcel native, pickled, mat, mat_pickled, out_native, out_pickled, out_mat, failing;
  {
    vt::MainGil gil;
    Obj h(vt::new_handle(cown));
    vt::set_global("h", h.get());
    Obj v1 = eval_or_fail(
        "{'xs': [1, 2, 3], 'name': '\\xe9\\U0001F600\\ud800', 'big': -2**100, 'f': -0.0, "
        "'h': h, 't': (b'raw', bytearray(b'ba'), frozenset({1}))}");
    ASSERT_TRUE(parcel_encode(v1.get(), native)) << vt::take_error();
    ASSERT_FALSE(native.pickled());
    ASSERT_EQ(vt::exec("import fractions"), "");
    Obj v2 = eval_or_fail("tm.Box({'frac': fractions.Fraction(1, 3), 'h': h, 'p': tm.Point(1, 2)})");
    ASSERT_TRUE(parcel_encode(v2.get(), pickled)) << vt::take_error();
    ASSERT_TRUE(pickled.pickled());
    if (vt::kHaveMatrix) {
      ASSERT_EQ(vt::exec("from bocpy._math import Matrix\n"
                         "m = Matrix(2, 2, [1.0, 2.0, 3.0, 4.0])\n"),
                "");
      // A matrix alone (native), one inside a plain instance (native too) and
      // one inside a pickled object (its __reduce__: the Fraction pickles the
      // whole value).
      Obj m = eval_or_fail("[Matrix(2, 2, 0.5), tm.Box(Matrix(1, 3, [5.0, 6.0, 7.0]))]");
      ASSERT_TRUE(parcel_encode(m.get(), mat)) << vt::take_error();
      EXPECT_FALSE(mat.pickled());
      m = eval_or_fail("m");
      ASSERT_TRUE(parcel_encode(m.get(), mat)) << vt::take_error();
      EXPECT_FALSE(mat.pickled());
      m = eval_or_fail("tm.Box(Matrix(1, 3, [5.0, 6.0, 7.0]), tag=fractions.Fraction(1, 2))");
      ASSERT_TRUE(parcel_encode(m.get(), mat_pickled)) << vt::take_error();
      EXPECT_TRUE(mat_pickled.pickled());
    }
    // A class only the main interpreter can import.
    ASSERT_EQ(vt::exec("import sys, types\n"
                       "_mo = types.ModuleType('boc_values_mainonly')\n"
                       "sys.modules['boc_values_mainonly'] = _mo\n"
                       "exec('class Local:\\n    pass\\n', _mo.__dict__)\n"),
              "");
    Obj local = eval_or_fail("sys.modules['boc_values_mainonly'].Local()");
    ASSERT_TRUE(parcel_encode(local.get(), failing)) << vt::take_error();
    ASSERT_EQ(vt::exec("del h"), "");
  }

  std::string e = vt::run_in_subinterpreter([&] {
    Obj a(parcel_decode(native));
    ASSERT_TRUE(a) << vt::take_error();
    vt::set_global("a", a.get());
    std::string err;
    ASSERT_EQ(vt::exec("assert a['xs'] == [1, 2, 3] and a['name'] == '\\xe9\\U0001F600\\ud800'\n"
                       "assert a['big'] == -2**100 and str(a['f']) == '-0.0'\n"
                       "assert a['t'] == (b'raw', bytearray(b'ba'), frozenset({1}))\n"
                       "a['xs'].append(4)\n"
                       "a['sub'] = 'from sub'\n"),
              "");
    EXPECT_EQ(vt::handle_cown(PyDict_GetItemString(a.get(), "h")), cown);
    ASSERT_TRUE(parcel_encode(a.get(), out_native)) << vt::take_error();

    Obj b(parcel_decode(pickled));
    ASSERT_TRUE(b) << vt::take_error();
    vt::set_global("b", b.get());
    ASSERT_EQ(vt::exec("import fractions\n"
                       "assert type(b) is tm.Box and b.value['frac'] == fractions.Fraction(1, 3)\n"
                       "assert type(b.value['p']) is tm.Point\n"
                       "b.tag = 'changed in sub'\n"
                       "b.value['frac'] *= 3\n"),
              "");
    Obj value(PyObject_GetAttrString(b.get(), "value"));
    ASSERT_TRUE(value) << vt::take_error();
    EXPECT_EQ(vt::handle_cown(PyDict_GetItemString(value.get(), "h")), cown);
    ASSERT_TRUE(parcel_encode(b.get(), out_pickled)) << vt::take_error();

    if (vt::kHaveMatrix) {
      Obj m(parcel_decode(mat));
      ASSERT_TRUE(m) << vt::take_error();
      vt::set_global("m", m.get());
      ASSERT_EQ(vt::exec("from bocpy._math import Matrix\n"
                         "assert type(m) is Matrix and m[1, 1] == 4.0\n"
                         "m[0, 0] = 100.0\n"),
                "");
      ASSERT_TRUE(parcel_encode(m.get(), out_mat)) << vt::take_error();
      Obj boxed(parcel_decode(mat_pickled));
      ASSERT_TRUE(boxed) << vt::take_error();
      vt::set_global("boxed", boxed.get());
      EXPECT_TRUE(vt::eval_true("type(boxed.value) is Matrix and boxed.value[0, 2] == 7.0", &err)) << err;
    }

    // Decoding a class this interpreter cannot import raises here, no crash.
    EXPECT_EQ(parcel_decode(failing), nullptr);
    EXPECT_EQ(vt::error_type_name(), "ModuleNotFoundError");
    vt::take_error();
    ASSERT_EQ(vt::exec("del a, b"), "");
  });
  ASSERT_EQ(e, "");

  {
    vt::MainGil gil;
    Obj a(parcel_decode(out_native));
    ASSERT_TRUE(a) << vt::take_error();
    vt::set_global("a", a.get());
    std::string err;
    EXPECT_TRUE(
        vt::eval_true("a['xs'] == [1, 2, 3, 4] and a['sub'] == 'from sub' and "
                      "a['name'] == '\\xe9\\U0001F600\\ud800' and a['big'] == -2**100",
                      &err))
        << err;
    EXPECT_EQ(vt::handle_cown(PyDict_GetItemString(a.get(), "h")), cown);
    Obj b(parcel_decode(out_pickled));
    ASSERT_TRUE(b) << vt::take_error();
    vt::set_global("b", b.get());
    EXPECT_TRUE(vt::eval_true("type(b) is tm.Box and b.tag == 'changed in sub' and b.value['frac'] == 1", &err)) << err;
    if (vt::kHaveMatrix) {
      Obj m(parcel_decode(out_mat));
      ASSERT_TRUE(m) << vt::take_error();
      vt::set_global("m2", m.get());
      // The buffer moved (main -> sub -> main), so main's original object
      // sees the sub-interpreter's write once it is back.
      EXPECT_TRUE(
          vt::eval_true("type(m2) is Matrix and m2[0, 0] == 100.0 and m2[1, 0] == 3.0 and "
                        "m.acquired and m[0, 0] == 100.0",
                        &err))
          << err;
    }
    ASSERT_EQ(vt::exec("del a, b"), "");
  }
  vt::remove_test_hooks();
}

TEST(ParcelSubinterpreter, ConcurrentDecodesOfOneParcel) {
  vt::install_test_hooks();
  CownRef cown = vt::make_test_cown(5);
  Parcel native, pickled;
  {
    vt::MainGil gil;
    Obj h(vt::new_handle(cown));
    vt::set_global("h", h.get());
    Obj v1 = eval_or_fail("[list(range(50)), {'s': 'x' * 100, 'h': h}]");
    Obj v2 = eval_or_fail("tm.Box([h, 1.5, tm.Point(1, 2)])");
    ASSERT_TRUE(parcel_encode(v1.get(), native));
    ASSERT_TRUE(parcel_encode(v2.get(), pickled));
    ASSERT_EQ(vt::exec("del h"), "");
  }
  constexpr int kThreads = 3;
  std::atomic<int> good{0};
  std::string e = vt::run_in_subinterpreters(kThreads, [&](int) {
    int ok = 0;
    for (int i = 0; i < 300; ++i) {
      Obj a(parcel_decode(native));
      Obj b(parcel_decode(pickled));
      if (!a || !b) {
        ADD_FAILURE() << vt::take_error();
        return;
      }
      Parcel again;
      if (parcel_encode(b.get(), again) && again.cowns().size() == 1 && again.cowns()[0] == cown) ++ok;
    }
    good += ok;
  });
  EXPECT_EQ(e, "");
  EXPECT_EQ(good.load(), kThreads * 300);
  vt::remove_test_hooks();
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new PythonEnvironment);
  return RUN_ALL_TESTS();
}
