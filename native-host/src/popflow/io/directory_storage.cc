#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "popflow/io/popflow_io.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace omnibridge::popflow {

namespace {

constexpr size_t kMaxRecordBytes = size_t{64} * 1024 * 1024;

bool IsKey(std::string_view key) {
  if (key.empty() || key.size() > 64) {
    return false;
  }
  for (char c : key) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirectoryFlowStorage>> DirectoryFlowStorage::Create(
    std::string dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  }
  // Flows may hold customer-facing URLs and internal API paths: keep them to the user.
  ::chmod(dir.c_str(), 0700);
  return std::unique_ptr<DirectoryFlowStorage>(new DirectoryFlowStorage(std::move(dir)));
}

std::string DirectoryFlowStorage::PathOf(std::string_view key) const {
  return absl::StrCat(dir_, "/", Av(key), ".json");
}

absl::StatusOr<std::vector<std::string>> DirectoryFlowStorage::List() {
  std::vector<std::string> keys;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (!absl::EndsWith(name, ".json")) {
      continue;
    }
    std::string key = name.substr(0, name.size() - 5);
    if (IsKey(key)) {
      keys.push_back(key);
    }
  }
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot list ", dir_, ": ", ec.message()));
  }
  return keys;
}

absl::StatusOr<std::string> DirectoryFlowStorage::Read(std::string_view key) {
  if (!IsKey(key)) {
    return absl::InvalidArgumentError("bad record key");
  }
  std::string path = PathOf(key);
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", ec.message()));
  }
  if (size > kMaxRecordBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(path, " is too large"));
  }
  std::ifstream in(path, std::ios::binary);
  std::string data(static_cast<size_t>(size), '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  if (!in) {
    return absl::UnavailableError(absl::StrCat("cannot read ", path));
  }
  return data;
}

absl::Status DirectoryFlowStorage::Write(std::string_view key, std::string_view data) {
  if (!IsKey(key)) {
    return absl::InvalidArgumentError("bad record key");
  }
  std::string path = PathOf(key);
  std::string tmp = absl::StrCat(path, ".tmp");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::UnavailableError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  // Data reaches the disk before the rename makes it the record: a crash leaves old or new.
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return absl::UnavailableError(absl::StrCat("cannot replace ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

absl::Status DirectoryFlowStorage::Remove(std::string_view key) {
  if (!IsKey(key)) {
    return absl::InvalidArgumentError("bad record key");
  }
  std::string path = PathOf(key);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::UnavailableError(absl::StrCat("cannot remove ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace omnibridge::popflow
