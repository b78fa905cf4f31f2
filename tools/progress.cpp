// The progress bar of `zanj convert`.

#include "progress.hpp"

#include <algorithm>
#include <cstdio>
#include <unistd.h>
#include <utility>

namespace zanj::cli {

namespace {

constexpr int bar_width = 30;

std::string mebibytes(std::uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return text;
}

} // namespace

bool want_progress(std::uint64_t total) { return total >= progress_threshold && ::isatty(STDERR_FILENO) == 1; }

progress_bar::progress_bar(std::string label, std::uint64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled) {
    // One line of an 80-column terminal: \r cannot go back over a wrapped line.
    constexpr std::size_t longest = 32;
    if (label_.size() > longest) label_ = "..." + label_.substr(label_.size() - (longest - 3));
}

progress_bar::~progress_bar() {
    if (open_) std::fputs("\n", stderr);
}

void progress_bar::update(std::uint64_t done) {
    if (!enabled_) return;
    const std::uint64_t clamped = std::min(done, total_);
    const int percent = total_ == 0 ? 100 : static_cast<int>(clamped * 100 / total_);
    if (percent == shown_percent_) return;
    shown_percent_ = percent;
    draw(clamped);
}

void progress_bar::finish() {
    if (!enabled_) return;
    if (shown_percent_ != 100) {
        shown_percent_ = 100;
        draw(total_);
    }
    std::fputs("\n", stderr);
    std::fflush(stderr);
    open_ = false;
    enabled_ = false;
}

progress_callback progress_bar::callback() {
    if (!enabled_) return {};
    return [this](std::uint64_t done) { update(done); };
}

void progress_bar::draw(std::uint64_t done) {
    const int filled = shown_percent_ * bar_width / 100;
    std::string line = "\r" + label_ + " [";
    line.append(static_cast<std::size_t>(filled), '#');
    line.append(static_cast<std::size_t>(bar_width - filled), '.');
    char percent[8];
    std::snprintf(percent, sizeof percent, "%4d%%", shown_percent_);
    line += "] " + std::string(percent) + "  " + mebibytes(done) + " / " + mebibytes(total_);
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
    open_ = true;
}

} // namespace zanj::cli
