// Single array elements as numbers and as numpy prints them, for previews and comparisons.

#include <zanj/half.hpp>
#include <zanj/ndarray.hpp>

#include <charconv>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>

namespace zanj {

namespace {

template <class T>
T load_at(const ndarray& a, std::size_t i) {
    T x;
    std::memcpy(&x, a.bytes() + i * sizeof(T), sizeof(T));
    return x;
}

// OCP FP8 E4M3FN: bias 7, no infinities, S.1111.111 is NaN.
float e4m3fn_to_float(std::uint8_t b) {
    const float sign = (b & 0x80) ? -1.0f : 1.0f;
    const int e = (b >> 3) & 0xF;
    const int m = b & 0x7;
    if (e == 0xF && m == 0x7) return std::numeric_limits<float>::quiet_NaN();
    if (e == 0) return sign * std::ldexp(static_cast<float>(m) / 8.0f, -6);
    return sign * std::ldexp(1.0f + static_cast<float>(m) / 8.0f, e - 7);
}

// E5M2 is the high byte of an IEEE half.
float e5m2_to_float(std::uint8_t b) { return detail::half_to_float(static_cast<std::uint16_t>(b << 8)); }

template <class F>
std::string float_string(F x) {
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x < 0 ? "-inf" : "inf";
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, x);
    std::string s(buf, r.ptr);
    if (s.find_first_of(".e") == std::string::npos) s += ".0"; // 1.0, not 1: a float
    return s;
}

template <class F>
std::string complex_string(F re, F im) {
    std::string s = "(" + float_string(re);
    std::string i = float_string(im);
    if (i[0] != '-') s += "+";
    return s + i + "j)";
}

} // namespace

double element_real(const ndarray& a, std::size_t i) {
    switch (a.type()) {
    case dtype::bool_: return load_at<std::uint8_t>(a, i) != 0 ? 1.0 : 0.0;
    case dtype::int8: return load_at<std::int8_t>(a, i);
    case dtype::int16: return load_at<std::int16_t>(a, i);
    case dtype::int32: return load_at<std::int32_t>(a, i);
    case dtype::int64: return static_cast<double>(load_at<std::int64_t>(a, i));
    case dtype::uint8: return load_at<std::uint8_t>(a, i);
    case dtype::uint16: return load_at<std::uint16_t>(a, i);
    case dtype::uint32: return load_at<std::uint32_t>(a, i);
    case dtype::uint64: return static_cast<double>(load_at<std::uint64_t>(a, i));
    case dtype::float16: return detail::half_to_float(load_at<std::uint16_t>(a, i));
    case dtype::float32: return load_at<float>(a, i);
    case dtype::float64: return load_at<double>(a, i);
    case dtype::complex64: return load_at<std::complex<float>>(a, i).real();
    case dtype::complex128: return load_at<std::complex<double>>(a, i).real();
    case dtype::bfloat16: return detail::bfloat16_to_float(load_at<std::uint16_t>(a, i));
    case dtype::float8_e4m3fn: return e4m3fn_to_float(load_at<std::uint8_t>(a, i));
    case dtype::float8_e5m2: return e5m2_to_float(load_at<std::uint8_t>(a, i));
    }
    return 0.0;
}

double element_imag(const ndarray& a, std::size_t i) {
    if (a.type() == dtype::complex64) return load_at<std::complex<float>>(a, i).imag();
    if (a.type() == dtype::complex128) return load_at<std::complex<double>>(a, i).imag();
    return 0.0;
}

std::string element_string(const ndarray& a, std::size_t i) {
    switch (a.type()) {
    case dtype::bool_: return load_at<std::uint8_t>(a, i) != 0 ? "True" : "False";
    case dtype::int8: return std::to_string(load_at<std::int8_t>(a, i));
    case dtype::int16: return std::to_string(load_at<std::int16_t>(a, i));
    case dtype::int32: return std::to_string(load_at<std::int32_t>(a, i));
    case dtype::int64: return std::to_string(load_at<std::int64_t>(a, i));
    case dtype::uint8: return std::to_string(load_at<std::uint8_t>(a, i));
    case dtype::uint16: return std::to_string(load_at<std::uint16_t>(a, i));
    case dtype::uint32: return std::to_string(load_at<std::uint32_t>(a, i));
    case dtype::uint64: return std::to_string(load_at<std::uint64_t>(a, i));
    case dtype::float64: return float_string(load_at<double>(a, i));
    case dtype::complex64: {
        const auto c = load_at<std::complex<float>>(a, i);
        return complex_string(c.real(), c.imag());
    }
    case dtype::complex128: {
        const auto c = load_at<std::complex<double>>(a, i);
        return complex_string(c.real(), c.imag());
    }
    default: // float32 and the narrower floats, all exact as float
        return float_string(static_cast<float>(element_real(a, i)));
    }
}

} // namespace zanj
