// Private helpers shared by the audit library's files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace execgate::audit_detail {

// Append-only attribute (FS_APPEND_FL). Return 0 or an errno value.
int set_append_only(int fd, bool on);
int get_append_only(int fd, bool* on);

// Writes all of data to fd (EINTR-safe). Throws IoError naming path.
// fsync of the directory containing path (best effort).
void fsync_parent_dir(const std::string& path);

// Parsed name of a rotated file: first seq, or false when the name is not "<live>.<digits>".
bool parse_rotated_name(const std::string& live_path, const std::string& candidate, std::uint64_t* first_seq);

// Whole-file read without a size cap (audit files are bounded by rotate_bytes).
std::string read_whole(const std::string& path);

// Splits into lines at '\n'. `torn` receives bytes after the last '\n' (empty if none).
std::vector<std::string_view> split_lines(std::string_view data, std::string_view* torn);

}  // namespace execgate::audit_detail
