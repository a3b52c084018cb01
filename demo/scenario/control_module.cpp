// `boids_scenario`: what a scenario script (scenario.h) can do. At module level, once:
//
//   setup(description=, name=, boids=, seed=, size=(w, h), frames=, workers=, script=,
//         deadline_ms=, max_behaviors=, watchdog_ms=, dispatch=)
//
// Inside on_frame(frame), each taking effect in this frame (before its pump()) and logged:
//
//   pause_pump(bool)   pause_sim(bool)   step()   clear_errors()   note(text)
//   stall_ms(n)        every frame from now on (0 = off); stall_once(n): this frame only
//   dispatch("coarse" | "per_item")
//   set_knob(name, value)   deadline_ms, max_behaviors, watchdog_ms (None: unbounded / off),
//                      wait_poll_ms, boids (resets the flock), cohesion, alignment, separation,
//                      neighbour_radius, separation_radius, min_speed, max_speed, bounds_margin,
//                      bounds_turn
//   screenshot()       writes this frame as <screenshot-dir>/<name>_f<frame>.png
#include <cmath>
#include <filesystem>
#include <limits>

#include "py_ref.h"
#include "scenario/scenario.h"

namespace boc::demo {

namespace {

using State = ScenarioRunner::State;
using J = nlohmann::ordered_json;
State* g_state = nullptr;  // the one scenario of the process

std::string repr(PyObject* v)
{
    boc::py::PyRef r(PyObject_Repr(v));
    return r ? boc::py::utf8_of(r.get()) : "?";
}

std::nullptr_t raise(const std::string& what, const std::string& expected, PyObject* got)
{
    PyErr_SetString(PyExc_ValueError, (what + ": expected " + expected + ", got " + repr(got)).c_str());
    return nullptr;
}

bool is_number(PyObject* v)
{
    return !PyBool_Check(v) && (PyLong_Check(v) || PyFloat_Check(v));
}

// v in [lo, hi] (an int when `integral`); false with a ValueError naming `what`.
bool number(PyObject* v, const std::string& what, double lo, double hi, double& out, bool integral = false)
{
    const bool ok = integral ? !PyBool_Check(v) && PyLong_Check(v) : is_number(v);
    out = ok ? PyFloat_AsDouble(v) : 0.0;
    if (ok && std::isfinite(out) && out >= lo && out <= hi)
        return true;
    char range[96];
    std::snprintf(range, sizeof(range), "%s in [%.15g, %.15g]", integral ? "an integer" : "a number", lo, hi);
    raise(what, range, v);
    return false;
}

J json_of(PyObject* v)
{
    if (v == Py_None)
        return J();
    if (PyBool_Check(v))
        return v == Py_True;
    if (PyLong_Check(v))
        return PyLong_AsLongLong(v);
    if (PyFloat_Check(v))
        return PyFloat_AsDouble(v);
    return boc::py::utf8_of(v);
}

// The frame's controls, or nullptr with a RuntimeError outside on_frame.
DemoControls* controls(const char* fn)
{
    if (g_state == nullptr || g_state->controls == nullptr)
        PyErr_Format(PyExc_RuntimeError, "%s() can only be called inside on_frame(frame)", fn);
    return g_state == nullptr ? nullptr : g_state->controls;
}

PyObject* logged(const char* action, PyObject* value = nullptr, const char* knob = nullptr)
{
    J line{{"kind", "action"}, {"frame", g_state->frame}, {"action", action}};
    if (knob != nullptr)
        line["knob"] = knob;
    if (value != nullptr)
        line["value"] = json_of(value);
    g_state->write(line);
    Py_RETURN_NONE;
}

PyObject* flag(PyObject* arg, const char* fn, bool DemoControls::*field)
{
    DemoControls* c = controls(fn);
    if (c == nullptr)
        return nullptr;
    if (!PyBool_Check(arg))
        return raise(fn, "True or False", arg);
    c->*field = arg == Py_True;
    return logged(fn, arg);
}

PyObject* stall(PyObject* arg, const char* fn, int DemoControls::*field)
{
    DemoControls* c = controls(fn);
    double ms = 0.0;
    if (c == nullptr || !number(arg, fn, 0, 60'000, ms, true))
        return nullptr;
    c->*field = static_cast<int>(ms);
    return logged(fn, arg);
}

std::optional<DispatchMode> dispatch_of(PyObject* v, const char* what)
{
    const std::string s = PyUnicode_Check(v) ? boc::py::utf8_of(v) : "";
    if (s == "coarse" || s == "per_item")
        return s == "per_item" ? DispatchMode::kPerItem : DispatchMode::kCoarse;
    raise(what, "'coarse' or 'per_item'", v);
    return std::nullopt;
}

// The pump / watchdog knobs that may be None; writes the options (setup) or the controls.
bool pump_knob(const std::string& knob, PyObject* v, CliOptions* o, DemoControls* c)
{
    const bool none = v == Py_None;
    double d = 0.0;
    if (knob == "deadline_ms")
    {
        if (!none && !number(v, knob, 0, 60'000, d))
            return false;
        if (!none && d <= 0)
            return raise(knob, "a positive number or None", v), false;
        if (o != nullptr)
            o->deadline_ms = none ? std::nullopt : std::optional<double>(d);
        if (c != nullptr && !(c->deadline_unbounded = none))
            c->deadline_ms = static_cast<float>(d);
    }
    else if (knob == "max_behaviors")
    {
        if (!none && !number(v, knob, 1, std::numeric_limits<std::int32_t>::max(), d, true))
            return false;
        if (o != nullptr)
            o->max_behaviors = none ? std::nullopt : std::optional<std::size_t>(static_cast<std::size_t>(d));
        if (c != nullptr && !(c->max_behaviors_unbounded = none))
            c->max_behaviors = static_cast<int>(d);
    }
    else  // watchdog_ms: 0 or None is off
    {
        if (!none && !number(v, knob, 0, 3'600'000, d))
            return false;
        if (o != nullptr)
            o->watchdog_ms = d > 0 ? std::optional<double>(d) : std::nullopt;
        if (c != nullptr)
        {
            if ((c->watchdog_enabled = d > 0))
                c->watchdog_warn_ms = static_cast<float>(d);
            c->watchdog_changed = true;
        }
    }
    return true;
}

PyObject* set_knob(PyObject*, PyObject* args)
{
    const char* name = nullptr;
    PyObject* v = nullptr;
    DemoControls* c = controls("set_knob");
    if (c == nullptr || !PyArg_ParseTuple(args, "sO:set_knob", &name, &v))
        return nullptr;
    const std::string knob = name;
    const std::string what = "set_knob " + knob;
    double d = 0.0;
    FlockParams& f = c->flock;
    const std::pair<const char*, float*> flock[] = {
        {"cohesion", &f.cohesion},         {"alignment", &f.alignment},
        {"separation", &f.separation},     {"neighbour_radius", &f.neighbour_radius},
        {"separation_radius", &f.separation_radius}, {"min_speed", &f.min_speed},
        {"max_speed", &f.max_speed},       {"bounds_margin", &f.bounds_margin},
        {"bounds_turn", &f.bounds_turn}};
    if (knob == "deadline_ms" || knob == "max_behaviors" || knob == "watchdog_ms")
    {
        if (!pump_knob(knob, v, nullptr, c))
            return nullptr;
    }
    else if (knob == "wait_poll_ms")
    {
        if (!number(v, what, 1, 10'000, d))
            return nullptr;
        c->wait_poll_ms = static_cast<float>(d);
    }
    else if (knob == "boids")
    {
        if (!number(v, what, 1, 1'000'000, d, true))
            return nullptr;
        c->boid_count = static_cast<int>(d);
        c->boid_count_changed = true;
    }
    else
    {
        const auto* it = std::find_if(std::begin(flock), std::end(flock), [&](auto& k) { return knob == k.first; });
        if (it == std::end(flock))
        {
            std::string known = "deadline_ms, max_behaviors, watchdog_ms, wait_poll_ms, boids";
            for (const auto& k : flock)
                known += std::string(", ") + k.first;
            PyErr_SetString(PyExc_ValueError, ("unknown knob '" + knob + "' (known: " + known + ")").c_str());
            return nullptr;
        }
        if (!number(v, what, 0, 1e6, d))
            return nullptr;
        *it->second = static_cast<float>(d);
    }
    return logged("set_knob", v, name);
}

PyObject* setup(PyObject*, PyObject* args, PyObject* kwargs)
{
    if (g_state == nullptr || g_state->options == nullptr || g_state->setup_done)
    {
        PyErr_SetString(PyExc_RuntimeError, "setup() is called once, at the scenario's module level");
        return nullptr;
    }
    if (PyTuple_GET_SIZE(args) != 0)
    {
        PyErr_SetString(PyExc_TypeError, "setup() takes keyword arguments only");
        return nullptr;
    }
    CliOptions& o = *g_state->options;
    PyObject* key = nullptr;
    PyObject* v = nullptr;
    for (Py_ssize_t pos = 0; kwargs != nullptr && PyDict_Next(kwargs, &pos, &key, &v);)
    {
        const std::string k = boc::py::utf8_of(key);
        double d = 0.0;
        if (k == "description" || k == "name" || k == "script")
        {
            if (!PyUnicode_Check(v) || (k != "description" && PyUnicode_GetLength(v) == 0))
                return raise(k, "a non-empty string", v);
            (k == "description" ? g_state->description : k == "name" ? g_state->name : o.script) = boc::py::utf8_of(v);
        }
        else if (k == "boids" || k == "frames" || k == "workers" || k == "seed")
        {
            const double hi = k == "workers" ? 256 : k == "seed" ? 9.007199254740992e15 : 1'000'000;
            if (!number(v, k, k == "seed" ? 0 : 1, hi, d, true))
                return nullptr;
            const auto n = static_cast<std::uint64_t>(d);
            if (k == "boids")
                o.boids = n;
            else if (k == "frames")
                o.frames = n;
            else if (k == "seed")
                o.seed = n;
            else if (g_state->workers_from_cli == 0)
                o.workers = n;
        }
        else if (k == "size")
        {
            int w = 0, h = 0;
            if (!PyTuple_Check(v) || !PyArg_ParseTuple(v, "ii", &w, &h) || w < 64 || h < 64 || w > 8192 || h > 8192)
            {
                PyErr_Clear();
                return raise(k, "(width, height), each in [64, 8192]", v);
            }
            o.width = w;
            o.height = h;
        }
        else if (k == "deadline_ms" || k == "max_behaviors" || k == "watchdog_ms")
        {
            if (!pump_knob(k, v, &o, nullptr))
                return nullptr;
        }
        else if (k == "dispatch")
        {
            if (!(g_state->dispatch = dispatch_of(v, "dispatch")))
                return nullptr;
        }
        else
            return PyErr_Format(PyExc_TypeError, "setup() got an unexpected keyword argument '%s'", k.c_str());
    }
    g_state->setup_done = true;
    Py_RETURN_NONE;
}

PyObject* pause_pump(PyObject*, PyObject* arg) { return flag(arg, "pause_pump", &DemoControls::pump_paused); }
PyObject* pause_sim(PyObject*, PyObject* arg) { return flag(arg, "pause_sim", &DemoControls::paused); }
PyObject* stall_ms(PyObject*, PyObject* arg) { return stall(arg, "stall_ms", &DemoControls::stall_ms); }
PyObject* stall_once(PyObject*, PyObject* arg) { return stall(arg, "stall_once", &DemoControls::stall_once_ms); }

PyObject* dispatch(PyObject*, PyObject* arg)
{
    DemoControls* c = controls("dispatch");
    const std::optional<DispatchMode> m = c != nullptr ? dispatch_of(arg, "dispatch") : std::nullopt;
    if (!m)
        return nullptr;
    c->dispatch = *m;
    return logged("dispatch", arg);
}

PyObject* step(PyObject*, PyObject*)
{
    DemoControls* c = controls("step");
    return c == nullptr ? nullptr : (c->step_requested = true, logged("step"));
}

PyObject* clear_errors(PyObject*, PyObject*)
{
    DemoControls* c = controls("clear_errors");
    return c == nullptr ? nullptr : (c->clear_errors_requested = true, logged("clear_errors"));
}

PyObject* note(PyObject*, PyObject* arg)
{
    if (controls("note") == nullptr)
        return nullptr;
    return PyUnicode_Check(arg) ? logged("note", arg) : raise("note", "a string", arg);
}

PyObject* screenshot(PyObject*, PyObject*)
{
    if (controls("screenshot") == nullptr)
        return nullptr;
    if (g_state->screenshot_dir.empty())
        Py_RETURN_NONE;  // --screenshot-dir not given
    char file[64];
    std::snprintf(file, sizeof(file), "_f%04llu.png", static_cast<unsigned long long>(g_state->frame));
    const std::string name = g_state->name + file;
    g_state->shots.push_back((std::filesystem::path(g_state->screenshot_dir) / name).string());
    g_state->write({{"kind", "screenshot"}, {"frame", g_state->frame}, {"file", name}});
    Py_RETURN_NONE;
}

PyMethodDef methods[] = {
    {"setup", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(setup)), METH_VARARGS | METH_KEYWORDS,
     "setup(**settings): the run's settings, once at module level"},
    {"pause_pump", pause_pump, METH_O, "pause_pump(bool): skip pump() from this frame on"},
    {"pause_sim", pause_sim, METH_O, "pause_sim(bool): stop stepping the flock"},
    {"stall_ms", stall_ms, METH_O, "stall_ms(n): stall every frame by n virtual ms (0 = off)"},
    {"stall_once", stall_once, METH_O, "stall_once(n): stall this frame by n virtual ms"},
    {"dispatch", dispatch, METH_O, "dispatch('coarse' | 'per_item')"},
    {"set_knob", set_knob, METH_VARARGS, "set_knob(name, value)"},
    {"step", step, METH_NOARGS, "step(): one step while the simulation is paused"},
    {"clear_errors", clear_errors, METH_NOARGS, "clear_errors(): empty the Errors panel"},
    {"note", note, METH_O, "note(text): a marker line in the log"},
    {"screenshot", screenshot, METH_NOARGS, "screenshot(): write this frame (--screenshot-dir)"},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "boids_scenario", "boids_demo's scenario controls", -1, methods,
                         nullptr, nullptr, nullptr, nullptr};

}  // namespace

bool install_control_module(ScenarioRunner::State* state)
{
    g_state = state;
    boc::py::PyRef m(PyModule_Create(&module_def));
    return m && PyDict_SetItemString(PyImport_GetModuleDict(), "boids_scenario", m.get()) == 0;
}

}  // namespace boc::demo
