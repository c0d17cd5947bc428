// SHA-256 (libsodium) of byte strings and of regular files streamed through one fd.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "execgate/crypto_errors.h"

namespace execgate {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256_bytes(std::span<const std::uint8_t> data);

// Hashes the regular file open on fd, reading from offset 0 with pread (the fd's file
// offset is not moved), through the streaming crypto_hash_sha256 API. The fd stays open.
// Throws NotRegularFileError (directory, device, FIFO, ...) or IoError (read failure);
// name_for_errors is used in messages.
Sha256Digest sha256_fd(int fd, const std::string& name_for_errors);

// Opens path (O_RDONLY|O_NOCTTY|O_NONBLOCK|O_CLOEXEC, so FIFOs and devices do not block),
// checks it is a regular file and hashes it via sha256_fd. Throws IoError (ENOENT ->
// ErrorKind::not_found, EACCES, ...) or NotRegularFileError.
Sha256Digest sha256_file(const std::string& path);

}  // namespace execgate
