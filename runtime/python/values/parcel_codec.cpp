// parcel_encode / parcel_decode: the native encoder and decoder of the parcel
// format (parcel_format.h), falling back to pickle for everything else.
#include <cstring>
#include <exception>
#include <new>
#include <string_view>
#include <vector>

#include "class_cache.h"
#include "handle_hooks.h"
#include "identity_set.h"
#include "native_class.h"
#include "parcel.h"
#include "parcel_format.h"
#include "pickle_fallback.h"
#include "plain_class.h"
#include "xidata_slot.h"

#ifdef BOC_VALUES_WITH_MATRIX
#include "matrix_transport.h"
#endif

namespace boc::py {
namespace detail {
namespace {

enum class Status { kOk, kFallback, kError };

constexpr std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
constexpr std::int64_t unzigzag(std::uint64_t v) noexcept {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// Owns one strong reference until scope exit (also on a bad_alloc unwind).
// Items of mutable containers are held while they are encoded.
class Owned {
 public:
  explicit Owned(PyObject* adopted) noexcept : o_(adopted) {}
  ~Owned() { Py_XDECREF(o_); }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  PyObject* get() const noexcept { return o_; }

 private:
  PyObject* o_;
};

// ---------------------------------------------------------------- encoder --

class Encoder {
 public:
  Encoder(ParcelWriter& w, XIDataTaker& xidata) noexcept : w_(w), xidata_(xidata) {}

  Status encode(PyObject* o, int depth) {
    PyTypeObject* t = Py_TYPE(o);
    if (t == &PyLong_Type) return encode_int(o);
    if (t == &PyFloat_Type) {
      double d = PyFloat_AS_DOUBLE(o);
      std::byte* p = w_.reserve(1 + sizeof d);
      p[0] = static_cast<std::byte>(kFloat);
      std::memcpy(p + 1, &d, sizeof d);
      w_.commit(1 + sizeof d);
      return Status::kOk;
    }
    if (o == Py_None) return put(kNone);
    if (t == &PyBool_Type) return put(o == Py_True ? kTrue : kFalse);
    if (t == &PyUnicode_Type) return encode_str(o);
    if (t == &PyTuple_Type) return encode_tuple(o, depth);
    if (t == &PyList_Type) return encode_list(o, depth);
    if (t == &PyDict_Type) return encode_dict(o, depth);
    if (t == &PyBytes_Type) return encode_bytes(kBytes, PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o));
    if (t == &PyByteArray_Type) {
      if (!seen_.insert(o)) return Status::kFallback;
      return encode_bytes(kByteArray, PyByteArray_AS_STRING(o), PyByteArray_GET_SIZE(o));
    }
    if (t == &PyComplex_Type) {
      Py_complex c = reinterpret_cast<PyComplexObject*>(o)->cval;
      std::byte* p = w_.reserve(1 + 2 * sizeof(double));
      p[0] = static_cast<std::byte>(kComplex);
      std::memcpy(p + 1, &c.real, sizeof(double));
      std::memcpy(p + 1 + sizeof(double), &c.imag, sizeof(double));
      w_.commit(1 + 2 * sizeof(double));
      return Status::kOk;
    }
    if (t == &PySet_Type) {
      if (!seen_.insert(o)) return Status::kFallback;
      return encode_set(kSet, o, depth);
    }
    if (t == &PyFrozenSet_Type) return encode_set(kFrozenSet, o, depth);
    return encode_other(o, depth);
  }

 private:
  Status put(Tag tag) {
    w_.put_tag(tag);
    return Status::kOk;
  }

  Status encode_int(PyObject* o) {
    auto* l = reinterpret_cast<PyLongObject*>(o);
    if (PyUnstable_Long_IsCompact(l)) {
      w_.put_tag_varint(kInt, zigzag(static_cast<std::int64_t>(PyUnstable_Long_CompactValue(l))));
      return Status::kOk;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow == 0) {
      if (v == -1 && PyErr_Occurred()) return Status::kError;
      w_.put_tag_varint(kInt, zigzag(static_cast<std::int64_t>(v)));
      return Status::kOk;
    }
#if PY_VERSION_HEX >= 0x030D0000
    constexpr int kFlags = Py_ASNATIVEBYTES_LITTLE_ENDIAN;
    Py_ssize_t n = PyLong_AsNativeBytes(o, nullptr, 0, kFlags);
    if (n < 0) return Status::kError;
    w_.put_tag_varint(kBigInt, static_cast<std::uint64_t>(n));
    std::byte* p = w_.reserve(static_cast<std::size_t>(n));
    Py_ssize_t written = PyLong_AsNativeBytes(o, p, n, kFlags);
    if (written < 0) return Status::kError;
    if (written > n) {
      PyErr_SetString(PyExc_SystemError, "parcel: int size changed while encoding");
      return Status::kError;
    }
#else
    std::int64_t bits = _PyLong_NumBits(o);
    if (bits < 0) return Status::kError;
    auto n = static_cast<Py_ssize_t>(bits / 8 + 1);  // + room for the sign bit
    w_.put_tag_varint(kBigInt, static_cast<std::uint64_t>(n));
    std::byte* p = w_.reserve(static_cast<std::size_t>(n));
    if (_PyLong_AsByteArray(l, reinterpret_cast<unsigned char*>(p), static_cast<std::size_t>(n), 1, 1) < 0) {
      return Status::kError;
    }
#endif
    w_.commit(static_cast<std::size_t>(n));
    return Status::kOk;
  }

  Status encode_str(PyObject* o) {
    Py_ssize_t len = PyUnicode_GET_LENGTH(o);
    int kind = PyUnicode_KIND(o);
    Tag tag = kind == PyUnicode_1BYTE_KIND   ? (PyUnicode_IS_ASCII(o) ? kStrAscii : kStrLatin1)
              : kind == PyUnicode_2BYTE_KIND ? kStrUcs2
                                             : kStrUcs4;
    w_.put_tag_varint(tag, static_cast<std::uint64_t>(len));
    w_.put_raw(PyUnicode_DATA(o), static_cast<std::size_t>(len) * static_cast<std::size_t>(kind));
    return Status::kOk;
  }

  Status encode_bytes(Tag tag, const char* data, Py_ssize_t len) {
    w_.put_tag_varint(tag, static_cast<std::uint64_t>(len));
    w_.put_raw(data, static_cast<std::size_t>(len));
    return Status::kOk;
  }

  Status encode_tuple(PyObject* o, int depth) {
    if (depth >= kMaxNativeDepth) return Status::kFallback;
    Py_ssize_t n = PyTuple_GET_SIZE(o);
    w_.put_tag_varint(kTuple, static_cast<std::uint64_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
      Status s = encode(PyTuple_GET_ITEM(o, i), depth + 1);
      if (s != Status::kOk) return s;
    }
    return Status::kOk;
  }

  Status encode_list(PyObject* o, int depth) {
    if (depth >= kMaxNativeDepth) return Status::kFallback;
    if (!seen_.insert(o)) return Status::kFallback;
    Py_ssize_t n = PyList_GET_SIZE(o);
    w_.put_tag_varint(kList, static_cast<std::uint64_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
      if (i >= PyList_GET_SIZE(o)) return changed_size("list");
      Owned item(Py_NewRef(PyList_GET_ITEM(o, i)));
      Status s = encode(item.get(), depth + 1);
      if (s != Status::kOk) return s;
    }
    if (PyList_GET_SIZE(o) != n) return changed_size("list");
    return Status::kOk;
  }

  Status encode_dict(PyObject* o, int depth) {
    if (depth >= kMaxNativeDepth) return Status::kFallback;
    if (!seen_.insert(o)) return Status::kFallback;
    Py_ssize_t n = PyDict_GET_SIZE(o);
    w_.put_tag_varint(kDict, static_cast<std::uint64_t>(n));
    Py_ssize_t pos = 0, count = 0;
    PyObject *key, *value;
    while (PyDict_Next(o, &pos, &key, &value)) {
      if (++count > n) return changed_size("dict");
      Owned k(Py_NewRef(key)), v(Py_NewRef(value));
      Status s = encode(k.get(), depth + 1);
      if (s != Status::kOk) return s;
      s = encode(v.get(), depth + 1);
      if (s != Status::kOk) return s;
    }
    if (count != n) return changed_size("dict");
    return Status::kOk;
  }

  Status encode_set(Tag tag, PyObject* o, int depth) {
    if (depth >= kMaxNativeDepth) return Status::kFallback;
    Py_ssize_t n = PySet_GET_SIZE(o);
    w_.put_tag_varint(tag, static_cast<std::uint64_t>(n));
    if (n == 0) return Status::kOk;
    Owned it(PyObject_GetIter(o));
    if (!it.get()) return Status::kError;
    Py_ssize_t count = 0;
    while (true) {
      Owned item(PyIter_Next(it.get()));
      if (!item.get()) break;
      if (++count > n) return changed_size("set");
      Status s = encode(item.get(), depth + 1);
      if (s != Status::kOk) return s;
    }
    if (PyErr_Occurred()) return Status::kError;
    if (count != n) return changed_size("set");
    return Status::kOk;
  }

  Status encode_other(PyObject* o, int depth) {
#ifdef BOC_VALUES_WITH_MATRIX
    if (matrix_check(o)) {
      if (!seen_.insert(o)) return Status::kFallback;
      // O(1) whatever the size: the parcel shares the buffer; the sender
      // gives it up only when the whole value encoded (parcel_encode).
      std::shared_ptr<void> store = matrix_share(o);
      if (!store) return Status::kError;
      ParcelBuffers& buffers = w_.buffers();
      buffers.push_back(std::move(store));
      w_.put_tag_varint(kMatrix, buffers.size() - 1);
      return Status::kOk;
    }
#endif
    CownRef cown = unwrap_handle(o);
    if (cown) {
      ParcelCowns& cowns = w_.cowns();
      cowns.push_back(std::move(cown));
      w_.put_tag_varint(kCown, cowns.size() - 1);
      return Status::kOk;
    }
    if (PyErr_Occurred()) return Status::kError;
    if (plain_class(Py_TYPE(o))) return encode_object(o, depth);
    // A registered type crosses by its XIData (bocpy's C ABI); its getdata
    // runs once the whole value encoded (parcel_encode).
    if (xidata_registered(o)) {
      w_.put_tag_varint(kXIData, xidata_.note(o));
      return Status::kOk;
    }
    return Status::kFallback;
  }

  // An instance of a plain class (plain_class.h): what pickle would carry,
  // the class by reference and the instance __dict__, without pickle's
  // machinery. Anything unusual falls back so pickle decides.
  Status encode_object(PyObject* o, int depth) {
    if (depth >= kMaxNativeDepth) return Status::kFallback;
    PyTypeObject* t = Py_TYPE(o);
    PyObject* module = native_class_module(t);  // borrowed
    if (module == nullptr) return PyErr_Occurred() ? Status::kError : Status::kFallback;
    if (!seen_.insert(o)) return Status::kFallback;  // shared or cyclic: pickle keeps identity
    Py_ssize_t mlen = 0, qlen = 0;
    const char* m = PyUnicode_AsUTF8AndSize(module, &mlen);
    if (m == nullptr) return Status::kError;
    const char* q = PyUnicode_AsUTF8AndSize(reinterpret_cast<PyHeapTypeObject*>(t)->ht_qualname, &qlen);
    if (q == nullptr) return Status::kError;
    Owned dict(PyObject_GenericGetDict(o, nullptr));
    if (!dict.get()) return Status::kError;
    if (!PyDict_CheckExact(dict.get()) || !seen_.insert(dict.get())) return Status::kFallback;
    w_.put_tag_varint(kObject, static_cast<std::uint64_t>(mlen));
    w_.put_raw(m, static_cast<std::size_t>(mlen));
    w_.put_varint(static_cast<std::uint64_t>(qlen));
    w_.put_raw(q, static_cast<std::size_t>(qlen));
    const Py_ssize_t n = PyDict_GET_SIZE(dict.get());
    w_.put_varint(static_cast<std::uint64_t>(n));
    Py_ssize_t pos = 0, count = 0;
    PyObject *key, *value;
    while (PyDict_Next(dict.get(), &pos, &key, &value)) {
      if (++count > n) return changed_size("instance __dict__");
      // pickle honours a hook stored on the instance (e.g. self.__reduce_ex__):
      // leave dunder names to it.
      if (!PyUnicode_CheckExact(key)) return Status::kFallback;
      const Py_ssize_t klen = PyUnicode_GET_LENGTH(key);
      if (klen >= 4 && PyUnicode_READ_CHAR(key, 0) == '_' && PyUnicode_READ_CHAR(key, 1) == '_' &&
          PyUnicode_READ_CHAR(key, klen - 1) == '_' && PyUnicode_READ_CHAR(key, klen - 2) == '_') {
        return Status::kFallback;
      }
      Owned k(Py_NewRef(key)), v(Py_NewRef(value));
      Status s = encode_str(k.get());
      if (s != Status::kOk) return s;
      s = encode(v.get(), depth + 1);
      if (s != Status::kOk) return s;
    }
    if (count != n) return changed_size("instance __dict__");
    return Status::kOk;
  }

  static Status changed_size(const char* what) {
    PyErr_Format(PyExc_RuntimeError, "%s changed size while it was being encoded", what);
    return Status::kError;
  }

  ParcelWriter& w_;
  XIDataTaker& xidata_;
  IdentitySet seen_;
};

// ---------------------------------------------------------------- decoder --

class Decoder {
 public:
  explicit Decoder(const Parcel& p) noexcept : r_(p), xidata_(r_.xidata()) {}

