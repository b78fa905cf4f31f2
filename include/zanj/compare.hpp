#pragma once
/// \file
/// `zanj::compare`: the structural and numeric differences between two trees, as `zanj diff`
/// prints them and as model equality checks report them.

#include <zanj/value.hpp>

#include <string>
#include <vector>

namespace zanj {

/// One place where two trees differ.
struct difference {
    /// The object path of the item ("/" for the root, "/layers/0/w").
    std::string path;
    /// What differs: `64 in A, 128 in B`, `only in A`, `dtype float32 in A, float64 in B`...
    std::string what;

    /// "path: what".
    std::string str() const { return path + ": " + what; }
};

/// How `compare` judges numbers and names the two sides.
struct compare_options {
    /// Floating-point numbers and array elements are equal when |a - b| <= atol + rtol * |b|, as
    /// numpy.allclose has it (NaN equal to NaN); integers are compared exactly. Both 0: exact.
    double rtol = 0.0;
    /// See `rtol`.
    double atol = 0.0;
    /// How messages name the first tree.
    std::string a_name = "A";
    /// How messages name the second tree.
    std::string b_name = "B";
};

/// Every difference between `a` and `b`, in tree order (empty when they are equal): keys only in
/// one of two dicts, lists of different lengths, values of different types or values, arrays of
/// different dtype or shape, and for arrays with differing elements how many, the first and the
/// largest absolute difference.
std::vector<difference> compare(const value& a, const value& b, const compare_options& options = {});

/// The differences one per line, "path: what", for messages.
std::string to_string(const std::vector<difference>& differences);

} // namespace zanj
