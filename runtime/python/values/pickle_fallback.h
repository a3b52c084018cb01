// The pickle (protocol 5) path of parcels, with cown handles carried in the
// parcel's cown table through persistent_id / persistent_load. Internal to
// boc_values.
#pragma once

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

#include <cstddef>
#include <vector>

#include "parcel_format.h"
#include "xidata_slot.h"

namespace boc::py::detail {

/// Appends a kPickle record for obj to w (GIL held). Handles reached inside obj
/// are appended to w.cowns(); their persistent ids are table indices.
/// Registered-type objects are noted in xidata (the caller takes them once
/// the record is written); their persistent ids are -1 - index.
/// False + Python exception on failure (whatever pickle raised).
bool pickle_encode(PyObject* obj, ParcelWriter& w, XIDataTaker& xidata);

/// Unpickles data (the payload of a kPickle record) in the current interpreter,
/// resolving persistent ids through cowns and xidata. New reference, or
/// nullptr + error.
PyObject* pickle_decode(const std::byte* data, std::size_t size, const ParcelCowns& cowns, XIDataMemo& xidata);

/// The unpickler's find_class(module, name) in the current interpreter (new
/// reference), with its own errors (plain_class.cpp's slow path).
PyObject* pickle_find_class(PyObject* module, PyObject* name);

/// copyreg.dispatch_table of the current interpreter (new reference).
PyObject* pickle_dispatch_table();

}  // namespace boc::py::detail