  bool at_end() const noexcept { return r_.at_end(); }

  PyObject* decode(int depth) {
    std::uint8_t tag;
    if (!r_.get_tag(tag)) return corrupt();
    switch (tag) {
      case kNone: return Py_NewRef(Py_None);
      case kFalse: return Py_NewRef(Py_False);
      case kTrue: return Py_NewRef(Py_True);
      case kInt: {
        std::uint64_t v;
        if (!r_.get_varint(v)) return corrupt();
        return PyLong_FromLongLong(unzigzag(v));
      }
      case kBigInt: return decode_big_int();
      case kFloat: {
        const std::byte* p = r_.get_raw(sizeof(double));
        if (!p) return corrupt();
        double d;
        std::memcpy(&d, p, sizeof d);
        return PyFloat_FromDouble(d);
      }
      case kComplex: {
        const std::byte* p = r_.get_raw(2 * sizeof(double));
        if (!p) return corrupt();
        Py_complex c;
        std::memcpy(&c.real, p, sizeof(double));
        std::memcpy(&c.imag, p + sizeof(double), sizeof(double));
        return PyComplex_FromCComplex(c);
      }
      case kStrAscii: return decode_str(1, 0x7F);
      case kStrLatin1: return decode_str(1, 0xFF);
      case kStrUcs2: return decode_str(2, 0xFFFF);
      case kStrUcs4: return decode_str(4, 0x10FFFF);
      case kBytes:
      case kByteArray: {
        std::size_t n;
        if (!r_.get_count(n, 1)) return corrupt();
        const auto* p = reinterpret_cast<const char*>(r_.get_raw(n));
        auto len = static_cast<Py_ssize_t>(n);
        return tag == kBytes ? PyBytes_FromStringAndSize(p, len) : PyByteArray_FromStringAndSize(p, len);
      }
      case kTuple: return decode_sequence(true, depth);
      case kList: return decode_sequence(false, depth);
      case kDict: return decode_dict(depth);
      case kSet:
      case kFrozenSet: return decode_set(tag == kFrozenSet, depth);
      case kMatrix: return decode_matrix();
      case kCown: {
        std::uint64_t index;
        if (!r_.get_varint(index) || index >= r_.cowns().size()) return corrupt();
        return wrap_handle(r_.cowns()[static_cast<std::size_t>(index)]);
      }
      case kObject: return decode_object(depth);
      case kXIData: {
        std::uint64_t index;
        if (!r_.get_varint(index)) return corrupt();
        return xidata_.get(index);
      }
      case kPickle: {
        std::size_t n;
        if (!r_.get_count(n, 1)) return corrupt();
        return pickle_decode(r_.get_raw(n), n, r_.cowns(), xidata_);
      }
      default: return corrupt();
    }
  }

