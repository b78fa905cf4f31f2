#pragma once
/// \file
/// Handlers for bool, integers of every width, float, double, zanj::float16 and zanj::bfloat16
/// (as JSON numbers, like numpy scalars), enums (zanj/enum.hpp: by name, or as their underlying
/// integer) and std::complex (as a `[real, imag]` list).

#include <zanj/enum.hpp>
#include <zanj/half.hpp>
#include <zanj/loader.hpp>
#include <zanj/serializer.hpp>

#include <cmath>
#include <complex>
#include <limits>
#include <string>
#include <type_traits>

namespace zanj {

/// bool: a JSON boolean.
template <>
struct handler<bool> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(bool b, serializer&) { return value(b); }
    /// Writes serialize()'s item as text (the contract of zanj/handler.hpp).
    static void write_json(bool b, detail::json_text& out) { out.boolean(b); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static bool load(const value& v, loader& l) {
        l.expect(v, value::kind::boolean, "a bool");
        return v.as_bool();
    }
};

/// Integers of every width: JSON numbers, range-checked on load.
template <class I>
requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) struct handler<I> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(I i, serializer&) { return value(i); }
    /// Writes serialize()'s item as text (the contract of zanj/handler.hpp).
    static void write_json(I i, detail::json_text& out) {
        if constexpr (std::is_signed_v<I>)
            out.integer(i);
        else
            out.unsigned_integer(i);
    }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static I load(const value& v, loader& l) {
        if (!v.is_integer()) l.fail("expected an integer, found " + std::string(v.type_name()) + " " + v.dump());
        if (v.type() == value::kind::unsigned_integer) {
            std::uint64_t u = v.as_uint();
            if (u > static_cast<std::uint64_t>(std::numeric_limits<I>::max())) out_of_range(v, l);
            return static_cast<I>(u);
        }
        std::int64_t i = v.as_int();
        if constexpr (std::is_signed_v<I>) {
            if (i < std::numeric_limits<I>::min() || i > std::numeric_limits<I>::max()) out_of_range(v, l);
        } else {
            if (i < 0 || static_cast<std::uint64_t>(i) > std::numeric_limits<I>::max()) out_of_range(v, l);
        }
        return static_cast<I>(i);
    }

private:
    [[noreturn]] static void out_of_range(const value& v, loader& l) {
        l.fail("integer " + v.dump() + " is out of range for a " + std::to_string(sizeof(I) * 8) + "-bit " +
               (std::is_signed_v<I> ? "signed" : "unsigned") + " integer");
    }
};

/// float and double: JSON numbers (NaN and infinities as Python's tokens).
template <class F>
requires std::is_floating_point_v<F>
struct handler<F> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(F f, serializer&) { return value(static_cast<double>(f)); }
    /// Writes serialize()'s item as text (the contract of zanj/handler.hpp).
    static void write_json(F f, detail::json_text& out) { out.floating(static_cast<double>(f)); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static F load(const value& v, loader& l) {
        // JSON does not mark 1.0 apart from 1: an integer is a valid float.
        if (!v.is_number()) l.fail("expected a float, found " + std::string(v.type_name()) + " " + v.dump());
        return static_cast<F>(v.as_double());
    }
};

/// zanj::float16 and zanj::bfloat16 scalars: JSON numbers.
template <class H>
requires(std::is_same_v<H, float16> || std::is_same_v<H, bfloat16>) struct handler<H> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(H h, serializer&) { return value(static_cast<double>(static_cast<float>(h))); }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static H load(const value& v, loader& l) {
        if (!v.is_number()) l.fail("expected a float, found " + std::string(v.type_name()) + " " + v.dump());
        return H(static_cast<float>(v.as_double()));
    }
};

/// std::complex: a `[real, imag]` list.
template <class F>
struct handler<std::complex<F>> {
    /// Writes the item (the contract of zanj/handler.hpp).
    static value serialize(const std::complex<F>& c, serializer&) {
        return value(value::list_type{value(static_cast<double>(c.real())), value(static_cast<double>(c.imag()))});
    }
    /// Reads the item back (the contract of zanj/handler.hpp).
    static std::complex<F> load(const value& v, loader& l) {
        if (!v.is_list() || v.size() != 2 || !v[0].is_number() || !v[1].is_number())
            l.fail("expected a complex number as [real, imag], found " + v.dump());
        return {static_cast<F>(v[0].as_double()), static_cast<F>(v[1].as_double())};
    }
};

} // namespace zanj
