// The Connect API bearer token: `connect-token` (0600) in the per-user config directory.
#include <array>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/log.h"
#include "connect/connect.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace omnibridge::connect {

namespace {

constexpr size_t kTokenBytes = 32;
constexpr size_t kTokenHexLength = 2 * kTokenBytes;

std::string Errno(std::string_view what, const std::string& path) {
  return base::Cat(what, " ", path, ": ", std::strerror(errno));
}

bool IsToken(std::string_view text) {
  if (text.size() != kTokenHexLength) {
    return false;
  }
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// mkdir -p with mode 0700 for the parts it creates.
absl::Status MakeDirs(const std::string& dir) {
  if (dir.empty()) {
    return absl::InvalidArgumentError("connect: no config directory");
  }
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') {
      continue;
    }
    std::string part = dir.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::PermissionDeniedError(Errno("connect: cannot create", part));
    }
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(base::Cat("connect: ", dir, " is not a directory"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NewToken() {
  std::array<unsigned char, kTokenBytes> bytes;
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return absl::InternalError("connect: RAND_bytes failed");
  }
  constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  token.reserve(kTokenHexLength);
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 0xf];
  }
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return token;
}

enum class ReadResult { kToken, kMissing, kNotAToken };

// Reads an existing token file without following symlinks; checks owner and type, narrows its
// mode to 0600.
absl::StatusOr<ReadResult> ReadToken(const std::string& path, std::string* token) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) {
      return ReadResult::kMissing;
    }
    return absl::FailedPreconditionError(Errno("connect: cannot open", path));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    ::close(fd);
    return absl::FailedPreconditionError(
        base::Cat("connect: ", path, " is not a regular file owned by this user"));
  }
  if ((st.st_mode & 077) != 0) {
    OMNI_LOG(kWarning, "connect", path, " was readable by others; mode set to 0600");
    if (::fchmod(fd, 0600) != 0) {
      ::close(fd);
      return absl::PermissionDeniedError(Errno("connect: cannot chmod", path));
    }
  }
  char buffer[256];
  ssize_t n = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  if (n < 0) {
    return absl::FailedPreconditionError(Errno("connect: cannot read", path));
  }
  std::string_view text(buffer, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  if (!IsToken(text)) {
    return ReadResult::kNotAToken;
  }
  *token = std::string(text);
  return ReadResult::kToken;
}

// Writes a fresh token into a temporary file (0600, fsynced), then links it into place: link()
// fails with EEXIST when another process won the race, and then its token is used. `replace`
// renames over an existing (invalid) file instead.
absl::StatusOr<std::string> WriteToken(const std::string& dir, const std::string& path,
                                       bool replace) {
  absl::StatusOr<std::string> token = NewToken();
  if (!token.ok()) {
    return token.status();
  }
  std::string temp = base::Cat(dir, "/.connect-token.", ::getpid(), ".tmp");
  ::unlink(temp.c_str());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(Errno("connect: cannot create", temp));
  }
  std::string content = *token + "\n";
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(temp.c_str());
    return absl::InternalError(Errno("connect: cannot write", temp));
  }
  int linked = replace ? ::rename(temp.c_str(), path.c_str()) : ::link(temp.c_str(), path.c_str());
  int link_errno = errno;
  ::unlink(temp.c_str());
  if (linked != 0) {
    errno = link_errno;
    if (!replace && link_errno == EEXIST) {
      return std::string();  // someone else created it
    }
    return absl::PermissionDeniedError(Errno("connect: cannot create", path));
  }
  OMNI_LOG(kInfo, "connect", "created the Connect API token ", path);
  return *token;
}

}  // namespace

absl::StatusOr<std::string> LoadOrCreateToken(const std::string& dir) {
  absl::Status made = MakeDirs(dir);
  if (!made.ok()) {
    return made;
  }
  std::string path = dir + "/" + kTokenFileName;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string token;
    absl::StatusOr<ReadResult> read = ReadToken(path, &token);
    if (!read.ok()) {
      return read.status();
    }
    if (*read == ReadResult::kToken) {
      return token;
    }
    if (*read == ReadResult::kNotAToken) {
      OMNI_LOG(kWarning, "connect", path, " does not hold a token; replacing it");
    }
    absl::StatusOr<std::string> written =
        WriteToken(dir, path, /*replace=*/*read == ReadResult::kNotAToken);
    if (!written.ok()) {
      return written.status();
    }
    if (!written->empty()) {
      return *written;
    }
    // Lost a creation race: read the winner's token.
  }
  return absl::UnavailableError(base::Cat("connect: cannot settle ", path));
}

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() + 1) {
    return std::nullopt;
  }
  if (!absl::EqualsIgnoreCase(absl::string_view(authorization.data(), kScheme.size()),
                              absl::string_view(kScheme.data(), kScheme.size())) ||
      authorization[kScheme.size()] != ' ') {
    return std::nullopt;
  }
  std::string_view token = authorization.substr(kScheme.size() + 1);
  while (!token.empty() && token.front() == ' ') {
    token.remove_prefix(1);
  }
  while (!token.empty() && token.back() == ' ') {
    token.remove_suffix(1);
  }
  if (token.empty()) {
    return std::nullopt;
  }
  return token;
}

bool TokenMatches(std::string_view expected, std::string_view presented) {
  if (expected.empty() || expected.size() != presented.size()) {
    return false;
  }
  return CRYPTO_memcmp(expected.data(), presented.data(), expected.size()) == 0;
}

}  // namespace omnibridge::connect