 private:
  static PyObject* corrupt() {
    PyErr_SetString(PyExc_ValueError, "parcel: corrupt or truncated encoding");
    return nullptr;
  }

  PyObject* decode_big_int() {
    std::size_t n;
    if (!r_.get_count(n, 1)) return corrupt();
    const std::byte* p = r_.get_raw(n);
#if PY_VERSION_HEX >= 0x030D0000
    return PyLong_FromNativeBytes(p, n, Py_ASNATIVEBYTES_LITTLE_ENDIAN);
#else
    return _PyLong_FromByteArray(reinterpret_cast<const unsigned char*>(p), n, 1, 1);
#endif
  }

  PyObject* decode_str(std::size_t unit, Py_UCS4 maxchar) {
    std::size_t len;
    if (!r_.get_count(len, unit)) return corrupt();
    const std::byte* p = r_.get_raw(len * unit);
    PyObject* s = PyUnicode_New(static_cast<Py_ssize_t>(len), maxchar);
    if (!s) return nullptr;
    if (len != 0) std::memcpy(PyUnicode_DATA(s), p, len * unit);
    return s;
  }

  PyObject* decode_sequence(bool tuple, int depth) {
    std::size_t n;
    if (depth > kMaxNativeDepth || !r_.get_count(n, 1)) return corrupt();
    auto len = static_cast<Py_ssize_t>(n);
    PyObject* seq = tuple ? PyTuple_New(len) : PyList_New(len);
    if (!seq) return nullptr;
    for (Py_ssize_t i = 0; i < len; ++i) {
      PyObject* item = decode(depth + 1);
      if (!item) {
        Py_DECREF(seq);
        return nullptr;
      }
      if (tuple) {
        PyTuple_SET_ITEM(seq, i, item);
      } else {
        PyList_SET_ITEM(seq, i, item);
      }
    }
    return seq;
  }

