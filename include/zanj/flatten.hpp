#pragma once
/// \file
/// Between trees and flat files: `flatten_arrays` turns a tree holding arrays into the flat
/// name -> ndarray dict that `.npz` and `.safetensors` files hold, naming each array by its
/// object path joined with "/" (`layers/0/w`); `unflatten_arrays` rebuilds nested dicts.

#include <zanj/value.hpp>

namespace zanj {

/// Options of flatten_arrays.
struct flatten_options {
    /// Leave out leaves that are no arrays (strings, numbers, null, sets, format keys) instead
    /// of throwing type_error.
    bool skip_non_arrays = false;
};

/// The arrays of `tree` by path, in the tree's order: dicts and lists are walked (list items
/// named by index), arrays kept. A bare array gives the single name "". Throws type_error
/// naming the object path for a dict key that is empty or holds "/" (it could not be told
/// apart from a path step), and for any other leaf unless skipped.
value flatten_arrays(const value& tree, const flatten_options& options = {});

/// The inverse: nested dicts from a dict of "/"-joined names -> ndarray (list indices come back
/// as keys "0", "1", ...; a single name "" gives the bare array). Throws type_error for an empty
/// path step ("a//b") or a name that is both an array and a folder ("a" and "a/b"),
/// usage_error when a value is no array.
value unflatten_arrays(const value& flat);

} // namespace zanj
