#pragma once
/// \file
/// A one-line progress bar on stderr for `zanj convert`. Debian packages no C++ progress-bar
/// library, and this needs little: a bar, a percentage and the sizes, redrawn in place.

#include <zanj/config.hpp>

#include <cstdint>
#include <string>

namespace zanj::cli {

/// Conversions that write fewer bytes than this finish too soon for a bar to help.
inline constexpr std::uint64_t progress_threshold = std::uint64_t{16} << 20;

/// True when a bar should be drawn for `total` bytes: stderr is a terminal and `total` reaches
/// progress_threshold. Never in pipes, files, tests or CI logs.
bool want_progress(std::uint64_t total);

/// `label [#########...........]  45%  72.0 MiB / 160.0 MiB`, redrawn with `\r` when the
/// whole percentage changes, so at most 101 times. Draws nothing unless enabled.
class progress_bar {
public:
    progress_bar(std::string label, std::uint64_t total, bool enabled);
    /// Ends the line when the bar was left unfinished (a failed conversion), so that the error
    /// message starts on a line of its own.
    ~progress_bar();
    progress_bar(const progress_bar&) = delete;
    progress_bar& operator=(const progress_bar&) = delete;

    /// `done` bytes of `total` (more counts as all of them).
    void update(std::uint64_t done);
    /// Draws 100% and ends the line.
    void finish();

    /// A hook for the library's writers that updates this bar (empty when the bar is disabled).
    progress_callback callback();

private:
    void draw(std::uint64_t done);

    std::string label_;
    std::uint64_t total_;
    bool enabled_;
    bool open_ = false; // a line is drawn and not ended
    int shown_percent_ = -1;
};

} // namespace zanj::cli