  PyObject* decode_dict(int depth) {
    std::size_t n;
    if (depth > kMaxNativeDepth || !r_.get_count(n, 2)) return corrupt();
    PyObject* d = PyDict_New();
    if (!d) return nullptr;
    for (std::size_t i = 0; i < n; ++i) {
      PyObject* k = decode(depth + 1);
      if (!k) {
        Py_DECREF(d);
        return nullptr;
      }
      PyObject* v = decode(depth + 1);
      int rc = v ? PyDict_SetItem(d, k, v) : -1;
      Py_DECREF(k);
      Py_XDECREF(v);
      if (rc < 0) {
        Py_DECREF(d);
        return nullptr;
      }
    }
    return d;
  }

  PyObject* decode_set(bool frozen, int depth) {
    std::size_t n;
    if (depth > kMaxNativeDepth || !r_.get_count(n, 1)) return corrupt();
    // A brand-new frozenset may be filled with PySet_Add before it is shared.
    PyObject* s = frozen ? PyFrozenSet_New(nullptr) : PySet_New(nullptr);
    if (!s) return nullptr;
    for (std::size_t i = 0; i < n; ++i) {
      PyObject* item = decode(depth + 1);
      int rc = item ? PySet_Add(s, item) : -1;
      Py_XDECREF(item);
      if (rc < 0) {
        Py_DECREF(s);
        return nullptr;
      }
    }
    return s;
  }

