#pragma once
/// \file
/// `zanj::editor`: updates a `.zanj` archive in place — replaces or adds items, erases them, and
/// appends rows to stored arrays — without rewriting the members it does not change.

#include <zanj/config.hpp>
#include <zanj/loader.hpp>
#include <zanj/ndarray.hpp>
#include <zanj/serializer.hpp>
#include <zanj/value.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>
#include <type_traits>

namespace zanj {

/// How `editor` opens an archive (the modes of h5py and jangada; plain reading is `zanj::archive`).
enum class open_mode {
    read_write, ///< "r+": the archive must exist.
    append,     ///< "a": opened when it exists, created empty (a `{}` root) when it does not.
    write,      ///< "w": created empty, replacing any archive there.
};

/// "r+", "a" or "w"; anything else is a usage_error.
open_mode parse_open_mode(std::string_view mode);

/// An archive open for update.
///
/// Changes are staged until `commit()`, which makes them durable; the destructor commits
/// what is left unless an exception is unwinding the stack (then it rolls back). Only the
/// members that change are written: new ones go after the last member kept, and `append_rows`
/// grows a stored array in place when its member is the last one in the file.
///
/// Safety: one editor per archive at a time (an advisory lock; a second is an io_error). From its
/// first write until commit or rollback, the bytes it overwrites are kept in a rollback journal
/// beside the archive (`.<name>.zanj-journal`), so an update killed at any moment is undone by
/// the next editor or reader: the archive holds the old or the new content, never a mixture.
/// Readers in other processes wait while an update is uncommitted (up to 30 s); in this process
/// reading an archive with uncommitted changes is a usage_error.
///
/// \code
/// zanj::editor ed = z.edit("run.zanj");            // "r+"
/// ed.set("/results/accuracy", 0.93);               // replace or add an item
/// ed.append_rows("/log/loss", zanj::ndarray::from(new_losses));  // grows the stored array
/// ed.erase("/scratch");
/// ed.commit();                                     // or let the destructor commit
/// \endcode
class editor {
public:
    /// Opens `file` in `mode`, with `settings` for what is written (compression, thresholds...)
    /// and limits for what is read; `registry` as for `ZANJ` (the built-in loaders when null).
    /// Rolls back an update that an earlier editor did not finish.
    explicit editor(const std::filesystem::path& file, open_mode mode = open_mode::read_write, config settings = {},
                    std::shared_ptr<const loader_registry> registry = nullptr);
    /// Commits (or, during stack unwinding, rolls back) what is left. A commit failing here rolls
    /// back and is reported on stderr, since destructors cannot throw: call commit() to see it.
    ~editor();
    editor(editor&&) noexcept;
    editor& operator=(editor&&) = delete;

    /// The archive's file.
    const std::filesystem::path& path() const noexcept;
    /// The tree with the staged changes; external items are stubs (`$ref`).
    const value& tree() const noexcept;
    /// Whether an item is at `path` ("/a/0/b"), staged changes included.
    bool contains(std::string_view path) const;
    /// Whether there are changes not yet committed.
    bool has_changes() const noexcept;

    /// Puts `obj` at `path`, replacing the item there (and dropping its members) or adding it.
    /// Missing dicts on the way are created; in a list, `path` may name an existing index or the
    /// next one. "/" replaces the whole tree.
    template <class T>
    void set(std::string_view path, const T& obj) {
        set_item(path, [&obj](serializer& s) { return s.serialize(obj); });
    }
    /// Removes the item at `path` and its members. In lists only the last item can go (the
    /// others would shift the paths of later items).
    void erase(std::string_view path);
    /// Appends `rows` to the array at `path` along its first axis: `rows` has the array's dtype
    /// and either its shape without the first extent (one row) or the same trailing extents.
    /// A stored `.npy` member that is the last in the file grows in place (its bytes are not
    /// rewritten); other arrays are read, joined and written again.
    void append_rows(std::string_view path, const ndarray& rows);
    /// The same for anything that saves as an array (xtensor containers, vectors of numbers...).
    template <class T>
    requires(!std::is_same_v<T, ndarray>) void append_rows(std::string_view path, const T& rows) {
        if constexpr (requires { ndarray::from(rows); }) // vectors of numbers keep their type
            append_rows(path, ndarray::from(rows));
        else
            append_rows(path, as_array(path, [&rows](serializer& s) { return s.serialize(rows); }));
    }

    /// Makes the staged changes durable; then readers see them.
    void commit();
    /// Drops the staged changes; the file is as it was at the last commit.
    void rollback();

private:
    struct impl;
    void set_item(std::string_view path, const std::function<value(serializer&)>& write);
    ndarray as_array(std::string_view path, const std::function<value(serializer&)>& write) const;

    std::unique_ptr<impl> impl_;
};

} // namespace zanj