  PyObject* decode_object(int depth) {
    std::size_t mlen, qlen, n;
    if (depth > kMaxNativeDepth || !r_.get_count(mlen, 1)) return corrupt();
    const auto* m = reinterpret_cast<const char*>(r_.get_raw(mlen));
    if (!r_.get_count(qlen, 1)) return corrupt();
    const auto* q = reinterpret_cast<const char*>(r_.get_raw(qlen));
    if (!r_.get_count(n, 2)) return corrupt();
    if (cache_ == nullptr && (cache_ = class_cache()) == nullptr) return nullptr;
    // Held for the whole instance: decoding a value may evict it from the cache.
    std::shared_ptr<ClassShape> shape = cache_->shape(std::string_view(m, mlen), std::string_view(q, qlen));
    if (!shape) return nullptr;
    Owned cls(find_class(shape->module, shape->qualname));
    if (!cls.get()) return nullptr;
    // Names and values of the state; small instances stay on the stack.
    constexpr std::size_t kInline = 16;
    PyObject* inline_items[2 * kInline];
    std::vector<PyObject*> heap_items;
    PyObject** items = inline_items;
    if (n > kInline) {
      heap_items.resize(2 * n);
      items = heap_items.data();
    }
    PyObject** names = items;
    PyObject** values = items + n;
    std::size_t done = 0;
    PyObject* inst = nullptr;
    for (; done < n; ++done) {
      PyObject* k = decode_name(*shape, done, depth);
      if (k == nullptr) break;
      PyObject* v = decode(depth + 1);
      if (v == nullptr) {
        Py_DECREF(k);
        break;
      }
      names[done] = k;
      values[done] = v;
    }
    if (done == n) inst = build_instance(cls.get(), names, values, static_cast<Py_ssize_t>(n));
    for (std::size_t i = 0; i < done; ++i) {
      Py_DECREF(names[i]);
      Py_DECREF(values[i]);
    }
    return inst;
  }

  // The index-th attribute name of an instance of shape's class: the cached
  // interned str when the parcel holds the same one, else decoded, interned
  // (as pickle's BUILD does with state keys) and remembered.
  PyObject* decode_name(ClassShape& shape, std::size_t index, int depth) {
    const std::byte* at = r_.position();
    std::uint8_t tag;
    std::size_t len;
    if (r_.get_tag(tag) && tag >= kStrAscii && tag <= kStrUcs4) {
      const int kind = tag <= kStrLatin1 ? 1 : tag == kStrUcs2 ? 2 : 4;
      if (r_.get_count(len, static_cast<std::size_t>(kind))) {
        const std::byte* data = r_.get_raw(len * static_cast<std::size_t>(kind));
        if (PyObject* hit = shape.name_if_equal(index, kind, tag == kStrAscii, data, len)) return hit;
      }
    }
    r_.rewind(at);
    PyObject* k = decode(depth + 1);
    if (k != nullptr && !PyUnicode_CheckExact(k)) {
      Py_DECREF(k);
      return corrupt();
    }
    if (k == nullptr) return nullptr;
    PyUnicode_InternInPlace(&k);
    shape.remember_name(index, k);
    return k;
  }

  PyObject* decode_matrix() {
    std::uint64_t index;
    if (!r_.get_varint(index) || index >= r_.buffers().size()) return corrupt();
#ifdef BOC_VALUES_WITH_MATRIX
    const std::shared_ptr<void>& store = r_.buffers()[static_cast<std::size_t>(index)];
    PyObject* m = matrix_adopt(store);
    if (m != nullptr) adopted_.push_back(&store);
    return m;
#else
    PyErr_SetString(PyExc_RuntimeError, "parcel holds a Matrix but boc_values was built without bocpy._math");
    return nullptr;
#endif
  }

  ParcelReader r_;
  XIDataMemo xidata_;
  ClassCache* cache_ = nullptr;  // the interpreter's, looked up on the first instance

 public:
  /// Hands back the buffers and registered-type objects this decode claimed
  /// (it failed: the value is dropped, so they are in flight again for a
  /// later decode).
  void unclaim() noexcept {
    xidata_.unclaim();
#ifdef BOC_VALUES_WITH_MATRIX
    for (const std::shared_ptr<void>* store : adopted_) matrix_unadopt(*store);
#endif
    adopted_.clear();
  }

 private:
  std::vector<const std::shared_ptr<void>*> adopted_;
};

}  // namespace
}  // namespace detail

bool parcel_encode(PyObject* obj, Parcel& out) {
  detail::ParcelWriter w(out);
  w.reset();
  try {
    detail::Status s;
    {
      detail::XIDataTaker xidata(w.xidata());
      {
        detail::Encoder enc(w, xidata);
        s = enc.encode(obj, 0);
      }
      // The value is complete: its registered-type objects hand their
      // XIData over first (a failing getdata leaves the matrices owned).
      if (s == detail::Status::kOk && !xidata.take_noted()) s = detail::Status::kError;
    }
    if (s == detail::Status::kOk) {
#ifdef BOC_VALUES_WITH_MATRIX
      // Then its matrices belong to the parcel.
      for (const std::shared_ptr<void>& store : out.buffers()) matrix_release(store);
#endif
      return true;
    }
    if (s == detail::Status::kFallback) {
      w.reset();
      detail::XIDataTaker xidata(w.xidata());
      if (detail::pickle_encode(obj, w, xidata) && xidata.take_noted()) return true;
    }
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  out.clear();
  return false;
}

PyObject* parcel_decode(const Parcel& parcel) {
  if (parcel.empty()) {
    PyErr_SetString(PyExc_ValueError, "parcel: cannot decode an empty parcel");
    return nullptr;
  }
  try {
    detail::Decoder dec(parcel);
    PyObject* obj = dec.decode(0);
    if (obj && !dec.at_end()) {
      Py_DECREF(obj);
      obj = nullptr;
      PyErr_SetString(PyExc_ValueError, "parcel: trailing bytes after the value");
    }
    if (obj == nullptr) dec.unclaim();
    return obj;
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    return nullptr;
  }
}

}  // namespace boc::py
